#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The seed scenario, word for word, on a busybox image (for `make demo`):
#   unionctr create -v /srv --name store IMAGE /bin/true
#   unionctr run -it --rm --volumes-from store IMAGE sh
# The interactive shell is typed into through script(1), so this runs
# unattended. usage: demo.sh [--storage unionfs|overlay]   (root)
set -eu
storage=${UNIONCTR_STORAGE:-unionfs}
[ "${1:-}" = --storage ] && storage=$2
grep -qw "$storage" /proc/filesystems || { echo "demo: no $storage filesystem (module loaded?)" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
UC=${UNIONCTR:-$HERE/../../build/bin/unionctr}
T=$(mktemp -d /tmp/uc-demo.XXXXXX)
trap 'rm -rf "$T"' EXIT
uc() { "$UC" --root "$T/state" --storage "$storage" "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

mkdir -p "$T/rootfs/bin" "$T/rootfs/etc" "$T/rootfs/tmp"
cp /bin/busybox "$T/rootfs/bin/"
for a in $("$T/rootfs/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$T/rootfs/bin/$a"
done
say unionctr import --name busybox rootfs
uc import --name busybox "$T/rootfs"
say unionctr create -v /srv --name store busybox /bin/true
uc create -v /srv --name store busybox /bin/true
say unionctr run -it --rm --volumes-from store busybox sh
printf 'grep " / \\| /srv " /proc/mounts\necho hello from $(hostname) > /srv/greeting\nexit\n' |
	script -qec "$UC --root $T/state --storage $storage run -it --rm --volumes-from store busybox sh" /dev/null
say unionctr run --rm --volumes-from store busybox cat /srv/greeting
uc run --rm --volumes-from store busybox cat /srv/greeting
say unionctr ps -a
uc ps -a
say unionctr rm -v store
uc rm -v store
