#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job, end to end on a fresh machine (as root): build swinit (static)
# and swinit-run, make a busybox root filesystem, and run containers with
# swinit as PID 1, showing what an init is for: orphans reaped (next to the
# same run without an init, which leaves zombies) and a signal forwarded to
# the program, whose exit status comes back. Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (namespaces and mounts)" >&2; exit 1; }

step "installing what the demo needs (musl-tools, busybox-static, libcap-dev)"
missing=()
for package in musl-tools busybox-static libcap-dev util-linux; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "ok"

step "building the static swinit (Embedded Swift + musl) and swinit-run"
scripts/build-static.sh
swift build --product swinit-run 2>&1 | tail -1
run=(.build/debug/swinit-run)
export SWINIT_INIT=$PWD/.build/static/swinit   # the init swinit-run puts at PID 1

work=$(mktemp -d /tmp/swinit-demo.XXXXXX)
background=""
cleanup() {
    [ -n "$background" ] && kill -KILL "$background" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

step "making a busybox root filesystem"
scripts/make-rootfs.sh "$work/layers"
root=$work/layers/base
echo "root: $root ($(du -sh "$root" | cut -f1))"

step "swinit is PID 1; the program is its child"
"${run[@]}" --rootfs "$root" -- ps -o pid,ppid,stat,comm

# PID 1 of the container, seen from the host: the child of swinit-run.
container_init() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'; }
# Zombies whose parent is the container's PID 1, counted from the host.
count_zombies() { ps -o stat= --ppid "$1" 2>/dev/null | grep -c '^Z' || true; }

orphans() {
    # 200 orphans exit after 0.5 s; PID 1 then execs sleep, which never waits.
    "${run[@]}" "$@" --rootfs "$root" -- sh -c \
        'for i in $(seq 200); do (sleep 0.5 &); done; exec sleep 3' &
    background=$!
    sleep 2
    local init; init=$(container_init "$background")
    echo "zombies left under the container's PID 1 ($(cat "/proc/$init/comm")): $(count_zombies "$init")"
    wait "$background" || true
    background=""
}

step "200 orphans with swinit as PID 1: every one reaped"
orphans
step "the same without an init (--no-init): the orphans stay zombies"
orphans --no-init

step "SIGTERM sent to swinit-run reaches the program's trap; its exit status comes back"
"${run[@]}" --rootfs "$root" -- sh -c \
    'trap "echo program: got SIGTERM, cleaning up; exit 42" TERM; echo program: running; while :; do sleep 0.1; done' &
background=$!
sleep 1
echo "host: kill -TERM swinit-run"
kill -TERM "$background"
status=0
wait "$background" || status=$?
background=""
echo "host: swinit-run exited with $status"
[ "$status" -eq 42 ] || { echo "demo: expected 42" >&2; exit 1; }

step "done: no process, mount or state directory left"
echo "mounts under $work: $(grep -c "$work" /proc/self/mountinfo || true)"
