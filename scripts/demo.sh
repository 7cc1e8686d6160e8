#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job, end to end on a fresh machine (as root): nginx from
# Dockerfile.example, built here layer by layer, run with swinit as PID 1.
#
#   scripts/demo.sh             the nginx demo
#   scripts/demo.sh --busybox   the quick one on a busybox root (seconds, no network)
#
# nginx: installs what it needs, builds the static swinit and swinit-run,
# builds or reuses the image (scripts/build-image.sh: cached layers in the
# image store, default /var/lib/swinit, as swinit-nginx:latest, plus an OCI
# layout and a docker-save archive), then runs
#   swinit-run --image swinit-nginx:latest --network host -v LOGS:/var/log/nginx
# whose ENTRYPOINT makes the image's own /swinit PID 1, as docker run would,
# and shows: the process tree inside, the page over TLS, orphans reaped by
# swinit (and left as zombies without it), a graceful stop whose exit status
# comes back, the thin layer gone, the layers unchanged and the log kept on the
# volume. Leaves no process, mount or state behind; only the layer cache stays.
# Environment: SWINIT_SCRATCH (swift build's scratch path, default .build).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# stop_background SIGNAL EXPECTED: sends SIGNAL to the background swinit-run,
# waits for it and checks its exit status.
stop_background() {
    kill -"$1" "$background"
    local status=0
    wait "$background" || status=$?
    background=""
    note "host: swinit-run exited with $status"
    [ "$status" -eq "$2" ] || fail "expected exit status $2 after SIG$1, got $status"
}

mode=nginx
case ${1:-} in
    "") ;;
    --busybox) mode=busybox ;;
    -h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown option $1 (try --help)" ;;
esac

[ "$(id -u)" -eq 0 ] || fail "run as root (namespaces, mounts, apt-get)"

packages=(musl-tools libcap-dev libseccomp-dev libarchive-dev libssl-dev zlib1g-dev libzstd-dev util-linux procps)
[ "$mode" = nginx ] && packages+=(debootstrap curl jq) || packages+=(busybox-static)
step "installing what the demo needs (${packages[*]})"
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    note "installed: ${missing[*]}"
else
    note "all there"
fi

step "building the static swinit (Embedded Swift + musl) and swinit-run"
scripts/build-static.sh
scratch=${SWINIT_SCRATCH:-.build}
swift build --scratch-path "$scratch" --product swinit-run 2>&1 | tail -n 1
run=("$PWD/$scratch/debug/swinit-run")
export SWINIT_INIT=$PWD/.build/static/swinit   # the init swinit-run puts at PID 1

work=$(mktemp -d /tmp/swinit-demo.XXXXXX)
background=""   # swinit-run of the container in flight (nginx's, or the busybox one)
helper=""       # swinit-run of the orphan-making container
cleanup() {
    # On an early exit: SIGTERM (forwarded inside, so nginx stops and
    # swinit-run removes its state directory), SIGKILL after 5 s.
    local pid tries
    for pid in $background $helper; do
        kill -TERM "$pid" 2>/dev/null || continue
        for tries in $(seq 50); do kill -0 "$pid" 2>/dev/null && sleep 0.1 || break; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT
trap "exit 143" TERM

# PID 1 of the container, seen from the host: the child of swinit-run.
container_init() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'; }
# Zombies whose parent is the container's PID 1, counted from the host.
count_zombies() { ps -o stat= --ppid "$1" 2>/dev/null | grep -c '^Z' || true; }
# Containers run in the background get stdin from /dev/null: with the
# terminal on stdin, swinit (the foreground job's process group here, as a
# script has no job control) would give it to the container, and a Ctrl-C
# would reach nginx instead of this script.

# Mounts whose path names the demo's scratch directory.
demo_mounts() { grep -c "$work" /proc/self/mountinfo || true; }

# 200 orphans that exit after 0.5 s; then PID 1 execs sleep, which never
# waits. Prints the zombies left under the container's PID 1 after 2 s.
orphans() {
    "${run[@]}" "$@" -- sh -c 'for i in $(seq 200); do (sleep 0.5 &); done; exec sleep 3' </dev/null &
    helper=$!
    sleep 2
    local init; init=$(container_init "$helper")
    note "zombies under the container's PID 1 ($(cat "/proc/$init/comm")): $(count_zombies "$init")"
    wait "$helper" || true
    helper=""
}

busybox_demo() {
    step "making a busybox root filesystem"
    scripts/make-rootfs.sh "$work/layers"
    local root=$work/layers/base
    note "root: $root ($(du -sh "$root" | cut -f1))"

    step "swinit is PID 1; the program is its child"
    "${run[@]}" --rootfs "$root" -- ps -o pid,ppid,stat,comm

    step "200 orphans with swinit as PID 1: every one reaped"
    orphans --rootfs "$root"
    step "the same without an init (--no-init): the orphans stay zombies"
    orphans --no-init --rootfs "$root"

    step "SIGTERM sent to swinit-run reaches the program's trap; its exit status comes back"
    "${run[@]}" --rootfs "$root" -- sh -c \
        'trap "echo program: got SIGTERM, cleaning up; exit 42" TERM; echo program: running; while :; do sleep 0.1; done' </dev/null &
    background=$!
    sleep 1
    note "host: kill -TERM swinit-run"
    stop_background TERM 42

    step "done: no process, mount or state directory left"
    note "mounts under $work: $(demo_mounts)"
}

# The processes of the container whose swinit-run has host pid $1, as the
# container sees them: its PIDs (NSpid), users (its /etc/passwd), commands.
container_tree() {
    local init; init=$(container_init "$1")
    printf '   %5s %5s  %-9s %s\n' PID PPID USER COMMAND
    walk() {
        local pid=$1 parent=$2 depth=$3 child
        local inner uid user command
        inner=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
        uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
        user=$(awk -F: -v uid="$uid" '$3 == uid { print $1; exit }' "/proc/$init/root/etc/passwd")
        command=$(tr '\0' ' ' < "/proc/$pid/cmdline")
        printf '   %5s %5s  %-9s %*s%s\n' "$inner" "$parent" "${user:-$uid}" $((depth * 2)) "" "$command"
        for child in $(cat /proc/"$pid"/task/*/children); do walk "$child" "$inner" $((depth + 1)); done
    }
    walk "$init" 0 0
}

# A checksum listing of the layers: every path, type, mode, owner, size and
# file content, hashed into one line.
layers_digest() {
    local layer
    for layer in "$@"; do
        (cd "$layer" && find . -printf '%P %y %m %U:%G %s %l\n' | LC_ALL=C sort \
            && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    done | sha256sum | cut -c1-16
}

wait_for_page() {
    local deadline=$((SECONDS + 15))
    until curl -sk -o /dev/null https://127.0.0.1:8443/; do
        kill -0 "$background" 2>/dev/null || fail "nginx's container exited early"
        [ $SECONDS -lt $deadline ] || fail "nginx did not answer on 8443 within 15 s"
        sleep 0.1
    done
}

nginx_demo() {
    step "building or reusing the image's layers (scripts/build-image.sh, Dockerfile.example's last stage)"
    SWINIT_RUN=${run[0]} scripts/build-image.sh --prune > "$work/layers"   # keep only this image
    local -a layer_dirs=() layer_args=()
    mapfile -t layer_dirs < "$work/layers"
    local layer; for layer in "${layer_dirs[@]}"; do layer_args+=(--layer "$layer"); done
    local digest; digest=$(layers_digest "${layer_dirs[@]}")
    note "checksum listing of the layers: $digest"

    if curl -sk -o /dev/null https://127.0.0.1:8443/ 2>/dev/null; then fail "port 8443 is already in use"; fi
    local logs=$work/logs name=swinit-demo-nginx-$$ image=swinit-nginx:latest
    mkdir -p "$logs"
    step "the image in the store (its layers are the ones above), and written for docker/podman load"
    "${run[@]}" image ls | sed 's/^/   | /'
    note "OCI layout and docker-save archive: ${SWINIT_IMAGE_CACHE:-/var/cache/swinit/nginx}/image/"
    step "starting nginx: swinit-run --image $image --network host -v $logs:/var/log/nginx"
    note "the image's ENTRYPOINT [\"/swinit\", \"--\"] and CMD [\"nginx\", \"-g\", \"daemon off;\"]: its own swinit is PID 1"
    local started; started=$(date +%s%N)
    "${run[@]}" --name "$name" --image "$image" --network host -v "$logs:/var/log/nginx" </dev/null &
    background=$!
    wait_for_page
    note "answering on 8443 after $(( ($(date +%s%N) - started) / 1000000 )) ms"

    step "inside the container: the image's /swinit is PID 1, nginx's master its child, the workers below"
    container_tree "$background"

    step "curl -k https://127.0.0.1:8443/"
    local code; code=$(curl -sk -o "$work/page" -w '%{http_code}' https://127.0.0.1:8443/)
    sed 's/^/   | /' "$work/page"
    note "HTTP $code"
    [ "$code" = 200 ] || fail "expected HTTP 200"
    note "certificate: $(curl -skv https://127.0.0.1:8443/ 2>&1 >/dev/null | awk -F': ' '/subject:/ { print $2; exit }')"

    step "nginx's writes go to the thin layer, not to the image"
    local init; init=$(container_init "$background")
    note "/run/nginx.pid inside: $(cat "/proc/$init/root/run/nginx.pid")  (the master, as the container numbers it)"
    note "in any layer: $(find "${layer_dirs[@]}" -path '*/run/nginx.pid' | wc -l) copies; state directory: /run/swinit-run/$name"

    step "a second container of the image: 200 orphans, its /swinit as PID 1 reaps them"
    orphans --image "$image"
    step "the same without an init (--no-init): the orphans stay zombies"
    orphans --no-init "${layer_args[@]}"

    step "graceful stop: kill -QUIT swinit-run (nginx's STOPSIGNAL), forwarded by swinit to nginx"
    stop_background QUIT 0

    step "and once more with kill -TERM: the image's STOPSIGNAL (SIGQUIT) is what nginx gets, as with docker stop"
    "${run[@]}" --image "$image" --network host -v "$logs:/var/log/nginx" </dev/null &
    background=$!
    wait_for_page
    stop_background TERM 0

    step "afterwards: the thin layer is gone, the layers unchanged, the log kept on the volume"
    [ ! -e "/run/swinit-run/$name" ] || fail "state directory /run/swinit-run/$name is still there"
    note "state directory /run/swinit-run/$name: gone"
    local after; after=$(layers_digest "${layer_dirs[@]}")
    note "checksum listing of the layers: $after ($([ "$after" = "$digest" ] && echo unchanged || echo CHANGED))"
    [ "$after" = "$digest" ] || fail "the layers changed"
    note "$logs/access.log on the host volume, $(wc -l < "$logs/access.log") requests (the last 2; the demo removes its scratch directory at exit):"
    tail -n 2 "$logs/access.log" | sed 's/^/   | /'

    step "done: no process, mount or state left (the layer cache stays for next time)"
    note "processes of the demo's containers: $(pgrep -f "swinit-demo-nginx-$$" | wc -l); mounts naming $work: $(demo_mounts)"
    note "layer cache: ${SWINIT_IMAGE_CACHE:-/var/cache/swinit/nginx} ($(du -sh "${SWINIT_IMAGE_CACHE:-/var/cache/swinit/nginx}" | cut -f1); rm -rf it to start cold)"
}

"${mode}_demo"
