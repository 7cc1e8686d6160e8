#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Image figures for docs/BENCHMARKS.md (called by scripts/bench.sh; not a test):
#   1. loading the nginx image: `swinit-run image load` of its docker-save
#      archive vs `umoci unpack` of its OCI layout and `podman load` of the
#      same archive (private storage root), each into a fresh place, median
#      of ROUNDS;
#   2. start and exit of `-- true`: --image (the first run after a load, then
#      again) vs --layer with the same directories vs --rootfs busybox;
#   3. disk used by 100 containers of the image, each with a persistent thin
#      layer (--upper) that it writes 1 KiB into.
# Prints a Markdown section on stdout.
#   images.sh SWINIT_RUN BUSYBOX_ROOT WORK
set -euo pipefail
run=$1 busybox=$2 work=$3
rounds=${ROUNDS:-5}
archive=${SWINIT_IMAGE_OUTPUT:-${SWINIT_IMAGE_CACHE:-/var/cache/swinit/nginx}/image}/docker-archive.tar
layout=${archive%/*}/oci
image=swinit-nginx:latest
[ -f "$archive" ] || { echo "images.sh: no $archive: run scripts/build-image.sh first" >&2; exit 1; }

ms() { python3 -c 'import sys,statistics; v=sorted(float(x) for x in sys.stdin.read().split()); print("%.1f" % statistics.median(v))'; }
now() { date +%s%N; }
elapsed() { awk -v ns=$(( $(now) - $1 )) 'BEGIN { printf "%.3f", ns / 1e6 }'; }
podman_in() { podman --root "$1/root" --runroot "$1/run" --tmpdir "$1/tmp" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file "${@:2}"; }

# ---- 1. load ------------------------------------------------------------------------
declare -A load=()
for round in $(seq "$rounds"); do
    for tool in swinit-run umoci podman; do
        dir=$work/load-$tool; rm -rf "$dir"; mkdir -p "$dir"
        started=$(now)
        case $tool in
            swinit-run) "$run" image load --store "$dir/store" "$archive" > /dev/null ;;
            umoci) umoci unpack --image "$layout:$image" "$dir/bundle" > /dev/null ;;
            podman) podman_in "$dir" load -q -i "$archive" > /dev/null ;;
        esac
        load[$tool]+="$(elapsed "$started") "
        [ "$tool" = podman ] && podman_in "$dir" rmi -a -f > /dev/null
        rm -rf "$dir"
    done
done

# ---- 2. start ------------------------------------------------------------------------
store=$work/store
"$run" image load --store "$store" "$archive" > /dev/null
mapfile -t layers < <("$run" image layers --store "$store" "$image")
layer_args=(); for layer in "${layers[@]}"; do layer_args+=(--layer "$layer"); done
started=$(now); "$run" --store "$store" --image "$image" -- true; first=$(elapsed "$started")
declare -A start=()
for round in $(seq $((rounds * 10))); do
    for how in image layer rootfs; do
        started=$(now)
        case $how in
            image) "$run" --store "$store" --image "$image" -- true ;;
            layer) "$run" "${layer_args[@]}" -- true ;;
            rootfs) "$run" --rootfs "$busybox" -- true ;;
        esac
        start[$how]+="$(elapsed "$started") "
    done
done

# ---- 3. disk of 100 containers -----------------------------------------------------
store_before=$(du -sk "$store" | cut -f1)
pids=()
for i in $(seq 100); do
    mkdir -p "$work/c$i"
    "$run" --store "$store" --image "$image" --upper "$work/c$i" --name "bench-image-$$-$i" \
        -- sh -c 'head -c 1024 /dev/zero > /written; exec sleep 30' < /dev/null > /dev/null 2>&1 &
    pids+=($!)
done
sleep 5
store_during=$(du -sk "$store" | cut -f1)
uppers=$(du -skc "$work"/c*/upper | tail -n 1 | cut -f1)
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
rm -rf "$work"/c* "$store"

cat <<REPORT

## Images

The nginx image of Dockerfile.example (6 layers, $(du -sh "$archive" | cut -f1) docker-save archive), medians of $rounds rounds (warm page cache: the archive was just written).

| load the nginx image | ms |
|---|---|
| \`swinit-run image load\` (docker-save archive: unpack, check every digest, store) | $(ms <<< "${load[swinit-run]}") |
| \`umoci unpack\` (its OCI layout into a bundle) | $(ms <<< "${load[umoci]}") |
| \`podman load\` (the same archive, private storage root) | $(ms <<< "${load[podman]}") |

| start and exit of \`-- true\`, median of $((rounds * 10)) | ms |
|---|---|
| \`--image $image\`, first run after the load | $first |
| \`--image $image\` | $(ms <<< "${start[image]}") |
| \`--layer\` ×${#layers[@]}, the same directories | $(ms <<< "${start[layer]}") |
| \`--rootfs\` busybox | $(ms <<< "${start[rootfs]}") |

100 containers of the image running at once, each with a thin layer on disk
(\`--upper\`) holding 1 KiB it wrote: the store stays at ${store_before} KiB
(${store_during} KiB while they run), the 100 thin layers take ${uppers} KiB in all.
REPORT
