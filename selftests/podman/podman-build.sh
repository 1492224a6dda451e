#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# podman build --layers (buildah 1.28 inside podman 4.3.1) and buildah bud
# --layers=false, rootful and offline, of a Containerfile with several RUN
# steps (create, modify, chmod, chown, delete lower files, rename a lower
# directory) and a COPY, on a store with mount_program = unionfs-mount and on
# native overlay: the layer count, each layer's tar (podman save) and the
# final tree (podman export) must be identical, but for the one difference
# containers/storage's naive diff makes (layercmp.py says which).
# PODMAN_BUILD_FUSE=1 also builds on mount_program = fuse-overlayfs and shows
# that every difference accepted is one fuse-overlayfs has too.
# Guest only (TAP).
set -u

here=$(cd "$(dirname "$0")" && pwd)
um=${UNIONFS_MOUNT:-$here/unionfs-mount}	# another build: UNIONFS_MOUNT=PATH
py=$here/mkimage.py man=$here/tarmanifest.py cmp=$here/layercmp.py	# installed next to this script
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
same() { [ "$1" = "$2" ] || { diag "got: $(echo "$1" | head -20 | tr '\n' '|')"; diag "want: $(echo "$2" | head -20 | tr '\n' '|')"; false; }; }

command -v podman >/dev/null || bail "podman is installed (scripts/deps)"
command -v buildah >/dev/null || bail "buildah is installed (scripts/deps)"
grep -qw unionfs /proc/filesystems || bail "unionfs is registered (module not loaded in the guest)"
[ -x "$um" ] || bail "unionfs-mount is built ($um)"

w=$(mktemp -d /tmp/podman-build.XXXXXX)
if [ -n "${SCRATCH_EXT4:-}" ] && mkfs.ext4 -q -F "$SCRATCH_EXT4" &&
   mount "$SCRATCH_EXT4" "$w"; then
	diag "stores on ext4 ($SCRATCH_EXT4)"
else
	diag "stores on $(stat -f -c %T "$w")"
fi
cleanup() {
	for s in $stores; do P $s rm -a -f >/dev/null 2>&1; done
	grep -o " $w/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
	if [ -n "${UNIONFS_RESULTS:-}" ] && [ $failed -gt 0 ]; then
		mkdir -p "$UNIONFS_RESULTS"/podman-build
		cp -r "$w"/*.manifest "$w"/*.layers "$UNIONFS_RESULTS"/podman-build/ 2>/dev/null
	fi
	mountpoint -q "$w" && umount "$w"
	rm -rf "$w"
}
trap cleanup EXIT

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
		TMPDIR=$s/vtmp timeout 150 podman "$@"
}
B() {	# B STORE BUILDAH-ARGS...
	local s=$w/$1
	shift
	CONTAINERS_CONF=$s/containers.conf CONTAINERS_STORAGE_CONF=$s/storage.conf \
		TMPDIR=$s/vtmp timeout 150 buildah "$@"
}

stores="u n"
mkstore u "$um"
mkstore n
if [ "${PODMAN_BUILD_FUSE:-0}" = 1 ]; then
	stores="u n f"
	mkstore f /usr/bin/fuse-overlayfs
fi
img=localhost/e2e:base
python3 "$py" /bin/busybox "$w"/image.tar "$img" || bail "mkimage.py writes the image"
mkdir -p "$w"/ctx
echo copied > "$w"/ctx/copied
cat > "$w"/ctx/Containerfile <<EOF2
FROM $img
RUN echo created > /created && echo changed > /data/mod && chmod 700 /dir/a
RUN rm /data/del /etc/keep && mv /ren /renamed && echo more >> /renamed/f
COPY copied /opq/copied
RUN chown 1000:100 /created && rm -r /data/sub && mkdir -p /opq/x && echo y > /opq/x/y
EOF2
t0=$SECONDS

built() {	# built STORE WHAT TAG NLAYERS: export, save and check an image
	local s=$1 what=$2 tag=$3 want=$4 out layers i l
	layers=$(P $s image inspect --format '{{len .RootFS.Layers}}' $tag 2>&1)
	ok "$what: the built image has 3 + $((want - 3)) layers" same "$layers" $want
	P $s rm -f exp >/dev/null 2>&1
	P $s create --name exp --network none $tag >/dev/null 2>&1
	out=$(P $s export -o "$w"/$s.export.tar exp 2>&1)
	ok "$what: podman export of a container of the built image" test $? -eq 0 || diag "$out"
	python3 "$man" "$w"/$s.export.tar > "$w"/$s.manifest 2>&1
	out=$(grep -E '^(data/del|etc/keep|ren|data/sub|etc/gone) ' "$w"/$s.manifest)
	ok "$what: files deleted by the build are absent" same "$out" ""
	out=$(grep -E '^(created|renamed/f|renamed/in/g|opq/copied|opq/x/y) ' "$w"/$s.manifest | cut -d' ' -f1-5)
	ok "$what: files the build made are there" same "$out" "$(printf '%s\n' \
		'created f 100644 1000:100 8' 'opq/copied f 100644 0:0 7' 'opq/x/y f 100644 0:0 2' \
		'renamed/f f 100644 0:0 9' 'renamed/in/g f 100644 0:0 2')"
	# Each layer's tar, as podman save writes it.
	rm -rf "$w"/$s.layers
	mkdir -p "$w"/$s.layers
	rm -f "$w"/$s.save.tar
	out=$(P $s save --format docker-archive -o "$w"/$s.save.tar $tag 2>&1) || diag "$out"
	(cd "$w"/$s.layers && tar xf "$w"/$s.save.tar &&
	 python3 -c 'import json; [print(l) for l in json.load(open("manifest.json"))[0]["Layers"]]' > order)
	i=0
	while read -r l; do
		i=$((i + 1))
		python3 "$man" "$w"/$s.layers/"$l" > "$w"/$s.layers/$i.manifest 2>&1
	done < "$w"/$s.layers/order
	ok "$what: podman save writes $want layers" test "$i" -eq $want
}

compare() {	# compare BUILDER NLAYERS: unionfs against native (and fuse)
	local b=$1 want=$2 d i
	d=$(diff "$w"/n.manifest "$w"/u.manifest)
	ok "$b: the unionfs and native overlay trees are identical" same "$d" ""
	for i in $(seq 4 $want); do
		d=$(python3 "$cmp" "$w"/n.layers "$w"/u.layers $i 2>&1)
		ok "$b: layer $i's tar is the same on unionfs and native overlay" \
			test $? -eq 0
		[ -n "$d" ] && echo "$d" | head -20 | sed 's/^\([^#]\)/# \1/'
		case $stores in *f*) ;; *) continue ;; esac
		# What was accepted against native overlay, fuse-overlayfs shows
		# too: the same layer, exactly.
		echo "$d" | grep -q '^# accepted' || continue
		d=$(diff "$w"/f.layers/$i.manifest "$w"/u.layers/$i.manifest 2>&1)
		ok "$b: layer $i's tar is the same on unionfs and fuse-overlayfs" same "$d" ""
	done
}

for s in $stores; do
	case $s in u) what=unionfs ;; n) what=native ;; f) what=fuse-overlayfs ;; esac
	out=$(P $s load -i "$w"/image.tar 2>&1)
	ok "$what: podman load of the docker-archive" test $? -eq 0 || diag "$out"
	out=$(P $s build --pull=never --network none --layers -t localhost/e2e:built "$w"/ctx 2>&1)
	ok "$what: podman build of a Containerfile (3 RUN, 1 COPY)" test $? -eq 0 ||
		echo "$out" | tail -15 | sed 's/^/# /'
	built $s "$what" localhost/e2e:built 7
	mkdir -p "$w"/podman.$s && cp -r "$w"/$s.manifest "$w"/$s.layers "$w"/podman.$s/
	diag "$what: $((SECONDS - t0))s so far"
done
compare "podman build" 7

# buildah bud without intermediate images: one commit of all the steps,
# through buildah's own code path (its working container, its mount).
for s in $stores; do
	case $s in u) what=unionfs ;; n) what=native ;; f) what=fuse-overlayfs ;; esac
	out=$(B $s bud --pull=never --network none --layers=false -t localhost/e2e:bud "$w"/ctx 2>&1)
	ok "$what: buildah bud --layers=false of the Containerfile" test $? -eq 0 ||
		echo "$out" | tail -15 | sed 's/^/# /'
	built $s "$what (buildah)" localhost/e2e:bud 4
	out=$(B $s containers -q 2>&1)
	ok "$what: buildah leaves no working container" same "$out" ""
	diag "$what: $((SECONDS - t0))s so far"
done
compare "buildah bud" 4
diag "$((SECONDS - t0))s"

echo "1..$n"
[ $failed -eq 0 ]
