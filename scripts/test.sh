#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, on a fresh Debian machine of this kind, as root:
# installs what the tests need, builds the static init and probe (x86_64 and
# aarch64) and the host binaries, starts private engines (scripts/engines.sh),
# then runs every test (`swift test`: the init's black-box tests through both
# builds, the engine tests, and swinit-run's end-to-end containers) and the
# init's black-box tests again against the aarch64 build under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: run as root (pid namespaces, mounts, apt-get)" >&2
    exit 1
fi

# musl-tools: the static init; busybox-static: container roots; libcap-dev:
# swinit-run's capabilities; util-linux: unshare/nsenter; procps: ps in tests;
# debootstrap and curl: the nginx image (scripts/build-image.sh) and its page;
# libseccomp-dev: swinit-run's seccomp filters (CLibseccomp);
# keyutils: keyctl adds the keys a container must not read (SessionTests).
packages=(musl-tools busybox-static libcap-dev util-linux procps debootstrap curl libseccomp-dev keyutils)
# The engine tests (scripts/engines.sh): dockerd and its client, podman,
# docker-compose, runc (crun refuses this host's hybrid cgroups), and Debian's
# tini-static as the reference init.
packages+=(docker.io podman docker-compose runc tini)
# The aarch64 build (musl's arm64 headers, crt files and libc.a; the cross gcc
# for spawn.c and libgcc.a) and qemu-user to run its black-box tests.
packages+=(gcc-aarch64-linux-gnu musl-dev:arm64 qemu-user-static)
update_needed=false
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    update_needed=true
fi
# libarchive-dev, libssl-dev, zlib1g-dev, libzstd-dev: swinit-run's image code
# (tar, gzip, zstd, SHA-256; zlib and zstd linked by name for static builds);
# zstd, python3: the test images; umoci, skopeo, buildah: images made by the
# real tools (ImageToolTests); jq: build-image.sh's ENTRYPOINT/CMD. podman,
# runc and docker.io (above) also load and serve the built nginx image
# (BuiltImageTests).
packages+=(libarchive-dev libssl-dev zlib1g-dev libzstd-dev zstd python3 umoci skopeo buildah jq)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ] || $update_needed; then
    echo "== installing: ${missing[*]}"
    apt-get update -qq
    [ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== building the static init and probe for x86_64 and aarch64 (Embedded Swift + musl)"
scripts/build-static.sh all
echo "== building the host binaries and tests"
swift build --build-tests

# Private engines for the engine tests (Tests/SwinitTests/Engine*), stopped by
# pid on every exit; their variables tell the tests where they are.
echo "== starting private engines (dockerd with swinit, dockerd with tini, podman's root)"
engines_env=$(scripts/engines.sh start)
eval "$engines_env"
trap 'scripts/engines.sh stop "$SWINIT_ENGINE_DIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== running the tests"
swift test --skip-build
# The same black-box tests against the aarch64 build under qemu-user (the
# engine tests and the in-process parsing tests are not about the binary).
echo "== the init's black-box tests against the aarch64 swinit, under qemu-aarch64-static"
SWINIT_TEST_QEMU=qemu-aarch64-static SWINIT_STATIC_BIN=$PWD/.build/static/aarch64/swinit \
    swift test --skip-build --filter SwinitTests --skip 'DockerInitTests|PodmanInitTests|OptionParsingTests'
