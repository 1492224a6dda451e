#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# stress-ng's filesystem stressors on a union for a bounded time, with a
# churn of copy-ups, renames, unlinks and listings of lower files beside
# them: once with the upper on tmpfs, once on ext4. Then: stress-ng passed
# its own verification, the union unmounts, nothing is left staged in
# workdir, the lower layers are byte-for-byte unchanged. (The suite's kernel
# log scan and the guest's health check catch oops/WARN/lockdep/KASAN.)
#
# env: RELIABILITY_STRESS_SECS  seconds per phase (default 12; 8 on the
#                               debug kernel; stressors overrun by a few s)
set -uo pipefail

secs=${RELIABILITY_STRESS_SECS:-12}
[ "${UNIONFS_DEBUG_KERNEL:-0}" = 1 ] && secs=${RELIABILITY_STRESS_SECS:-8}
command -v stress-ng >/dev/null || { echo "1..0 # SKIP stress-ng not installed (scripts/deps)"; exit 4; }

base=$(mktemp -d /tmp/rel-stress.XXXXXX)
loop=""
cleanup() {
	[ -n "${churn:-}" ] && kill "$churn" 2>/dev/null
	umount -l "$base/mnt" 2>/dev/null
	umount -l "$base/up" 2>/dev/null
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	rm -rf "$base"
}
trap cleanup EXIT

n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# Two lowers: a merged tree of files, links and xattrs.
mklowers() {
	local l
	for l in 0 1; do
		mkdir -p "$base/lower$l"
	done
	python3 - "$base" <<'EOP'
import os, sys
base = sys.argv[1]
for i in range(120):
    l = f"{base}/lower{i % 2}/t/d{i % 6}"
    os.makedirs(l, exist_ok=True)
    with open(f"{l}/f{i}", "wb") as f:
        f.write(bytes((i * 7 + j) & 0xff for j in range(1024 * (1 + i % 9))))
    if i % 10 == 0:
        os.setxattr(f"{l}/f{i}", "trusted.k", b"v%d" % i)  # tmpfs: no user.* before 6.6
        os.symlink(f"f{i}", f"{l}/s{i}")
os.makedirs(f"{base}/lower1/t/stress", exist_ok=True)
open(f"{base}/lower1/t/stress/keep", "w").write("keep")
EOP
}

# One line per object of the lower layers: path, type+mode, owner, size,
# mtime, content hash, xattrs.
fingerprint() {
	python3 - "$base" <<'EOP'
import hashlib, os, sys
base = sys.argv[1]
for l in ("lower0", "lower1"):
    for dp, dn, fn in sorted(os.walk(os.path.join(base, l))):
        dn.sort()
        for p in [dp] + [os.path.join(dp, f) for f in sorted(fn)]:
            st = os.lstat(p)
            h = ""
            if os.path.isfile(p) and not os.path.islink(p):
                h = hashlib.sha256(open(p, "rb").read()).hexdigest()[:16]
            x = sorted((k, os.getxattr(p, k, follow_symlinks=False))
                       for k in os.listxattr(p, follow_symlinks=False))
            print(os.path.relpath(p, base), oct(st.st_mode), st.st_uid, st.st_size,
                  st.st_mtime_ns, h, x)
EOP
}

# The churn: copy-ups, renames, unlinks, xattrs and listings of lower files.
churn_run() {
	python3 - "$1" "$2" <<'EOP' &
import errno, os, random, sys, time
mnt, end = sys.argv[1], time.monotonic() + float(sys.argv[2])
rnd = random.Random(1)
# The churn is alone in t/d*: the only errors it may see are user.* xattrs
# refused (on a symlink: EPERM; an upper without user.* xattrs, tmpfs before
# 6.6: EOPNOTSUPP). Anything else is the union failing an operation.
unexpected = []
while time.monotonic() < end:
    d = f"{mnt}/t/d{rnd.randrange(6)}"
    try:
        names = os.listdir(d)
    except OSError:
        continue
    for name in rnd.sample(names, min(4, len(names))):
        p = f"{d}/{name}"
        op = rnd.randrange(6)
        try:
            if op == 0:
                with open(p, "ab") as f:
                    f.write(b"x")
            elif op == 1:
                os.rename(p, p + ".r")
                os.rename(p + ".r", p)
            elif op == 2:
                os.chmod(p, 0o600, follow_symlinks=False) if not os.path.islink(p) else None
            elif op == 3:
                os.setxattr(p, "user.c", b"1", follow_symlinks=False)
            elif op == 4 and name.startswith("f"):
                os.unlink(p)
                with open(p, "wb") as f:
                    f.write(b"again")
            else:
                os.stat(p)
        except OSError as e:
            if not (op == 3 and e.errno in (errno.EPERM, errno.EOPNOTSUPP)):
                unexpected.append("op %d on %s: %s" % (op, p, e))
for u in unexpected[:20]:
    print("#   churn: " + u, flush=True)
sys.exit(1 if unexpected else 0)
EOP
	churn=$!
}

phase() {
	local fs=$1 up=$base/up rc log left bad gaveup why pass user_xattrs
	log=$base/stress-$fs.log
	mkdir -p "$up" "$base/mnt"
	case $fs in
	tmpfs) mount -t tmpfs -o size=512m tmpfs "$up" ;;
	ext4)
		truncate -s 512M "$base/ext4.img"
		loop=$(losetup -f --show "$base/ext4.img") &&
		mkfs.ext4 -q -F "$loop" && mount "$loop" "$up" ;;
	esac || { ok 1 "$fs: upper set up"; return; }
	mkdir -p "$up/u" "$up/w"
	# What the upper itself lacks is the one reason a stressor may skip:
	# user.* xattrs (tmpfs before 6.6), asked of the upper directly.
	user_xattrs=0
	python3 -c 'import os, sys; open(sys.argv[1], "w"); os.setxattr(sys.argv[1], "user.p", b"1")' \
		"$up/u/.probe" 2>/dev/null && user_xattrs=1
	rm -f "$up/u/.probe"
	if ! mount -i -t unionfs none "$base/mnt" \
		-o "lowerdir=$base/lower0:$base/lower1,upperdir=$up/u,workdir=$up/w"; then
		ok 1 "$fs: union mounts"
		return
	fi
	churn_run "$base/mnt" "$secs"
	# one instance of each, in parallel, sizes kept small for a 1 GiB guest
	rc=0
	# (from a writable cwd: stress-ng wants one)
	(cd "$base" && stress-ng --temp-path "$base/mnt/t/stress" --timeout "${secs}s" --verify \
		--metrics-brief --log-file "$log" \
		--dir 1 --dir-dirs 512 --dentry 1 --dentries 512 --rename 1 \
		--link 1 --symlink 1 --xattr 1 --file-ioctl 1 \
		--fallocate 1 --fallocate-bytes 8m --mmap 1 --mmap-bytes 8m \
		--getdent 1 --chmod 1 --utime 1 --fcntl 1 --filename 1 \
		> /dev/null 2>&1) || rc=$?
	wait "$churn"
	ok $? "$fs: the churn of copy-ups, renames, unlinks and xattrs saw no unexpected error"
	churn=""
	sed 's/^/# /' "$log" | grep -vE 'dispatching|setting to a|defaulting to' | tail -n 30
	# 0, or 3 (a stressor could not run) only when every stressor that
	# skipped or gave up is the xattr one on an upper without user.* xattrs:
	# any other 3 is the union failing to give what it should (ENOSPC,
	# EMFILE, EOPNOTSUPP...); 2 is a stressor that failed.
	gaveup=$(sed -n -e 's/.*\] \([a-z0-9-]*\) stressor will be skipped.*/\1/p' \
		-e 's/.*process \[[0-9]*\] (\([a-z0-9-]*\)) aborted early.*/\1/p' "$log" | sort -u)
	why="" pass=1
	[ "$rc" = 0 ] && pass=0
	if [ "$rc" = 3 ]; then
		why="; gave up: $(echo $gaveup)"
		if [ "$gaveup" = xattr ] && [ "$user_xattrs" = 0 ]; then
			why="$why, the upper has no user.* xattrs"
			pass=0
		fi
	fi
	ok $pass "$fs: stress-ng ${secs}s of fs stressors passed (status $rc$why)"
	bad=$(grep -iE 'fail|error' "$log" | grep -vE ' 0 failed|, 0 failed|failed: 0' | head -n 10)
	[ -z "$bad" ]
	ok $? "$fs: stress-ng logged no failure or error"
	[ -z "$bad" ] || printf '%s\n' "$bad" | sed 's/^/#   /'
	ls "$base/mnt/t" > /dev/null
	ok $? "$fs: the union still lists its tree"
	umount "$base/mnt"
	ok $? "$fs: the union unmounts afterwards"
	left=$(ls -A "$up/w/staging" 2>/dev/null | wc -l)
	[ "$left" = 0 ]
	ok $? "$fs: nothing staged in workdir ($left entries)"

	umount "$up"
	[ -n "$loop" ] && losetup -d "$loop" && loop=""
	rm -f "$base/ext4.img"
}

echo "TAP version 13"
echo "1..13"
mklowers
fp0=$(fingerprint)
phase tmpfs
phase ext4
fp1=$(fingerprint)
[ "$fp0" = "$fp1" ]
ok $? "lower layers unchanged after both phases"
[ "$fp0" = "$fp1" ] || diff <(echo "$fp0") <(echo "$fp1") | head -n 20 | sed 's/^/#   /'
[ "$n" = 13 ] || { echo "# only $n of 13 checks ran"; exit 1; }
[ "$failed" = 0 ]
