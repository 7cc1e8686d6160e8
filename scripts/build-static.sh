#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the static swinit: the same SwinitCore + swinit sources that
# `swift build` compiles, here as Embedded Swift against musl's headers,
# linked with musl-gcc -static and stripped. Also builds the static test
# probe. Output: .build/static/{swinit,swinit-probe}; prints swinit's size.
# Needs: swiftc (Swift 6.x with the Embedded stdlib), musl-tools.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/static
work=$out/obj
mkdir -p "$work"

command -v musl-gcc >/dev/null || { echo "build-static: musl-gcc not found (apt-get install musl-tools)" >&2; exit 1; }
musl_include=$(dirname "$(musl-gcc -print-file-name=include/stdio.h 2>/dev/null)")
[ -f "$musl_include/stdio.h" ] || musl_include=/usr/include/$(uname -m)-linux-musl
arch=$(uname -m)
target=$arch-unknown-linux-gnu

# Embedded Swift sees only musl's headers, so host and static builds import the
# same declarations through CSwinit's module map.
swift_flags=(
  -target "$target" -enable-experimental-feature Embedded -wmo -Osize -swift-version 6
  -Xcc -nostdinc -Xcc "-isystem$musl_include"
  -Xcc -fmodule-map-file=Sources/CSwinit/include/module.modulemap -I Sources/CSwinit/include
  -Xfrontend -disable-stack-protector -Xcc -D_GNU_SOURCE
  -Xfrontend -function-sections -Xfrontend -disable-reflection-metadata
)

# SwinitCore as an Embedded library: a .swiftmodule only; its code is
# compiled into the client (see swift-embedded-examples, Libraries).
swiftc "${swift_flags[@]}" -parse-as-library -emit-module -module-name SwinitCore \
  -emit-module-path "$work/SwinitCore.swiftmodule" Sources/SwinitCore/*.swift 2> >(grep -v 'libc not found' >&2)
swiftc "${swift_flags[@]}" -parse-as-library -module-name swinit -I "$work" -c \
  Sources/swinit/Init.swift -o "$work/swinit.o" 2> >(grep -v 'libc not found' >&2)

musl-gcc -Os -static -ffunction-sections -fdata-sections -c Sources/CSwinit/spawn.c -o "$work/spawn.o"
musl-gcc -static -Wl,--gc-sections -s "$work/swinit.o" "$work/spawn.o" -o "$out/swinit"

musl-gcc -Os -static -s -Wall -Werror Sources/swinit-probe/*.c -o "$out/swinit-probe"

size=$(stat -c %s "$out/swinit")
echo "build-static: $out/swinit is $size bytes ($(( (size + 1023) / 1024 )) KiB), statically linked"
