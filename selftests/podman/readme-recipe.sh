#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# README's podman recipe, word for word: the lines between
# "<!-- recipe:storage.conf" and "<!-- /recipe -->" in README.md (code fences
# dropped) run as they are, from the top of the tree, with bash -e. Then
# rootful podman, with no CONTAINERS_STORAGE_CONF, must put a container's /
# on unionfs (its mountinfo, and its union's copy_ups counter going up on a
# write), and unmount the union when the container goes (--rm, and rm -f of a
# running one). Guest only (TAP).
#
# The guest's /etc and /usr are the host's, read-only: the test runs in a
# mount namespace of its own, with a tmpfs holding a copy of /etc/containers
# over it, an empty tmpfs over /usr/local/bin, the scratch ext4 disk on
# /var/lib/containers (tmpfs before 6.6 has no user.* xattrs, and the image
# carries one) and tmpfs on /run/containers and /run/libpod. What the guest
# lacks that the recipe does not set (systemd: cgroupfs, file events) comes
# from CONTAINERS_CONF, not from storage.conf.
#
# env: UNIONFS_README  the README to take the recipe from (default: the tree's)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${UNIONFS_TOP:-$(cd "$here/../../.." && pwd)}	# build/selftests/podman
readme=${UNIONFS_README:-$top/README.md}
py=$here/mkimage.py
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
same() { [ "$1" = "$2" ] || { diag "got: $(echo "$1" | tr '\n' '|')"; diag "want: $(echo "$2" | tr '\n' '|')"; false; }; }

[ "$(id -u)" = 0 ] || bail "runs as root"
command -v podman >/dev/null || bail "podman is installed (scripts/deps)"
grep -qw unionfs /proc/filesystems || bail "unionfs is registered (module not loaded in the guest)"
[ -f "$readme" ] || bail "README found ($readme)"

# A mount namespace of our own: nothing mounted here outlives the test.
if [ -z "${RECIPE_PRIVATE_NS:-}" ]; then
	RECIPE_PRIVATE_NS=1 exec unshare -m --propagation private "$0" "$@"
	bail "unshare -m"
fi

recipe=$(awk '/^<!-- \/recipe -->/ { on = 0 }
	on && !/^```/ { print }
	/^<!-- recipe:storage\.conf[ >]/ { on = 1 }' "$readme")
ok "README.md has the storage.conf recipe" test -n "$recipe" ||
	bail "no recipe to run in $readme"
echo "$recipe" | sed 's/^/#   | /'

w=$(mktemp -d /tmp/readme-recipe.XXXXXX)
cleanup() {
	timeout 120 podman rm -a -f -t 0 >/dev/null 2>&1
	grep -o ' /var/lib/containers/[^ ]*' /proc/self/mountinfo | sort -r |
		xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$w"
}
trap cleanup EXIT

# A fresh machine as the README's reader has it, but writable.
cp -a /etc/containers "$w"/etc-containers 2>/dev/null || mkdir -p "$w"/etc-containers
mount -t tmpfs -o mode=0755 etc-containers /etc/containers &&
	cp -a "$w"/etc-containers/. /etc/containers/ || bail "a writable /etc/containers"
rm -f /etc/containers/storage.conf	# the host's, if it has one, is not the recipe's
mount -t tmpfs -o mode=0755 usr-local-bin /usr/local/bin || bail "a writable /usr/local/bin"
mkdir -p /var/lib/containers /run/containers /run/libpod
if [ -n "${SCRATCH_EXT4:-}" ] && mkfs.ext4 -q -F "$SCRATCH_EXT4" &&
   mount "$SCRATCH_EXT4" /var/lib/containers; then
	diag "/var/lib/containers on ext4 ($SCRATCH_EXT4)"
else
	mount -t tmpfs containers /var/lib/containers || bail "a fresh /var/lib/containers"
	diag "/var/lib/containers on tmpfs"
fi
mount -t tmpfs run-containers /run/containers && mount -t tmpfs run-libpod /run/libpod ||
	bail "fresh /run/containers and /run/libpod"

# The guest has no systemd and no network.
cat > "$w"/containers.conf <<EOC
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
[containers]
log_driver = "k8s-file"
EOC
export CONTAINERS_CONF=$w/containers.conf
unset CONTAINERS_STORAGE_CONF

out=$(cd "$top" && bash -e -c "$recipe" 2>&1)
rc=$?
ok "the recipe's lines run as written (cd $top; bash -e): exit 0" same "$rc" 0 ||
	echo "$out" | sed 's/^/#   /'
ok "the recipe wrote /etc/containers/storage.conf" test -s /etc/containers/storage.conf
prog=$(sed -n 's/^mount_program *= *"\(.*\)"$/\1/p' /etc/containers/storage.conf 2>/dev/null)
ok "its mount_program ($prog) is an installed unionfs-mount" \
	sh -c "[ -x '$prog' ] && cmp -s '$prog' '$top/build/bin/unionfs-mount'"

P() { timeout 120 podman "$@"; }
img=localhost/recipe:test
python3 "$py" /bin/busybox "$w"/image.tar "$img" >/dev/null || bail "mkimage.py writes the image"
out=$(P load -i "$w"/image.tar 2>&1)
ok "podman load of the docker-archive" test $? -eq 0 || echo "$out" | sed 's/^/#   /'
ok "the store is one with a mount program (overlay/.has-mount-program: true)" \
	same "$(cat /var/lib/containers/storage/overlay/.has-mount-program 2>&1)" true

# Inside: /'s type and MAJ:MIN from mountinfo, that union's sysfs directory
# (its dev), copy_ups before and after appending to a lower file.
inside='mi() { busybox awk -v f="$1" '\''$5 == "/" { if (f == "dev") v = $3;
		else { for (i = 7; $i != "-"; i++); v = $(i + 1) } } END { print v }'\'' /proc/self/mountinfo; }
	dev=$(mi dev) u=none
	for s in /sys/fs/unionfs/*; do [ "$(cat $s/dev 2>/dev/null)" = "$dev" ] && u=$s; done
	a=$(cat $u/copy_ups 2>/dev/null); echo more >> /data/mod; b=$(cat $u/copy_ups 2>/dev/null)
	echo "$(mi type) $dev $u ${a:--} ${b:--}"'
out=$(P run --rm --network none "$img" sh -c "$inside" 2>&1)
rc=$?
diag "podman run --rm: $out"
read -r fstype dev sysdir before after _ <<< "$out"
ok "podman run --rm IMAGE: exit 0" same "$rc" 0
ok "the container's / is unionfs" same "${fstype:-}" unionfs
ok "its union's copy_ups went up with a write to a lower file (${before:-?} -> ${after:-?})" \
	sh -c "[ '${before:-x}' -ge 0 ] 2>/dev/null && [ '${after:-x}' -gt '${before:-x}' ] 2>/dev/null"
gone() {	# gone WAS DEV: WAS (a union was there) and no unionfs mount left
	local s	# under the store, no union with DEV in sysfs
	[ "$1" = yes ] || { diag "no union was there to go"; return 1; }
	shift
	if awk '$5 ~ "^/var/lib/containers/" { for (i = 7; $i != "-"; i++); if ($(i + 1) == "unionfs") print }' \
		/proc/self/mountinfo | sed 's/^/# still mounted: /' | grep .; then
		return 1
	fi
	for s in /sys/fs/unionfs/*/dev; do
		[ -e "$s" ] && [ "$(cat "$s")" = "$1" ] && { diag "still in sysfs: ${s%/dev}"; return 1; }
	done
	return 0
}
was=no
[ "${fstype:-}" = unionfs ] && [ "${sysdir:-none}" != none ] && was=yes
ok "the --rm container's union is unmounted when it goes" gone $was "$dev"

out=$(P run -d --name live --network none "$img" sleep 600 2>&1)
ok "podman run -d of a long-running container" test $? -eq 0 || diag "$out"
mnt=$(awk '$5 ~ "^/var/lib/containers/storage/overlay/.*/merged$" {
	for (i = 7; $i != "-"; i++); if ($(i + 1) == "unionfs") print $3 }' /proc/self/mountinfo)
ok "its root is a unionfs mount in the store (${mnt:-none})" test -n "$mnt"
out=$(P rm -f -t 0 live 2>&1)
ok "podman rm -f of the running container" test $? -eq 0 || diag "$out"
was=no
[ -n "$mnt" ] && was=yes
ok "removing it unmounted its union" gone $was "$mnt"

echo "1..$n"
[ $failed -eq 0 ]
