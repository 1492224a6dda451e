#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A two-layer image in containers/storage's overlay layout (layers' diff/
# directories reached through l/ short links, a 0/0 whiteout and a
# trusted.overlay.opaque directory in the top layer), mounted through
# unionfs-mount exactly as the overlay driver runs its mount_program
# (cwd = the driver's home, "-o OPTS TARGET"), then unmounted as the driver
# unmounts: fusermount3 -u, else umount2(MNT_DETACH). Then the same image
# in the AUFS whiteout format the driver really stores when a mount_program
# is set (.wh.NAME files, .wh..wh..opq). Guest only (TAP).
set -u

here=$(cd "$(dirname "$0")" && pwd)
um=${UNIONFS_MOUNT:-$here/unionfs-mount}	# another build: UNIONFS_MOUNT=PATH
n=0 failed=0

ok() {	# ok NAME COMMAND...
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		failed=$((failed + 1))
	fi
}
diag() { echo "# $*"; }
mounted() { awk -v p="$1" '$5 == p { f = 1 } END { exit !f }' /proc/self/mountinfo; }
not_mounted() { ! mounted "$1"; }
unmounted_by() { [ -n "$1" ] && ! mounted "$2"; }	# unmounted_by HOW PATH
fstype_of() { awk -v p="$1" '$5 == p { for (i = 7; $i != "-"; i++); t = $(i + 1) } END { print t }' /proc/self/mountinfo; }
has_option() { awk -v p="$1" -v o="$2" '$5 == p { n = split($NF, a, ","); for (i = 1; i <= n; i++) if (a[i] == o) f = 1 } END { exit !f }' /proc/self/mountinfo; }
listing() { (cd "$1" && ls -A | tr '\n' ' '); }
is_whiteout() { [ -c "$1" ] && [ "$(stat -c %t:%T "$1")" = 0:0 ]; }

# As the driver's Put(): fusermount3, fusermount, then unix.Unmount(MNT_DETACH).
driver_unmount() {
	local p
	for p in fusermount3 fusermount; do
		command -v $p >/dev/null && $p -u "$1" 2>/dev/null && { echo $p; return 0; }
	done
	umount -l "$1" && echo umount2-detach
}

if ! grep -qw unionfs /proc/filesystems; then
	echo "1..1"
	echo "not ok 1 - unionfs is registered (module not loaded in the guest)"
	exit 1
fi

root=$(mktemp -d /tmp/podman-stack.XXXXXX)
trap 'umount -l "$home"/*/merged 2>/dev/null; rm -rf "$root"' EXIT
home=$root/overlay
mkdir -p "$home"/l "$home"/base/diff "$home"/top/diff "$home"/ctr/{diff,work,merged} \
	"$home"/top/merged
# base layer
mkdir -p "$home"/base/diff/{etc,opq,dir}
echo keep > "$home"/base/diff/etc/keep
echo gone > "$home"/base/diff/etc/gone
echo old > "$home"/base/diff/opq/old
echo a > "$home"/base/diff/dir/a
# top layer (overlay format): a whiteout, an opaque directory, an addition
mkdir -p "$home"/top/diff/{etc,opq,dir}
mknod "$home"/top/diff/etc/gone c 0 0
setfattr -n trusted.overlay.opaque -v y "$home"/top/diff/opq
echo new > "$home"/top/diff/opq/new
echo b > "$home"/top/diff/dir/b
# the l/ short links and lower files, as the driver keeps them
ln -s ../base/diff "$home"/l/AAAAAAAAAAAAAAAAAAAAAAAAAA
ln -s ../top/diff "$home"/l/BBBBBBBBBBBBBBBBBBBBBBBBBB
echo -n l/AAAAAAAAAAAAAAAAAAAAAAAAAA > "$home"/top/lower
echo -n l/BBBBBBBBBBBBBBBBBBBBBBBBBB:l/AAAAAAAAAAAAAAAAAAAAAAAAAA > "$home"/ctr/lower
A=$home/l/AAAAAAAAAAAAAAAAAAAAAAAAAA
B=$home/l/BBBBBBBBBBBBBBBBBBBBBBBBBB
M=$home/ctr/merged

check_image() {	# the image as the container sees it
	local m=$1 what=$2
	ok "$what: a file of the base layer is there" test "$(cat "$m"/etc/keep 2>/dev/null)" = keep
	ok "$what: the whiteout hides etc/gone" test ! -e "$m"/etc/gone -a ! -L "$m"/etc/gone
	ok "$what: etc lists keep only" test "$(listing "$m"/etc)" = "keep "
	ok "$what: the opaque directory shows only its own entry" test "$(listing "$m"/opq)" = "new "
	ok "$what: a merged directory lists both layers" test "$(listing "$m"/dir)" = "a b "
}

# 1. The driver's call (1.43): absolute paths through l/ links, cwd = home,
#    a trailing comma when storage.conf has no mountopt.
out=$(cd "$home" && "$um" -o "lowerdir=$B:$A,upperdir=$home/ctr/diff,workdir=$home/ctr/work," "$M" 2>&1)
ok "driver's call mounts (${out:-no output})" test $? -eq 0 -a -z "$out"
ok "the target is a unionfs mount" test "$(fstype_of "$M")" = unionfs
ok "unionfs-mount asked for aufs_whiteouts" has_option "$M" aufs_whiteouts
check_image "$M" "driver's call"
rm "$M"/etc/keep
echo hello > "$M"/opq/created
ok "a delete leaves a 0/0 whiteout in the container's diff" is_whiteout "$home"/ctr/diff/etc/keep
ok "a new file lands in the container's diff" test "$(cat "$home"/ctr/diff/opq/created 2>/dev/null)" = hello
how=$(driver_unmount "$M")
diag "unmounted by: $how"
ok "the driver's unmount removes the mount" unmounted_by "$how" "$M"

# 2. Relative l/ links and dirs (the driver's relative form), resolved
#    against the cwd; volatile as podman run --rm adds it.
out=$(cd "$home" && "$um" -o "lowerdir=l/BBBBBBBBBBBBBBBBBBBBBBBBBB:l/AAAAAAAAAAAAAAAAAAAAAAAAAA,upperdir=ctr/diff,workdir=ctr/work,volatile" ctr/merged 2>&1)
ok "relative form mounts (${out:-no output})" test $? -eq 0 -a -z "$out"
ok "the mount table names the layers by absolute path" \
	grep -qF "$B" /proc/self/mountinfo
ok "relative form: the earlier delete is still a whiteout" test ! -e "$M"/etc/keep
ok "relative form: the earlier file is there" test "$(cat "$M"/opq/created 2>/dev/null)" = hello
ok "relative form: the opaque directory" test "$(listing "$M"/opq)" = "created new "
ok "relative form: the whiteout of the image" test ! -e "$M"/etc/gone
how=$(driver_unmount "$M")
ok "relative form: unmounted ($how)" unmounted_by "$how" "$M"

# 2b. The driver mounts a volatile container's layer again (buildah commit,
#     podman diff: a naive diff mounts it without volatile); it removes
#     overlayfs's volatile marker first, unionfs-mount must remove unionfs's.
ok "the volatile mount left its marker in workdir" test -d "$home"/ctr/work/volatile
out=$(cd "$home" && "$um" -o "lowerdir=$B:$A,upperdir=$home/ctr/diff,workdir=$home/ctr/work," "$M" 2>&1)
ok "a volatile container's layer mounts again (${out:-no output})" test $? -eq 0 -a -z "$out"
ok "mounted again: the marker is gone" test ! -e "$home"/ctr/work/volatile
ok "mounted again: the container's file is there" test "$(cat "$M"/opq/created 2>/dev/null)" = hello
how=$(driver_unmount "$M")
ok "mounted again: unmounted ($how)" unmounted_by "$how" "$M"

# 3. The driver's read-only form (an image layer: its diff on top, no upper).
out=$(cd "$home" && "$um" -o "lowerdir=$home/top/diff:$A" "$home"/top/merged 2>&1)
ok "read-only form mounts (${out:-no output})" test $? -eq 0 -a -z "$out"
check_image "$home"/top/merged "read-only form"
ok "read-only form: writes fail" sh -c "! touch '$home/top/merged/x' 2>/dev/null"
how=$(driver_unmount "$home"/top/merged)
ok "read-only form: unmounted ($how)" unmounted_by "$how" "$home"/top/merged

# 4. What unionfs cannot do is refused with a message, and nothing is mounted.
out=$(cd "$home" && "$um" -o "lowerdir=$B:$A,upperdir=$home/ctr/diff,workdir=$home/ctr/work,uidmapping=0:100000:65536,gidmapping=0:100000:65536" "$M" 2>&1)
rc=$?
diag "$out"
ok "ID mappings refused: non-zero exit" test $rc -ne 0
ok "ID mappings refused: the message names the option" \
	grep -q "unionfs-mount: option 'uidmapping=0:100000:65536' is not supported" <<<"$out"
ok "ID mappings refused: nothing mounted" not_mounted "$M"

# 5. A kernel refusal reaches stderr with the kernel's words.
out=$(cd "$home" && "$um" -o "lowerdir=$home/nonexistent" "$M" 2>&1)
rc=$?
diag "$out"
ok "a missing layer: non-zero exit and a message naming it" \
	test $rc -ne 0 -a -n "$(grep -F "$home/nonexistent" <<<"$out")"

# 6. The image as containers/storage stores it for a mount_program: AUFS
#    whiteouts (getWhiteoutFormat() is AUFSWhiteoutFormat then), mode 0
#    empty files as ApplyDiff writes a layer tar's .wh. entries, plus the
#    .wh..wh.* entries aufs-made tars carry.
aufs=$root/aufs
mkdir -p "$aufs"/l "$aufs"/base/diff "$aufs"/top/diff "$aufs"/ctr/{diff,work,merged}
mkdir -p "$aufs"/base/diff/{etc,opq,dir}
echo keep > "$aufs"/base/diff/etc/keep
echo gone > "$aufs"/base/diff/etc/gone
echo old > "$aufs"/base/diff/opq/old
echo a > "$aufs"/base/diff/dir/a
mkdir -p "$aufs"/top/diff/{etc,opq,dir} "$aufs"/top/diff/.wh..wh.plnk
: > "$aufs"/top/diff/etc/.wh.gone
: > "$aufs"/top/diff/opq/.wh..wh..opq
: > "$aufs"/top/diff/.wh..wh.aufs
chmod 0 "$aufs"/top/diff/etc/.wh.gone "$aufs"/top/diff/opq/.wh..wh..opq "$aufs"/top/diff/.wh..wh.aufs
echo new > "$aufs"/top/diff/opq/new
echo b > "$aufs"/top/diff/dir/b
ln -s ../base/diff "$aufs"/l/CCCCCCCCCCCCCCCCCCCCCCCCCC
ln -s ../top/diff "$aufs"/l/DDDDDDDDDDDDDDDDDDDDDDDDDD
AM=$aufs/ctr/merged
out=$(cd "$aufs" && "$um" -o "lowerdir=$aufs/l/DDDDDDDDDDDDDDDDDDDDDDDDDD:$aufs/l/CCCCCCCCCCCCCCCCCCCCCCCCCC,upperdir=$aufs/ctr/diff,workdir=$aufs/ctr/work," "$AM" 2>&1)
ok "AUFS-format layers mount (${out:-no output})" test $? -eq 0 -a -z "$out"
ok "AUFS-format layers: mounted with aufs_whiteouts" has_option "$AM" aufs_whiteouts
check_image "$AM" "AUFS-format layers"
ok "AUFS-format layers: the root lists no .wh. name" test "$(listing "$AM")" = "dir etc opq "
ok "AUFS-format layers: .wh.gone cannot be looked up" test ! -e "$AM"/etc/.wh.gone
ok "AUFS-format layers: .wh..wh..opq cannot be looked up" test ! -e "$AM"/opq/.wh..wh..opq
ok "AUFS-format layers: a .wh. name cannot be made" sh -c "! touch '$AM/etc/.wh.keep' 2>/dev/null"
rm "$AM"/etc/keep
ok "AUFS-format layers: a delete hides the file" test "$(listing "$AM"/etc)" = ""
ok "AUFS-format layers: the delete is a 0/0 whiteout in the diff" is_whiteout "$aufs"/ctr/diff/etc/keep
ok "AUFS-format layers: no .wh. file made in the diff" test ! -e "$aufs"/ctr/diff/etc/.wh.keep
how=$(driver_unmount "$AM")
ok "AUFS-format layers: unmounted ($how)" unmounted_by "$how" "$AM"

echo "1..$n"
[ $failed -eq 0 ]
