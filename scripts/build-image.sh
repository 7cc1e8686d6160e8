#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the last stage of a Dockerfile (Dockerfile.example by default) the way
# Docker's overlay2 does, without Docker: one read-only directory per layer.
#
#   base  FROM debian:bookworm-slim -> `debootstrap --variant=minbase bookworm`
#         from the Debian mirror of this machine's apt sources, trimmed like
#         the official slim image (no docs, policy-rc.d, apt clean-up)
#   then  one layer per RUN and COPY of the stage, in order: the step runs in
#         `swinit-run --layer <the layers below> --upper <new> --network host`,
#         and the writable layer it leaves (new/upper) *is* the new layer,
#         whiteouts and opaque directories included.
#
# Each layer is cached under its key: the hash of its parent's key, its
# instruction and the content of the files it copies. An unchanged key is
# reused; a changed one is built, and so is everything above it. The cache
# entry $SWINIT_IMAGE_CACHE/layers/KEY (default /var/cache/swinit/nginx) is a
# symlink to the layer in swinit-run's image store (layers/<chain ID>, see
# `swinit-run image --help`): each built layer is committed there, with the
# Dockerfile's ENTRYPOINT, CMD, EXPOSE and STOPSIGNAL, as the image
# $SWINIT_IMAGE_NAME, and the upper directory the step left is dropped.
# The image is then written as an OCI layout and a docker-save archive
# (for `docker load` / `podman load`) to $SWINIT_IMAGE_OUTPUT.
#
# Usage: scripts/build-image.sh [--prune] [DOCKERFILE]   (as root; needs debootstrap)
#   --prune: then remove every cached layer this image does not use
#   stdout: the layer directories, lowest first, one per line
#   stderr: one line per layer: reused or built, with timings and sizes
# Environment:
#   SWINIT_IMAGE_CACHE    cache directory (default /var/cache/swinit/nginx)
#   SWINIT_IMAGE_CONTEXT  build context, where COPY sources are read (default:
#                         the repository); `COPY --from=STAGE /WORKDIR/path`
#                         reads CONTEXT/path (the static init)
#   SWINIT_RUN            swinit-run binary (default .build/debug/swinit-run)
#   SWINIT_BUILD_VERBOSE  1: show each step's output (else only on failure)
#   SWINIT_STORE          swinit-run's image store (default /var/lib/swinit)
#   SWINIT_IMAGE_NAME     the image's name in the store (default swinit-nginx:latest)
#   SWINIT_IMAGE_OUTPUT   where oci/ and docker-archive.tar go (default CACHE/image)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
context=$(cd "${SWINIT_IMAGE_CONTEXT:-$repo}" && pwd)
prune=0
if [ "${1:-}" = --prune ]; then prune=1; shift; fi
dockerfile=${1:-$context/Dockerfile.example}
cache=${SWINIT_IMAGE_CACHE:-/var/cache/swinit/nginx}
run=${SWINIT_RUN:-$repo/.build/debug/swinit-run}
verbose=${SWINIT_BUILD_VERBOSE:-0}
image_name=${SWINIT_IMAGE_NAME:-swinit-nginx:latest}
output=${SWINIT_IMAGE_OUTPUT:-$cache/image}

say() { printf '%s\n' "$*" >&2; }
die() { say "build-image: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, namespaces, mounts)"
[ -f "$dockerfile" ] || die "no Dockerfile at $dockerfile"
[ -x "$run" ] || die "no swinit-run at $run (swift build --product swinit-run, or set SWINIT_RUN)"

# ---- the Dockerfile: instructions of the last stage -----------------------------
# Joins continuation lines, drops comments, and keeps FROM, WORKDIR, RUN, COPY.
# Fills: from_line, steps[] ("RUN text" / "COPY args"), workdirs[stage]=dir.
declare -a steps=()
declare -A workdirs=()
declare -a unsupported=()
from_line=""
# The image config: JSON arrays for ENTRYPOINT and CMD, ports, the stop signal.
entrypoint="" cmd="" stop_signal=""
declare -a exposed=()
stage=""
while IFS= read -r line; do
    read -r -a words <<< "$line"
    instruction=${words[0]^^}
    rest=${line#*[[:space:]]}
    case $instruction in
        FROM)
            from_line=$line; steps=(); unsupported=(); entrypoint="" cmd="" stop_signal=""; exposed=()
            stage=""
            if [ ${#words[@]} -ge 4 ] && [ "${words[2],,}" = as ]; then stage=${words[3]}; fi ;;
        WORKDIR) if [ -n "$stage" ]; then workdirs[$stage]=$rest; fi; unsupported+=(WORKDIR) ;;
        RUN|COPY) steps+=("$instruction $rest") ;;
        # Exec form as it is (JSON); shell form runs under /bin/sh -c, as Docker does.
        ENTRYPOINT|CMD)
            case $rest in "["*) json=$(jq -c . <<< "$rest") || die "$instruction $rest: not a JSON array" ;;
                          *) json=$(jq -cn --arg c "$rest" '["/bin/sh","-c",$c]') ;; esac
            if [ "$instruction" = ENTRYPOINT ]; then entrypoint=$json; cmd=""; else cmd=$json; fi ;;
        EXPOSE) exposed+=("${words[@]:1}") ;;
        STOPSIGNAL) stop_signal=${words[1]} ;;
        # These would change what later steps see; not supported in the last stage.
        ENV|ARG|USER|SHELL|ADD|ONBUILD) unsupported+=("$instruction") ;;
    esac
done < <(awk '
    /^[[:space:]]*#/ { next }
    { sub(/[[:space:]]+$/, "") }
    /\\$/ { sub(/\\$/, ""); buffer = buffer $0; next }
    { line = buffer $0; buffer = ""; sub(/^[[:space:]]+/, "", line); if (line != "") print line }
' "$dockerfile")
[ -n "$from_line" ] || die "$dockerfile: no FROM"
[ ${#unsupported[@]} -eq 0 ] || die "$dockerfile: the last stage uses ${unsupported[*]}: only RUN (shell form) and COPY build layers here"
case $from_line in
    *"debian:bookworm"*) ;;
    *) die "$dockerfile: the last stage must be FROM debian:bookworm(-slim), not: $from_line" ;;
esac

# ---- the Debian mirror, from this machine's apt sources ---------------------------
# Prints the first URI that serves SUITE with component main (one-line and
# deb822 formats). The repository names no host: it uses whatever apt uses here.
mirror_for() {
    local suite=$1
    {
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v suite="$suite" '
            $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                          if ($(i + 1) == suite) { for (j = i + 2; j <= NF; j++) if ($j == "main") print $i } }'
        for file in /etc/apt/sources.list.d/*.sources; do
            [ -f "$file" ] || continue
            awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
                { types = uris = suites = comps = ""; enabled = 1
                  for (i = 1; i <= NF; i++) {
                      if ($i ~ /^Types:/) types = " " substr($i, 7) " "
                      else if ($i ~ /^URIs:/) { uris = substr($i, 6); sub(/^ +/, "", uris) }
                      else if ($i ~ /^Suites:/) suites = " " substr($i, 8) " "
                      else if ($i ~ /^Components:/) comps = " " substr($i, 12) " "
                      else if ($i ~ /^Enabled: *no/) enabled = 0 }
                  if (enabled && types ~ / deb / && suites ~ (" " suite " ") && comps ~ / main /) {
                      split(uris, list, " "); print list[1] } }' "$file"
        done
    } | head -n 1
}

# ---- the base layer ------------------------------------------------------------------
# debootstrap, then what the official debian:bookworm-slim image does on top
# (debuerreotype): no services started by package scripts, no docs or man
# pages, no downloaded .debs or package lists kept, and the mirror in
# /etc/apt/sources.list.d/debian.sources. resolv.conf, hosts and hostname are
# left empty: the runtime mounts them (Docker does the same).
# This function's text is part of the base layer's cache key.
make_base() {
    local target=$1 mirror=$2 security=$3
    # In a mount namespace of its own: the /proc and /sys that debootstrap
    # mounts in the target never show in the host's mount table, and go
    # away with it if it is killed.
    unshare --mount --propagation private debootstrap --variant=minbase bookworm "$target" "$mirror"
    printf '#!/bin/sh\n# Installed packages start no services in a container.\nexit 101\n' > "$target/usr/sbin/policy-rc.d"
    chmod 755 "$target/usr/sbin/policy-rc.d"
    cat > "$target/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
    cat > "$target/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    printf 'APT::Install-Recommends "false";\n' > "$target/etc/apt/apt.conf.d/docker-no-recommends"
    find "$target/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    find "$target/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$target/usr/share/man/"* "$target/usr/share/info/"* "$target/usr/share/lintian"
    find "$target/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf "$target/var/cache/apt/"*.bin "$target/var/cache/apt/archives/"*.deb "$target/var/lib/apt/lists/"*
    rm -f "$target/etc/apt/sources.list"
    {
        printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        if [ -n "$security" ]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
            printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        fi
    } > "$target/etc/apt/sources.list.d/debian.sources"
    : > "$target/etc/resolv.conf"
    : > "$target/etc/hostname"
    : > "$target/etc/hosts"
    mkdir -p "$target/mnt"
}

# ---- keys, the cache, and steps ----------------------------------------------------------
hash() { sha256sum | cut -c1-64; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
short() { local text; text=$(tr -s ' ' <<< "$1"); [ ${#text} -le 64 ] && printf '%s' "$text" || printf '%s…' "${text:0:63}"; }

mkdir -p "$cache/layers" "$cache/tmp" "$cache/logs"
# Root only, as Docker keeps its store (0700/0710): a layer holds the setuid
# files its steps left (su, mount, passwd…), runnable by any host user otherwise.
chmod 0700 "$cache"
exec 9>"$cache/lock"
flock 9 || die "cannot lock $cache"
rm -rf "${cache:?}/tmp/"*   # what a killed build left; we hold the lock

# COPY sources: "--from=STAGE /WORKDIR/rel" is CONTEXT/rel; else CONTEXT/path.
# Prints the host path; fails on a path that leaves the context.
copy_source() {
    local from=$1 path=$2
    if [ -n "$from" ]; then
        local workdir=${workdirs[$from]:-/}
        workdir=${workdir%/}/
        [[ $path == "$workdir"* ]] || die "COPY --from=$from $path: not under that stage's WORKDIR $workdir"
        path=${path#"$workdir"}
    fi
    case /$path/ in */../*) die "COPY $path: leaves the build context" ;; esac
    [ -e "$context/$path" ] || die "COPY $path: no $context/$path${from:+ (build it first: scripts/build-static.sh)}"
    printf '%s\n' "$context/$path"
}

# The content part of a COPY's key: every file's path, mode and checksum.
content_key() {
    local source
    for source in "$@"; do
        (cd "$source" 2>/dev/null && find . -printf '%P %y %m\n' | LC_ALL=C sort \
            && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
            || { stat -c '%n %F %a' "$source" | sed "s|^$context/||"; sha256sum < "$source"; }
    done | hash
}

# Runs one step in a container over "${layer_args[@]}" with upper $1.
# The host's resolv.conf and hosts are mounted for the step only (apt needs
# them), never stored in a layer; the step's shell is PID 1, as in `docker build`.
run_step() {
    local upper=$1; shift
    "$run" "${layer_args[@]}" --upper "$upper" --network host --no-init \
        -v /etc/resolv.conf:/etc/resolv.conf:ro -v /etc/hosts:/etc/hosts:ro "$@"
}

declare -a layer_args=() layer_dirs=()
store=${SWINIT_STORE:-/var/lib/swinit}

# Commits the layers so far plus the new directory $1 as the image
# swinit-build/cache:KEY; prints the new layer's directory in the store.
store_layer() {
    local new=$1 new_key=$2 tag=swinit-build/cache:${2:0:32}
    "$run" image commit --store "$store" --tag "$tag" "${layer_dirs[@]}" "$new" > /dev/null || return 1
    "$run" image layers --store "$store" "$tag" | tail -n 1
    "$run" image rm --store "$store" "$tag" > /dev/null
}
count=$(( ${#steps[@]} + 1 ))
index=0
key=""

# Builds (or reuses) one layer; $1 the description, $2 the key; the recipe is
# in the function named $3 with the rest as arguments, called with the
# temporary directory first.
layer() {
    local description=$1 new_key=$2 recipe=$3; shift 3
    index=$((index + 1))
    local dir=$cache/layers/$new_key started; started=$(now)
    local label; label=$(printf 'layer %d/%d  %-66s' "$index" "$count" "$(short "$description")")
    if [ -d "$dir" ]; then
        say "$label reused  ${new_key:0:12}  $(du -sh "$dir/" | cut -f1) in $(seconds "$started") s"
    else
        local tmp=$cache/tmp/$new_key log=$cache/logs/$new_key.log
        mkdir -p "$tmp"
        say "$label building…"
        # The recipe runs in a subshell with errexit on, and not on the left of
        # || or in an if: there bash would ignore errexit in the whole recipe.
        local status
        set +e
        if [ "$verbose" = 1 ]; then
            (set -e; "$recipe" "$tmp" "$@") 2>&1 | tee "$log" | sed 's/^/    | /' >&2
            status=${PIPESTATUS[0]}
        else
            (set -e; "$recipe" "$tmp" "$@") > "$log" 2>&1
            status=$?
        fi
        set -e
        if [ "$status" -ne 0 ]; then
            tail -n 20 "$log" | sed 's/^/    | /' >&2
            rm -rf "$tmp"
            die "layer $index failed (status $status): $description (log: $log)"
        fi
        # Into the store, on the layers below (their chain decides the new
        # layer's chain ID); the cache entry is a symlink to it, made by rename
        # so it appears whole or not at all.
        local stored
        stored=$(store_layer "$tmp/layer" "$new_key") || { rm -rf "$tmp"; die "layer $index: cannot store it in $store"; }
        ln -s "$stored" "$tmp/link"
        mv -T "$tmp/link" "$dir"
        rm -rf "$tmp"
        printf '%s\n' "$description" > "$cache/layers/$new_key.instruction"
        say "$label built   ${new_key:0:12}  $(du -sh "$dir/" | cut -f1) in $(seconds "$started") s"
    fi
    key=$new_key
    layer_dirs+=("$dir")
    layer_args+=(--layer "$dir")
}

base_recipe() {
    local tmp=$1 mirror security
    mirror=${SWINIT_DEBIAN_MIRROR:-$(mirror_for bookworm)}
    security=$(mirror_for bookworm-security)
    [ -n "$mirror" ] || { echo "no Debian mirror for bookworm in /etc/apt/sources*; set SWINIT_DEBIAN_MIRROR"; return 1; }
    command -v debootstrap >/dev/null || { echo "debootstrap not found (apt-get install debootstrap)"; return 1; }
    echo "mirror: $mirror"
    make_base "$tmp/layer" "$mirror" "$security"
}

run_recipe() {
    local tmp=$1 text=$2
    run_step "$tmp" -- /bin/sh -c "$text" < /dev/null
    mv "$tmp/upper" "$tmp/layer"
}

# COPY: the sources are staged read-only at /mnt (an empty directory of the
# base) and copied by the container's cp, owned by root with modes and times
# kept, so the layer holds exactly what Docker's COPY would add.
copy_recipe() {
    local tmp=$1 destination=$2; shift 2
    local stage=$tmp/stage index=0 source
    local -a inside=()
    mkdir -p "$stage"
    # Each source keeps its name (/mnt/INDEX/NAME): `COPY FILE DIR/` makes DIR/FILE.
    for source in "$@"; do
        mkdir -p "$stage/$index"
        cp -R --preserve=mode,timestamps "$source" "$stage/$index/$(basename "$source")"
        inside+=("/mnt/$index/$(basename "$source")")
        index=$((index + 1))
    done
    run_step "$tmp" -v "$stage:/mnt:ro" -- /bin/sh -c '
        destination=$1; shift
        case $destination in */) mkdir -p "$destination" ;; *) [ $# -gt 1 ] && mkdir -p "$destination" ;; esac
        mkdir -p "$(dirname "$destination")"
        for source in "$@"; do
            if [ -d "$source" ]; then
                mkdir -p "$destination" && cp -R --preserve=mode,timestamps "$source/." "$destination/"
            else
                cp --preserve=mode,timestamps "$source" "$destination"
            fi
        done' copy "$destination" "${inside[@]}" < /dev/null
    mv "$tmp/upper" "$tmp/layer"
}

started_all=$(now)
layer "$from_line (debootstrap --variant=minbase bookworm)" \
    "$(printf 'base\n%s\n%s\n' "$from_line" "$(declare -f make_base)" | hash)" base_recipe

for step in "${steps[@]}"; do
    instruction=${step%% *}
    text=${step#* }
    case $instruction in
        RUN)
            case $text in "["*) die "RUN $text: only the shell form is supported" ;; esac
            layer "$step" "$(printf '%s\n%s\n' "$key" "$step" | hash)" run_recipe "$text" ;;
        COPY)
            read -r -a words <<< "$text"
            from=""
            case ${words[0]} in --from=*) from=${words[0]#--from=}; words=("${words[@]:1}") ;; esac
            case ${words[0]} in --*) die "COPY ${words[0]}: option not supported" ;; esac
            [ ${#words[@]} -ge 2 ] || die "COPY $text: needs a source and a destination"
            destination=${words[-1]}
            sources=()
            for source in "${words[@]:0:${#words[@]}-1}"; do sources+=("$(copy_source "$from" "$source")"); done
            # The recipe is part of the key: a layer made by an older copy_recipe is not reused.
            layer "$step" "$(printf '%s\n%s\n%s\n%s\n' "$key" "$step" "$(content_key "${sources[@]}")" \
                "$(declare -f copy_recipe)" | hash)" \
                copy_recipe "$destination" "${sources[@]}" ;;
    esac
done

# ---- the image: config, the store, OCI layout and docker-save archive ----------------
commit_args=(--store "$store" --tag "$image_name")
[ -n "$entrypoint" ] && commit_args+=(--entrypoint "$entrypoint")
[ -n "$cmd" ] && commit_args+=(--cmd "$cmd")
[ -n "$stop_signal" ] && commit_args+=(--stop-signal "$stop_signal")
for port in "${exposed[@]}"; do commit_args+=(--expose "$port"); done
started=$(now)
"$run" image commit "${commit_args[@]}" "${layer_dirs[@]}" >&2 || die "cannot commit $image_name to $store"
rm -rf "$output.new"
mkdir -p "$output.new"
"$run" image save --store "$store" --oci "$output.new/oci" --docker-archive "$output.new/docker-archive.tar" "$image_name" \
    || die "cannot save $image_name"
rm -rf "$output"
mv "$output.new" "$output"
say "image: $image_name in $store; OCI layout $output/oci, docker-save archive $output/docker-archive.tar ($(seconds "$started") s)"

if [ "$prune" = 1 ]; then
    for entry in "$cache/layers/"*; do
        [ -L "$entry" ] || [ -d "$entry" ] || continue
        case " ${layer_dirs[*]} " in *" $entry "*) continue ;; esac
        rm -rf "$entry" "$entry.instruction" "$cache/logs/${entry##*/}.log"
        say "pruned ${entry##*/}"
    done
    "$run" image prune --store "$store" >&2 || say "build-image: image prune skipped (containers are running from the store)"
fi
say "image: $count layers, $(du -shc "${layer_dirs[@]/%//}" | tail -n 1 | cut -f1) in $(seconds "$started_all") s (cache: $cache)"
printf '%s\n' "${layer_dirs[@]}"
