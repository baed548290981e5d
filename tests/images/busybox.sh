#!/usr/bin/env bash
# Makes a busybox rootfs from Debian's busybox-static and imports it as an
# image: tests/images/busybox.sh [BERTH [NAME]] (default: berth, busybox:latest).
# Extra berth flags (such as -H) can come through BERTH_FLAGS.
set -euo pipefail
berth=${1:-berth}
name=${2:-busybox:latest}
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root,var}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
tar -C "$rootfs" --numeric-owner -cf - . | "$berth" ${BERTH_FLAGS:-} import -c 'CMD ["sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$name"
