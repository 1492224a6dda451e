#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Mount-option fuzzer: seeded, bounded.

Feeds unionfs random and malformed mount(2) option strings and fsconfig(2)
sequences: huge strings, deep paths, `\\` and `:` games, the same path in
several roles, layers that are files, FIFOs, sockets, devices, dead or
looping symlinks, other filesystems, thousands of layers. The only outcomes
allowed are clean ones: the mount fails with an errno, or it succeeds and
works (the root can be listed and read, a write works when there is an
upper layer, umount succeeds). A kernel complaint fails the run through the
harness's dmesg check. A failing input is printed with its seed.

usage: optfuzz.py [--seed S] [--strings N] [--sequences N]
"""
import argparse
import collections
import ctypes
import errno
import os
import random
import socket
import stat
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_move_mount = 430, 431, 432, 429
FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING, FSCONFIG_SET_BINARY = 0, 1, 2
FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY, FSCONFIG_SET_FD = 3, 4, 5
FSCONFIG_CMD_CREATE, FSCONFIG_CMD_RECONFIGURE = 6, 7
MOVE_MOUNT_F_EMPTY_PATH = 4
AT_FDCWD = -100
MNT_DETACH = 2
MS_RDONLY, MS_REMOUNT = 1, 32
WATCH = None

KEYS = ["lowerdir", "upperdir", "workdir", "lowerdir+", "volatile",
        "redirect_dir", "index", "metacopy", "xino", "userxattr",
        "datadir+", "default_permissions", "ro", "rw", "source", "",
        "LOWERDIR", "lowerdir ", "x" * 300, "\xff\xfe"]


def err_of(ret):
    return 0 if ret >= 0 else ctypes.get_errno()


def sys_mount(target, data, flags=0):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return err_of(libc.mount(b"none", target.encode(), b"unionfs", flags,
                             data))


def umount(target):
    return err_of(libc.umount2(target.encode(), 0))


class Fixture:
    """Paths of every kind under @base (a fresh tmpfs when we can)."""

    def __init__(self, base, rng):
        self.base = base
        j = lambda *p: os.path.join(base, *p)
        self.mnt = j("mnt")
        os.mkdir(self.mnt)
        self.dirs = []
        for i in range(6):
            d = j("l%d" % i)
            os.mkdir(d)
            with open(os.path.join(d, "f%d" % i), "w") as f:
                f.write("layer %d\n" % i)
            os.mkdir(os.path.join(d, "sub"))
            self.dirs.append(d)
        for n in ("u", "w", "u2", "w2"):
            os.mkdir(j(n))
        self.uppers = [j("u"), j("u2")]
        self.works = [j("w"), j("w2"), j("u", "inside")]
        os.mkdir(j("u", "inside"))
        odd = ["co:lon", "back\\slash", "com,ma", "equal=s", "sp ace",
               "nl\nline", "tab\tx", "\xe9t\xe9", "-dash", "..dots",
               "trailing\\", "a:b\\:c"]
        for n in odd:
            try:
                os.mkdir(j(n))
                self.dirs.append(j(n))
            except OSError:
                pass
        with open(j("file"), "w") as f:
            f.write("x")
        os.mkfifo(j("fifo"))
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(j("sock"))
        os.mknod(j("null"), stat.S_IFCHR | 0o600, os.makedev(1, 3))
        os.mknod(j("wh"), stat.S_IFCHR, os.makedev(0, 0))
        os.symlink("nowhere", j("dead"))
        os.symlink("loop", j("loop"))
        os.symlink(self.dirs[0], j("sl"))
        # deeper than PATH_MAX, reachable only step by step
        deep = base
        fd = os.open(base, os.O_DIRECTORY)
        for _ in range(45):
            os.mkdir("d" * 100, dir_fd=fd)
            nfd = os.open("d" * 100, os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            deep += "/" + "d" * 100
        os.close(fd)
        self.deep = deep
        self.nondirs = [j(n) for n in ("file", "fifo", "sock", "null", "wh",
                                       "dead", "loop", "nope", "file/x")]
        self.foreign = ["/", "/proc", "/sys", "/dev", "/proc/self",
                        "/proc/self/fd/0", "/dev/null", self.mnt, base]
        self.deeps = [deep, deep[:4095], deep[:4096], deep[:5000],
                      j("l0") + "/sub" * 900, j("l0") + "/." * 3000,
                      j("sl") + "/../l1", "l0", "./l0", ""]

    def lower_path(self, rng):
        r = rng.random()
        if r < 0.55:
            p = rng.choice(self.dirs)
        elif r < 0.7:
            p = rng.choice(self.nondirs)
        elif r < 0.8:
            p = rng.choice(self.foreign)
        elif r < 0.9:
            p = rng.choice(self.deeps)
        else:
            p = rng.choice(self.uppers + self.works)
        return mutate(rng, p, allow_up=True)

    def rw_path(self, rng, pool):
        """upper/work candidates never lead outside our scratch area"""
        p = rng.choice(pool if rng.random() < 0.7 else
                       pool + self.dirs + self.nondirs + [self.mnt])
        return mutate(rng, p, allow_up=False)


def mutate(rng, p, allow_up):
    r = rng.random()
    if r < 0.5:
        return p
    muts = [lambda s: s + "/", lambda s: s + "//", lambda s: s + "/.",
            lambda s: s.replace("/", "//"), lambda s: s + "\\",
            lambda s: s + "\\:", lambda s: s.replace("/", "\\/"),
            lambda s: s + ":", lambda s: ":" + s, lambda s: s + "::",
            lambda s: s.replace(":", "\\:"), lambda s: s + "\\\\",
            lambda s: s + ",", lambda s: s + "=", lambda s: s + "\0junk",
            lambda s: s + "\xff", lambda s: s * rng.randint(2, 50),
            lambda s: s[:rng.randint(0, len(s))],
            lambda s: s + "x" * rng.choice([255, 256, 4096, 70000])]
    if allow_up:
        muts += [lambda s: s + "/..", lambda s: s + "/../" * 40]
    return rng.choice(muts)(p)


def join_lowers(rng, fx, n):
    seps = [":"] * 8 + ["::", "\\:", ":\\", ","]
    out = fx.lower_path(rng)
    for _ in range(n - 1):
        out += rng.choice(seps) + fx.lower_path(rng)
    return out


def well_formed(rng, fx):
    """A valid stack, then maybe one small twist."""
    lowers = rng.sample(fx.dirs, rng.randint(1, min(5, len(fx.dirs))))
    s = "lowerdir=" + ":".join(p.replace("\\", "\\\\").replace(":", "\\:")
                               .replace(",", "\\,") for p in lowers)
    if rng.random() < 0.6:
        s += ",upperdir=%s,workdir=%s" % (fx.uppers[0], fx.works[0])
        if rng.random() < 0.3:
            s += ",volatile"
    if rng.random() < 0.3:
        s = mutate(rng, s, allow_up=False)
    return s


def random_option_string(rng, fx):
    if rng.random() < 0.3:
        return well_formed(rng, fx)
    parts = []
    for _ in range(rng.choice([1, 1, 2, 3, 3, 4, 6, 12])):
        key = rng.choice(KEYS[:5] * 4 + KEYS)
        if key in ("lowerdir", "lowerdir+"):
            val = join_lowers(rng, fx, rng.choice([1, 1, 2, 3, 5, 40, 200]))
        elif key == "upperdir":
            val = fx.rw_path(rng, fx.uppers)
        elif key == "workdir":
            val = fx.rw_path(rng, fx.works)
        else:
            val = rng.choice([None, "", "on", "off", "y", fx.dirs[0],
                              "\\", ":"])
        parts.append(key if val is None else key + "=" + val)
    s = ",".join(parts)
    r = rng.random()
    if r < 0.05:
        s = "".join(chr(rng.randint(1, 255)) for _ in range(rng.randint(0, 300)))
    elif r < 0.1:
        s = s * rng.randint(2, 200)
    elif r < 0.15:
        s = ",".join(rng.choice(["", ",", "=", "==", "\\", ":"])
                     for _ in range(rng.randint(0, 50)))
    return s


def check_mounted(fx, has_upper, why):
    """A mount that succeeded must work and go away again."""
    try:
        names = os.listdir(fx.mnt)
        for n in names[:20]:
            p = os.path.join(fx.mnt, n)
            os.lstat(p)
            if os.path.isfile(p):
                # layers may be /proc or /sys: never block, any errno is
                # a clean answer for one file
                try:
                    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
                    try:
                        os.read(fd, 64)
                    finally:
                        os.close(fd)
                except OSError:
                    pass
        st = os.statvfs(fx.mnt)
        if has_upper and not st.f_flag & os.ST_RDONLY:
            p = os.path.join(fx.mnt, "fuzz-written")
            with open(p, "w") as f:
                f.write("w")
            os.unlink(p)
    except OSError as e:
        umount(fx.mnt) or libc.umount2(fx.mnt.encode(), MNT_DETACH)
        return "mounted but broken (%s): %s" % (e, why)
    e = umount(fx.mnt)
    if e:
        libc.umount2(fx.mnt.encode(), MNT_DETACH)
        return "umount failed: %s: %s" % (os.strerror(e), why)
    return None


def fuzz_strings(rng, fx, n, stats):
    fails = []
    for i in range(n):
        if i % 50 == 0 and WATCH.poll():
            return ["kernel complained by input %d: %s" % (i, WATCH.seen)]
        s = random_option_string(rng, fx)
        flags = MS_RDONLY if rng.random() < 0.1 else 0
        e = sys_mount(fx.mnt, s, flags)
        stats[errno.errorcode.get(e, str(e)) if e else "mounted"] += 1
        if not e:
            bad = check_mounted(fx, "upperdir=" in s, "input %d %r" % (i, s[:300]))
            if bad:
                fails.append(bad)
    return fails


def fsopen():
    return libc.syscall(SYS_fsopen, b"unionfs", 1)


def fsconfig(fd, cmd, key, value, aux=0):
    k = key.encode("utf-8", "surrogateescape") if key is not None else None
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    return err_of(libc.syscall(SYS_fsconfig, fd, cmd, k, value, aux))


def fuzz_sequences(rng, fx, n, stats):
    fails = []
    for i in range(n):
        if i % 20 == 0 and WATCH.poll():
            return ["kernel complained by sequence %d: %s" % (i, WATCH.seen)]
        fd = fsopen()
        if fd < 0:
            return ["fsopen: %s" % os.strerror(ctypes.get_errno())]
        trace = []
        opened = []
        created = False
        has_upper = False
        for _ in range(rng.choice([1, 2, 3, 5, 8, 20, 60])):
            r = rng.random()
            key = rng.choice(["lowerdir+"] * 4 + KEYS)
            if r < 0.55:
                if key == "upperdir":
                    val = fx.rw_path(rng, fx.uppers)
                elif key == "workdir":
                    val = fx.rw_path(rng, fx.works)
                elif key == "lowerdir":
                    val = join_lowers(rng, fx, rng.choice([1, 2, 4]))
                else:
                    val = fx.lower_path(rng)
                e = fsconfig(fd, FSCONFIG_SET_STRING, key, val)
                trace.append("string %r=%r:%d" % (key, val[:80], e))
                has_upper |= key == "upperdir" and not e
            elif r < 0.62:
                e = fsconfig(fd, FSCONFIG_SET_FLAG, key, None)
                trace.append("flag %r:%d" % (key, e))
            elif r < 0.7:
                val = fx.lower_path(rng)
                e = fsconfig(fd, rng.choice([FSCONFIG_SET_PATH,
                                             FSCONFIG_SET_PATH_EMPTY]),
                             key, val, AT_FDCWD)
                trace.append("path %r=%r:%d" % (key, val[:80], e))
            elif r < 0.78:
                p = rng.choice(fx.dirs + fx.nondirs[:3])
                try:
                    dfd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
                except OSError:
                    dfd = -1
                opened.append(dfd)
                e = fsconfig(fd, FSCONFIG_SET_FD, key, None, dfd)
                trace.append("fd %r=%s:%d" % (key, p[-20:], e))
            elif r < 0.83:
                blob = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 64)))
                e = fsconfig(fd, FSCONFIG_SET_BINARY, key, blob, len(blob))
                trace.append("binary %r:%d" % (key, e))
            elif r < 0.88:
                # NULL value for a string, bogus aux
                e = fsconfig(fd, FSCONFIG_SET_STRING, key, None, rng.randint(-5, 5))
                trace.append("null-string %r:%d" % (key, e))
            elif r < 0.95:
                e = fsconfig(fd, FSCONFIG_CMD_CREATE, None, None)
                trace.append("create:%d" % e)
                created |= not e
            else:
                e = fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, None, None)
                trace.append("reconfigure:%d" % e)
        if not created and rng.random() < 0.8:
            e = fsconfig(fd, FSCONFIG_CMD_CREATE, None, None)
            trace.append("create:%d" % e)
            created = not e
        # drain the error log: it must read cleanly
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        stats["created" if created else "refused"] += 1
        if created:
            mfd = libc.syscall(SYS_fsmount, fd, 1, 0)
            if mfd < 0:
                stats["fsmount " + errno.errorcode.get(ctypes.get_errno(), "?")] += 1
            else:
                e = err_of(libc.syscall(SYS_move_mount, mfd, b"", AT_FDCWD,
                                        fx.mnt.encode(),
                                        MOVE_MOUNT_F_EMPTY_PATH))
                os.close(mfd)
                if e:
                    fails.append("move_mount: %s: sequence %d %s"
                                 % (os.strerror(e), i, trace))
                else:
                    bad = check_mounted(fx, has_upper, "sequence %d %s"
                                        % (i, trace))
                    if bad:
                        fails.append(bad)
        os.close(fd)
        for d in opened:
            if d >= 0:
                os.close(d)
    return fails


def fuzz_roles(fx):
    """The same path in several roles, and layers that contain each other."""
    d, u, w = fx.dirs[0], fx.uppers[0], fx.works[0]
    cases = [
        "lowerdir=%s,upperdir=%s,workdir=%s" % (d, d, d),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (d, u, u),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (u, u, w),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (w, u, w),
        "lowerdir=%s:%s,upperdir=%s,workdir=%s" % (d, d, u, w),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (d, u, os.path.join(u, "inside")),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (d, os.path.join(w), w),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (fx.base, u, w),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (os.path.join(d, "sub"), d, w),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (d, fx.mnt, w),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (fx.mnt, u, w),
        "lowerdir=%s,upperdir=%s,workdir=%s" % (d, u, "/tmp"),
        "lowerdir=%s,lowerdir=%s" % (d, fx.dirs[1]),
        "lowerdir=%s,upperdir=%s,upperdir=%s,workdir=%s" % (d, u, fx.uppers[1], w),
        "lowerdir=%s,workdir=%s" % (d, w),
        "upperdir=%s,workdir=%s" % (u, w),
        "lowerdir=%s,upperdir=%s" % (d, u),
        "lowerdir=%s,upperdir=%s,workdir=%s,volatile,volatile" % (d, u, w),
    ]
    out = []
    for c in cases:
        e = sys_mount(fx.mnt, c)
        bad = None if e else check_mounted(fx, True, c)
        out.append((c, e, bad))
    return out


def fuzz_many_layers(fx, count):
    """More layers than the limit, one fsconfig call each, then as one
    string; also the same directory thousands of times."""
    top = os.path.join(fx.base, "many")
    os.mkdir(top)
    paths = []
    for i in range(count):
        p = os.path.join(top, "%d" % i)
        os.mkdir(p)
        paths.append(p)
    res = []
    fd = fsopen()
    e = 0
    for p in paths:
        e = fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", p)
        if e:
            break
    c = fsconfig(fd, FSCONFIG_CMD_CREATE, None, None)
    res.append(("%d x lowerdir+" % count, e or c))
    if not e and not c:
        mfd = libc.syscall(SYS_fsmount, fd, 1, 0)
        libc.syscall(SYS_move_mount, mfd, b"", AT_FDCWD, fx.mnt.encode(),
                     MOVE_MOUNT_F_EMPTY_PATH)
        os.close(mfd)
        res.append(("its mount", check_mounted(fx, False, "many layers")))
    os.close(fd)
    res.append(("%d layers in one string" % count,
                sys_mount(fx.mnt, "lowerdir=" + ":".join(paths))))
    fd = fsopen()
    for _ in range(count):
        e = fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", paths[0])
        if e:
            break
    res.append(("same dir %d times" % count,
                e or fsconfig(fd, FSCONFIG_CMD_CREATE, None, None)))
    os.close(fd)
    return res


class KernelWatch:
    """Reads the kernel log as the fuzzer goes: thousands of refused mounts
    each log a line, so an oops could scroll out of the ring buffer before
    the harness looks. Also keeps those lines off the (slow, serial)
    console while the fuzzer runs."""
    BAD = ("BUG:", "WARNING:", "Oops", "general protection", "KASAN",
           "possible circular locking", "lockdep", "UBSAN", "RIP:",
           "Call Trace", "refcount_t:", "list_add corruption", "hung_task")

    def __init__(self):
        self.seen = []
        self.saved = None
        try:
            self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            self.fd = None
        try:
            with open("/proc/sys/kernel/printk") as f:
                self.saved = f.read().split()[0]
            with open("/proc/sys/kernel/printk", "w") as f:
                f.write("1")
        except OSError:
            self.saved = None

    def poll(self):
        while self.fd is not None:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:     # overrun: records were lost
                    continue
                break
            if not rec:
                break
            msg = rec.decode(errors="replace").split(";", 1)[-1]
            # our refusals quote the (random) option text back
            if msg.startswith("unionfs: "):
                continue
            if any(b in msg for b in self.BAD):
                self.seen.append(msg.strip()[:300])
        return self.seen

    def close(self):
        self.poll()
        if self.saved is not None:
            with open("/proc/sys/kernel/printk", "w") as f:
                f.write(self.saved)


def main():
    debug = os.environ.get("UNIONFS_DEBUG_KERNEL") == "1"
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--strings", type=int, default=300 if debug else 2000)
    ap.add_argument("--sequences", type=int, default=100 if debug else 600)
    ap.add_argument("--layers", type=int, default=4200)
    args = ap.parse_args()

    global WATCH
    WATCH = KernelWatch()
    rng = random.Random(args.seed)
    base = os.path.join(os.environ.get("UNIONFS_SCRATCH", "/tmp"),
                        "optfuzz.%d" % os.getpid())
    os.mkdir(base)
    own_tmpfs = libc.mount(b"tmpfs", base.encode(), b"tmpfs", 0,
                           b"size=256m,nr_inodes=100000") == 0
    fx = Fixture(base, rng)
    print("1..5")
    failed = 0

    stats = collections.Counter()
    fails = fuzz_strings(rng, fx, args.strings, stats)
    summary = ", ".join("%s %d" % kv for kv in sorted(stats.items()))
    if fails:
        failed += 1
        print("not ok 1 - %d option strings (seed %d): %d unclean" %
              (args.strings, args.seed, len(fails)))
        for f in fails[:20]:
            print("# " + f.replace("\n", "\\n"))
    else:
        print("ok 1 - %d option strings (seed %d), all clean" %
              (args.strings, args.seed))
    print("# outcomes: " + summary)

    stats = collections.Counter()
    fails = fuzz_sequences(rng, fx, args.sequences, stats)
    summary = ", ".join("%s %d" % kv for kv in sorted(stats.items()))
    if fails:
        failed += 1
        print("not ok 2 - %d fsconfig sequences (seed %d): %d unclean" %
              (args.sequences, args.seed, len(fails)))
        for f in fails[:20]:
            print("# " + f.replace("\n", "\\n"))
    else:
        print("ok 2 - %d fsconfig sequences (seed %d), all clean" %
              (args.sequences, args.seed))
    print("# outcomes: " + summary)

    res = fuzz_roles(fx)
    bad = [r for r in res if r[2]]
    print("%s 3 - %d cases of one path in several roles" %
          ("not ok" if bad else "ok", len(res)))
    for c, e, b in res:
        print("# %s -> %s%s" % (c.replace(fx.base, "$B"),
                                errno.errorcode.get(e, e) if e else "mounted",
                                " BROKEN: " + b if b else ""))
    failed += bool(bad)

    res = fuzz_many_layers(fx, args.layers)
    bad = [r for r in res if r[0] == "its mount" and r[1]]
    print("%s 4 - %d layers" % ("not ok" if bad else "ok", args.layers))
    for what, e in res:
        print("# %s -> %s" % (what, e if isinstance(e, str) else
                              (errno.errorcode.get(e, e) if e else "ok")))
    failed += bool(bad)

    WATCH.close()
    print("%s 5 - no kernel complaint in the log during the fuzzing" %
          ("not ok" if WATCH.seen else "ok"))
    if WATCH.seen:
        failed += 1
        print("# kernel log: " + " | ".join(WATCH.seen[:10]))
    sys.stdout.flush()
    libc.umount2(fx.mnt.encode(), MNT_DETACH)
    if own_tmpfs:
        libc.umount2(base.encode(), MNT_DETACH)
        os.rmdir(base)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
