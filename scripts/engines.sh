#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Private container engines for the engine tests (Tests/SwinitTests/Engine*):
# two dockerd, one with the static swinit as its init and one with Debian's
# tini-static (each scenario runs under both, to show parity), and podman's
# settings for a private storage root. Nothing shared with the host's own
# engines: own data roots, exec roots, pid files, unix sockets, containerd
# namespaces, all under one temporary directory.
#
#   eval "$(scripts/engines.sh start)"     starts them; prints the exports
#   scripts/engines.sh stop DIR            stops them by pid and removes DIR
#
# start prints SWINIT_ENGINE_DIR, SWINIT_DOCKER_SWINIT and SWINIT_DOCKER_TINI
# (unix:// sockets), SWINIT_PODMAN_FLAGS (podman's global options for the
# private root) and SWINIT_PODMAN_CONF (its CONTAINERS_CONF), SWINIT_ENGINE_SWINIT and SWINIT_ENGINE_TINI (the two inits).
# stop also removes what dockerd and podman create outside their roots
# (/etc/docker/key.json, /run/docker, /run/containers, /run/libpod, …), but
# only the paths that did not exist when start ran.
set -euo pipefail
cd "$(dirname "$0")/.."

# Paths the engines create outside the roots they are given.
global_paths=(/etc/docker/key.json /etc/docker /run/docker /var/run/docker /run/containers /run/libpod
              /var/lib/containers /etc/containers/networks /run/netns)

start() {
    local swinit=$PWD/.build/static/swinit tini=/usr/bin/tini-static
    [ -x "$swinit" ] || { echo "engines.sh: $swinit missing (scripts/build-static.sh)" >&2; exit 1; }
    [ -x "$tini" ] || { echo "engines.sh: $tini missing (apt-get install tini)" >&2; exit 1; }
    local dir
    dir=$(mktemp -d /tmp/swinit-engines.XXXXXX)
    for path in "${global_paths[@]}"; do
        [ -e "$path" ] || echo "$path" >> "$dir/absent-before"
    done
    for init in swinit tini; do
        local root=$dir/$init init_path=$swinit
        [ "$init" = tini ] && init_path=$tini
        mkdir -p "$root"
        # An empty config file, so /etc/docker/daemon.json (if any) is not read.
        echo '{}' > "$root/daemon.json"
        # setsid: the daemons outlive this script and ignore the caller's
        # terminal signals; they are stopped by pid in stop().
        setsid /usr/sbin/dockerd \
            --config-file "$root/daemon.json" \
            --data-root "$root/data" --exec-root "$root/exec" --pidfile "$root/dockerd.pid" \
            --host "unix://$root/docker.sock" \
            --containerd-namespace "swinit-test-$init" --containerd-plugins-namespace "swinit-test-$init-plugins" \
            --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
            --exec-opt native.cgroupdriver=cgroupfs \
            --init-path "$init_path" \
            </dev/null >"$root/dockerd.log" 2>&1 &
        echo $! > "$root/dockerd.started-pid"
    done
    for init in swinit tini; do
        local root=$dir/$init waited=0
        until /usr/bin/docker -H "unix://$root/docker.sock" version >/dev/null 2>&1; do
            if ! kill -0 "$(cat "$root/dockerd.started-pid")" 2>/dev/null || [ $waited -ge 300 ]; then
                echo "engines.sh: dockerd ($init) did not come up; its log:" >&2
                tail -20 "$root/dockerd.log" >&2
                stop "$dir" >&2
                exit 1
            fi
            sleep 0.1
            waited=$((waited + 1))
        done
    done
    # podman has no daemon: its private root is a set of global options, and
    # a containers.conf for what pods' infra containers need too: runc (crun
    # refuses this host's hybrid cgroups), cgroupfs, and explicit ulimits:
    # podman's defaults (nofile 1048576) are above this host's hard limits,
    # and runc here may not set nproc at 65536 or more (root lacks
    # CAP_SYS_RESOURCE), so nofile stays at the current hard limit and nproc
    # is 4096.
    mkdir -p "$dir/podman"
    cat > "$dir/podman/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
EOF
    local podman_flags="--root $dir/podman/root --runroot $dir/podman/run --tmpdir $dir/podman/tmp"
    podman_flags+=" --storage-driver overlay --network-config-dir $dir/podman/networks"
    echo "export SWINIT_ENGINE_DIR=$dir"
    echo "export SWINIT_DOCKER_SWINIT=unix://$dir/swinit/docker.sock"
    echo "export SWINIT_DOCKER_TINI=unix://$dir/tini/docker.sock"
    echo "export SWINIT_PODMAN_FLAGS='$podman_flags'"
    echo "export SWINIT_PODMAN_CONF=$dir/podman/containers.conf"
    echo "export SWINIT_ENGINE_SWINIT=$swinit"
    echo "export SWINIT_ENGINE_TINI=$tini"
}

# Stops the daemons by pid (SIGTERM, then SIGKILL after 20 s), unmounts what is
# left under DIR, and removes DIR and the global paths the run created.
stop() {
    local dir=${1:?usage: engines.sh stop DIR}
    case "$dir" in /tmp/swinit-engines.*) ;; *) echo "engines.sh: not an engines directory: $dir" >&2; exit 2 ;; esac
    [ -d "$dir" ] || return 0
    local pid
    # podman leaves no daemon; its containers are removed by the tests, but a
    # killed test run may leave some: remove them with the same flags.
    if [ -d "$dir/podman/root" ]; then
        local podman=(env CONTAINERS_CONF="$dir/podman/containers.conf" podman --root "$dir/podman/root"
                      --runroot "$dir/podman/run" --tmpdir "$dir/podman/tmp" --storage-driver overlay
                      --network-config-dir "$dir/podman/networks")
        "${podman[@]}" pod rm -a -f >/dev/null 2>&1 || true
        "${podman[@]}" rm -a -f >/dev/null 2>&1 || true
    fi
    for init in swinit tini; do
        local file=$dir/$init/dockerd.started-pid
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    # containerd-shim processes of a killed daemon: by the pids in their
    # pid files under the exec roots.
    for file in $(find "$dir" -name 'shim.pid' -o -name 'init.pid' 2>/dev/null); do
        kill -KILL "$(cat "$file")" 2>/dev/null || true
    done
    # Mounts under DIR (overlay layers, shm, netns), deepest first.
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mount; do
        umount -l "$mount" 2>/dev/null || true
    done
    rm -rf "$dir"
}

cleanup_globals() {
    local list=$1
    [ -f "$list" ] || return 0
    # podman makes /run/netns a shared bind mount of itself: unmount first.
    local path
    while read -r path; do
        if mountpoint -q "$path" 2>/dev/null; then umount "$path" || umount -l "$path" || true; fi
        rm -rf "$path" || echo "engines.sh: could not remove $path" >&2
    done < "$list"
}

case "${1:-}" in
    start) start ;;
    stop)
        dir=${2:?usage: engines.sh stop DIR}
        cp "$dir/absent-before" "$dir.absent" 2>/dev/null || true
        stop "$dir"
        cleanup_globals "$dir.absent"
        rm -f "$dir.absent"
        ;;
    *) echo "usage: engines.sh start | stop DIR" >&2; exit 2 ;;
esac
