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

What must hold after the crash:
  - every file shows its old or its new content in full: never a mix, never
    a zero-length or short stand-in;
  - a renamed file or directory is under exactly one of its two names; a
    renamed directory has all of its entries;
  - a directory that was (maybe) copied up lists all the lower entries it
    should (nothing half-made), and nothing but expected names;
  - workdir/staging is empty after the union mounts;
  - the lower layer is unchanged.
"""
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
        res = os.environ.get("UNIONFS_RESULTS", "/tmp")
        with open(res + "/check.tap", "w") as fh:
            fh.write("\n".join(tap_lines) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    if seed is not None:
        run(seed, fses)
    sys.exit(1 if tap_failed else 0)


if __name__ == "__main__":
    main()
