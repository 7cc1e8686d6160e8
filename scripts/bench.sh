#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks swinit and swinit-run side by side with tini, tini-static,
# dumb-init, catatonit, bubblewrap and crun, and writes docs/BENCHMARKS.md
# and docs/benchmarks.png. Run as root on Debian:
#
#   scripts/bench.sh            # the full run, about 8 minutes
#   scripts/bench.sh --quick    # fewer rounds, under a minute (development;
#                                    # its report goes beside the raw data)
#
# It installs the peers from Debian's packages, builds the static swinit
# (scripts/build-static.sh), swinit-run in release mode and the static timing
# helper scripts/bench/benchkit.c, then runs scripts/bench/run.py, which does
# the measuring. Every measurement is bounded in time and removes the
# processes, mounts and files it makes. Not part of scripts/test.sh or CI:
# benchmarks are not tests.
# Environment: BENCH_SCRATCH (SwiftPM scratch path, default .build),
# BENCH_RESULTS (raw data directory, default a fresh one under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
only=()
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=(--quick) ;;
        --only) only=(--only "$2"); shift ;;  # e.g. --only 2,4 (development)
        -h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument $1 (try --help)" >&2; exit 64 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root (namespaces, mounts, cgroups)" >&2; exit 1; }

packages=(tini dumb-init catatonit bubblewrap crun musl-tools busybox-static gnuplot-nox file python3)
# The image figures (scripts/bench/images.sh): swinit-run's static link needs
# libarchive's and its filters' static libraries; the peers are umoci and podman.
packages+=(libarchive-dev libssl-dev zlib1g-dev libzstd-dev umoci podman runc debootstrap jq)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench.sh: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

scratch=${BENCH_SCRATCH:-.build}
echo "bench.sh: building (static swinit, release swinit-run, benchkit)" >&2
scripts/build-static.sh >&2
swift build --scratch-path "$scratch" -c release --product swinit-run -Xswiftc -static-executable >&2
mkdir -p .build/bench
musl-gcc -O2 -static -s -Wall -Wextra -Werror scripts/bench/benchkit.c -o .build/bench/benchkit

work=$(mktemp -d /tmp/swinit-bench.XXXXXX)
results=${BENCH_RESULTS:-$(mktemp -d /tmp/swinit-bench-results.XXXXXX)}
cleanup() {
    # Every mount the runs make lives in a private mount namespace that ends
    # with them; the thin-layer directories and bundles are plain files.
    rm -rf "$work"
}
trap cleanup EXIT
scripts/make-rootfs.sh "$work/layers" >/dev/null

# Only a full run replaces the committed report; --quick and --only write
# theirs beside the raw data.
report=docs
if [ ${#quick[@]} -gt 0 ] || [ ${#only[@]} -gt 0 ]; then report=$results; fi
mkdir -p "$report"
/usr/bin/python3 scripts/bench/run.py "${quick[@]}" "${only[@]}" \
    --swinit "$PWD/.build/static/swinit" \
    --swinit-run "$PWD/$scratch/release/swinit-run" \
    --benchkit "$PWD/.build/bench/benchkit" \
    --rootfs "$work/layers/base" --work "$work" --results "$results" \
    --report "$report/BENCHMARKS.md" --chart "$report/benchmarks.png"
# Images: the nginx image is built (or reused) by scripts/build-image.sh.
echo "bench.sh: image figures (scripts/bench/images.sh)" >&2
SWINIT_RUN=$PWD/$scratch/release/swinit-run scripts/build-image.sh > /dev/null
rounds=5; [ ${#quick[@]} -gt 0 ] && rounds=2
ROUNDS=$rounds scripts/bench/images.sh "$PWD/$scratch/release/swinit-run" "$work/layers/base" "$work" \
    | tee "$results/images.md" >> "$report/BENCHMARKS.md"
echo "bench.sh: wrote $report/BENCHMARKS.md and $report/benchmarks.png; raw data in $results" >&2
