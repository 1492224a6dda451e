#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hostile and broken input to the launcher (issue 7), with real containers
# (TAP on stdout).  Every case ends in a clean error (exit 125) or stays
# inside the container; the host is checked afterwards: the content and
# mtime of its files, its mount table, its binary.
#
#   images whose /proc, /dev, /sys, /etc/hosts, /etc/resolv.conf, /etc/hostname
#     and -v targets are symlinks to host paths (absolute, relative, '..',
#     dangling), magic links as -v targets
#   a symlink exchanged for a directory in a shared volume while containers
#     start (CVE-2021-30465): renameat2(RENAME_EXCHANGE) in a loop
#   -w /proc/self/fd/N and the launcher's fds and cwd (CVE-2024-21626)
#   the launcher binary written through /proc/<pid>/exe (CVE-2019-5736)
#   image tarballs with '..', absolute names, links out, devices, long names
#   malformed volume specs, volume and container names
#
# Host: --storage overlay; in the guest UNIONCTR_TEST_STORAGE=unionfs and
# quick mode: only what depends on the storage (one container on the
# symlinked image, and the race with 4 containers).  Needs root and /bin/busybox; nsenter for one case.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_init uc-hostile
EXCHANGE=$HERE/exchange
MKTAR=$HERE/mktar
# The "host" the images point at: not under /dev (an image's /dev symlink
# would then lead through itself), nor under $T.
H=$(mktemp -d /tmp/uc-hostile-host.XXXXXX)
racer=

cleanup() {
	local c
	[ -n "$racer" ] && kill "$racer" 2>/dev/null
	for c in $("$UC" --root "$ROOT" ps -aq 2>/dev/null); do
		"$UC" --root "$ROOT" rm -f "$c" >/dev/null 2>&1
	done
	rm -rf "$T" "$H"
}
trap cleanup EXIT

# Mount points of the host (this mount namespace), one a line.
host_mounts() { awk '{print $5}' /proc/self/mountinfo | sort; }
# New host mount points since $1 (a host_mounts output) at / or under $H or
# $T, or named like pattern $2: where an escaped mount would land.  Other
# tests may mount elsewhere meanwhile.
new_mounts() { # BEFORE [PATTERN]
	host_mounts | comm -13 <(printf '%s\n' "$1") - |
		grep -E "^/$|^$H(/|$)|^$T(/|$)${2:+|$2}"
}
# Content, size and mtime of every file under the host tree, and its names;
# the same of the host's own /etc files that the images point at.
host_state() {
	find "$H" /etc/hosts /etc/resolv.conf /etc/hostname -printf '%p %y %m %U:%G %s %T@\n' \
		-type f -exec sha256sum {} + 2>/dev/null | sort
}

t_section=$SECONDS
# ---- images whose mount targets are symlinks to host paths ----------------------
mkdir -p "$H"/etc "$H"/proc "$H"/dev "$H"/sys "$H"/mnt "$H"/vol
echo host-hosts > "$H/etc/hosts"
echo host-resolv > "$H/etc/resolv.conf"
echo host-hostname > "$H/etc/hostname"
echo host-secret > "$H/vol/secret"
touch -d '2001-02-03 04:05:06' "$H"/etc/* "$H"/vol/secret

r=$T/evilroot
make_busybox_rootfs "$r"
rmdir "$r/proc" "$r/dev" "$r/sys"
ln -s "$H/proc" "$r/proc"					# absolute
ln -s "../../../../../../../../..$H/dev" "$r/dev"		# relative, '..' past /
ln -s "/../..$H/sys" "$r/sys"					# absolute with '..'
ln -s "$H/etc/hosts" "$r/etc/hosts"				# dangling in the root
ln -s "../../../../../..$H/etc/resolv.conf" "$r/etc/resolv.conf"
ln -s "/nonexistent-uc-hostile-$$/hostname" "$r/etc/hostname"
ln -s "$H/mnt" "$r/mnt"
ln -s "$H/vol" "$r/vol"						# a VOLUME's path
ln -s "/dangling-uc-hostile-$$" "$r/dangling"
out=$(uc import --name evil "$r" 2>&1)
like "$out" '^sha256:' "import an image whose /proc /dev /sys /etc/hosts /etc/resolv.conf /etc/hostname point at the host"

before=$(host_mounts)
state=$(host_state)
out=$(uc run --rm evil sh -c '
	test -r /proc/self/status && echo proc-ok
	test -c /dev/null && echo dev-ok
	grep -q localhost /etc/hosts && echo hosts-ok
	test "$(cat /etc/hostname)" = "$(hostname)" && echo hostname-ok
	test -e /etc/resolv.conf && echo resolv-ok
	awk "{print \$5}" /proc/self/mountinfo' 2>&1); rc=$?
is "$rc" 0 "the container runs"
is "$(echo "$out" | grep -c -- '-ok$')" 5 "  /proc, /dev, /etc/hosts, /etc/hostname, /etc/resolv.conf work"
for m in "$H/proc" "$H/dev" "$H/sys" "$H/etc/hosts" "$H/etc/resolv.conf" "/nonexistent-uc-hostile-$$/hostname"; do
	like "$out" "^$m\$" "  mounted at $m inside the root"
done
is "$(host_state)" "$state" "  host files: same names, content, mtime"
is "$(new_mounts "$before")" "" "  no host path mounted over"
ok $(( $(test -e "/nonexistent-uc-hostile-$$" && echo 1 || echo 0) )) "  the dangling target is not made on the host"

mkdir -p "$T/bind"
echo inbind > "$T/bind/f"

# Devices: images may not carry them (import refuses them), and what the
# container makes with CAP_MKNOD must not open: with no device cgroup, a
# node for the host's disk would.  Every writable directory mount is nodev.
out=$(uc run --rm -v "$T/bind:/b" -v /v evil sh -c '
	for d in /tmp /dev /v /b; do
		mknod $d/null2 c 1 3 && (echo x > $d/null2) 2>/dev/null && echo "opened $d/null2"
		rm -f $d/null2
	done
	echo x > /dev/null && head -c 1 /dev/zero | od -An -tx1
	awk "{ split(\$0, a, \" - \"); split(a[2], f, \" \");
	       if (\$6 ~ /^rw/ && \$6 !~ /nodev/ && f[1] != \"devpts\") print \$5 }" /proc/self/mountinfo |
	while read -r m; do [ -d "$m" ] && echo "dev-mount $m"; done; true' 2>&1); rc=$?
is "$rc:$(echo $out)" "0:00" "a device node made in the container (root, /dev, a volume, a bind) does not open; /dev/null, /dev/zero do"
if [ "$QUICK" = 0 ]; then
make_busybox_rootfs "$T/rootfs"
cp "$HERE/ctprobe" "$T/rootfs/bin/ctprobe"
uc import --name bb "$T/rootfs" >/dev/null
echo bound > "$T/onefile"
out=$(uc run --rm -v "$T/onefile:/etc/hosts:ro" -v "$T/bind:/mnt/x" -v "$T/bind:/dangling/y" \
	evil sh -c 'cat /etc/hosts; cat /mnt/x/f; cat /dangling/y/f' 2>&1); rc=$?
is "$rc:$(echo $out)" "0:bound inbind inbind" "-v onto /etc/hosts, /mnt/x, /dangling/y (symlinks to host paths): inside"
is "$(host_state)" "$state" "  host files untouched"
ok $(( $(test -e "/dangling-uc-hostile-$$" && echo 1 || echo 0) )) "  no dangling target made on the host"
# A volume whose content points at the host, as the mount targets of others.
uc volume create linkvol >/dev/null
data=$(uc volume inspect linkvol | sed -n 's/.*"Mountpoint": "\(.*\)".*/\1/p')
ln -s "$H/vol" "$data/abs"
ln -s "../../../../../../../../..$H/vol" "$data/rel"
ln -s /etc/hosts "$data/hosts"
out=$(uc run --rm -v linkvol:/data -v "$T/bind:/data/abs/m1" -v "$T/bind:/data/rel/m2" \
	-v "$T/onefile:/data/hosts" bb sh -c 'cat /data/abs/m1/f /data/rel/m2/f /etc/hosts' 2>&1); rc=$?
is "$rc:$(echo $out)" "0:inbind inbind bound" "-v through a volume's symlinks to host paths (absolute, relative, /etc/hosts): inside"
is "$(host_state)" "$state" "  host files untouched"
ok $(( $(ls -A "$H/vol" | grep -c '^m') )) "  nothing made in the host directory they point at"
n_vol=$(uc volume ls -q | wc -l)
out=$(uc run --rm -v /vol evil ls -A /vol 2>&1); rc=$?
is "$rc:$out" "0:" "VOLUME at a symlink to a host dir: the anonymous volume is not filled from the host"
is "$(uc volume ls -q | wc -l)" "$n_vol" "  --rm removed it"
# Magic links as destinations: refused (RESOLVE_NO_MAGICLINKS) or inside.
for dst in /proc/self/root/uc-magic-$$ /proc/1/cwd/uc-magic-$$ /proc/self/fd/0/uc-magic-$$ \
	/dev/fd/1/uc-magic-$$ /proc/self/cwd/../../uc-magic-$$; do
	out=$(uc run --rm -v "$T/bind:$dst" bb true 2>&1); rc=$?
	if [ "$rc" = 125 ]; then
		like "$out" '^unionctr: ' "-v onto $dst: refused"
	else
		is "$rc" 0 "-v onto $dst: confined"
	fi
done
ok $(( $(ls -d /uc-magic-$$ /proc/self/root/uc-magic-$$ 2>/dev/null | wc -l) )) "  nothing made on the host"
is "$(new_mounts "$before" "uc-magic")" "" "  no host path mounted over"
fi # full

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- CVE-2021-30465: a directory and a symlink to / trade places in a volume ----
# The racer runs on the host, in the volume's _data; each container mounts a
# bind through the racing path.  A mount that left the root would be gone
# after pivot_root: every container that starts must see its mount inside.
uc volume create racevol >/dev/null
data=$(uc volume inspect racevol | sed -n 's/.*"Mountpoint": "\(.*\)".*/\1/p')
mkdir "$data/d"
ln -s / "$data/l"
mkdir -p "$T/racebind"
before=$(host_mounts)
n_race=$([ "$QUICK" = 1 ] && echo 4 || echo 16)
"$EXCHANGE" "$data/d" "$data/l" 600 > "$T/swaps" &
racer=$!
inside=0 refused=0 other=0 at_root=0 pids=()
for i in $(seq "$n_race"); do
	(
		out=$(uc run --rm -v racevol:/x -v "$T/racebind:/x/d/uc-race-$$-$i" evil \
			awk '$4 ~ /\/racebind$/ {print $5}' /proc/self/mountinfo 2>&1); rc=$?
		echo "$rc ${out//$'\n'/ }" > "$T/race.$i"
	) &
	pids+=($!)
	if [ ${#pids[@]} = 4 ]; then
		wait "${pids[@]}"
		pids=()
	fi
done
[ ${#pids[@]} = 0 ] || wait "${pids[@]}"
kill "$racer"
wait "$racer" 2>/dev/null
racer=
for i in $(seq "$n_race"); do
	read -r rc where < "$T/race.$i"
	if [ "$rc" = 0 ] && [[ "$where" =~ ^/(x/[dl]/)?uc-race-$$-$i$ ]]; then
		inside=$((inside + 1))
		[ "$where" = "/uc-race-$$-$i" ] && at_root=$((at_root + 1))
	elif [ "$rc" = 125 ]; then
		refused=$((refused + 1))
		diag "refused: $where"
	else
		other=$((other + 1))
		diag "container $i: exit $rc, mount at '$where'"
	fi
done
diag "$n_race containers: $inside with the mount inside the root ($at_root through the symlink," \
	"at the container's /), $refused refused; $(cat "$T/swaps" 2>/dev/null) swaps"
is "$other" 0 "symlink/dir exchanged during start: every container has its mount inside the root or is refused"
ok $(( inside == 0 )) "  and some do start"
ok $(( $(ls -d /uc-race-$$-* 2>/dev/null | wc -l) )) "  nothing made at the host's /"
is "$(new_mounts "$before" "uc-race-$$")" "" "  no new mount on the host"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- copy-in racing a container that shares the volume (issue 16 item 1) --------
# create fills an empty volume from the image's /seed (d/ with 3000 files,
# through the union of two layers) while another container, running with
# the same volume, waits for d to appear, makes l a symlink to a host
# directory and swaps d and l in a tight loop.  A copy that goes by path
# then works through the symlink: it makes the image's files in the host
# directory, or (on the attempts where the host directory already holds
# files of those names) sets the owner, mode and times of the host's
# files.  Which of the two the race gives depends on where the copy is
# when d turns, so the attempts alternate.  A copy that goes by directory
# fds stays in the volume, or stops with an error.
r=$T/seedroot
make_busybox_rootfs "$r"
cp "$EXCHANGE" "$r/bin/exchange"
mkdir -p "$T/seedlayer/seed/d"
(cd "$T/seedlayer/seed/d" && seq -f f%04g 3000 | xargs touch && chmod 0707 . f* &&
	chown 4321:4321 . f* && touch -d '2003-04-05 06:07:08' . f*)
tar -C "$r" -cf "$T/seed0.tar" .
tar -C "$T/seedlayer" -cf "$T/seed1.tar" .
oci_layout "$T/seedoci" '{"config":{"Cmd":["/bin/sh"]}}' "$T/seed0.tar" "$T/seed1.tar"
uc import --name seedimg "$T/seedoci" >/dev/null
changed=0 swaps=0 refused=0 attempts=$([ "$QUICK" = 1 ] && echo 2 || echo 4)
for attempt in $(seq "$attempts"); do
	rm -rf "$H/target"
	mkdir "$H/target"
	[ $((attempt % 2)) = 1 ] ||
		(cd "$H/target" && seq -f f%04g 3000 | xargs touch && touch -d '2001-02-03 04:05:06' f*)
	state=$(host_state)
	uc volume create copyvol >/dev/null
	uc run -d --name copyracer -v copyvol:/x seedimg /bin/exchange /x/d /x/l 120 "$H/target" >/dev/null
	for i in $(seq 300); do uc logs copyracer 2>/dev/null | grep -q waiting && break; sleep 0.1; done
	out=$(uc create --name copyvictim -v copyvol:/seed seedimg true 2>&1); rc=$?
	uc stop -t 5 copyracer >/dev/null 2>&1
	n=$(uc logs copyracer 2>&1 | tail -1)
	swaps=$((swaps + n))
	diag "attempt $attempt: create exit $rc ($(echo "$out" | head -c 160)); $n swaps"
	if [ "$rc" != 0 ]; then
		refused=$((refused + 1))
		like "$rc:$out" '^125:unionctr: ' "  attempt $attempt: create refused with a clean error (125)"
	fi
	uc rm -f copyvictim copyracer >/dev/null 2>&1
	uc volume rm copyvol >/dev/null
	now=$(host_state)
	if [ "$now" != "$state" ]; then
		changed=$((changed + 1))
		diag "host entries changed or new:" "$(comm -13 <(echo "$state") <(echo "$now") | head -5)"
		break
	fi
done
ok $(( ! (swaps > 0) )) "copy-in raced: the racer swapped d and a symlink to a host dir during create"
is "$changed" 0 "  nothing of the host changed: no file made there, no owner, mode or time set"
diag "$refused of $attempt creates refused"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
if [ "$QUICK" = 0 ]; then
# ---- CVE-2024-21626: -w through /proc/self/fd, the launcher's fds and cwd -------
mkdir -p "$H/cwd"
echo host-cwd > "$H/cwd/marker"
for w in /proc/self/fd/3 /proc/self/fd/5 /proc/self/fd/7 /proc/self/fd/9 /proc/self/cwd \
	/proc/1/cwd /proc/self/root/tmp /dev/fd/7 /proc/self/fd/7/..; do
	out=$(cd "$H/cwd" && uc run --rm -w "$w" bb sh -c 'pwd; ls ../../../../../../..; cat marker' \
		7<"$H/cwd" 8<"$H" 9<"$UC" 2>&1); rc=$?
	if [ "$rc" = 125 ]; then
		like "$out" '^unionctr: working directory' "-w $w: refused"
	else
		unlike "$out" 'host-cwd|uc-hostile-host|unreachable' "-w $w: confined to the root (exit $rc)"
	fi
done
# What a process of the container inherits (sh itself holds fds of its own
# while it redirects or pipes): a child started while sh holds nothing.
fds='sleep 5 & sleep 0.3; ls /proc/$!/fd; readlink /proc/$!/cwd; kill $!'
out=$(cd "$H/cwd" && uc run --rm bb sh -c "$fds" 7<"$H/cwd" 8<"$H" 9<"$UC" 2>&1)
is "$(echo $out)" "0 1 2 /" "no fd of the launcher (nor its open fds 7-9, its cwd) reaches the container"
(cd "$H/cwd" && uc run -d --name fdd bb sh -c "$fds" 7<"$H/cwd" 9<"$UC" >/dev/null)
for i in $(seq 50); do uc ps -a | grep -q "Exited.*fdd" && break; sleep 0.1; done
is "$(echo $(uc logs fdd 2>&1))" "0 1 2 /" "  detached (run -d) too"
uc rm fdd >/dev/null
is "$(cat "$H/cwd/marker")" "host-cwd" "  the host's files unchanged"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- CVE-2019-5736: writing the launcher through /proc/<pid>/exe ----------------------
# An image whose command is "#!/proc/self/exe": the container's first exec
# runs the launcher image again, inside the container.  It has the host's
# libraries, so that it really runs there.
r=$T/exeroot
make_busybox_rootfs "$r"
for l in $(ldd "$UC" | grep -o '/[^ ]*'); do
	mkdir -p "$r$(dirname "$l")"
	cp -L "$l" "$r$l"
done
printf '#!/proc/self/exe\n' > "$r/bin/evil"
chmod 0755 "$r/bin/evil"
uc import --name exe "$r" >/dev/null
sum=$(sha256_of "$UC")

# The container's pid 1 runs the binary behind /proc/self/exe: the exec shim
# (it prints its usage), or in the control the launcher (it says "not a
# unionctr command"), with its stderr on a full pipe, so that it stays; meanwhile every way in
# from the container's namespaces and from the host's /proc is tried.
exe_attack() { # BINARY NAME [ENV...]: prints what happened
	local bin=$1 name=$2 pid i fifo=$T/fifo.$2 launcher drainer err
	shift 2
	mkfifo "$fifo"
	exec 5<>"$fifo"
	head -c 65536 /dev/zero >&5
	env "$@" "$bin" --root "$ROOT" run --rm --name "$name" exe /bin/evil 2>&5 >/dev/null &
	launcher=$!
	for i in $(seq 100); do
		pid=$("$UC" --root "$ROOT" inspect "$name" 2>/dev/null |
			sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p')
		[ -n "$pid" ] && tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null |
			grep -q '^/proc/self/exe /bin/evil' && break
		sleep 0.1
	done
	echo "exe=$(readlink /proc/$pid/exe)"
	# Inside: the container's pid and mount namespaces, its root.
	if command -v nsenter >/dev/null; then
		nsenter -t "$pid" -m -p -r -w /bin/sh -c '
			echo in=$(readlink /proc/1/exe)
			exec 3</proc/1/exe
			(echo pwned > /proc/1/exe) 2>/dev/null
			for p in /proc/[0-9]*; do
				(printf pwned 1<>$p/exe) 2>/dev/null
			done
			(printf pwned 1<>/proc/self/fd/3) 2>/dev/null
			head -c 5 /proc/1/exe | grep -q pwned && echo in-WROTE' 2>&1
	fi
	# An fd kept past the process's end (the CVE's way around ETXTBSY).
	exec 6<"/proc/$pid/exe"
	cat <&5 >/dev/null &	# unblock it: it exits
	drainer=$!
	wait "$launcher"
	kill "$drainer"
	# (Tries while busy: the exec's hold on the file may outlive wait.)
	for i in 1 2 3 4 5; do
		(printf pwned 1<>/proc/self/fd/6) 2>"$T/err.$name"	# (in $(...) the write missed fd 6)
		err=$(cat "$T/err.$name")
		head -c 5 /proc/self/fd/6 | grep -q pwned && echo kept-fd-WROTE && break
		case $err in *busy*) sleep 0.2 ;; *) break ;; esac
	done
	echo "kept-fd: ${err:-written}"
	exec 5>&- 6<&-
	rm -f "$fifo"
}
out=$(exe_attack "$UC" exeatk)
diag "$out"
like "$out" '^exe=/memfd:unionctr-exec' "#!/proc/self/exe: the container's process runs the sealed memfd copy of the exec shim"
like "$out" '^in=/memfd:unionctr-exec' "  seen from inside the container"
unlike "$out" 'WROTE' "  no write through /proc/*/exe from inside, nor through an fd kept after its exit"
is "$(sha256_of "$UC")" "$sum" "  the host binary is unchanged"
# The knob of the control run below exists only in the test build: in the
# release build UNIONCTR_NO_CLONE changes nothing (issue 16 item 10).
out=$(UNIONCTR_NO_CLONE=1 uc run --rm exe /bin/evil 2>&1)
like "$out" '^unionctr-exec: ' "UNIONCTR_NO_CLONE=1 does not switch the protection off in a release build"
# vm.memfd_noexec=2 (6.3+; per pid namespace, so set in a new one): no
# executable memfd; the shim runs from a private copy, never unprotected.
if [ -e /proc/sys/vm/memfd_noexec ]; then
	out=$(unshare -p -f --mount-proc sh -c 'echo 2 > /proc/sys/vm/memfd_noexec &&
		"$0" --root "$1" run --rm exe /bin/evil; echo "rc=$?"
		"$0" --root "$1" run --rm exe sh -c "echo started"' "$UC" "$ROOT" 2>&1)
	like "$out" '^unionctr-exec: ' "vm.memfd_noexec=2: #!/proc/self/exe still gets a private copy of the exec shim"
	like "$out" '^started$' "  and containers start"
	is "$(sha256_of "$UC")" "$sum" "  the host binary is unchanged"
else
	diag "no vm.memfd_noexec in this kernel (before 6.3): nothing to fall back from"
fi
# Control: with the copy disabled, the same steps do overwrite a binary
# (a copy of the test build of the launcher): the checks above can fail.
cp "${UNIONCTR_TESTKNOBS:-$HERE/testknobs/unionctr}" "$T/uc-copy"
if "$T/uc-copy" --version >/dev/null 2>&1; then
	csum=$(sha256_of "$T/uc-copy")
	out=$(exe_attack "$T/uc-copy" exectl UNIONCTR_NO_CLONE=1)
	like "$out" 'kept-fd-WROTE' "control (UNIONCTR_NO_CLONE=1): the same attack writes an unprotected binary"
	[ "$(sha256_of "$T/uc-copy")" != "$csum" ]
	ok $? "  (its checksum changed)"
else
	diag "cannot run a copy of the launcher from $T: no control"
fi

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- the container's process: masks, capabilities (issue 16) --------------------------
# A masked path that exists but cannot be opened (an error injected into the
# launcher's openat2 of it) must stop the start, not leave the path unmasked.
if command -v strace >/dev/null; then
	out=$(strace -f -qq -o /dev/null -P /proc/timer_list -e trace=openat2 \
		-e inject=openat2:error=EACCES "$UC" --root "$ROOT" run --rm bb \
		sh -c 'head -c 100 /proc/timer_list | wc -c' 2>&1); rc=$?
	is "$rc" 125 "/proc/timer_list cannot be opened for masking (EACCES): the start fails"
	like "$out" 'timer_list' "  $(echo "$out" | head -c 150)"
else
	ok 1 "strace is needed to inject an error into the masking (scripts/deps installs it)"
fi

# Docker's default seccomp profile (issue 16 item 5).  What a review did from
# a default container: read root's keyring, get a full capability set and
# mounts from unshare -Ur.  As under Docker, each fails (EPERM; clone3
# ENOSYS, so that the C library falls back to clone, whose namespace flags
# the filter can see).  ctprobe keyctl does what `keyctl show` does first.
out=$(uc run --rm bb sh -c 'unshare -Ur true; echo "unshare -Ur: $?"
	mkdir -p /mnt; mount -t tmpfs x /mnt; echo "mount: $?"' 2>&1)
like "$out" '^unshare -Ur: [1-9]' "default container: unshare -Ur true fails"
like "$out" '^mount: [1-9]' "default container: mount -t tmpfs x /mnt fails"
probes="keyctl add_key request_key unshare-user unshare-mount clone-newuser clone3 personality-bad socket-vsock"
out=$(uc run --rm bb ctprobe $probes 2>&1)
is "$(echo $out)" "keyctl=EPERM add_key=EPERM request_key=EPERM unshare-user=EPERM unshare-mount=EPERM clone-newuser=EPERM clone3=ENOSYS personality-bad=EPERM socket-vsock=EPERM" \
	"default container: keyctl (keyctl show), add_key, request_key, unshare/clone of namespaces, clone3, personality(READ_IMPLIES_EXEC), AF_VSOCK denied"
out=$(uc run --rm bb sh -c 'ctprobe personality-ok ptrace-traceme chroot
	ls / >/dev/null && ps >/dev/null && date >/dev/null && sleep 0.01 &&
	printf "b\na\n" | sort | tr a-z A-Z | head -1 && wget --help >/dev/null 2>&1; echo "rc=$?"' 2>&1)
is "$(echo $out)" "personality-ok=ok ptrace-traceme=ok chroot=ok A rc=0" "  what ordinary programs do still works (personality query, ptrace, chroot, ls, ps, pipes)"
out=$(uc run --rm --cap-add SYS_ADMIN bb sh -c 'ctprobe unshare-mount; mkdir -p /mnt; mount -t tmpfs x /mnt && echo mounted' 2>&1)
is "$(echo $out)" "unshare-mount=ok mounted" "--cap-add SYS_ADMIN: the profile allows mount and unshare, as Docker's"
out=$(uc run --rm --security-opt seccomp=unconfined bb ctprobe keyctl clone3 personality-bad 2>&1)
is "$(echo $out)" "keyctl=ok clone3=ok personality-bad=ok" "--security-opt seccomp=unconfined: no filter"
# Where keyctl is allowed, the keyring is still not the launcher's: each
# container joins a session keyring of its own, as runc does (root's on
# the host may hold its keys).
host_ring=$("$HERE/ctprobe" session-keyring)
rings=""
for o in "--security-opt seccomp=unconfined" "--security-opt seccomp=unconfined -u app" "--privileged"; do
	out=$(uc run --rm $o bb ctprobe session-keyring 2>&1)
	like "$out" '^session-keyring=[0-9]+$' "$o: the container has a session keyring"
	[ "$out" != "$host_ring" ]
	ok $? "  its own, not the launcher's ($host_ring)"
	rings="$rings $out"
done
is "$(echo $rings | tr ' ' '\n' | sort -u | wc -l)" 3 "  and no two containers share one"
# A profile in Docker's JSON format: everything allowed but mkdir (EACCES)
# and personality(READ_IMPLIES_EXEC) (an argument condition; EPERM).
printf '%s\n' '{"defaultAction": "SCMP_ACT_ALLOW",' \
	' "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],' \
	' "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},' \
	'  {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4194304, "op": "SCMP_CMP_EQ"}]}]}' \
	> "$T/profile.json"
out=$(uc run --rm --security-opt seccomp="$T/profile.json" bb sh -c 'mkdir /x; ctprobe personality-bad personality-ok keyctl' 2>&1)
like "$out" "mkdir: can't create directory '/x': Permission denied" "--security-opt seccomp=FILE: the profile's ERRNO rule (errnoRet)"
is "$(echo "$out" | grep = | tr '\n' ' ')" "personality-bad=EPERM personality-ok=ok keyctl=ok " "  a rule with an argument condition, and the default action"
id=$(uc create --security-opt seccomp="$T/profile.json" bb true)
like "$(uc inspect "$id")" '"seccomp=\{\\"defaultAction\\":\\"SCMP_ACT_ALLOW\\"' "  kept in HostConfig.SecurityOpt as its JSON, as Docker does"
uc rm "$id" >/dev/null
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}]}' > "$T/bad1.json"
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}' > "$T/bad2.json"
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {"names": "mkdir"}}' > "$T/bad3.json"
echo '{"defaultAction": ' > "$T/bad4.json"
echo '["SCMP_ACT_ALLOW"]' > "$T/bad5.json"
echo '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]}' > "$T/bad6.json"
for f in bad1 bad2 bad3 bad4 bad5 bad6 missing; do
	out=$(uc run --rm --security-opt seccomp="$T/$f.json" bb true 2>&1); rc=$?
	is "$rc" 125 "--security-opt seccomp=FILE, $f: refused (125)"
	like "$out" '^unionctr: (opening|decoding) seccomp profile' "  $(echo "$out" | head -c 150)"
done
is "$(uc ps -aq | wc -l)" 0 "  no container left"

# pivot_root impossible (issue 16 item 6): a launcher whose root is the
# initramfs, or (here) a mount whose parent mount is shared, cannot
# pivot_root.  The launcher used to move the root over / and chroot,
# leaving the container CAP_SYS_CHROOT: chroot into a subdirectory, climb
# out with "..", chroot there, and the host's root is back.  Now that needs
# --no-pivot, and then CAP_SYS_CHROOT is gone (seccomp refuses chroot too)
# and the mounts outside the container's root are detached.
J=$T/jailbase/jail
echo escaped > "$H/escape-marker"	# on the host's root filesystem, outside every container
mkdir -p "$T/jailbase"
in_jail() { # ARGS... of the launcher, run chrooted in $J (private mount namespace)
	unshare -m sh -c '
		J=$1 T=$2 UC=$3; shift 3
		mount --make-rprivate /
		mount -t tmpfs jailbase "$T/jailbase" && mount --make-shared "$T/jailbase"
		mkdir -p "$J"/usr "$J"/etc "$J"/dev "$J"/proc "$J"/sys "$J"/tmp
		mount --bind "$J" "$J" && mount --make-private "$J"
		for d in usr etc dev dev/shm sys; do mount --bind "/$d" "$J/$d"; done
		mount -t proc proc "$J/proc"
		for d in bin sbin lib lib32 lib64; do [ -L "/$d" ] && ln -s "$(readlink "/$d")" "$J/$d"; done
		cp "$UC" "$J/uc"
		[ -d "$J$T" ] || { mkdir -p "$J$T" && mount --bind "$T" "$J$T"; }
		exec chroot "$J" /uc "$@"' sh "$J" "$T" "$UC" --root "$ROOT" "$@"
}
before=$(host_mounts)
out=$(in_jail run --rm bb ctprobe "chroot-escape:$H/escape-marker" 2>&1); rc=$?
is "$rc" 125 "the launcher's root cannot be pivoted from (its parent mount is shared): the start fails (125)"
like "$out" 'pivot_root: .*--no-pivot' "  and says why and what --no-pivot does"
unlike "$out" '^escaped$' "  no chroot escape to the host's root"
out=$(in_jail run --rm --no-pivot bb sh -c "grep CapEff /proc/self/status | cut -f2
	ctprobe chroot chroot-escape:$H/escape-marker" 2>&1); rc=$?
is "$rc" 0 "--no-pivot: the container starts"
is "$(echo "$out" | head -1)" "00000000a80025fb" "  without CAP_SYS_CHROOT"
like "$out" '^chroot=EPERM$' "  chroot refused"
unlike "$out" '^escaped$' "  no chroot escape to the host's root"
# The whole mount table of the container's namespace (nsenter goes to its
# root): what the launcher had in its chroot is detached.
in_jail run -d --no-pivot --name nopivot bb sleep 30 >/dev/null 2>&1
pid=$(uc inspect nopivot 2>/dev/null | sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p')
left=$(nsenter -t "${pid:-0}" -m awk '{print $5}' /proc/self/mountinfo 2>&1 | grep -Ec "^$J/(usr|etc)\$")
is "${pid:+started}:$left" "started:0" "  the launcher's mounts ($J/usr, $J/etc) are not left in the container's namespace"
uc rm -f nopivot >/dev/null 2>&1
out=$(in_jail create --no-pivot --cap-add SYS_CHROOT bb true 2>&1); rc=$?
is "$rc" 125 "--no-pivot --cap-add SYS_CHROOT: refused"
is "$(new_mounts "$before")" "" "  no host path mounted over"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- locks and PIDs (issue 16 item 9) -------------------------------------------------
# One start whose mount hangs (faultinj.so holds the container's root mount)
# must not hold the state lock: other commands go on.
FAULT=$HERE/faultinj.so
wait_file() { local i; for i in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
F=$T/fault-hang
mkdir -p "$F"
uc create --name hung bb sleep 100 >/dev/null
UC_FAULT_DIR=$F UC_FAULT_HANG_MOUNT=$STORAGE LD_PRELOAD=$FAULT "$UC" --root "$ROOT" start hung >/dev/null 2>&1 &
starter=$!
wait_file "$F/hanging"; ok $? "a start hangs in its root's mount"
out=$(timeout 10 "$UC" --root "$ROOT" ps -a 2>&1); rc=$?
is "$rc" 0 "  meanwhile ps answers"
out=$(timeout 20 "$UC" --root "$ROOT" run --rm bb echo other 2>&1); rc=$?
is "$rc:$out" "0:other" "  and another container runs"
out=$(timeout 10 "$UC" --root "$ROOT" rm -f hung 2>&1); rc=$?
is "$rc:$out" "1:unionctr: You cannot remove a container that is being started: $(uc inspect hung | sed -n 's/.*"Id": "\(.*\)".*/\1/p')" \
	"  rm -f of the container being started: refused"
touch "$F/go"
wait "$starter"
uc rm -f hung >/dev/null 2>&1
# Keepers forked by one `start a b` each have their own open lock file:
# flock() belongs to the open file, so a shared one would not keep them
# apart (and one's unlock would unlock the other).
uc create --name ka bb sleep 100 >/dev/null
uc create --name kb bb sleep 100 >/dev/null
uc start ka kb >/dev/null
lockfd() { # PID: the fd of the state lock in it
	local f
	for f in /proc/$1/fd/*; do [ "$(readlink "$f")" = "$ROOT/lock" ] && { basename "$f"; return; }; done
}
keeper() { awk '{print $4}' "/proc/$(uc inspect "$1" | sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p')/stat"; }
ka=$(keeper ka) kb=$(keeper kb)
same=$(python3 -c 'import ctypes, sys
a = [int(x) for x in sys.argv[1:]]
libc = ctypes.CDLL(None, use_errno=True)
print(libc.syscall(312, a[0], a[1], 0, a[2], a[3]))	# kcmp(KCMP_FILE): 0 = the same open file' \
	"$ka" "$kb" "$(lockfd "$ka")" "$(lockfd "$kb")" 2>&1)
ok $(( same == 0 )) "keepers of \`start ka kb\` hold their own open lock files (kcmp: $same)"
uc rm -f ka kb >/dev/null
# stop/kill/rm signal through a pidfd: the container's process exits and
# its PID goes to another process between the launcher's check and its
# signal (held by faultinj.so); the other process must not get the signal.
spawn_at_pid() { # PID: start `sleep 100` with that PID (ns_last_pid), print it
	python3 -c 'import os, sys
want = int(sys.argv[1])
for i in range(500):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(want - 1))
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fd = os.open("/dev/null", os.O_RDWR)
        for i in (0, 1, 2):
            os.dup2(fd, i)
        os.execvp("sleep", ["sleep", "100"])
    if pid == want:
        print(pid)
        sys.exit(0)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
sys.exit(1)' "$1"
}
# kill, stop and rm -f: each signals through a pidfd.
pid_reuse() { # DESCRIPTION LAUNCHER-ARGS...: the victim's state, or why none
	local what=$1 F=$T/fault-sig-$2 cpid killer victim alive
	shift
	mkdir -p "$F"
	uc run -d --name reuse bb sleep 100 >/dev/null
	cpid=$(uc inspect reuse | sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p')
	UC_FAULT_DIR=$F UC_FAULT_DELAY_SIGNAL=1 LD_PRELOAD=$FAULT "$UC" --root "$ROOT" "$@" >/dev/null 2>&1 &
	killer=$!
	wait_file "$F/signal"
	kill -9 "$cpid"
	for i in $(seq 100); do [ -e "/proc/$cpid" ] || break; sleep 0.05; done
	victim=$(spawn_at_pid "$cpid")
	touch "$F/go"
	wait "$killer"
	if [ -n "$victim" ]; then
		sleep 0.2
		# (a zombie, if nothing reaps it at once, is dead too)
		alive=$(awk '$3 != "Z" {print "alive"}' "/proc/$victim/stat" 2>/dev/null)
		is "${alive:-killed}" alive "$what while the container's PID goes to another process: that process is not signalled ($(cat "$F/signal"))"
		kill -9 "$victim" 2>/dev/null
	else
		ok 1 "could not start a process with PID $cpid (ns_last_pid): the PID reuse case of $what did not run"
	fi
	uc rm -f reuse >/dev/null 2>&1
}
pid_reuse kill kill -s TERM reuse
pid_reuse stop stop -t 5 reuse
pid_reuse "rm -f" rm -f reuse

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- image tarballs -----------------------------------------------------------------
# Each is refused whole: exit 125, a message, no image, no layer, nothing
# in the store's tmp/, nothing beside the tarball or at the absolute names.
mkdir -p "$T/tars"
n_layers=$(ls "$ROOT/layers" | wc -l)
n_images=$(uc images -q | wc -l)
check_tar() { # WANT-REGEX DESCRIPTION ENTRY...
	local want=$1 what=$2 tar=$T/tars/t$((++n_tar)).tar out rc
	shift 2
	"$MKTAR" "$tar" "$@" || { ok 1 "$what: mktar"; return; }
	out=$(cd "$T/tars" && uc import --name hostile "$tar" 2>&1); rc=$?
	is "$rc" 125 "tarball with $what: refused (125)"
	like "$out" "$want" "  $(echo "$out" | head -c 150)"
}
n_tar=0
check_tar 'unsafe entry' "'..'" 'f:etc/ok:x' "f:../uc-hostile-escape-$$:x"
check_tar 'unsafe entry' "'a/../../x'" "f:a/../../uc-hostile-escape-$$:x"
check_tar 'unsafe entry' 'an absolute name' "f:/tmp/uc-hostile-escape-$$:x"
check_tar 'leaves the layer' 'a hard link to ../' 'h:h:../../../../etc/passwd'
check_tar 'leaves the layer' 'a hard link to /etc/passwd' 'h:h:/etc/passwd'
check_tar 'through symlink' 'a hard link through a symlink' 'l:l:/etc' 'h:h:l/passwd'
check_tar 'through symlink' 'a file written through a symlink to /tmp' 'l:l:/tmp' "f:l/uc-hostile-escape-$$:x"
check_tar 'through symlink' "a file written through a symlink to '../..'" 'l:up:../..' "f:up/uc-hostile-escape-$$:x"
check_tar 'device node `dev/sda` \(block 8:0\)' 'a block device' 'd:dev' 'b:dev/sda:8,0'
check_tar 'device node `mem` \(char 1:1\)' 'a char device' 'c:mem:1,1'
check_tar 'file name too long' 'a name over NAME_MAX' 'f:@LONG:x'
ok $(( $(ls -d "$T/uc-hostile-escape-$$" "$T"/tars/../uc-hostile-escape-$$ /tmp/uc-hostile-escape-$$ \
	"$ROOT/tmp/uc-hostile-escape-$$" 2>/dev/null | wc -l) )) "nothing written outside the store"
is "$(ls -A "$ROOT/tmp" | grep -v '^rm-' | wc -l)" 0 "  nothing left in the store's tmp/"
is "$(ls "$ROOT/layers" | wc -l):$(uc images -q | wc -l)" "$n_layers:$n_images" "  no layer, no image"
# The same, wrapped in an OCI layout and a docker save archive.
mkdir -p "$T/savebad"
"$MKTAR" "$T/bad-layer.tar" 'f:ok:x' "f:../../uc-hostile-escape-$$:x"
cp "$T/bad-layer.tar" "$T/savebad/layer.tar"
oci_layout "$T/ocibad" '{"config":{"Cmd":["/bin/sh"]}}' "$T/bad-layer.tar"
out=$(uc import "$T/ocibad" 2>&1); rc=$?
is "$rc" 125 "OCI layout with a '..' layer entry: refused (125)"
like "$out" 'unsafe entry' "  says which entry"
echo '{"schemaVersion":2,"manifests":[{"digest":"sha256:../../../../etc/passwd"}]}' > "$T/ocibad/index.json"
out=$(uc import "$T/ocibad" 2>&1); rc=$?
is "$rc:$out" "125:unionctr: bad digest \`sha256:../../../../etc/passwd\`" "OCI index with a digest that is a path: refused"
echo '{"config":{"Cmd":["/bin/sh"]}}' > "$T/savebad/cfg.json"
echo '[{"Config":"cfg.json","RepoTags":["savebad:1"],"Layers":["../../../../etc/passwd"]}]' > "$T/savebad/manifest.json"
out=$(uc import "$T/savebad" 2>&1); rc=$?
is "$rc" 125 "docker save manifest with a layer path out of the archive: refused (125)"
echo '[{"Config":"cfg.json","RepoTags":["savebad:1"],"Layers":["layer.tar"]}]' > "$T/savebad/manifest.json"
tar -C "$T/savebad" -cf "$T/savebad.tar" .
out=$(uc import "$T/savebad.tar" 2>&1); rc=$?
is "$rc" 125 "docker save archive with a '..' layer entry: refused (125)"
is "$(ls -A "$ROOT/tmp" | grep -v '^rm-' | wc -l):$(uc images -q | wc -l)" "0:$n_images" "  nothing left, no image"
ok $(( $(ls -d "$T/uc-hostile-escape-$$" "$ROOT/uc-hostile-escape-$$" 2>/dev/null | wc -l) )) "  nothing written outside"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- commit of a running container that swaps entries (issue 16 item 2) ------------------
# The container keeps exchanging a directory of its root and a symlink to a
# host directory (RENAME_EXCHANGE, in its upper layer) while it is
# committed, again and again.  A commit that reads the upper directory by
# path, while the container runs, follows the symlink and puts the host
# directory's files into the image.  commit pauses the container (its
# processes stopped) and copies by directory fds, then lets it go on.
mkdir -p "$H/commitsecret"
echo "host-commit-secret-$$" > "$H/commitsecret/secret"
uc run -d --name swapper seedimg sh -c "mkdir /d && echo mine > /d/f &&
	ln -s $H/commitsecret /l && exec /bin/exchange /d /l 120 '' 100" >/dev/null
for i in $(seq 100); do
	[ -n "$(ls "$ROOT"/containers/*/upper/l 2>/dev/null)" ] && break
	sleep 0.1
done
# diff reads the same upper directory (names only): never the host's.
for i in $(seq 60); do
	out=$(uc diff swapper 2>&1)
	case $out in *secret*) break ;; esac
done
unlike "$out" 'secret' "diff of a running container that swaps a symlink in: never the host dir's names"
# The race window of a path walk is a few microseconds: up to 60 commits,
# until one takes the host's file.
committed=0 leaked=0 ids=()
for i in $(seq 60); do
	out=$(uc commit swapper 2>&1); rc=$?
	if [ "$rc" = 0 ]; then
		committed=$((committed + 1))
		ids+=("${out#sha256:}")
	else
		like "$rc:$out" '^125:unionctr: ' "  commit $i of the running container: a clean error"
	fi
	leaked=$(grep -rl "host-commit-secret-$$" "$ROOT/layers" 2>/dev/null | wc -l)
	[ "$leaked" = 0 ] || break
done
pid=$(uc inspect swapper | sed -n 's/.*"Pid": \([1-9][0-9]*\).*/\1/p')
st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
uc stop -t 5 swapper >/dev/null 2>&1
swaps=$(uc logs swapper 2>&1 | tail -1)
diag "$committed of $i commits made; $swaps swaps; the swapper's state after them: $st"
ok $(( ! (swaps > 0) )) "commit raced: the container swapped a directory and a symlink to a host dir"
is "$leaked" 0 "  no host file in any committed layer"
ok $(( committed == 0 )) "  commits of the running container went through"
[ -n "$st" ] && [ "$st" != T ] && [ "$st" != t ]
ok $? "  the container runs on after them (state $st, not left stopped)"
out=$(uc run --rm "${ids[0]:-none}" sh -c 'cat /d/f /l/f 2>/dev/null; ls /d /l' 2>&1)
unlike "$out" "host-commit-secret" "  the committed image holds its own files only"
uc rm -f swapper >/dev/null 2>&1
for i in "${ids[@]}"; do uc rmi "$i" >/dev/null 2>&1; done

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- image archives: blobs that are symlinks or special files, digests (issue 16 item 3) ----
# A docker save or OCI archive is someone else's: a blob that is a symlink
# (to a root-only host tarball, to /dev/zero), a digest the launcher cannot
# check, a layer that is not the one the config names: each is refused
# whole (125), with no image, no layer, and the host's file never read into
# one.  Run with a memory limit: reading /dev/zero to its end must not take
# the machine with it.
"$MKTAR" "$H/secret.tar" "f:secret-marker:host-secret-$$"
chmod 0600 "$H/secret.tar"
sd=$(sha256_of "$H/secret.tar")
n_images=$(uc images -q | wc -l)
import_refused() { # WANT-REGEX DESCRIPTION SOURCE
	local out rc
	out=$( (ulimit -v 2097152; $TO "$UC" --root "$ROOT" import --name hostileimg "$3") 2>&1); rc=$?
	is "$rc" 125 "$2: refused (125)"
	like "$out" "$1" "  $(echo "$out" | head -c 160)"
}
save_archive() { # DIR CONFIG-JSON LAYER-NAME: a docker save dir and DIR.tar
	mkdir -p "$1"
	printf '%s\n' "$2" > "$1/cfg.json"
	echo "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"hostile:1\"],\"Layers\":[\"$3\"]}]" > "$1/manifest.json"
}
cfg_secret="{\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$sd\"]}}"
save_archive "$T/savelink" "$cfg_secret" layer.tar
ln -s "$H/secret.tar" "$T/savelink/layer.tar"
tar -C "$T/savelink" -cf "$T/savelink.tar" .
import_refused 'symbolic link|not a regular file' "docker save archive whose layer.tar is a symlink to a root-only host tarball" "$T/savelink.tar"
import_refused 'symbolic link|not a regular file' "  the same as a directory" "$T/savelink"
save_archive "$T/savezero" "$cfg_secret" layer.tar
cp "$H/secret.tar" "$T/savezero/layer.tar"
ln -sf /dev/zero "$T/savezero/manifest.json"
tar -C "$T/savezero" -cf "$T/savezero.tar" .
import_refused 'symbolic link|not a regular file' "docker save archive whose manifest.json is a symlink to /dev/zero" "$T/savezero.tar"
save_archive "$T/savecfg" "" layer.tar
cp "$H/secret.tar" "$T/savecfg/layer.tar"
ln -sf /dev/zero "$T/savecfg/cfg.json"
import_refused 'symbolic link|not a regular file' "docker save directory whose config is a symlink to /dev/zero" "$T/savecfg"
save_archive "$T/savediff" "{\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$(sha256_of "$MKTAR")\"]}}" layer.tar
cp "$H/secret.tar" "$T/savediff/layer.tar"
import_refused 'diff_id' "docker save archive whose layer is not the config's diff_id" "$T/savediff"
save_archive "$T/savenodiff" '{"config":{}}' layer.tar
cp "$H/secret.tar" "$T/savenodiff/layer.tar"
import_refused 'diff_id' "docker save archive whose config lists no diff_ids" "$T/savenodiff"
# OCI: a layer blob that is a symlink to the host tarball (its digest matches).
cp "$H/secret.tar" "$T/ocl.tar"
oci_layout "$T/ocilink" '{"config":{"Cmd":["/bin/sh"]}}' "$T/ocl.tar"
ln -sf "$H/secret.tar" "$T/ocilink/blobs/sha256/$sd"
import_refused 'symbolic link|not a regular file' "OCI layout whose layer blob is a symlink to a host tarball" "$T/ocilink"
mkdir -p "$T/ocizero"
echo '{"imageLayoutVersion":"1.0.0"}' > "$T/ocizero/oci-layout"
ln -s /dev/zero "$T/ocizero/index.json"
import_refused 'symbolic link|not a regular file' "OCI layout whose index.json is a symlink to /dev/zero" "$T/ocizero"
# Digests the launcher cannot check are refused, not skipped.
for alg in sha512 md5 sha256x; do
	mkdir -p "$T/oci$alg/blobs/$alg"
	cp "$H/secret.tar" "$T/oci$alg/blobs/$alg/0123456789abcdef"
	cfg=$(mkdir -p "$T/oci$alg/blobs/sha256" && oci_blob "$T/oci$alg" '{"config":{"Cmd":["/bin/sh"]}}')
	man=$(oci_blob "$T/oci$alg" "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:$cfg\",\"size\":1},\"layers\":[{\"digest\":\"$alg:0123456789abcdef\",\"size\":1}]}")
	echo "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:$man\",\"size\":1}]}" > "$T/oci$alg/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$T/oci$alg/oci-layout"
	import_refused 'digest' "OCI layer with a $alg digest (not checked)" "$T/oci$alg"
done
# A JSON document far larger than any real one (sparse): refused by its size.
mkdir -p "$T/ocibig"
echo '{"imageLayoutVersion":"1.0.0"}' > "$T/ocibig/oci-layout"
truncate -s 200M "$T/ocibig/index.json"
import_refused 'too large' "OCI index.json of 200 MiB" "$T/ocibig"
is "$(uc images -q | wc -l)" "$n_images" "  no image made"
is "$(grep -rl "host-secret-$$" "$ROOT/layers" 2>/dev/null | wc -l)" 0 "  the host's tarball is in no layer"
is "$(ls -A "$ROOT/tmp" | grep -v '^rm-' | wc -l)" 0 "  nothing left in the store's tmp/"

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- layer and image ids cover xattrs, ACLs and hard links (issue 16 item 4) --------
# Layers are stored once by digest: an import whose tree has the digest of
# a stored layer gets that layer.  A hostile import of a tree that differs
# from a trusted one only in metadata (a file capability, an ACL, hard
# links) must not give the later, trusted import its layer.
layer_of() { uc inspect "$1" | sed -n '/"Layers"/,/]/s/.*"\([0-9a-f]\{64\}\)".*/\1/p' | tail -1; }
mkdir -p "$T/idtree/bin"
cp /bin/busybox "$T/idtree/bin/tool"
echo same > "$T/idtree/bin/a"
echo same > "$T/idtree/bin/b"
for v in cap acl link; do cp -a "$T/idtree" "$T/id$v"; done
setcap cap_sys_admin+ep "$T/idcap/bin/tool"
setfacl -m u:4321:r "$T/idacl/bin/a"	# within the group bits: the mode stays 0644
ln -f "$T/idlink/bin/a" "$T/idlink/bin/b"
# What the trusted image's layer must not carry, for each hostile tree.
carries() { # VARIANT LAYER
	case $1 in
	cap) getcap "$ROOT/layers/$2/bin/tool" ;;
	acl) getfacl -cp "$ROOT/layers/$2/bin/a" 2>/dev/null | grep 4321 ;;
	link) [ "$(stat -c %h "$ROOT/layers/$2/bin/a")" = 1 ] || echo "hard link" ;;
	esac
}
for v in cap acl link; do
	hostile=$(uc import --name "id$v" "$T/id$v" 2>&1)
	trusted=$(uc import --name "idtrusted$v" "$T/idtree" 2>&1)
	l=$(layer_of "idtrusted$v")
	[ "$hostile" != "$trusted" ] && [ "$(layer_of "id$v")" != "$l" ]
	ok $? "a tree with $v, then the same tree without: different image and layer ids"
	is "$(carries "$v" "$l" 2>&1)" "" "  the trusted image's layer has no $v"
	uc rmi "id$v" "idtrusted$v" >/dev/null 2>&1
done
is "$(uc import "$T/idtree" 2>&1)" "$(uc import "$T/idtree" 2>&1)" "  the same tree imported twice: the same id"
uc rmi idcap idtrusted >/dev/null 2>&1

diag "section took $((SECONDS - t_section)) s"; t_section=$SECONDS
# ---- hostile state files (issue 16 item 8) ---------------------------------------------
# Records in the state root that someone edited, or that a crash or a bug
# left corrupt: each is reported and skipped; the launcher never aborts on
# one (json-c asserts on a non-array), never takes a path from one, and
# every other record keeps working.  Image documents in archives too.
uc create --name goodc bb true >/dev/null
bbid=$(uc images -q --no-trunc bb 2>/dev/null | head -1)
bbid=$(ls "$ROOT/images" | sed -n 's/\.json$//p' | while read -r i; do
	grep -q '"bb:latest"' "$ROOT/images/$i.json" && echo "$i"; done | head -1)
bblayer=$(sed -n '/"Layers"/,/]/s/.*"\([0-9a-f]\{64\}\)".*/\1/p' "$ROOT/images/$bbid.json" | head -1)
mkdir -p "$H/victimdir"
echo keep > "$H/victimdir/keep"
up=$(printf '../%.0s' $(seq 30))
crec() { # NAME ID-IN-RECORD EXTRA-JSON: a container record in directory $(hexid NAME)
	local dir
	dir=$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)
	mkdir -p "$ROOT/containers/$dir"
	printf '{"Id":"%s","Name":"/%s","Image":"%s","Created":"2020-01-01T00:00:00Z","Path":"true","Args":[],"State":{"Status":"created"},"GraphDriver":{"Name":"%s"},"Config":{"Cmd":["true"]},"HostConfig":{}%s}\n' \
		"$2" "$1" "$bbid" "$STORAGE" "$3" > "$ROOT/containers/$dir/config.json"
	echo "$dir"
}
id=$(printf '%s' badmounts | sha256sum | cut -d' ' -f1)
crec badmounts "$id" ',"Mounts":{}' >/dev/null
id=$(printf '%s' badargs | sha256sum | cut -d' ' -f1)
crec badargs "$id" ',"Args":"x","Mounts":[]' >/dev/null
crec badid "$up$H/victimdir" ',"Mounts":[]' >/dev/null
id=$(printf '%s' badvol | sha256sum | cut -d' ' -f1)
crec badvol "$id" ",\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"myvol\",\"Source\":\"$H/vol\",\"Destination\":\"/hostvol\",\"RW\":true}]" >/dev/null
id=$(printf '%s' badname | sha256sum | cut -d' ' -f1)
crec "../x" "$id" ',"Mounts":[]' >/dev/null
mkdir -p "$ROOT/containers/$(printf '%064d' 7)"
echo '{"Id": ' > "$ROOT/containers/$(printf '%064d' 7)/config.json"
badimg=$(printf '%s' badimg | sha256sum | cut -d' ' -f1)
printf '{"Id":"%s","RepoTags":["badimg:latest"],"Layers":["%s","%s"],"Config":{"Cmd":["/bin/sh"]}}\n' \
	"$badimg" "$bblayer" "$up$H/vol" > "$ROOT/images/$badimg.json"
mixed=$(printf '%s' mixed | sha256sum | cut -d' ' -f1)
printf '{"Id":"%s","RepoTags":{"a":1},"Layers":"%s","Config":[]}\n' "$mixed" "$bblayer" > "$ROOT/images/$mixed.json"
printf '{"Id":"%s","RepoTags":["otherid:latest"],"Layers":["%s"]}\n' "$bbid" "$bblayer" \
	> "$ROOT/images/$(printf '%064d' 9).json"
state=$(host_state)
out=$(uc ps -a 2>"$T/ps.err"); rc=$?
is "$rc" 0 "ps -a with corrupt container records: exit 0 (no abort)"
like "$out" 'goodc' "  the good container is listed"
unlike "$out" 'badmounts|badargs|badvol|badid' "  no bad one is"
like "$(cat "$T/ps.err")" 'config.json' "  each bad one is reported: $(head -c 100 "$T/ps.err" | tr '\n' ' ')"
is "$(grep -c . "$T/ps.err")" 6 "  (six of them)"
out=$(uc images 2>"$T/images.err"); rc=$?
is "$rc" 0 "images with corrupt image records: exit 0"
like "$out" '^bb:latest' "  bb is listed"
unlike "$out" 'badimg|otherid' "  the bad ones are not"
is "$(grep -c . "$T/images.err")" 3 "  each is reported"
out=$(uc rm badid 2>&1); rc=$?
is "$rc" 1 "rm of a record whose Id is a path out of the store: no such container"
is "$(cat "$H/victimdir/keep" 2>&1)" keep "  the directory its Id names is still there"
out=$(uc run --rm --volumes-from badvol bb cat /hostvol/secret 2>&1); rc=$?
is "$rc" 125 "--volumes-from a record whose volume mount has a host Source: refused"
unlike "$out" 'host-secret' "  the host directory is not mounted"
out=$(uc run --rm badimg cat /secret 2>&1); rc=$?
is "$rc" 125 "an image record whose layer is a path out of the store: not found"
unlike "$out" 'host-secret' "  the host directory is not a layer"
out=$(uc run --rm bb echo fine 2>/dev/null); rc=$?
is "$rc:$out" "0:fine" "the good image and records keep working"
out=$(uc rm goodc 2>&1); rc=$?
is "$rc" 0 "  rm of the good container"
is "$(host_state)" "$state" "  host files untouched"
rm -rf "$ROOT/images/$badimg.json" "$ROOT/images/$mixed.json" "$ROOT/images/$(printf '%064d' 9).json"
for n in badmounts badargs badid badvol ../x; do
	rm -rf "$ROOT/containers/$(printf '%s' "$n" | sha256sum | cut -d' ' -f1)"
done
rm -rf "$ROOT/containers/$(printf '%064d' 7)"
# Documents of an image archive whose arrays are not arrays.
mkdir -p "$T/ocitype/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$T/ocitype/oci-layout"
echo '{"schemaVersion":2,"manifests":{"digest":"sha256:00"}}' > "$T/ocitype/index.json"
out=$(uc import "$T/ocitype" 2>&1); rc=$?
is "$rc" 125 "OCI index whose manifests is an object: refused (125, no abort)"
like "$out" 'manifests' "  $(echo "$out" | head -c 120)"
mkdir -p "$T/savetype"
echo '{"Config":"cfg.json","Layers":["layer.tar"]}' > "$T/savetype/manifest.json"
out=$(uc import "$T/savetype" 2>&1); rc=$?
is "$rc" 125 "docker save manifest.json that is an object: refused (125, no abort)"
echo '[{"Config":"cfg.json","Layers":"layer.tar"}]' > "$T/savetype/manifest.json"
echo '{}' > "$T/savetype/cfg.json"
out=$(uc import "$T/savetype" 2>&1); rc=$?
is "$rc" 125 "docker save manifest whose Layers is a string: refused (125)"

# ---- malformed volume specs and names (volspec_test has the parser's rules) --------
long=$(printf 'v%.0s' $(seq 300))
n_vol=$(uc volume ls -q | wc -l)
for spec in "::" ":" "/h:/d:ro:" "$long:/d" "a
b:/d" "$T/h:/$(printf 'd%.0s' $(seq 5000))" "../x:/d:rw,ro"; do
	out=$(uc run --rm -v "$spec" bb true 2>&1); rc=$?
	spec=${spec//$'\n'/\\n}
	is "$rc" 125 "-v '${spec:0:40}': 125"
	like "$out" '^unionctr: ' "  $(echo "$out" | tr '\n' ' ' | head -c 120)"
done
for v in "../../etc" "a/b" "." ".." "-rf" "$long" "x
y"; do
	out=$(uc volume create -- "$v" 2>&1); rc=$?
	is "$rc" 125 "volume create '$(echo ${v:0:40})': 125"
	out=$(uc volume rm -- "$v" 2>&1); rc=$?
	is "$rc" 1 "  volume rm: 1 (no such volume)"
done
for vf in "" ":ro" "c:ro:rw" "../../etc"; do
	out=$(uc run --rm --volumes-from "$vf" bb true 2>&1); rc=$?
	is "$rc" 125 "--volumes-from '$vf': 125"
done
for name in "../x" "a/b" "-x" "a b" "x:y"; do
	out=$(uc create --name "$name" bb true 2>&1); rc=$?
	is "$rc" 125 "--name '${name:0:40}': 125"
done
is "$(uc volume ls -q | wc -l):$(uc ps -aq | wc -l)" "$n_vol:0" "no volume, no container left"
is "$(ls -A "$ROOT/tmp" | grep -v '^rm-' | wc -l)" 0 "  nothing left in tmp/"
ok $(( $(ls -d "$ROOT/etc" "$T/etc" "$ROOT/x" 2>/dev/null | wc -l) )) "  nothing made outside volumes/"

fi # full

diag "section took $((SECONDS - t_section)) s, total $SECONDS s"
done_testing
