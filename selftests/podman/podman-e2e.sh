#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# podman 4.3.1, rootful and offline, on two stores: overlay with
# mount_program = unionfs-mount, and podman's native overlay. An image made
# here (mkimage.py: busybox, three layers, AUFS-format whiteouts and an
# opaque directory) is loaded into both; each store runs the same steps
# (run, exit status, a read-only bind mount, a named volume, --volumes-from,
# diff, commit, export) and the exported trees must be identical. The
# unionfs store must really mount unionfs (the container's mountinfo, and
# the union's copy_ups counter). Guest only (TAP).
set -u

here=$(cd "$(dirname "$0")" && pwd)
um=${UNIONFS_MOUNT:-$here/unionfs-mount}	# another build: UNIONFS_MOUNT=PATH
py=$here/mkimage.py man=$here/tarmanifest.py	# installed next to this script
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
		return 1
	fi
}
diag() { echo "# $*"; }
bail() { echo "not ok $((n + 1)) - $*"; echo "1..$((n + 1))"; exit 1; }

command -v podman >/dev/null || bail "podman is installed (scripts/deps)"
grep -qw unionfs /proc/filesystems || bail "unionfs is registered (module not loaded in the guest)"
[ -x "$um" ] || bail "unionfs-mount is built ($um)"

# The stores on ext4 (the guest's scratch disk: tmpfs before 6.6 has no
# user.* xattrs, and the image carries one), else on tmpfs.
w=$(mktemp -d /tmp/podman-e2e.XXXXXX)
if [ -n "${SCRATCH_EXT4:-}" ] && mkfs.ext4 -q -F "$SCRATCH_EXT4" &&
   mount "$SCRATCH_EXT4" "$w"; then
	diag "stores on ext4 ($SCRATCH_EXT4)"
else
	diag "stores on $(stat -f -c %T "$w")"
fi
cleanup() {
	for s in u n; do P $s rm -a -f >/dev/null 2>&1; done
	grep -o " $w/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
	if [ -n "${UNIONFS_RESULTS:-}" ] && [ $failed -gt 0 ]; then
		cp "$w"/*.diff "$w"/*.manifest "$UNIONFS_RESULTS"/ 2>/dev/null
	fi
	mountpoint -q "$w" && umount "$w"
	rm -rf "$w"
}
trap cleanup EXIT

# One store: its own graphroot, runroot, tmp_dir, volumes, network dir.
mkstore() {	# mkstore NAME [MOUNT_PROGRAM]
	local s=$w/$1
	mkdir -p "$s"/{root,run,tmp,net,vtmp}
	cat > "$s"/containers.conf <<-EOC
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	tmp_dir = "$s/tmp"
	image_copy_tmp_dir = "$s/vtmp"
	[network]
	network_config_dir = "$s/net"
	[containers]
	log_driver = "k8s-file"
	EOC
	{
		echo '[storage]'
		echo 'driver = "overlay"'
		echo "graphroot = \"$s/root\""
		echo "runroot = \"$s/run\""
		if [ -n "${2:-}" ]; then
			echo '[storage.options.overlay]'
			echo "mount_program = \"$2\""
		fi
	} > "$s"/storage.conf
}
P() {	# P STORE PODMAN-ARGS...
	local s=$w/$1
	shift
	CONTAINERS_CONF=$s/containers.conf CONTAINERS_STORAGE_CONF=$s/storage.conf \
		TMPDIR=$s/vtmp timeout 120 podman "$@"
}
R() {	# R STORE RUN-ARGS...: podman run --rm --network none
	local s=$1
	shift
	P "$s" run --rm --network none "$@"
}
root_fstype() { awk '$5 == "/" { for (i = 7; $i != "-"; i++); t = $(i + 1) } END { print t }'; }
same() { [ "$1" = "$2" ] || { diag "got: $(echo "$1" | tr '\n' '|')"; diag "want: $(echo "$2" | tr '\n' '|')"; false; }; }

mkstore u "$um"
mkstore n
img=localhost/e2e:base
python3 "$py" /bin/busybox "$w"/image.tar "$img" || bail "mkimage.py writes the image"
mkdir -p "$w"/hostdir
echo host > "$w"/hostdir/f
t0=$SECONDS

for s in u n; do
	case $s in u) what=unionfs fstype=unionfs ;; n) what=native fstype=overlay ;; esac
	out=$(P $s load -i "$w"/image.tar 2>&1)
	ok "$what: podman load of the docker-archive" test $? -eq 0 || diag "$out"

	# The union really used: mountinfo's / and a copy-up counted, read
	# while the container runs (the union's sysfs directory goes with it).
	out=$(R $s "$img" sh -c 'echo more >> /data/mod; cat /proc/self/mountinfo;
		echo copy_ups; cat /sys/fs/unionfs/*/copy_ups 2>/dev/null' 2>&1)
	ok "$what: podman run --rm works, / is $fstype" \
		same "$(echo "$out" | sed '/^copy_ups$/q' | root_fstype)" "$fstype"
	if [ $s = u ]; then
		ups=$(echo "$out" | sed '1,/^copy_ups$/d' | awk '{ s += $1 } END { print s + 0 }')
		ok "$what: the union counted copy-ups ($ups)" test "$ups" -ge 1
	fi

	R $s "$img" sh -c 'exit 7' >/dev/null 2>&1
	rc=$?
	ok "$what: the exit status comes back (7)" same $rc 7

	out=$(R $s "$img" sh -c 'cat /etc/keep; ls -A /etc | grep -c "^\.wh\."; ls -A /opq;
		ls -A /dir; test -e /etc/gone || echo no-gone; test -e /opq/old || echo no-old;
		cat /opq/.wh..wh..opq 2>&1 >/dev/null | grep -c .; cat /data/xattr' 2>&1)
	ok "$what: the image's whiteouts and opaque directory hide the files" \
		same "$out" "$(printf 'keep2\n0\nnew\na\nb\nno-gone\nno-old\n1\nxattr')"

	out=$(R $s -v "$w"/hostdir:/ctr:ro "$img" sh -c 'cat /ctr/f;
		if touch /ctr/x 2>/dev/null; then echo written; fi' 2>&1)
	ok "$what: -v host:ctr:ro reads, a write is refused" same "$out" host
	ok "$what: nothing written to the host directory" test ! -e "$w"/hostdir/x

	P $s volume create vol >/dev/null 2>&1
	R $s -v vol:/vol "$img" sh -c 'echo "vol data" > /vol/f' >/dev/null 2>&1
	out=$(R $s -v vol:/vol "$img" cat /vol/f 2>&1)
	ok "$what: a named volume keeps what one run wrote for the next" same "$out" "vol data"

	P $s create --name seed --network none -v /seedvol "$img" true >/dev/null 2>&1
	R $s --volumes-from seed "$img" sh -c 'echo seeded > /seedvol/f' >/dev/null 2>&1
	out=$(R $s --volumes-from seed "$img" cat /seedvol/f 2>&1)
	ok "$what: --volumes-from shares the seed container's volume" same "$out" seeded

	P $s run --name chg --network none "$img" sh -c 'echo new > /newfile;
		echo changed > /data/mod; rm /data/del; chmod 600 /dir/a; chown 1000:100 /etc/keep;
		rm /dir/b; mkdir /newdir; echo n > /newdir/f; rm -r /data/sub;
		mv /ren /renamed; ln -s newfile /newlink' >/dev/null 2>&1
	ok "$what: the changing container ran" same $? 0
	P $s diff chg 2>&1 | sort > "$w"/$s.diff
	want=$(printf '%s\n' "A /newfile" "C /data/mod" "D /data/del" "C /dir/a" "D /dir/b" \
		"A /newdir" "D /data/sub" "D /ren" "A /renamed" "A /newlink" | sort)
	ok "$what: podman diff lists the container's changes" \
		same "$(grep -xF "$want" "$w"/$s.diff)" "$want"
	out=$(P $s commit -q chg localhost/e2e:committed 2>&1)
	ok "$what: podman commit" test $? -eq 0 || diag "$out"
	P $s create --name exp --network none localhost/e2e:committed >/dev/null 2>&1
	out=$(P $s export -o "$w"/$s.export.tar exp 2>&1)
	ok "$what: podman export of a container of the committed image" test $? -eq 0 || diag "$out"
	python3 "$man" "$w"/$s.export.tar > "$w"/$s.manifest 2>&1
	out=$(grep -E '^(etc/gone|data/del|dir/b|opq/old|ren|data/sub) ' "$w"/$s.manifest)
	ok "$what: deleted files are absent from the export" same "$out" ""
	ok "$what: the export has no .wh. entry" sh -c "! grep -q '\.wh\.' '$w/$s.manifest'"
	diag "$what: $(wc -l < "$w"/$s.manifest) entries, $((SECONDS - t0))s so far"
done

d=$(diff "$w"/n.diff "$w"/u.diff)
ok "podman diff: unionfs and native overlay list the same changes" same "$d" ""
d=$(diff "$w"/n.manifest "$w"/u.manifest)
ok "podman export: the unionfs and native overlay trees are identical" same "$d" ""
[ -n "$d" ] && echo "$d" | head -40 | sed 's/^/# /'
for s in n u; do	# podman export writes the type bits in the mode
	what=native
	[ $s = u ] && what=unionfs
	ok "$what: the export keeps the image's modes, owners, links, xattr" \
		same "$(grep -E '^data/(xattr|owned|suid|link|hard) ' "$w"/$s.manifest | cut -d' ' -f1-5,7-)" \
		"$(printf '%s\n' 'data/hard f 100644 0:0 5 - -' 'data/link l 120777 0:0 0 mod -' \
			'data/owned f 100640 1000:100 6 - -' 'data/suid f 104755 0:0 5 - -' \
			'data/xattr f 100644 0:0 6 - user.e2e=value')"
done
diag "$((SECONDS - t0))s"

echo "1..$n"
[ $failed -eq 0 ]
