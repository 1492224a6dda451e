#!/bin/bash
# The guest environment every test relies on (scripts/vm/run): TAP.
# Scratch ext4/xfs/btrfs disks, loop devices, overlayfs, a writable results
# dir, a read-only repository, tmpfs /tmp.
set -u

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
t() { local d=$1; shift; if "$@" > /tmp/guest_env.out 2>&1; then ok "$d"; else nok "$d"; sed 's/^/# /' /tmp/guest_env.out; fi; }

echo "TAP version 13"
echo "1..10"
t "running in the test guest as root" test "$(id -u)" = 0 -a "${UNIONFS_KVER:-}" = "$(uname -r)"
t "results dir is writable" sh -c 'echo x > "$UNIONFS_RESULTS/.guest_env" && rm "$UNIONFS_RESULTS/.guest_env"'
t "repository is read-only at its own path" sh -c '[ -f "$UNIONFS_TOP/Makefile" ] && ! touch "$UNIONFS_TOP/.guest_env" 2>/dev/null'
t "/tmp is tmpfs" sh -c '[ "$(stat -f -c %T /tmp)" = tmpfs ]'

scratch() {
	local fs=$1 dev=$2 mnt
	[ -b "$dev" ] || { echo "$dev is not a block device"; return 1; }
	mnt=$(mktemp -d)
	case "$fs" in
	ext4)  mkfs.ext4 -q -F "$dev" ;;
	xfs)   mkfs.xfs -q -f "$dev" ;;
	btrfs) mkfs.btrfs -q -f "$dev" ;;
	esac || return 1
	mount -t "$fs" "$dev" "$mnt" || return 1
	echo hello > "$mnt/f" && setfattr -n trusted.x -v y "$mnt/f" && [ "$(cat "$mnt/f")" = hello ]
	local rc=$?
	umount "$mnt" && rmdir "$mnt" && return $rc
}
for fs in ext4 xfs btrfs; do
	var=SCRATCH_${fs^^}
	dev=${!var:-}
	if [ -z "$dev" ]; then
		nok "scratch $fs disk: \$$var is not set"
	else
		t "scratch $fs on \$$var ($dev): mkfs, mount, write, xattr, umount" scratch "$fs" "$dev"
	fi
done

loop() {
	local img=/tmp/guest_env.img mnt=/tmp/guest_env.mnt dev
	truncate -s 64M "$img" && mkfs.ext4 -q -F "$img" && mkdir -p "$mnt" || return 1
	dev=$(losetup -f --show "$img") || return 1
	mount "$dev" "$mnt" && umount "$mnt"
	local rc=$?
	losetup -d "$dev"
	rm -rf "$img" "$mnt"
	return $rc
}
t "loop device with ext4" loop

overlay() {
	local d=/tmp/guest_env.ovl
	mkdir -p $d/l $d/u $d/w $d/m && echo a > $d/l/a &&
		mount -t overlay overlay -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w $d/m &&
		echo b > $d/m/a && [ "$(cat $d/l/a)" = a ] && umount $d/m && rm -rf $d
}
t "overlayfs (the behaviour oracle) mounts" overlay

if [ -d /sys/module/unionfs ]; then
	t "unionfs is a registered filesystem" grep -qw unionfs /proc/filesystems
else
	skip "unionfs is a registered filesystem" "module not loaded"
fi
exit $fail
