#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes a busybox-static image in two layers for tests and demos, in seconds:
#   DIR/base  a root filesystem: /bin/busybox, relative applet links, /etc
#   DIR/top   a second layer: /etc/layer hides base's, /etc/top-only is new
# Usage: scripts/make-rootfs.sh DIR        (needs busybox-static)
set -eu

dir=${1:?usage: make-rootfs.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
    echo "make-rootfs.sh: $busybox is not a busybox (apt-get install busybox-static)" >&2
    exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
    echo "make-rootfs.sh: $busybox is dynamically linked; install busybox-static" >&2
    exit 1
fi

base=$dir/base
top=$dir/top
rm -rf "$base" "$top"
mkdir -p "$base" "$top"
cd "$base"
mkdir -p bin sbin usr/bin usr/sbin etc root tmp proc sys dev var/tmp home
chmod 1777 tmp var/tmp
chmod 700 root
cp "$busybox" bin/busybox
# Relative links: `busybox --install -s` would point at the host's absolute
# path, dangling inside the container. `busybox --list` names busybox itself.
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] && continue
    ln -s busybox "bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > etc/passwd
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > etc/group
echo base > etc/layer
echo base > etc/deletable

mkdir -p "$top/etc"
echo top > "$top/etc/layer"
echo top > "$top/etc/top-only"
