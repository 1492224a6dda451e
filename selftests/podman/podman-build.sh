#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# podman build (buildah 1.28 inside podman 4.3.1), rootful and offline, of a
# Containerfile with several RUN steps (create, modify, chmod, delete lower
# files, rename a lower directory) and a COPY, on a store with
# mount_program = unionfs-mount and on native overlay: the layer count,
# each layer's tar (podman save) and the final tree (podman export) must be
# identical. Guest only (TAP).
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
same() { [ "$1" = "$2" ] || { diag "got: $(echo "$1" | head -20 | tr '\n' '|')"; diag "want: $(echo "$2" | head -20 | tr '\n' '|')"; false; }; }

command -v podman >/dev/null || bail "podman is installed (scripts/deps)"
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
	for s in u n; do P $s rm -a -f >/dev/null 2>&1; done
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

mkstore u "$um"
mkstore n
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

for s in u n; do
	case $s in u) what=unionfs ;; n) what=native ;; esac
	out=$(P $s load -i "$w"/image.tar 2>&1)
	ok "$what: podman load of the docker-archive" test $? -eq 0 || diag "$out"
	out=$(P $s build --pull=never --network none --layers -t localhost/e2e:built "$w"/ctx 2>&1)
	ok "$what: podman build of a Containerfile (3 RUN, 1 COPY)" test $? -eq 0 ||
		echo "$out" | tail -15 | sed 's/^/# /'
	layers=$(P $s image inspect --format '{{len .RootFS.Layers}}' localhost/e2e:built 2>&1)
	ok "$what: the built image has 3 + 4 layers" same "$layers" 7
	P $s create --name exp --network none localhost/e2e:built >/dev/null 2>&1
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
	mkdir -p "$w"/$s.layers
	P $s save --format docker-archive -o "$w"/$s.save.tar localhost/e2e:built >/dev/null 2>&1
	(cd "$w"/$s.layers && tar xf "$w"/$s.save.tar &&
	 python3 -c 'import json; [print(l) for l in json.load(open("manifest.json"))[0]["Layers"]]' > order)
	i=0
	while read -r l; do
		i=$((i + 1))
		python3 "$man" "$w"/$s.layers/"$l" > "$w"/$s.layers/$i.manifest 2>&1
	done < "$w"/$s.layers/order
	ok "$what: podman save writes 7 layers" test "$i" -eq 7
	diag "$what: $((SECONDS - t0))s so far"
done

d=$(diff "$w"/n.manifest "$w"/u.manifest)
ok "podman build: the unionfs and native overlay trees are identical" same "$d" ""
for i in 4 5 6 7; do
	d=$(diff "$w"/n.layers/$i.manifest "$w"/u.layers/$i.manifest 2>&1)
	ok "podman build: layer $i's tar is the same on unionfs and native overlay" same "$d" ""
	[ -n "$d" ] && echo "$d" | head -20 | sed 's/^/# /'
done
diag "$((SECONDS - t0))s"

echo "1..$n"
[ $failed -eq 0 ]
