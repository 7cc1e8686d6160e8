#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, on a fresh Debian machine of this kind, as root:
# installs what the tests need, builds the static init and probe and the
# host binaries, then runs every test (`swift test`: the init's black-box
# tests through both builds, and swinit-run's end-to-end containers).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: run as root (pid namespaces, mounts, apt-get)" >&2
    exit 1
fi

# musl-tools: the static init; busybox-static: container roots; libcap-dev:
# swinit-run's capabilities; util-linux: unshare/nsenter; procps: ps in tests;
# debootstrap and curl: the nginx image (scripts/build-image.sh) and its page.
packages=(musl-tools busybox-static libcap-dev util-linux procps debootstrap curl)
# libarchive-dev, libssl-dev, zlib1g-dev, libzstd-dev: swinit-run's image code
# (tar, gzip, zstd, SHA-256; zlib and zstd linked by name for static builds);
# zstd, python3: the test images; umoci, skopeo, buildah: images made by the
# real tools (ImageToolTests); jq: build-image.sh's ENTRYPOINT/CMD; podman and
# runc, docker.io: the built nginx image loaded and served by podman and by a
# private dockerd (BuiltImageTests).
packages+=(libarchive-dev libssl-dev zlib1g-dev libzstd-dev zstd python3 umoci skopeo buildah jq podman runc docker.io)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== building the static init and probe (Embedded Swift + musl)"
scripts/build-static.sh
echo "== building the host binaries and tests"
swift build --build-tests
echo "== running the tests"
swift test --skip-build
