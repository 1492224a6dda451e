#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest side of the crash-consistency test (scripts/crash-consistency boots it).

  crash-guest.py [--check] [--run SEED] [--fs ext4,xfs]

--check: each scratch disk (SCRATCH_EXT4, SCRATCH_XFS) holds the layers and
  the manifest of a workload that was killed with the guest: mount it (the
  filesystem's own recovery runs), mount the union (workdir staging must be
  cleaned) and check every object against the manifest. TAP on stdout and in
  $UNIONFS_RESULTS/check-<fs>.tap.
--run SEED: make fresh layers on each disk, write the manifest, sync, then
  run concurrent copy-ups (whole, metadata-only, partial) and renames
  through the union; after a number of
  completed operations chosen by SEED print the kill marker (the host kills
  QEMU when it sees it) and keep going.
  Meanwhile, on a third disk (SCRATCH_BTRFS) cut in two by device-mapper,
  an ext4 and an xfs of their own (no other workload's journal commits
  there) hold partially copied files: "stairs", each left at another step
  when the guest dies (written; written and synced with syncfs; closed;
  fsync'd), and "sync probes", each ending with a call that promises
  durability (msync, fdatasync, an O_DSYNC write); the kill comes right
  after the last probe returns.

What must hold after the crash:
  - every file shows its old or its new content in full: never a mix, never
    a zero-length or short stand-in;
  - a renamed file or directory is under exactly one of its two names; a
    renamed directory has all of its entries;
  - a directory that was (maybe) copied up lists all the lower entries it
    should (nothing half-made), and nothing but expected names;
  - workdir/staging is empty after the union mounts;
  - the lower layer is unchanged;
  - partially copied files: what a sync probe made durable is there; a
    stair shows its lower content or its write, and when its chunk is
    copied up again (a write nearby, then a truncate that completes the
    file) no byte written before the crash comes back.
"""
import ctypes
import mmap
import hashlib
import json
import os
import random
import subprocess
import sys
import time

MARKER = "UNIONFS-CRASH-POINT"
WORKERS = 4
ROOT = "/tmp/crash"

tap_n = 0
tap_failed = 0
tap_lines = []


def tap(ok, desc, diag=()):
    global tap_n, tap_failed
    tap_n += 1
    line = "%s %d - %s" % ("ok" if ok else "not ok", tap_n, desc)
    if not ok:
        tap_failed += 1
    out = [line] + ["#   " + d for d in list(diag)[:20] if d]
    for l in out:
        print(l, flush=True)
    tap_lines.extend(out)


def pattern(seed, size):
    """Content number @seed of @size bytes: blocks differ, so mixes show."""
    block = hashlib.sha256(b"%d" % seed).digest() * 128   # 4 KiB
    out = bytearray()
    i = 0
    while len(out) < size:
        out += bytes([(b + i) & 0xff for b in block[:64]]) + block[64:]
        i += 1
    return bytes(out[:size])


def poked(data, off, text):
    return data[:off] + text.encode() + data[off + len(text):]


def uptime():
    with open("/proc/uptime") as fh:
        return fh.read().split()[0] + "s"


def sh(*args):
    return subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)


def disks(fses):
    env = {"ext4": "SCRATCH_EXT4", "xfs": "SCRATCH_XFS"}
    return [(fs, os.environ.get(env[fs], "")) for fs in fses]


def mount_union(base, mnt):
    os.makedirs(mnt, exist_ok=True)
    return sh("mount", "-i", "-t", "unionfs", "none", mnt, "-o",
              "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work" % (base, base, base))


# --- the workload ------------------------------------------------------------

def build(base, seed):
    """Lower layer and the list of operations (the manifest)."""
    rnd = random.Random(seed)
    lower = base + "/lower"
    files = {}      # union path -> {"old": [seed, size]}
    dirs = {}       # union dir -> sorted entries in the lower layer
    ops = []
    n = 0
    for d in range(3):
        dd = "a%d" % d
        for i in range(16):
            size = rnd.choice([1, 4096, 5000, 40000, 65536, 130000])
            if i < 1:
                size = 1 << 20                              # slow copy-ups
            n += 1
            files["%s/f%d" % (dd, i)] = {"old": [n, size]}
        for r in range(2):
            for i in range(4):
                n += 1
                files["%s/r%d/g%d" % (dd, r, i)] = {"old": [n, rnd.choice([10, 8192])]}
        n += 1
        files["%s/x/y/z/deep" % dd] = {"old": [n, 3000]}
    for p, f in files.items():
        path = lower + "/" + p
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(pattern(*f["old"]))
    for dp, dn, fn in os.walk(lower):
        rel = os.path.relpath(dp, lower)
        dirs["" if rel == "." else rel] = sorted(dn + fn)

    # One operation per object; the order is the seed's.
    for p in sorted(files):
        if "/r" in p:
            continue
        kind = rnd.choice(["open", "chmod", "xattr", "replace", "replace", "rename",
                           "poke", "none"])
        if p.endswith("deep"):
            kind = "replace"
        if kind == "poke" and files[p]["old"][1] <= 65536:
            kind = "open"   # partial copy-up takes files over one 64k chunk
        op = {"kind": kind, "path": p}
        if kind == "poke":
            # write-only: only the chunk written is copied up
            files[p]["poke"] = [rnd.randrange(65536, files[p]["old"][1] - 16),
                                "POKE%012d" % n]
        if kind == "replace":
            n += 1
            files[p]["new"] = [n, rnd.choice([3000, 70000, files[p]["old"][1]])]
        if kind == "rename":
            files[p]["also"] = p + ".mv"
        if kind != "none":
            ops.append(op)
    for d in range(3):
        for r in range(2):
            if rnd.random() < 0.6:
                ops.append({"kind": "dirrename", "path": "a%d/r%d" % (d, r)})
    rnd.shuffle(ops)
    total = len(ops)
    kill_at = rnd.randrange(total * 3 // 10, total * 8 // 10)
    return {"seed": seed, "files": files, "dirs": dirs, "ops": ops,
            "kill_at": kill_at, "lower_sum": tree_sum(lower)}


def tree_sum(top):
    h = hashlib.sha256()
    for dp, dn, fn in sorted(os.walk(top)):
        dn.sort()
        for name in sorted(dn + fn):
            p = os.path.join(dp, name)
            st = os.lstat(p)
            h.update(("%s %o %d\n" % (os.path.relpath(p, top), st.st_mode,
                                      st.st_size)).encode())
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def do_op(mnt, op, files, wid):
    p = mnt + "/" + op["path"]
    k = op["kind"]
    if k == "open":
        os.close(os.open(p, os.O_RDWR))
    elif k == "poke":
        off, text = files[op["path"]]["poke"]
        fd = os.open(p, os.O_WRONLY)
        try:
            os.pwrite(fd, text.encode(), off)
            if wid % 2:
                os.fsync(fd)
        finally:
            os.close(fd)
    elif k == "chmod":
        os.chmod(p, 0o640)
    elif k == "xattr":
        os.setxattr(p, "user.crash", b"1")
    elif k == "replace":
        tmp = "%s.tmp%d" % (p, wid)
        with open(tmp, "wb") as fh:
            fh.write(pattern(*files[op["path"]]["new"]))
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(tmp, p)
    elif k == "rename":
        os.rename(p, p + ".mv")
    elif k == "dirrename":
        os.rename(p, p + ".mv")


def worker(mnt, man, wid, wfd):
    files = man["files"]
    rnd = random.Random(man["seed"] * 100 + wid)
    for i, op in enumerate(man["ops"]):
        if i % WORKERS != wid:
            continue
        try:
            do_op(mnt, op, files, wid)
        except OSError as e:
            print("# worker %d: %s %s: %s" % (wid, op["kind"], op["path"], e), flush=True)
        if rnd.random() < 0.15:
            fd = os.open(mnt, os.O_RDONLY)
            os.syncfs(fd) if hasattr(os, "syncfs") else os.sync()
            os.close(fd)
        os.write(wfd, b".")
    os._exit(0)


def run(seed, fses):
    rfd, wfd = os.pipe()
    pids = []
    kill_at = 0
    ready = []
    # Both filesystems first, so that their workloads run side by side.
    for idx, (fs, dev) in enumerate(disks(fses)):
        base = "%s/%s" % (ROOT, fs)
        os.makedirs(base, exist_ok=True)
        r = sh("mkfs." + fs, "-q", "-f" if fs == "xfs" else "-F", dev)
        if not r.returncode:
            r = sh("mount", dev, base)
        if r.returncode:
            print("Bail out! cannot make and mount %s on %s: %s" % (fs, dev, r.stderr),
                  flush=True)
            sys.exit(1)
        for d in ("lower", "upper", "work"):
            os.makedirs(base + "/" + d)
        man = build(base, seed * 10 + idx)
        with open(base + "/manifest.json", "w") as fh:
            json.dump(man, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.sync()
        r = mount_union(base, base + "/mnt")
        if r.returncode:
            print("Bail out! union mount on %s: %s" % (fs, r.stderr), flush=True)
            sys.exit(1)
        kill_at += man["kill_at"]
        ready.append((base, man))
    probes = setup_probes(seed)
    for base, man in ready:
        for w in range(WORKERS):
            pid = os.fork()
            if pid == 0:
                os.close(rfd)
                worker(base + "/mnt", man, w, wfd)
            pids.append(pid)
    os.close(wfd)
    done = 0
    print("# seed %d: %d workers per fs, kill after %d operations (uptime %s)" %
          (seed, WORKERS, kill_at, uptime()), flush=True)
    # Files and mappings the stairs and probes hold until the kill.
    keep = []
    run_probes(probes, keep)
    while True:
        b = os.read(rfd, 1)
        if not b:
            break
        done += len(b)
        if done >= kill_at:
            break
    # The host kills QEMU on this line; the workers carry on meanwhile.
    print("# %d operations done (uptime %s)" % (done, uptime()), flush=True)
    print(MARKER, flush=True)
    for pid in pids:
        os.waitpid(pid, 0)
    print("# all operations finished before the kill", flush=True)
    time.sleep(600)


# --- partial copy-up: stairs and sync probes on a disk of their own ----------

CHUNK = 64 << 10
PSIZE = 16 * CHUNK          # a partially copied file: 16 chunks
PSMALL = 8192               # a file of one chunk: filled whole
# The probe disk, cut in two: (filesystem, first sector, sectors or None: the rest).
PROBE_PARTS = (("ext4", 0, (200 << 20) >> 9), ("xfs", (200 << 20) >> 9, None))
# Where each stair stops: the order they are made in, so that a later step
# (a syncfs) does not change what an earlier one left.
STAIR_STEPS = ("fsynced", "synced", "closed", "written")
PROBE_KINDS = ("msync", "fdatasync", "odsync", "fill", "lastchunk")
# TAP lines check_probes() prints for one probe filesystem.
PROBE_CHECKS_PER_FS = 6

libc = ctypes.CDLL(None, use_errno=True)


def syncfs(fd):
    if libc.syncfs(fd):
        raise OSError(ctypes.get_errno(), "syncfs")


def probe_disks():
    """The probe disk cut in two by dm-linear: [(fs, device)]."""
    disk = os.environ.get("SCRATCH_BTRFS", "")
    name = os.path.basename(disk)
    try:
        with open("/sys/class/block/%s/size" % name) as fh:
            total = int(fh.read())
    except (OSError, ValueError):
        return []
    sh("modprobe", "-q", "dm-mod")
    out = []
    for fs, start, length in PROBE_PARTS:
        dm = "ufscrash-" + fs
        length = length or total - start
        sh("dmsetup", "remove", "--noudevsync", dm)
        r = sh("dmsetup", "create", "--noudevsync", dm, "--table",
               "0 %d linear %s %d" % (length, disk, start))
        dev = subprocess.run(["dmsetup", "info", "-c", "--noheadings", "-o",
                              "blkdevname", dm], stdout=subprocess.PIPE,
                             text=True).stdout.strip()
        if r.returncode or not dev:
            return []
        out.append((fs, "/dev/" + dev))
    return out


def sparse_lower(size):
    """The content of a sparse lower file: pattern 1 in chunk 0 and in the
    second half of chunk 2, holes elsewhere."""
    data = bytearray(size)
    full = pattern(1, size)
    for lo, hi in ((0, CHUNK), (2 * CHUNK + CHUNK // 2, 3 * CHUNK)):
        data[lo:hi] = full[lo:hi]
    return bytes(data)


def put_file(path, data, sparse=False):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, len(data))
        for off in range(0, len(data), 4096):
            block = data[off:off + 4096]
            if not sparse or any(block):
                os.pwrite(fd, block, off)
    finally:
        os.close(fd)


def build_probes(base, seed):
    """Lower files and the plan of stairs and probes (the manifest)."""
    rnd = random.Random(seed)
    lower = base + "/lower"
    stairs = []
    for i, step in enumerate(STAIR_STEPS * 2):
        # a chunk that is all hole below, or the hole at the start of chunk 2
        chunk = rnd.choice([1, 2, 4, 5, 9, 15])
        off = chunk * CHUNK + rnd.randrange(0, CHUNK // 2 - 64)
        touch = chunk * CHUNK + (off % CHUNK + 64 + rnd.randrange(CHUNK // 4)) % (CHUNK // 2)
        stairs.append({"name": "s%d" % i, "step": step, "off": off,
                       "text": "STALE-%d" % i, "touch": touch})
        put_file(lower + "/s%d" % i, sparse_lower(PSIZE), sparse=True)
    kinds = list(PROBE_KINDS)
    rnd.shuffle(kinds)
    probes = []
    for i, kind in enumerate(kinds):
        name = "p-" + kind
        size = PSMALL if kind == "fill" else PSIZE
        put_file(lower + "/" + name, pattern(100 + i, size))
        probes.append({"name": name, "kind": kind, "seed": 100 + i, "size": size,
                       "chunk": rnd.randrange(1, PSIZE // CHUNK)})
    return {"seed": seed, "stairs": stairs, "probes": probes,
            "lower_sum": tree_sum(lower)}


def run_stair(mnt, st, keep):
    fd = os.open(mnt + "/" + st["name"], os.O_WRONLY)
    os.pwrite(fd, st["text"].encode(), st["off"])
    if st["step"] == "fsynced":
        os.fsync(fd)
    elif st["step"] == "synced":
        syncfs(fd)      # the chunk's bytes reach the disk, the map does not
    if st["step"] == "closed":
        os.close(fd)    # the map is written, not synced
    else:
        keep.append(fd)


def probe_pokes(pr):
    """[(offset, byte)] a sync probe writes, all made durable by its end."""
    base = pr["chunk"] * CHUNK
    if pr["kind"] == "fill":
        return [(100, b"C")]
    if pr["kind"] == "odsync":
        return [(base + 1, b"a"), (base + 2, b"b")]
    if pr["kind"] == "lastchunk":
        return [(i * CHUNK + 11, b"w") for i in range(PSIZE // CHUNK)] + \
               [(base + 300, b"F")]
    return [(base + 5, pr["kind"][0].encode())]


def run_probe(mnt, pr, keep):
    """Make the probe's writes, end with the call that makes them durable."""
    path = mnt + "/" + pr["name"]
    pokes = probe_pokes(pr)
    kind = pr["kind"]
    if kind == "msync":     # a read writes the page back first, unsynced
        fd = os.open(path, os.O_RDWR)
        m = mmap.mmap(fd, pr["size"])
        off, b = pokes[0]
        m[off:off + 1] = b
        rfd = os.open(path, os.O_RDONLY)
        os.pread(rfd, 1, off)
        m.flush()           # msync(MS_SYNC)
        keep.extend([fd, rfd])
        keep.append(m)
    elif kind == "fdatasync":   # another writer's close records the chunk
        fd, fd2 = os.open(path, os.O_WRONLY), os.open(path, os.O_WRONLY)
        os.pwrite(fd, pokes[0][1], pokes[0][0])
        os.close(fd2)
        os.fdatasync(fd)
        keep.append(fd)
    elif kind == "odsync":      # the chunk's map bit written, not synced
        fd = os.open(path, os.O_WRONLY)
        os.pwrite(fd, pokes[0][1], pokes[0][0])
        os.close(fd)
        fd = os.open(path, os.O_WRONLY | os.O_DSYNC)
        os.pwrite(fd, pokes[1][1], pokes[1][0])
        keep.append(fd)
    elif kind == "fill":        # a metacopy file filled, its mark removed
        os.chmod(path, 0o600)
        fd = os.open(path, os.O_RDWR)
        os.pwrite(fd, pokes[0][1], pokes[0][0])
        os.fdatasync(fd)
        keep.append(fd)
    else:                       # every chunk up: the mark goes at close
        fd = os.open(path, os.O_WRONLY)
        for off, b in pokes[:-1]:
            os.pwrite(fd, b, off)
        os.close(fd)
        fd = os.open(path, os.O_WRONLY)
        os.pwrite(fd, pokes[-1][1], pokes[-1][0])
        os.fdatasync(fd)
        keep.append(fd)


def setup_probes(seed):
    """Fresh probe filesystems and unions: [(base, manifest)]."""
    ready = []
    for fs, _, _ in PROBE_PARTS:    # what a failed check may have left
        sh("umount", "%s/probe-%s/mnt" % (ROOT, fs))
        sh("umount", "%s/probe-%s" % (ROOT, fs))
    parts = probe_disks()
    if len(parts) != len(PROBE_PARTS):
        print("Bail out! cannot cut the probe disk %r in two" %
              os.environ.get("SCRATCH_BTRFS", ""), flush=True)
        sys.exit(1)
    for idx, (fs, dev) in enumerate(parts):
        base = "%s/probe-%s" % (ROOT, fs)
        os.makedirs(base, exist_ok=True)
        # xfs without reflink: chunks are copied, not the whole file cloned
        mkfs = ["mkfs.xfs", "-q", "-f", "-m", "reflink=0"] if fs == "xfs" else \
               ["mkfs.ext4", "-q", "-F"]
        # ext4: no timed commits; only what the unions sync reaches the disk
        r = sh(*mkfs, dev)
        if not r.returncode:
            r = sh("mount", "-o", "commit=300" if fs == "ext4" else "defaults",
                   dev, base)
        if r.returncode:
            print("Bail out! cannot make and mount %s on %s: %s" % (fs, dev, r.stderr),
                  flush=True)
            sys.exit(1)
        for d in ("lower", "upper", "work"):
            os.makedirs(base + "/" + d)
        man = build_probes(base, seed * 10 + 5 + idx)
        with open(base + "/manifest.json", "w") as fh:
            json.dump(man, fh)
        os.sync()
        r = mount_union(base, base + "/mnt")
        if r.returncode:
            print("Bail out! union mount on probe-%s: %s" % (fs, r.stderr), flush=True)
            sys.exit(1)
        ready.append((base, man))
    return ready


def run_probes(ready, keep):
    """The stairs, then the sync probes; the last probe of each filesystem
    at the very end, so the kill comes right after it returns."""
    for base, man in ready:
        for step in STAIR_STEPS:
            for st in man["stairs"]:
                if st["step"] == step:
                    run_stair(base + "/mnt", st, keep)
    for base, man in ready:
        for pr in man["probes"][:-1]:
            run_probe(base + "/mnt", pr, keep)
    for base, man in ready:
        run_probe(base + "/mnt", man["probes"][-1], keep)
        print("# probe-%s: last sync probe %s returned (uptime %s)" %
              (os.path.basename(base)[6:], man["probes"][-1]["kind"], uptime()),
              flush=True)


# --- the check after the crash -------------------------------------------------

def read(p):
    with open(p, "rb") as fh:
        return fh.read()


def check(fs, dev):
    base = "%s/%s" % (ROOT, fs)
    os.makedirs(base, exist_ok=True)
    r = sh("mount", dev, base)
    tap(r.returncode == 0, "%s: the upper filesystem mounts after the crash" % fs,
        [r.stderr.strip()])
    if r.returncode:
        return
    try:
        with open(base + "/manifest.json") as fh:
            man = json.load(fh)
    except (OSError, ValueError) as e:
        tap(False, "%s: manifest readable" % fs, [str(e)])
        return
    pre = "%s (seed %d, killed after op %d)" % (fs, man["seed"], man["kill_at"])
    staged_before = len(os.listdir(base + "/work/staging")) \
        if os.path.isdir(base + "/work/staging") else 0
    mnt = base + "/mnt"
    r = mount_union(base, mnt)
    tap(r.returncode == 0, "%s: the union mounts" % pre, [r.stderr.strip()])
    if r.returncode:
        return
    left = os.listdir(base + "/work/staging") if os.path.isdir(base + "/work/staging") else []
    tap(not left, "%s: workdir staging clean after mount (%d entries before)" %
        (pre, staged_before), left)

    files, bad, states = man["files"], [], {"old": 0, "new": 0, "moved": 0}
    renamed_dirs = {op["path"]: op["path"] + ".mv" for op in man["ops"]
                    if op["kind"] == "dirrename"}
    # files: old or new content in full, under exactly one name
    for p, f in sorted(files.items()):
        cands = [p]
        d = os.path.dirname(p)
        if d in renamed_dirs:
            cands.append(renamed_dirs[d] + "/" + os.path.basename(p))
        if "also" in f:
            cands.append(f["also"])
        present = [c for c in cands if os.path.lexists(mnt + "/" + c)]
        if len(present) != 1:
            bad.append("%s: present as %s" % (p, present or "nothing"))
            continue
        try:
            data = read(mnt + "/" + present[0])
        except OSError as e:
            bad.append("%s: %s" % (present[0], e))
            continue
        if data == pattern(*f["old"]):
            states["moved" if present[0] != p else "old"] += 1
        elif "new" in f and data == pattern(*f["new"]):
            states["new"] += 1
        elif "poke" in f and data == poked(pattern(*f["old"]), *f["poke"]):
            states["new"] += 1
        else:
            kind = "zero-length" if not data else "short" if len(data) < f["old"][1] else "mixed"
            bad.append("%s: %s content (%d bytes; old %d%s)" %
                       (present[0], kind, len(data), f["old"][1],
                        ", new %d" % f["new"][1] if "new" in f else ""))
    tap(not bad, "%s: every file has its old or its new content, under one name "
        "(%d old, %d new, %d renamed)" % (pre, states["old"], states["new"],
                                         states["moved"]), bad)

    # directories: whole, with the lower entries they should have, nothing else
    bad = []
    for d, entries in sorted(man["dirs"].items()):
        if d in renamed_dirs:
            here = [x for x in (d, renamed_dirs[d]) if os.path.lexists(mnt + "/" + x)]
            if len(here) != 1:
                bad.append("%s: present as %s" % (d, here or "nothing"))
                continue
            d = here[0]
        try:
            got = set(os.listdir(mnt + "/" + d if d else mnt))
        except OSError as e:
            bad.append("%s: %s" % (d, e))
            continue
        allowed = set()
        for e in entries:
            allowed |= {e, e + ".mv"} | {"%s.tmp%d" % (e, w) for w in range(WORKERS)}
        want = set()
        for e in entries:
            p = (d + "/" + e) if d else e
            if p in files or (p in renamed_dirs) or any(
                    k == p or k.startswith(p + "/") for k in files):
                want.add(e)
        missing = [e for e in want if e not in got and e + ".mv" not in got]
        extra = sorted(got - allowed)
        if missing or extra:
            bad.append("%s: missing %s, unexpected %s" % (d or "/", sorted(missing), extra))
    tap(not bad, "%s: no half-made directory: each lists exactly its entries" % pre, bad)

    r = sh("umount", mnt)
    tap(r.returncode == 0, "%s: the union unmounts" % pre, [r.stderr.strip()])
    s = tree_sum(base + "/lower")
    tap(s == man["lower_sum"], "%s: lower layer unchanged" % pre)
    sh("umount", base)


def apply_pokes(data, pokes):
    data = bytearray(data)
    for off, b in pokes:
        data[off:off + len(b)] = b
    return bytes(data)


def check_stairs(mnt, upper, stairs):
    """Each stair shows its lower content or its write (an fsync'd one its
    write); written again near its write and then completed, it shows
    exactly that: no byte from before the crash comes back."""
    bad_state, bad_copy, states = [], [], {}
    for st in stairs:
        path = mnt + "/" + st["name"]
        old = sparse_lower(PSIZE)
        new = poked(old, st["off"], st["text"])
        try:
            pre = read(path)
        except OSError as e:
            bad_state.append("%s: %s" % (st["name"], e))
            continue
        state = "old" if pre == old else "new" if pre == new else None
        if state is None or (st["step"] == "fsynced" and state != "new"):
            bad_state.append("%s (%s): %s content" % (st["name"], st["step"],
                                                     state or "mixed"))
            continue
        states[st["step"] + "/" + state] = states.get(st["step"] + "/" + state, 0) + 1
        want = poked(pre, st["touch"], "T")
        try:
            fd = os.open(path, os.O_WRONLY)
            os.pwrite(fd, b"T", st["touch"])
            os.close(fd)
            got = read(path)
            os.truncate(path, PSIZE)      # completes the file
            done = read(path)
        except OSError as e:
            bad_copy.append("%s: %s" % (st["name"], e))
            continue
        for when, data in (("chunk copy", got), ("completion", done)):
            if data != want:
                at = next(i for i in range(PSIZE) if data[i] != want[i])
                bad_copy.append("%s (%s, %s before): after the %s, byte %d is %r, not %r" %
                                (st["name"], st["step"], state, when, at,
                                 data[at:at + 8], want[at:at + 8]))
                break
        if os.path.exists(upper + "/" + st["name"]):
            try:
                os.getxattr(upper + "/" + st["name"], "trusted.unionfs.metacopy")
                bad_copy.append("%s: still marked after the truncate" % st["name"])
            except OSError:
                pass
    return bad_state, bad_copy, states


def check_sync_probes(mnt, probes):
    """What each sync probe made durable is there."""
    bad = []
    for pr in probes:
        path = mnt + "/" + pr["name"]
        want = apply_pokes(pattern(pr["seed"], pr["size"]), probe_pokes(pr))
        try:
            data = read(path)
            mode = os.stat(path).st_mode & 0o7777
        except OSError as e:
            bad.append("%s: %s" % (pr["kind"], e))
            continue
        if data != want:
            at = next((i for i in range(min(len(data), len(want))) if data[i] != want[i]),
                      min(len(data), len(want)))
            bad.append("%s: byte %d is %r, not %r (%d bytes)" %
                       (pr["kind"], at, data[at:at + 1], want[at:at + 1], len(data)))
        elif pr["kind"] == "fill" and mode != 0o600:
            bad.append("fill: mode %o, not 600" % mode)
    return bad


def check_probes(fs, dev):
    """The checks of one probe filesystem: PROBE_CHECKS_PER_FS TAP lines."""
    base = "%s/probe-%s" % (ROOT, fs)
    os.makedirs(base, exist_ok=True)
    r = sh("mount", dev, base)
    tap(r.returncode == 0, "probe-%s: the upper filesystem mounts after the crash" % fs,
        [r.stderr.strip()])
    if r.returncode:
        return
    try:
        with open(base + "/manifest.json") as fh:
            man = json.load(fh)
    except (OSError, ValueError) as e:
        tap(False, "probe-%s: manifest readable" % fs, [str(e)])
        return
    pre = "probe-%s (seed %d, killed after the %s probe)" % (
        fs, man["seed"], man["probes"][-1]["kind"])
    r = mount_union(base, base + "/mnt")
    tap(r.returncode == 0, "%s: the union mounts" % pre, [r.stderr.strip()])
    if r.returncode:
        return
    mnt = base + "/mnt"
    bad = check_sync_probes(mnt, man["probes"])
    n = len(man["probes"])
    tap(not bad and n == len(PROBE_KINDS),
        "%s: %d of %d sync probes (%s) kept what they made durable" %
        (pre, n - len(bad), n, ", ".join(p["kind"] for p in man["probes"])), bad)
    bad_state, bad_copy, states = check_stairs(mnt, base + "/upper", man["stairs"])
    n = len(man["stairs"])
    tap(not bad_state and n == 2 * len(STAIR_STEPS),
        "%s: %d of %d stairs show their lower content or their write (%s)" %
        (pre, n - len(bad_state), n,
         ", ".join("%s %d" % kv for kv in sorted(states.items()))), bad_state)
    tap(not bad_copy and not bad_state,
        "%s: %d of %d stairs copied up again and completed without a byte from "
        "before the crash" % (pre, n - len(bad_state) - len(bad_copy), n), bad_copy)
    sh("umount", mnt)
    tap(tree_sum(base + "/lower") == man["lower_sum"], "%s: lower layer unchanged" % pre)
    sh("umount", base)


def main():
    args = sys.argv[1:]
    fses = ["ext4", "xfs"]
    do_check, seed = False, None
    while args:
        a = args.pop(0)
        if a == "--check":
            do_check = True
        elif a == "--run":
            seed = int(args.pop(0))
        elif a == "--fs":
            fses = args.pop(0).split(",")
        else:
            sys.exit("usage: crash-guest.py [--check] [--run SEED] [--fs ext4,xfs]")
    for fs in fses:         # not left to the kernel's module request
        sh("modprobe", "-q", fs)
    if do_check:
        for fs, dev in disks(fses):
            check(fs, dev)
        probes = probe_disks()
        tap(len(probes) == len(PROBE_PARTS), "the probe filesystems are there to check (%d of %d)"
            % (len(probes), len(PROBE_PARTS)))
        for fs, dev in probes:
            check_probes(fs, dev)
        res = os.environ.get("UNIONFS_RESULTS", "/tmp")
        # the plan and a last line: scripts/crash-consistency tells a
        # complete check from one that died part way
        with open(res + "/check.tap", "w") as fh:
            fh.write("\n".join(tap_lines + ["1..%d" % tap_n, "# crash-guest: checks complete"]) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    if seed is not None:
        run(seed, fses)
    sys.exit(1 if tap_failed else 0)


if __name__ == "__main__":
    main()
