#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end tests of unionctr with real containers (TAP on stdout).
#
# Host: --storage overlay (the kernel's overlayfs).  In the test guest:
# UNIONCTR_TEST_STORAGE=unionfs, skipped when the module is not loaded.
# Needs root, /bin/busybox (busybox-static) and, for -t tests, script(1).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_init uc-e2e

cleanup() {
	local c
	for c in $("$UC" --root "$ROOT" ps -aq 2>/dev/null); do
		"$UC" --root "$ROOT" rm -f "$c" >/dev/null 2>&1
	done
	umount "$T/robind/sub" 2>/dev/null
	umount "$T/prop/src/late" "$T/prop/src/in" "$T/prop/src/sub" "$T/prop/src" "$T/prop/priv" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

t_section=$SECONDS
# ---- images -----------------------------------------------------------------
make_busybox_rootfs "$T/rootfs"
cp "$HERE/ctprobe" "$T/rootfs/bin/ctprobe"
mkdir -p "$T/rootfs/opt/suid"					# a set-user-ID root program
install -m 4755 -o 0 -g 0 "$HERE/ctprobe" "$T/rootfs/opt/suid/ctprobe"
echo 'wheel:x:10:root' >> "$T/rootfs/etc/group"	# root's supplementary group, as in busybox images
# Escape attempts shipped in the image: symlinks pointing at the host.
mkdir -p "$T/host-escape" "$T/host-escape2"
ln -s "$T/host-escape" "$T/rootfs/evil-abs"
ln -s "../../../../../../../../..$T/host-escape2" "$T/rootfs/evil-rel"
ln -s "/nonexistent-uc-$$/x" "$T/rootfs/evil-dangling"

# An xattr on the seed, to check that copy-in keeps it (where the fs allows).
xattr_ok=0
command -v setfattr >/dev/null && setfattr -n user.uctest -v kept "$T/rootfs/opt/seed/file" 2>/dev/null && xattr_ok=1
out=$(uc import --name bb "$T/rootfs" 2>&1)
like "$out" '^sha256:[0-9a-f]{64}$' "import a rootfs directory"
# With the xattr: the same tree, so the same image (its id covers xattrs).
tar --xattrs --xattrs-include='*' -C "$T/rootfs" -czf "$T/rootfs.tgz" .
out=$(uc import --name bbtar "$T/rootfs.tgz" 2>&1)
like "$out" '^sha256:[0-9a-f]{64}$' "import a rootfs tarball (gzip)"
out=$(uc images 2>&1)
like "$out" '^bb:latest ' "images lists bb:latest"
like "$out" '^bbtar:latest ' "images lists bbtar:latest"
make_oci_layout "$T/rootfs" "$T/oci"
out=$(uc import "$T/oci" 2>&1)
like "$out" '^sha256:' "import an OCI image layout (3 layers, whiteouts)"
out=$(uc import "$T/oci.docker-save.tar" 2>&1)
like "$out" '^sha256:' "import a docker save tarball"
tar -C "$T/oci" -cf "$T/oci-layout.tar" .
out=$(uc import --name ocitar "$T/oci-layout.tar" 2>&1)
like "$out" '^sha256:' "import an OCI layout tarball"
printf 'corrupt' >> "$T/oci/blobs/sha256/$(ls -S "$T/oci/blobs/sha256" | tail -1)"
out=$(uc import --name bad "$T/oci" 2>&1); rc=$?
is "$rc" 125 "a blob that does not match its digest is refused"
like "$out" 'does not match its digest' "  and says so"
out=$(uc images 2>&1)
like "$out" '^ocitest:1 .* 3 ' "OCI image named from its annotation, 3 layers"
like "$out" '^saved:v1 .* 3 ' "docker save image named from RepoTags"
out=$(uc inspect ocitest:1 2>&1)
like "$out" '"RepoTags": \[' "inspect an image"
like "$out" '"WorkingDir": "/opq"' "  its config kept"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- run: basics and exit codes -------------------------------------------
out=$(uc run --rm bb echo hello 2>&1); rc=$?
is "$rc:$out" "0:hello" "run echo: output and exit 0"
out=$(uc run --rm bbtar echo tar 2>&1); rc=$?
is "$rc:$out" "0:tar" "run from the tarball image"
uc run --rm bb sh -c 'exit 3'; is "$?" 3 "exit code passed through"
out=$(uc run --rm bb nosuchcmd 2>&1); rc=$?
is "$rc" 127 "command not found: 127"
like "$out" 'executable file not found in \$PATH' "  with Docker's message"
out=$(uc run --rm bb /nonexistent/cmd 2>&1); rc=$?
is "$rc" 127 "missing path: 127"
out=$(uc run --rm bb /etc/passwd 2>&1); rc=$?
is "$rc" 126 "not executable: 126"
out=$(uc run --rm bb /etc 2>&1); rc=$?
is "$rc" 126 "a directory: 126"
out=$(uc run --rm nosuchimage true 2>&1); rc=$?
is "$rc" 125 "unknown image: 125"
like "$out" "Unable to find image 'nosuchimage' locally" "  with Docker's message"
out=$(uc run --rm 2>&1); is "$?" 125 "run without an image: 125"
out=$(uc run --rm bb sh -c 'echo $$; hostname; cat /etc/hostname' 2>&1)
like "$(echo "$out" | head -1)" '^1$' "the command is pid 1"
h=$(echo "$out" | sed -n 2p)
like "$h" '^[0-9a-f]{12}$' "hostname defaults to the short id"
is "$(echo "$out" | sed -n 3p)" "$h" "/etc/hostname matches"
out=$(uc run --rm --hostname box -e FOO=bar -e HOME bb sh -c 'hostname; echo $FOO; echo $PATH; echo $HOME' 2>&1)
is "$out" "box
bar
/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$HOME" "--hostname, -e KEY=VAL, -e KEY from the environment, default PATH"
out=$(uc run --rm -w /work/dir bb pwd 2>&1)
is "$out" "/work/dir" "-w creates and enters the working directory"
out=$(uc run --rm --entrypoint /bin/echo bb a b 2>&1)
is "$out" "a b" "--entrypoint"
uc run --rm --read-only bb sh -c 'touch /x' 2>/dev/null
ok $(( $? == 0 )) "--read-only: the root is not writable"
out=$(uc run --rm --read-only bb sh -c 'echo ok > /dev/shm/x && cat /dev/shm/x' 2>&1)
is "$out" "ok" "--read-only: /dev/shm still writable"

if ! grep -qw unionfs /proc/filesystems; then
	out=$(uc --storage unionfs run --rm bb true 2>&1); rc=$?
	is "$rc" 125 "--storage unionfs without the module: 125"
	like "$out" 'mount -t unionfs .*is the module loaded.*No such device' "  and says why"
	is "$(uc ps -a | grep -c Exited)" "0" "  the failed --rm container is removed"
fi

out=$(uc run --rm -u app bb sh -c 'id -u; id -g; id -G; echo $HOME; grep CapEff /proc/self/status' 2>&1)
is "$(echo $out)" "1000 1000 1000 2000 /home/app CapEff: 0000000000000000" \
	"-u app: uid, gid, groups from /etc/group, HOME, no capabilities"
out=$(setpriv --groups 4242,4243 "$UC" --root "$ROOT" run --rm bb id -G 2>&1)
is "$out" "0 10" "without -u: root's groups from the image's /etc/group, none of the launcher's"
out=$(setpriv --groups 4242 "$UC" --root "$ROOT" run --rm -u app bb id -G 2>&1)
is "$out" "1000 2000" "  with -u app: the user's groups only"
out=$(uc run --rm -u 1234:55 bb sh -c 'id -u; id -g' 2>&1)
is "$(echo $out)" "1234 55" "-u uid:gid need not exist"
out=$(uc run --rm -u nosuch bb true 2>&1); rc=$?
is "$rc:$out" "125:unionctr: unable to find user nosuch: no matching entries in passwd file" "-u unknown: Docker's error"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- namespaces and the default mounts ----------------------------------
if [ "$QUICK" = 0 ]; then
nss="mnt pid uts ipc net cgroup"
out=$(uc run --rm bb sh -c "for ns in $nss; do readlink /proc/self/ns/\$ns; done" 2>&1)
i=0
for ns in $nss; do
	i=$((i + 1))
	in=$(echo "$out" | sed -n ${i}p)
	host=$(readlink /proc/self/ns/$ns)
	[ -n "$in" ] && [ "$in" != "$host" ]
	ok $? "own $ns namespace ($in)"
done
out=$(uc run --rm bb ls /sys/class/net 2>&1)
is "$out" "lo" "network: loopback only"
out=$(uc run --rm bb cat /sys/class/net/lo/operstate 2>&1)
like "$out" '^(unknown|up)$' "loopback is up"
out=$(uc run --rm bb sh -c 'grep -E "^(CapInh|CapEff|CapBnd|NoNewPrivs)" /proc/self/status' 2>&1)
like "$out" 'CapEff:.*00000000a80425fb' "Docker's default capability set"
like "$out" 'CapInh:.*0000000000000000' "  no inheritable capabilities (CVE-2022-24769)"
like "$out" 'CapBnd:.*00000000a80425fb' "  bounding set too"
like "$out" 'NoNewPrivs:.*0' "no no_new_privs by default (Docker)"
# --security-opt no-new-privileges, --cap-add/--cap-drop, --privileged (issue 16 item 14)
out=$(uc run --rm -u app bb /opt/suid/ctprobe euid 2>&1)
is "$out" "euid=0" "a set-user-ID root program run by a user gets euid 0, as under Docker"
out=$(uc run --rm -u app --security-opt no-new-privileges bb /opt/suid/ctprobe euid 2>&1)
is "$out" "euid=1000" "  not with --security-opt no-new-privileges"
for o in no-new-privileges no-new-privileges=true no-new-privileges:1 no-new-privileges=false; do
	out=$(uc run --rm --security-opt "$o" bb sh -c 'grep NoNewPrivs /proc/self/status' 2>&1)
	want=1; [ "$o" = no-new-privileges=false ] && want=0
	like "$out" "NoNewPrivs:.*$want\$" "--security-opt $o: NoNewPrivs $want"
done
out=$(uc run --rm --security-opt no-new-privileges=maybe bb true 2>&1); rc=$?
is "$rc:$out" '125:unionctr: invalid --security-opt 2: "no-new-privileges=maybe"' "--security-opt no-new-privileges=maybe: Docker's error"
out=$(uc run --rm --security-opt bogus bb true 2>&1); rc=$?
is "$rc:$out" '125:unionctr: Invalid --security-opt: "bogus"' "--security-opt bogus: Docker's error"
out=$(uc run --rm --security-opt foo=bar bb true 2>&1); rc=$?
is "$rc:$out" '125:unionctr: invalid --security-opt 2: "foo=bar"' "--security-opt foo=bar: Docker's error"
capeff() { uc run --rm "$@" bb sh -c 'grep CapEff /proc/self/status | cut -f2' 2>&1; }
all=$(grep CapPrm /proc/self/status | cut -f2)	# every capability the launcher has
is "$(capeff --cap-add NET_ADMIN)" "00000000a80435fb" "--cap-add NET_ADMIN"
is "$(capeff --cap-add net_admin --cap-add CAP_SYS_TIME)" "00000000aa0435fb" "--cap-add net_admin --cap-add CAP_SYS_TIME (any case, CAP_ optional)"
is "$(capeff --cap-drop CHOWN --cap-drop cap_kill)" "00000000a80425da" "--cap-drop CHOWN --cap-drop cap_kill"
is "$(capeff --cap-drop ALL --cap-add CHOWN)" "0000000000000001" "--cap-drop ALL --cap-add CHOWN"
is "$(capeff --cap-add ALL --cap-drop NET_RAW)" "$(printf '%016x' $(( 0x$all & ~(1 << 13) )))" "--cap-add ALL --cap-drop NET_RAW"
is "$(capeff --privileged)" "$all" "--privileged: every capability"
out=$(uc run --rm --cap-add BOGUS bb true 2>&1); rc=$?
is "$rc:$out" '125:unionctr: invalid CapAdd: unknown capability: "CAP_BOGUS"' "--cap-add BOGUS: Docker's error"
out=$(uc run --rm --cap-drop cap_nope bb true 2>&1); rc=$?
is "$rc:$out" '125:unionctr: invalid CapDrop: unknown capability: "CAP_NOPE"' "--cap-drop cap_nope: Docker's error"
out=$(uc run --rm --privileged bb sh -c 'head -c 10 /proc/timer_list | wc -c; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1' 2>&1)
is "$(echo $out)" "10 rw" "--privileged: nothing masked, /sys writable"
id=$(uc create --cap-add NET_ADMIN --cap-drop MKNOD --privileged --security-opt no-new-privileges bb true)
out=$(uc inspect "$id" | python3 -c 'import json,sys; h=json.load(sys.stdin)[0]["HostConfig"]; print(h["CapAdd"], h["CapDrop"], h["Privileged"], h["SecurityOpt"])')
is "$out" "['CAP_NET_ADMIN'] ['CAP_MKNOD'] True ['no-new-privileges']" "inspect: HostConfig CapAdd, CapDrop, Privileged, SecurityOpt"
uc rm "$id" >/dev/null
exec 7</dev/null 8>"$T/fd8"
out=$(uc run --rm bb ls /proc/self/fd 2>&1)
exec 7<&- 8>&-
is "$(echo $out)" "0 1 2 3" "only stdio (and ls's own dir fd) reach the container"
out=$(uc run --rm bb sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid' 2>&1)
like "$out" 'Read-only file system' "/proc/sys is read-only"
out=$(uc run --rm bb sh -c 'cat /proc/keys /proc/timer_list | wc -c; ls /proc/acpi 2>/dev/null | wc -l' 2>&1)
is "$(echo $out)" "0 0" "/proc/keys, /proc/timer_list, /proc/acpi masked"
out=$(uc run --rm bb sh -c 'touch /sys/x' 2>&1)
like "$out" 'Read-only file system' "/sys is read-only"
out=$(uc run --rm bb sh -c 'cd /dev && ls -d null zero full random urandom tty pts shm mqueue fd stdin stdout stderr ptmx' 2>&1)
is "$(echo $out)" "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" "/dev holds Docker's devices and links"
out=$(uc run --rm bb sh -c 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && mount | grep -c " /dev/pts type devpts"' 2>&1)
is "$(echo $out)" "4 1" "/dev/null, /dev/zero work; devpts mounted"
out=$(uc run --rm bb sh -c 'grep -E " / " /proc/mounts | cut -d" " -f3' 2>&1)
is "$out" "$STORAGE" "the root is a $STORAGE mount"
out=$(uc run --rm bb sh -c 'ls /proc/1/root/ >/dev/null && cat /etc/hosts' 2>&1)
like "$out" 'localhost' "/etc/hosts provided"

fi # full

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- OCI image config and whiteouts ---------------------------------------
out=$(uc run --rm ocitest:1 2>&1)
is "$out" "from-config oci
/opq" "OCI config: Cmd, Env and WorkingDir used"
out=$(uc run --rm ocitest:1 id -u 2>&1)
is "$out" "1000" "OCI config: User"
out=$(uc run --rm -u root ocitest:1 id -u 2>&1)
is "$out" "0" "-u overrides the image's User"
out=$(uc run --rm ocitest:1 sh -c 'ls /etc/gone 2>&1; cat /etc/keep; ls /opq' 2>&1)
like "$out" 'No such file' "OCI whiteout hides /etc/gone"
like "$out" '^keep$' "  the file beside it stays"
is "$(echo "$out" | tail -1)" "new" "opaque /opq shows only the top layer's content"
out=$(uc run --rm ocitar sh -c 'ls /opq' 2>&1)
is "$out" "new" "image from the OCI layout tarball"
out=$(uc run --rm saved:v1 sh -c 'ls /etc/gone 2>&1; ls /opq' 2>&1)
like "$out" 'No such file' "docker save image: whiteout"
is "$(echo "$out" | tail -1)" "new" "docker save image: opaque dir"
id=$(uc create ocitest:1 true)
out=$(uc inspect "$id" 2>&1)
like "$out" '"Destination": "/vol"' "image VOLUME becomes an anonymous volume"
uc rm -v "$id" >/dev/null

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- volumes ---------------------------------------------------------------
out=$(uc run --rm -v /opt/seed bb sh -c 'cat /opt/seed/file; stat -c "%u:%g %a" /opt/seed /opt/seed/file' 2>&1)
is "$out" "seed
1234:5678 750
1234:5678 644" "anonymous volume filled from the image (content, owner, mode)"
if [ "$xattr_ok" = 1 ]; then
	id=$(uc create -v /opt/seed bb true)
	src=$(uc inspect "$id" | sed -n 's/.*"Source": "\(.*_data\)".*/\1/p')
	is "$(getfattr --absolute-names --only-values -n user.uctest "$src/file" 2>&1)" "kept" "copy-in keeps xattrs"
	uc rm -v "$id" >/dev/null
fi
out=$(uc run --rm -v named1:/opt/seed:nocopy bb ls -A /opt/seed 2>&1)
is "$out" "" "nocopy: the volume stays empty"
uc run --rm -v named2:/data bb sh -c 'echo persisted > /data/f' >/dev/null 2>&1
out=$(uc run --rm -v named2:/data bb cat /data/f 2>&1)
is "$out" "persisted" "named volume data persists across containers"
out=$(uc volume ls -q 2>&1)
like "$out" '^named2$' "volume ls shows named2"
out=$(uc volume create made1 2>&1)
is "$out" "made1" "volume create NAME"
like "$(uc volume inspect made1 2>&1)" '"Mountpoint": ".*/volumes/made1/_data"' "volume inspect"
out=$(uc volume rm made1 2>&1); rc=$?
is "$rc:$out" "0:made1" "volume rm of an unused volume"
out=$(uc volume inspect made1 2>&1); rc=$?
is "$rc" 1 "  it is gone"
out=$(uc run --rm -v named2:/opt/seed bb ls /opt/seed 2>&1)
is "$out" "f" "a non-empty named volume is not filled again"
uc run --rm -v "$T/bind:/b" bb sh -c 'echo from-container > /b/f' >/dev/null 2>&1
is "$(cat "$T/bind/f" 2>&1)" "from-container" "bind mount: written on the host"
is "$(stat -c %a "$T/bind")" "755" "missing bind source created with mode 0755"
mkdir -p "$T/robind/sub"
mount -t tmpfs tmpfs "$T/robind/sub"
out=$(uc run --rm -v "$T/robind:/r:ro" bb sh -c 'touch /r/x 2>&1; touch /r/sub/y 2>&1' 2>&1)
is "$(echo "$out" | grep -c 'Read-only file system')" "2" "read-only bind is read-only recursively (submount too)"
umount "$T/robind/sub"
# Bind propagation (issue 16 item 13), as Docker: / is rslave; a bind's
# [r]shared, [r]slave, [r]private is honoured, the r- forms on its
# submounts too; [r]shared needs a shared source mount, [r]slave a shared
# or slave one.
P=$T/prop
mkdir -p "$P/src" "$P/priv"
mount --bind "$P/src" "$P/src" && mount --make-shared "$P/src"
mount --bind "$P/priv" "$P/priv" && mount --make-private "$P/priv"
mkdir -p "$P/src/sub" && mount -t tmpfs subtmp "$P/src/sub"
out=$(uc run --rm --privileged -v "$P/src:/s:shared" bb sh -c 'mkdir -p /s/in && mount -t tmpfs fromct /s/in && echo mounted' 2>&1)
is "$out" "mounted" ":shared bind: the container mounts in it"
is "$(awk -v m="$P/src/in" '$5 == m { for (i = 7; $i != "-"; i++); print $(i + 2) }' /proc/self/mountinfo)" "fromct" \
	"  and the mount reaches the host (shared propagation)"
umount "$P/src/in" 2>/dev/null
out=$(uc run --rm --privileged -v "$P/src:/s:slave" bb sh -c 'mkdir -p /s/in && mount -t tmpfs fromct /s/in && echo mounted' 2>&1)
is "$out:$(awk -v m="$P/src/in" '$5 == m' /proc/self/mountinfo)" "mounted:" ":slave bind: a mount in the container does not reach the host"
# A host mount made while the container runs: seen through :slave, not
# through the default rprivate.
wait_for() { # -> "seen" or "not-seen"
	echo 'for i in $(seq 40); do [ -e /s/late/marker ] && echo seen && exit; sleep 0.1; done; echo not-seen'
}
mkdir -p "$P/src/late"
uc run -d --name propslave -v "$P/src:/s:slave" bb sh -c "$(wait_for)" >/dev/null
uc run -d --name propdefault -v "$P/src:/s" bb sh -c "$(wait_for)" >/dev/null
sleep 0.5
mount -t tmpfs late "$P/src/late" && touch "$P/src/late/marker"
for i in $(seq 60); do uc ps | grep -q prop || break; sleep 0.1; done
is "$(uc logs propslave):$(uc logs propdefault)" "seen:not-seen" ":slave bind: a host mount made later is seen; without a mode (rprivate) it is not"
uc rm -f propslave propdefault >/dev/null
umount "$P/src/late"
mi='{ for (i = 7; $i != "-"; i++) o = o " " $i; print (o ~ /shared:|master:/ ? "propagating" : "private"); o = "" }'
out=$(uc run --rm -v "$P/src:/s:private" bb awk '$5 == "/s/sub" '"$mi" /proc/self/mountinfo 2>&1)
is "$out" "propagating" ":private (not r-): its submounts keep their propagation"
out=$(uc run --rm -v "$P/src:/s:rprivate" bb awk '$5 == "/s/sub" '"$mi" /proc/self/mountinfo 2>&1)
is "$out" "private" ":rprivate: its submounts private too"
out=$(uc run --rm -v "$P/priv:/p:shared" bb true 2>&1); rc=$?
is "$rc:$out" "125:unionctr: path $P/priv is mounted on $P/priv but it is not a shared mount" ":shared bind of a private mount: Docker's error"
mkdir -p "$P/priv/d"
out=$(uc run --rm -v "$P/priv/d:/p:rslave" bb true 2>&1); rc=$?
is "$rc:$out" "125:unionctr: path $P/priv/d is mounted on $P/priv but it is not a shared or slave mount" ":rslave bind of a private mount: Docker's error"
umount "$P/src/sub" "$P/src" "$P/priv"
out=$(uc run --rm -v "$T/bind:/b:ro" bb sh -c 'cat /b/f' 2>&1)
is "$out" "from-container" ":ro bind still readable"
echo hostfile > "$T/onefile"
out=$(uc run --rm -v "$T/onefile:/etc/onefile:ro" bb cat /etc/onefile 2>&1)
is "$out" "hostfile" "bind mount of a single file"
# Docker 20.10 (the reference): a relative source is a volume name, and
# "./relbind" is not a valid one (docker 23's CLI would make it a bind).
out=$(cd "$T" && uc run --rm -v ./relbind:/rb bb true 2>&1); rc=$?
is "$rc:$out" "125:unionctr: create ./relbind: \"./relbind\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path" \
	"relative bind source './x' refused with Docker 20.10's message"
ok $(( $(test -e "$T/relbind" && echo 1 || echo 0) )) "  nothing made in the current directory"
for spec in "/data:rw" "a:/b:ro:x" "/h:/d:bogus" "/h:/" "vol:relative" "/h:/d:nocopy" "x:/d"; do
	out=$(uc create -v "$spec" bb true 2>&1); rc=$?
	ok $(( rc != 125 )) "-v '$spec' refused with 125"
done
is "$(uc ps -aq | wc -l)" "0" "  and no container is left"
out=$(uc run --rm -v "/h:/d:bogus" bb true 2>&1)
is "$out" "unionctr: invalid mode: bogus" "  invalid mode message"
out=$(uc run --rm -v /a -v "$T/x:/a" bb true 2>&1); rc=$?
is "$rc:$out" "125:unionctr: Duplicate mount point: /a" "two -v at one destination"
out=$(uc run --rm -v /etc/afile bb true 2>&1); rc=$?
is "$rc" 125 "volume over a file of the image refused"
like "$out" 'file exists /etc/afile' "  with Docker's message"

# --volumes-from
uc create --name data1 -v /shared -v named3:/named -v "$T/bind:/hostb" bb true >/dev/null
out=$(uc run --rm --volumes-from data1 bb sh -c 'echo a > /shared/a && echo b > /named/b && ls /hostb' 2>&1)
is "$out" "f" "--volumes-from: every mount of the container (anonymous, named, bind)"
out=$(uc run --rm --volumes-from data1:ro bb sh -c 'cat /shared/a; touch /shared/x 2>&1; touch /named/x 2>&1; touch /hostb/x 2>&1' 2>&1)
like "$out" '^a$' "--volumes-from :ro reads"
is "$(echo "$out" | grep -c 'Read-only file system')" "3" "--volumes-from :ro makes all three read-only"
uc create --name data2 --volumes-from data1:ro bb true >/dev/null
out=$(uc run --rm --volumes-from data2:rw bb sh -c 'touch /shared/y' 2>&1); rc=$?
ok $(( rc == 0 )) "a read-only inherited mount stays read-only with :rw"
out=$(uc run --rm --volumes-from data1 -v "$T/bind:/shared" bb ls /shared 2>&1)
is "$out" "f" "-v replaces a --volumes-from mount at the same destination"
out=$(uc run --rm --volumes-from nosuch bb true 2>&1); rc=$?
is "$rc:$out" "125:unionctr: No such container: nosuch" "--volumes-from an unknown container"
out=$(uc run --rm --volumes-from data1:rshared bb true 2>&1); rc=$?
is "$rc:$out" "125:unionctr: invalid mode: rshared" "--volumes-from with a propagation mode refused"

# --rm and rm -v: anonymous volumes go only when unused; named ones stay.
before=$(uc volume ls -q | wc -l)
uc run --rm -v /tmpvol -v keepme:/k bb true
after=$(uc volume ls -q | wc -l)
is "$after" "$((before + 1))" "--rm removes the anonymous volume, keeps the named one"
uc run --rm --volumes-from data1 bb true
is "$(uc volume ls -q | wc -l)" "$after" "--rm keeps inherited volumes still used by data1"
id=$(uc create -v /anon2 bb true)
n1=$(uc volume ls -q | wc -l)
uc rm "$id" >/dev/null
is "$(uc volume ls -q | wc -l)" "$n1" "rm without -v keeps the anonymous volume"
id=$(uc create -v /anon3 bb true)
uc rm -v "$id" >/dev/null
is "$(uc volume ls -q | wc -l)" "$n1" "rm -v removes the anonymous volume"
out=$(uc volume rm named3 2>&1); rc=$?
ok $(( rc == 0 )) "volume rm refused while data1 uses it"
like "$out" 'volume is in use' "  with Docker's message"
uc rm -v data2 >/dev/null
uc rm -v data1 >/dev/null
out=$(uc volume ls -q | grep -c '^[0-9a-f]\{64\}$')
is "$out" "1" "rm -v of the last users removes inherited anonymous volumes (the one rm kept stays)"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- the seed scenario, word for word --------------------------------------
if command -v script >/dev/null; then
	uc create -v /srv --name store bb /bin/true >/dev/null; rc=$?
	is "$rc" 0 "unionctr create -v /srv --name store IMAGE /bin/true"
	out=$(printf 'ls -A /srv\necho seeded > /srv/data\ncat /srv/data\nexit 7\n' |
		$TO script -qec "$UC --root $ROOT run -it --rm --volumes-from store bb sh" /dev/null 2>&1); rc=$?
	is "$rc" 7 "unionctr run -it --rm --volumes-from store IMAGE sh: interactive shell, exit status"
	like "$out" 'seeded' "  sees and writes /srv"
	out=$(uc run --rm --volumes-from store bb cat /srv/data 2>&1)
	is "$out" "seeded" "  the data is there for the next container"
	out=$(uc create -v /srv --name store bb /bin/true 2>&1); rc=$?
	is "$rc" 125 "name conflict: 125"
	like "$out" 'Conflict. The container name "/store" is already in use by container "[0-9a-f]{64}". You have to remove \(or rename\) that container to be able to reuse that name.' "  with Docker's message"

	# ---- terminals ------------------------------------------------------------
	out=$($TO script -qec "$UC --root $ROOT run -t --rm bb tty" /dev/null </dev/null 2>&1 | tr -d '\r')
	is "$out" "/dev/pts/0" "-t: a pty from the container's devpts"
	out=$($TO script -qec "stty rows 33 cols 77; $UC --root $ROOT run -t --rm bb stty size" /dev/null </dev/null 2>&1 | tr -d '\r')
	is "$out" "33 77" "-t: window size copied"
	out=$($TO script -qec "$UC --root $ROOT run -t --rm bb sh -c 'ls -l /dev/console; echo \$TERM'" /dev/null </dev/null 2>&1 | tr -d '\r')
	like "$out" '136,' "-t: /dev/console is the pty"
	like "$out" '^xterm$' "-t: TERM=xterm"
	# SIGWINCH: resize the launcher's terminal while the container waits.
	out=$(sleep 3 | $TO script -qec "sh -c '$UC --root $ROOT run -t --rm bb sh -c \"trap \\\"stty size; exit 0\\\" WINCH; echo ready; while :; do sleep 0.1; done\" & sleep 1.5; stty rows 50 cols 60; wait'" /dev/null 2>&1 | tr -d '\r')
	like "$out" '^50 60$' "-t: SIGWINCH resizes the container's pty"
	out=$(printf 'read x; echo got:$x\n' | $TO script -qec "$UC --root $ROOT run -i -t --rm bb sh -c 'read x; echo got:\$x'" /dev/null 2>&1 | tr -d '\r')
	like "$out" 'got:read x; echo got:\$x' "-it relays stdin to the pty"
	# Without -t the launcher's terminal is never the container's (issue 16
	# item 7): it gets pipes that the launcher relays, so it cannot change
	# the terminal's modes, push input into it (TIOCSTI) or read it directly.
	out=$($TO "$HERE/ptyrun.py" --timeout 20 --termios -- "$UC" --root "$ROOT" run -i --rm bb sh -c '
		for fd in 0 1 2; do [ -t $fd ] && echo "fd $fd is a terminal"; done
		stty raw -echo 2>/dev/null && echo "stty worked"
		ctprobe tiocsti:0 tiocsti:1 tiocsti:2; echo done' 2>&1); rc=$?
	is "$rc" 0 "without -t, on a terminal: the container runs"
	unlike "$out" 'is a terminal|stty worked' "  its stdin, stdout and stderr are not the launcher's terminal"
	is "$(echo "$out" | grep -c '^tiocsti=ENOTTY$')" 3 "  TIOCSTI on them: ENOTTY"
	like "$out" '^done$' "  its output reaches the terminal"
	like "$out" '^ptyrun: termios same$' "  the terminal's modes are as before"
	out=$($TO "$HERE/ptyrun.py" --timeout 20 --expect ready --send 'typed\n' -- \
		"$UC" --root "$ROOT" run -i --rm bb sh -c 'echo ready; read x; echo "got:$x"; echo err >&2' 2>&1)
	like "$out" '^got:typed$' "  with -i, what is typed is relayed to its stdin"
	like "$out" '^err$' "  its stderr is relayed"
	# -t without -i (issue 16 item 12): the launcher's terminal stays
	# cooked, so Ctrl-C is SIGINT to the launcher, which forwards it.
	out=$($TO "$HERE/ptyrun.py" --timeout 20 --termios --expect ready --send '\x03' -- \
		"$UC" --root "$ROOT" run -t --rm bb sh -c 'trap "echo got-int; exit 3" INT; echo ready; while :; do sleep 0.1; done' 2>&1); rc=$?
	is "$rc" 3 "-t without -i: Ctrl-C on the launcher's terminal reaches the container as SIGINT"
	like "$out" 'got-int$' "  its trap ran"
	like "$out" '^ptyrun: termios same$' "  the launcher's terminal modes are as before"
	out=$($TO "$HERE/ptyrun.py" --timeout 20 --termios --expect ready --send 'typed\n' -- \
		"$UC" --root "$ROOT" run -it --rm bb sh -c 'echo ready; read x; echo got:$x' 2>&1); rc=$?
	is "$rc" 0 "-it: an interactive shell"
	like "$out" '^got:typed$' "  reads what is typed"
	like "$out" '^ptyrun: termios same$' "  the launcher's terminal modes are restored"
else
	diag "script(1) missing: skipping -t tests"
fi
out=$(echo | uc run -it --rm bb true 2>&1); rc=$?
is "$rc:$out" "1:the input device is not a TTY" "-it with a non-terminal stdin: Docker's error"
out=$(printf 'abc\n' | uc run -i --rm bb cat 2>&1)
is "$out" "abc" "-i keeps stdin open"
out=$(printf 'abc\n' | uc run --rm bb cat 2>&1)
is "$out" "" "without -i stdin is /dev/null"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- signals -----------------------------------------------------------------
if [ "$QUICK" = 0 ]; then
"$UC" --root "$ROOT" run --rm bb sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done' > "$T/sig.out" 2>&1 &
pid=$!
for i in $(seq 50); do grep -qs ready "$T/sig.out" && break; sleep 0.1; done
kill -TERM $pid
wait $pid; rc=$?
is "$rc" 42 "SIGTERM forwarded to the container"
"$UC" --root "$ROOT" run --rm bb sh -c 'trap "exit 43" HUP; echo ready; while :; do sleep 0.1; done' > "$T/sig.out" 2>&1 &
pid=$!
for i in $(seq 50); do grep -qs ready "$T/sig.out" && break; sleep 0.1; done
kill -HUP $pid
wait $pid; rc=$?
is "$rc" 43 "SIGHUP forwarded to the container"
"$UC" --root "$ROOT" run --name killme bb sleep 30 >/dev/null 2>&1 &
pid=$!
for i in $(seq 50); do
	cpid=$(uc inspect killme 2>/dev/null | sed -n 's/.*"Pid": \([0-9]*\).*/\1/p')
	[ -n "$cpid" ] && [ "$cpid" != 0 ] && break
	sleep 0.1
done
kill -KILL "$cpid"
wait $pid; rc=$?
is "$rc" 137 "killed by SIGKILL: 137"
out=$(uc ps -a 2>&1)
like "$out" 'Exited \(137\).*killme' "ps -a shows the exit status"
uc rm killme >/dev/null

fi # full

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- detached start, ps, rm -f, CVE-2019-5736 ------------------------------------
if [ "$QUICK" = 0 ]; then
id=$(uc run -d --name bg bb sleep 30 2>&1)
like "$id" '^[0-9a-f]{64}$' "run -d prints the id"
out=$(uc ps 2>&1)
like "$out" 'Up .*bg$' "ps shows it running"
cpid=$(uc inspect bg | sed -n 's/.*"Pid": \([0-9]*\).*/\1/p')
exe=$(readlink /proc/$cpid/exe 2>&1)
like "$exe" 'busybox' "the container's process runs its command (the launcher's exec shim is gone)"
unlike "$exe" 'unionctr' "  not the launcher (CVE-2019-5736: hostile.sh tries the attack)"
out=$(uc run --rm bb sh -c 'echo /proc/[0-9]*' 2>&1)
is "$out" "/proc/1" "a container sees only its own processes"
out=$(uc rm bg 2>&1); rc=$?
ok $(( rc == 0 )) "rm refuses a running container"
like "$out" 'You cannot remove a running container' "  with Docker's message"
uc rm -f bg >/dev/null; rc=$?
ok $rc "rm -f kills and removes it"
ok $(( $(kill -0 "$cpid" 2>/dev/null && echo 1 || echo 0) )) "  the process is gone"
# run -dit (issue 16 item 11): the keeper keeps the pty open and logs it;
# -di: stdin stays open, as with docker.
uc run -dit --name dit bb sh >/dev/null
uc run -di --name di bb cat >/dev/null
sleep 1
like "$(uc ps)" 'Up .* dit$' "run -dit IMAGE sh: the shell keeps running"
like "$(uc logs dit)" '/ # ' "  its terminal's output (the prompt) is in its log"
like "$(uc ps)" 'Up .* di$' "run -di IMAGE cat: stdin stays open"
uc rm -f dit di >/dev/null
uc run -d --name lg bb sh -c 'echo to-out; echo to-err >&2' >/dev/null
for i in $(seq 50); do uc ps -a | grep -q 'Exited.*lg' && break; sleep 0.1; done
is "$(uc logs lg 2>&1 | sort | tr '\n' ' ')" "to-err to-out " "logs of a detached container: stdout and stderr"
uc rm lg >/dev/null
uc run -d --name st1 bb sleep 30 >/dev/null
out=$(uc stop -t 1 st1 2>&1); rc=$?
is "$rc:$out" "0:st1" "stop"
like "$(uc ps -a)" 'Exited \(137\).*st1' "  pid 1 ignoring SIGTERM is killed after -t: 137"
uc run -d --name st2 bb sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 0.5
uc kill -s TERM st2 >/dev/null
for i in $(seq 50); do uc ps -a | grep -q 'Exited (7).*st2' && break; sleep 0.1; done
like "$(uc ps -a)" 'Exited \(7\).*st2' "kill -s TERM reaches the container's trap"
out=$(uc kill st2 2>&1); rc=$?
is "$rc" 1 "kill of a stopped container fails"
like "$out" 'is not running' "  with Docker's message"
uc rm st1 st2 >/dev/null
id=$(uc create --name later bb sh -c 'echo started; exit 5')
out=$(uc start -a later 2>&1); rc=$?
is "$rc:$out" "5:started" "start -a of a created container"
out=$(uc start -a later 2>&1); rc=$?
is "$rc:$out" "5:started" "a stopped container starts again"
out=$(uc start later 2>&1); rc=$?
is "$rc:$out" "0:later" "start without -a returns at once"
uc rm -f later >/dev/null

fi # full

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- symlink escapes -----------------------------------------------------------
uc run --rm -v /evil-abs/x bb true >/dev/null 2>&1
ok $(( $(ls -A "$T/host-escape" | wc -l) )) "volume at an absolute symlink to the host: nothing made on the host"
uc run --rm -v "$T/bind:/evil-rel/x" bb true >/dev/null 2>&1
ok $(( $(ls -A "$T/host-escape2" | wc -l) )) "bind at a relative ../ symlink to the host: nothing made on the host"
uc run --rm -v "/evil-dangling/y" bb true >/dev/null 2>&1
ok $(( $(test -e "/nonexistent-uc-$$" && echo 1 || echo 0) )) "dangling symlink target never created on the host"
out=$(uc run --rm -v "$T/bind:/evil-abs/x" bb sh -c 'ls /evil-abs/x/f' 2>&1)
is "$out" "/evil-abs/x/f" "the mount lands inside the container, through the symlink"
uc run --rm -v /evil-abs/../../../../../../../tmp/uc-dotdot-$$ bb true >/dev/null 2>&1
ok $(( $(test -e /tmp/uc-dotdot-$$ && echo 1 || echo 0) )) "'..' in a destination stays inside the root"
# A volume shared with a container that swaps a symlink while others start.
uc run --rm -v swap:/data bb sh -c 'mkdir -p /data/d' >/dev/null 2>&1
uc run -d --name swapper -v swap:/data bb sh -c \
	'while :; do rm -rf /data/d; ln -s / /data/d; rm -f /data/d; mkdir /data/d; done' >/dev/null 2>&1
for i in $(seq 5); do
	uc run --rm -v swap:/data -v "$T/bind:/data/d/uc-swap-$$" bb true >/dev/null 2>&1
done
uc rm -f swapper >/dev/null 2>&1
ok $(( $(test -e /uc-swap-$$ && echo 1 || echo 0) )) "symlink swapped in a shared volume during start: nothing made on the host"
rmdir /uc-swap-$$ 2>/dev/null
uc run --rm -v swap:/data bb sh -c 'ln -sfn /etc /data/link' >/dev/null 2>&1
out=$(uc run --rm -v swap:/data -v "$T/onefile:/data/link/uc-file-$$" bb cat /etc/uc-file-$$ 2>&1)
is "$out" "hostfile" "a volume's symlink is resolved inside the container root"
ok $(( $(test -e /etc/uc-file-$$ && echo 1 || echo 0) )) "  and not on the host's /etc"

out=$(uc run --rm -w /evil-abs/wd bb pwd 2>&1)
is "$out" "$T/host-escape/wd" "-w through an absolute symlink to the host: made and entered inside the root"
ok $(( $(ls -A "$T/host-escape" | wc -l) )) "  nothing made on the host"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- diff and commit ------------------------------------------------------------
uc run --name changer bb sh -c 'echo new > /newfile; rm /etc/afile; echo x >> /etc/passwd' >/dev/null 2>&1
out=$(uc diff changer 2>&1)
like "$out" '^A /newfile$' "diff: A for an added file"
like "$out" '^D /etc/afile$' "diff: D for a deleted file"
like "$out" '^C /etc/passwd$' "diff: C for a changed file"
like "$out" '^C /etc$' "diff: C for the changed directory"
unlike "$out" '/etc/hostname|/proc|/sys|/dev' "diff: not what the launcher made (empty mount points, /etc/hostname)"
out=$(uc commit changer committed:1 2>&1)
like "$out" '^sha256:' "commit"
out=$(uc run --rm committed:1 sh -c 'cat /newfile; ls /etc/afile 2>&1; tail -1 /etc/passwd' 2>&1)
is "$(echo "$out" | sed -n 1p)" "new" "committed image has the added file"
like "$out" 'No such file' "  and the deletion (whiteout in the new layer)"
is "$(echo "$out" | tail -1)" "x" "  and the change"
# commit keeps the image's Env and -e, never what the launcher adds for the
# process (HOSTNAME, TERM, HOME): a container of the new image gets its own.
uc run --name envsrc -t -h oldhost -e FOO=bar bb true >/dev/null 2>&1
uc commit envsrc envimg:1 >/dev/null 2>&1
env=$(uc inspect envimg:1 | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)[0]["Config"]["Env"] or []))')
is "$env" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin FOO=bar" \
	"commit: the image's Env is the image's and -e's (no HOSTNAME, TERM, HOME of the container)"
out=$(uc run --rm -h newhost envimg:1 sh -c 'echo "$HOSTNAME ${TERM:-noterm} $FOO $HOME"' 2>&1)
is "$out" "newhost noterm bar /root" "  a container of it has its own HOSTNAME, no TERM without -t, HOME of its user"
out=$(uc run --rm -u 1234 bb sh -c 'echo $HOME' 2>&1)
is "$out" "/" "HOME of a user without a passwd entry: / (as Docker)"
uc rm envsrc >/dev/null
uc rmi envimg:1 >/dev/null
uc run --name fresh committed:1 true >/dev/null 2>&1
is "$(uc diff fresh 2>&1)" "" "a container that changed nothing has an empty diff"
uc rm fresh >/dev/null
out=$(uc images 2>&1)
like "$out" '^committed:1 .* 2 ' "committed image has 2 layers"
out=$(uc rmi bbtar 2>&1); rc=$?
is "$rc:$out" "0:Untagged: bbtar" "rmi of one tag of an image with two only untags"
out=$(uc rmi bb 2>&1); rc=$?
ok $(( rc == 0 )) "rmi refused while a container uses the image"
like "$out" 'image is being used by container' "  with Docker's message"
uc rm changer >/dev/null
out=$(uc rmi committed:1 2>&1); rc=$?
is "$rc" 0 "rmi once unused"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- many layers: past the 4 KiB option page, through fsconfig("lowerdir+") ----
# Enough layers that "lowerdir=L1:L2:..." of the state root's paths is > 4 KiB.
nl=$(( 4200 / (${#ROOT} + 8 + 64 + 1) + 1 ))
make_many_layers "$T/rootfs" "$T/many" $nl
out=$(uc import --name many "$T/many" 2>&1)
like "$out" '^sha256:' "import a $((nl + 1))-layer image"
out=$(uc run --rm many sh -c 'cat /layers/top; ls /layers | wc -l' 2>&1)
is "$(echo $out)" "$nl $((nl + 1))" "$((nl + 1)) layers mounted (options beyond a page): top file from the top layer, all files merged"
out=$(UNIONCTR_FSCONFIG=1 uc run --rm bb echo via-fsconfig 2>&1)
is "$out" "via-fsconfig" "the new mount API path (fsopen/fsconfig/fsmount/move_mount) for a short stack too"
odd="$T/odd,root:x"
"$UC" --root "$odd" import --name bb "$T/rootfs" >/dev/null 2>&1
out=$($TO "$UC" --root "$odd" run --rm bb sh -c 'echo w > /f && cat /f' 2>&1)
is "$out" "w" "a state root with ',' and ':' in its path (layers passed verbatim)"
id=$(uc create -v /layers many true 2>&1)
out=$(uc inspect "$id" | sed -n 's/.*"Source": "\(.*_data\)".*/\1/p')
is "$(ls "$out" 2>/dev/null | wc -l)" "$((nl + 1))" "copy-in from a multi-layer image sees the merged tree"
uc rm -v "$id" >/dev/null
uc rmi many >/dev/null

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- concurrency -------------------------------------------------------------------
if [ "$QUICK" = 0 ]; then
for i in 1 2 3 4; do
	uc create --name race bb true > "$T/race.$i" 2>&1 &
done
wait
is "$(cat "$T"/race.* | grep -c '^[0-9a-f]\{64\}$')" "1" "4 concurrent creates of one name: exactly one wins"
is "$(uc ps -a | grep -c ' race$')" "1" "  one container named race"
uc rm race >/dev/null
out=$(ls -A "$ROOT/tmp" | grep -v '^rm-' | wc -l)
is "$out" "0" "nothing half-made left in the state root"

fi # full

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- run --rm leaves nothing ------------------------------------------------------------
# How fast this is belongs to make bench (container start), not to a timed test.
before=$(uc ps -a | wc -l)
start=$(date +%s%N)
for i in 1 2 3; do uc run --rm bb /bin/true; done
ms=$(( ($(date +%s%N) - start) / 3000000 ))
diag "unionctr run --rm IMAGE /bin/true: ${ms} ms (mean of 3, $STORAGE; informational)"
is "$(uc ps -a | wc -l)" "$before" "3 x run --rm /bin/true: no container left behind"

diag "section took $((SECONDS - t_section)) s, total $SECONDS s"
done_testing
