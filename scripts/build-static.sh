#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the static swinit for each architecture: the same SwinitCore +
# swinit sources that `swift build` compiles, here as Embedded Swift against
# that architecture's musl headers, linked statically with musl's libc.a and
# stripped; plus the static test probe.
#
#   scripts/build-static.sh [ARCH...]    ARCH: x86_64 (amd64), aarch64 (arm64),
#                                        or all: this machine's, then the other
#   With no ARCH: this machine's, and the other one when its musl and cross
#   compiler are installed (else one line says what to install). A named
#   ARCH, or all, fails without them.
#
# Output: .build/static/<arch>/{swinit,swinit-probe}, and .build/static/{swinit,
# swinit-probe}: copies of the first ARCH built (by default this machine's),
# which the tests, the demo and Dockerfile.example use. Prints each size.
#
# Needs: swiftc (Swift 6.x with the Embedded stdlib; its ld.lld links), and per
# architecture musl's headers, crt files and libc.a under the Debian multiarch
# paths /usr/{include,lib}/<arch>-linux-musl plus a C compiler for it:
#   this machine's:  musl-tools (musl-gcc)
#   another one:     musl-dev:<debian arch> (its <arch>-linux-musl-gcc wrapper)
#                    and gcc-<arch>-linux-gnu (the compiler and libgcc.a),
#                    after `dpkg --add-architecture <debian arch>`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/static
native=$(uname -m)

other=aarch64
[ "$native" = aarch64 ] && other=x86_64
# Docker's names (TARGETARCH) and the kernel's both work.
archs=()
optional=""
for name in "${@:-}"; do
    case "$name" in
        "") archs=("$native" "$other"); optional=$other ;;
        all) archs+=("$native" "$other") ;;
        x86_64|amd64) archs+=(x86_64) ;;
        aarch64|arm64) archs+=(aarch64) ;;
        *) echo "build-static: unknown architecture '$name' (x86_64/amd64, aarch64/arm64, all)" >&2; exit 2 ;;
    esac
done

swiftc=$(command -v swiftc) || { echo "build-static: swiftc not found (Swift 6.3: see README)" >&2; exit 1; }
lld=$(dirname "$(readlink -f "$swiftc")")/ld.lld
[ -x "$lld" ] || { echo "build-static: $lld not found (it ships with the Swift toolchain)" >&2; exit 1; }

# Builds one architecture into $out/$1.
build() {
    local arch=$1 target cc debian
    case "$arch" in
        # The Embedded stdlib exists for x86_64-unknown-linux-gnu and, for
        # 64-bit Arm, only as aarch64-none-none-elf: same ELF and AAPCS64 ABI
        # as Linux, and the code calls nothing but musl through CSwinit.
        x86_64) target=x86_64-unknown-linux-gnu; debian=amd64 ;;
        aarch64) target=aarch64-none-none-elf; debian=arm64 ;;
    esac
    if [ "$arch" = "$native" ]; then cc=musl-gcc; else cc=$arch-linux-musl-gcc; fi
    local include=/usr/include/$arch-linux-musl lib=/usr/lib/$arch-linux-musl
    if ! command -v "$cc" >/dev/null || [ ! -f "$include/stdio.h" ] || [ ! -f "$lib/libc.a" ]; then
        if [ "$arch" = "$native" ]; then
            echo "build-static: $arch: musl not found (apt-get install musl-tools)" >&2
        else
            echo "build-static: $arch: $cc or $lib/libc.a not found (dpkg --add-architecture $debian;" \
                "apt-get update; apt-get install musl-dev:$debian gcc-$arch-linux-gnu)" >&2
        fi
        return 1
    fi
    local dir=$out/$arch work=$out/$arch/obj
    mkdir -p "$work"

    # Embedded Swift sees only musl's headers, so host and static builds
    # import the same declarations through CSwinit's module map.
    local swift_flags=(
        -target "$target" -enable-experimental-feature Embedded -wmo -Osize -swift-version 6
        -Xcc -nostdinc -Xcc "-isystem$include"
        -Xcc -fmodule-map-file=Sources/CSwinit/include/module.modulemap -I Sources/CSwinit/include
        -Xfrontend -disable-stack-protector -Xcc -D_GNU_SOURCE
        -Xfrontend -function-sections -Xfrontend -disable-reflection-metadata
    )
    # SwinitCore as an Embedded library: a .swiftmodule only; its code is
    # compiled into the client (see swift-embedded-examples, Libraries).
    "$swiftc" "${swift_flags[@]}" -parse-as-library -emit-module -module-name SwinitCore \
        -emit-module-path "$work/SwinitCore.swiftmodule" Sources/SwinitCore/*.swift 2> >(grep -v 'libc not found' >&2)
    "$swiftc" "${swift_flags[@]}" -parse-as-library -module-name swinit -I "$work" -c \
        Sources/swinit/Init.swift -o "$work/swinit.o" 2> >(grep -v 'libc not found' >&2)
    "$cc" -Os -ffunction-sections -fdata-sections -c Sources/CSwinit/spawn.c -o "$work/spawn.o"
    local probe_objects=() source
    for source in Sources/swinit-probe/*.c; do
        probe_objects+=("$work/probe-$(basename "$source" .c).o")
        "$cc" -Os -ffunction-sections -fdata-sections -Wall -Werror -c "$source" -o "${probe_objects[-1]}"
    done

    # ld.lld, not GNU ld: for aarch64, GNU ld refuses the copy relocations
    # against the weak protected metadata symbols Embedded Swift emits. libgcc
    # supplies the 128-bit long double helpers musl's printf family needs.
    local libgcc
    libgcc=$("$cc" -print-libgcc-file-name)
    link() {
        "$lld" -static --gc-sections -s -o "$1" "$lib/crt1.o" "$lib/crti.o" "${@:2}" \
            --start-group "$lib/libc.a" "$libgcc" --end-group "$lib/crtn.o"
    }
    link "$dir/swinit" "$work/swinit.o" "$work/spawn.o"
    link "$dir/swinit-probe" "${probe_objects[@]}"

    local size
    size=$(stat -c %s "$dir/swinit")
    echo "build-static: $dir/swinit is $size bytes ($(( (size + 1023) / 1024 )) KiB), static, stripped ($arch)"
    if [ "$size" -gt 102400 ]; then
        echo "build-static: $dir/swinit is over 100 KiB" >&2
        return 1
    fi
}

for arch in "${archs[@]}"; do
    if [ "$arch" = "$optional" ] && ! command -v "$arch-linux-musl-gcc" >/dev/null; then
        echo "build-static: $arch skipped: no $arch-linux-musl-gcc (scripts/build-static.sh all, after installing" \
            "musl-dev and the cross gcc for it, builds it too)" >&2
        continue
    fi
    build "$arch"
done
# The unqualified paths: the first architecture built (default: this machine's).
# Copied beside and renamed over, as a running binary cannot be overwritten.
for name in swinit swinit-probe; do
    cp "$out/${archs[0]}/$name" "$out/$name.new"
    mv -f "$out/$name.new" "$out/$name"
done
