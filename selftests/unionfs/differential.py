#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Differential oracle: unionfs against overlayfs (redirect_dir=on).

Read side: for each seed, build a random stack of layers (files,
directories, symlinks, whiteouts, opaque directories in overlayfs format and
in both formats, user xattrs), mount it read-only with overlayfs and with
unionfs, and compare the full trees: names, types, modes, sizes, contents,
symlink targets, visible xattrs, and the errno of looking up every name
either tree has.

Write side: seeded sequences of operations (create, write, truncate, chmod,
chown, unlink, rmdir, mkdir, rename, exchange, link, symlink, mkfifo, xattrs,
reads, listings...) run through both, a fifth of them as an unprivileged
uid, each operation's result compared, and the trees compared at the end of
each sequence (also owners and link counts), and again after unionfs is
unmounted and mounted anew (metacopy files, redirects and whiteouts must
read back the same). On the unionfs side, also what README promises beyond
overlayfs: d_ino equals st_ino and d_type the lstat type, st_ino survives
copy-up and remount, no trusted.unionfs.* xattr shows, and a listed name
looks up. The layers are on tmpfs, ext4 and xfs in turn. To be fast, one pair of
mounts serves a batch of sequences: sequence K lives in its own directory sK
of every layer. A disagreement is replayed alone on fresh mounts and shrunk
(delta debugging of the operation list) to a minimal reproducer, which is
printed in the TAP output with the command that replays it.

usage: differential.py [--seeds N] [--first S] [--seed S]      read side
       differential.py [--seqs N] [--ops N] [--batch N]         write side
       differential.py --replay SEED[:I,J,...]                  one sequence
--seqs 0 runs write sequences until killed (make soak). Defaults: 20 read
seeds, then sequences of 100 operations with the layers on tmpfs (1000),
ext4 (200) and xfs (200; the guest's scratch disks; 5 seeds, tmpfs:100 and
ext4:30 on the debug kernel); a fifth of the operations run as an
unprivileged uid. A filesystem whose sequences do not all run within the
900 s budget fails (UNIONFS_DIFF_SEEDS; UNIONFS_DIFF_SEQS: sequences on
every filesystem; UNIONFS_DIFF_FS; UNIONFS_DIFF_BUDGET).
"""
import argparse
import ctypes
import errno
import hashlib
import mmap
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from stat import S_ISDIR, S_ISLNK, S_ISREG

NAMES = ["a", "b", "c", "d", "e", "dir", "x.txt", "sub", "lib", "etc"]
# Symlink targets in write sequences stay inside the sequence's directory:
# operations follow them.
SAFE_TARGETS = NAMES + ["dir/x.txt", "sub/a", "n1"]

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
MNT_DETACH = 2


def mount(fstype, mnt, opts):
    # mount(2) directly: no mount(8) (which would also run unionfs-fuse's
    # /sbin/mount.unionfs helper without -i), no fork per mount
    if libc.mount(b"none", mnt.encode(), fstype.encode(), 0,
                  opts.encode()) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "mount -t %s %s: %s" % (fstype, opts,
                                                 os.strerror(e)))


def umount(mnt):
    if libc.umount2(mnt.encode(), 0) != 0:
        libc.umount2(mnt.encode(), MNT_DETACH)


def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def fill(rng, path, depth, targets):
    for name in rng.sample(NAMES, rng.randint(0, 6)):
        p = os.path.join(path, name)
        kind = rng.choices(
            ["file", "dir", "symlink", "whiteout", "empty"],
            weights=[5, 3 if depth < 3 else 0, 1, 2, 1])[0]
        if kind == "file":
            with open(p, "wb") as f:
                f.write(rng.randbytes(rng.choice([0, 1, 100, 5000])))
            os.chmod(p, rng.choice([0o644, 0o600, 0o755, 0o444]))
            if rng.random() < 0.2:
                value = rng.randbytes(4).hex().encode()
                try:
                    os.setxattr(p, "user.k", value)
                except OSError:
                    pass    # tmpfs before 6.6 has no user xattrs
        elif kind == "empty":
            open(p, "wb").close()
        elif kind == "dir":
            os.mkdir(p)
            os.chmod(p, rng.choice([0o755, 0o700, 0o775]))
            r = rng.random()
            if r < 0.15:
                os.setxattr(p, "trusted.overlay.opaque", b"y")
            elif r < 0.25:
                os.setxattr(p, "trusted.overlay.opaque", b"y")
                os.setxattr(p, "trusted.unionfs.opaque", b"y")
            fill(rng, p, depth + 1, targets)
        elif kind == "symlink":
            os.symlink(rng.choice(targets), p)
        else:
            os.mknod(p, 0o020000, os.makedev(0, 0))


def make_stack(rng, base, nlayers):
    """Random layers; returns their paths, top first."""
    layers = [os.path.join(base, "l%d" % i) for i in range(nlayers)]
    for layer in layers:
        os.mkdir(layer)
    for layer in layers:
        fill(rng, layer, 0, NAMES + ["../a", "/etc/hostname", "dir/x.txt"])
    return layers


def lstat_err(p):
    try:
        os.lstat(p)
        return 0
    except OSError as e:
        return e.errno


def visible(dirpath, names):
    """Listed names that also look up.

    Deliberate difference: overlayfs lists whiteouts of a directory that
    only one lower layer holds (its readdir passes such a directory through
    unfiltered) although lookup then says ENOENT; unionfs never lists them.
    Compare what both can look up."""
    return sorted(n for n in names
                  if lstat_err(os.path.join(dirpath, n)) != errno.ENOENT)


def describe(root, owners=False, ours=False):
    """Map relative path -> description of what the union shows there.

    One lstat per name: a listed name that does not look up (ENOENT) is
    left out, as visible() does, on overlayfs (it lists whiteouts of a
    directory only one lower holds). With @ours (the unionfs side), such a
    name is kept, marked, so that it differs: unionfs never lists what it
    cannot look up (a stale listing). Also with @ours: its private
    trusted.unionfs.* xattrs never show, the type readdir gives (d_type)
    is the one lstat gives, and d_ino equals st_ino (README promises both;
    overlayfs does not promise d_ino without xino)."""
    out = {}

    def dtype_of(entry):
        if entry.is_symlink():
            return "lnk"
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        if entry.is_file(follow_symlinks=False):
            return "reg"
        return "other"

    def walk(dirpath, prefix):
        shown = []
        subdirs = []
        with os.scandir(dirpath) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            name = entry.name
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except OSError as e:
                if e.errno == errno.ENOENT:
                    if ours:
                        out[prefix + name] = "listed, but lstat says ENOENT"
                    continue
                raise
            shown.append(name)
            rel = prefix + name
            d = {"mode": oct(st.st_mode), "nlink_dir": None}
            if owners:
                d["owner"] = (st.st_uid, st.st_gid)
            if ours:
                stype = ("lnk" if S_ISLNK(st.st_mode) else
                         "dir" if S_ISDIR(st.st_mode) else
                         "reg" if S_ISREG(st.st_mode) else "other")
                if dtype_of(entry) != stype:
                    d["d_type"] = "readdir says %s, lstat %s" % (
                        dtype_of(entry), stype)
                if entry.inode() != st.st_ino:
                    d["d_ino"] = "d_ino %d != st_ino %d" % (entry.inode(),
                                                           st.st_ino)
            if not S_ISDIR(st.st_mode):
                d["nlink"] = st.st_nlink
            if S_ISLNK(st.st_mode):
                d["target"] = os.readlink(p)
            elif S_ISREG(st.st_mode):
                d["size"] = st.st_size
                with open(p, "rb") as f:
                    d["sha"] = hashlib.sha1(f.read()).hexdigest()
            elif S_ISDIR(st.st_mode):
                subdirs.append((p, rel, d))
            try:
                names = sorted(os.listxattr(p, follow_symlinks=False))
                d["xattrs"] = {n: os.getxattr(p, n, follow_symlinks=False)
                               for n in names if n.startswith("user.")}
                # overlayfs hides only its own markers and shows ours;
                # unionfs hides both (deliberate): compare overlay's.
                d["private"] = [n for n in names
                                if n.startswith("trusted.overlay.")]
                if ours:
                    leaked = [n for n in names
                              if n.startswith("trusted.unionfs.")]
                    if leaked:
                        d["leaked"] = leaked
            except OSError as e:
                d["xattrs"] = "errno %d" % e.errno
            out[rel] = d
        for p, rel, d in subdirs:
            d["entries"] = walk(p, rel + "/")
        return shown

    walk(root, "")
    return out


def inode_numbers(root):
    """Relative path -> st_ino of everything below @root."""
    return {rel: os.lstat(os.path.join(root, rel)).st_ino
            for rel in all_paths(root)}


def compare_trees(o, u):
    return ["%s: overlay=%s unionfs=%s" % (rel, o.get(rel), u.get(rel))
            for rel in sorted(set(o) | set(u)) if o.get(rel) != u.get(rel)]


def all_paths(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)


# --- write side --------------------------------------------------------------

OP_WEIGHTS = {
    "create": 6, "excl": 2, "append": 4, "pwrite": 4, "truncate": 3,
    "grow": 1, "chmod": 3, "chown": 2, "unlink": 6, "rmdir": 4, "mkdir": 5,
    "rename": 8, "exchange": 2, "noreplace": 2, "link": 3, "symlink": 3,
    "mkfifo": 1, "setxattr": 2, "rmxattr": 1, "read": 3, "readdir": 3,
    "stat": 2, "rdwr": 3, "mmapw": 2,
}
OP_KINDS = sorted(OP_WEIGHTS)
OP_CUM = [OP_WEIGHTS[k] for k in OP_KINDS]


USER = 1000          # the unprivileged identity of "u:" operations
SYS_SETGROUPS = 116  # x86_64
ROOT_GROUPS = os.getgroups()


def set_thread_groups(groups):
    # the raw system call changes this thread's groups only (glibc's
    # setgroups() would change every thread's)
    arr = (ctypes.c_uint * max(len(groups), 1))(*groups)
    if libc.syscall(SYS_SETGROUPS, len(groups), arr) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setgroups: " + os.strerror(e))


class AsUser:
    """Filesystem identity of uid/gid USER, no supplementary groups.

    While the filesystem uid is not 0, the kernel drops the filesystem
    capabilities (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID...)
    from the effective set: permission checks, set-id rules and ownership
    of new files are those of an unprivileged user."""

    def __enter__(self):
        set_thread_groups([])
        libc.setfsgid(USER)
        libc.setfsuid(USER)
        # setfsuid(-1) changes nothing and returns the current one
        if libc.setfsuid(-1) != USER or libc.setfsgid(-1) != USER:
            raise OSError(errno.EPERM, "setfsuid/setfsgid(%d) failed" % USER)

    def __exit__(self, *exc):
        libc.setfsuid(0)
        libc.setfsgid(0)
        set_thread_groups(ROOT_GROUPS)
        if libc.setfsuid(-1) != 0:
            raise OSError(errno.EPERM, "cannot return to fsuid 0")


def apply_op(root, op):
    """Run one operation below @root; return what it gave: its errno (0 on
    success) or, for reads, what was read. A kind "u:K" runs K as the
    unprivileged USER (so EACCES/EPERM paths are compared too)."""
    if op[0].startswith("u:"):
        with AsUser():
            return apply_op_as_caller(root, (op[0][2:],) + tuple(op[1:]))
    return apply_op_as_caller(root, op)


def apply_op_as_caller(root, op):
    """Run one operation below @root as the caller. Opens are non-blocking:
    a FIFO without a reader must not stop the run."""
    kind, a, b = op
    pa = os.path.join(root, a)
    pb = os.path.join(root, b) if b else None
    try:
        if kind == "create" or kind == "excl":
            flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK
            flags |= os.O_EXCL if kind == "excl" else os.O_TRUNC
            fd = os.open(pa, flags, 0o644)
            try:
                os.write(fd, b"new " + a.encode())
            finally:
                os.close(fd)
        elif kind == "append":
            fd = os.open(pa, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
            try:
                os.write(fd, b"+more")
            finally:
                os.close(fd)
        elif kind == "pwrite":
            fd = os.open(pa, os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.pwrite(fd, b"XY", 1)
            finally:
                os.close(fd)
        elif kind == "rdwr":
            # read-write: a write into the second 4k chunk, a read across
            fd = os.open(pa, os.O_RDWR | os.O_NONBLOCK)
            try:
                os.pwrite(fd, b"RW", 4100)
                return "rdwr %r" % os.pread(fd, 16, 4090)
            finally:
                os.close(fd)
        elif kind == "mmapw":
            # a shared writable mapping writes one byte, msync, unmap
            fd = os.open(pa, os.O_RDWR | os.O_NONBLOCK)
            try:
                size = os.fstat(fd).st_size
                if not size or not S_ISREG(os.fstat(fd).st_mode):
                    return "mmapw none"
                with mmap.mmap(fd, size) as m:
                    pos = min(4097, size - 1)
                    m[pos] = ord("m")
                    m.flush()
                    return "mmapw %r" % m[max(pos - 8, 0):pos + 8]
            finally:
                os.close(fd)
        elif kind == "truncate":
            os.truncate(pa, 3)
        elif kind == "grow":
            os.truncate(pa, 9000)
        elif kind == "chmod":
            os.chmod(pa, 0o640 if len(b) % 2 else 0o711)
        elif kind == "chown":
            os.lchown(pa, 1000, 1000 + len(b) % 2)
        elif kind == "unlink":
            os.unlink(pa)
        elif kind == "rmdir":
            os.rmdir(pa)
        elif kind == "mkdir":
            os.mkdir(pa, 0o755)
        elif kind == "rename":
            os.rename(pa, pb)
        elif kind == "exchange":
            renameat2(pa, pb, RENAME_EXCHANGE)
        elif kind == "noreplace":
            renameat2(pa, pb, RENAME_NOREPLACE)
        elif kind == "link":
            os.link(pa, pb)
        elif kind == "symlink":
            os.symlink("target-" + b, pa)
        elif kind == "mkfifo":
            os.mkfifo(pa, 0o600)
        elif kind == "setxattr":
            os.setxattr(pa, "user.k", b.encode(), follow_symlinks=False)
        elif kind == "rmxattr":
            os.removexattr(pa, "user.k", follow_symlinks=False)
        elif kind == "read":
            fd = os.open(pa, os.O_RDONLY | os.O_NONBLOCK)
            try:
                return "read %r" % os.read(fd, 64)
            finally:
                os.close(fd)
        elif kind == "readdir":
            return "list %s" % visible(pa, os.listdir(pa))
        elif kind == "stat":
            st = os.lstat(pa)
            return "stat %o %d %d" % (st.st_mode, st.st_uid,
                                      0 if os.path.isdir(pa) else st.st_size)
        return 0
    except OSError as e:
        return e.errno


def random_ops(rng, names, count):
    fresh = ["n%d" % i for i in range(8)]
    pool = names + fresh + [os.path.join(d, f) for d in names[:6]
                            for f in fresh[:2]]
    kinds = rng.choices(OP_KINDS, weights=OP_CUM, k=count)
    ops = []
    for k in kinds:
        # a fifth of the operations run as the unprivileged user
        if rng.random() < USER_SHARE:
            k = "u:" + k
        ops.append((k, rng.choice(pool), rng.choice(pool)))
    return ops


USER_SHARE = 0.2


WRITE_LAYERS = 3


class Seq:
    """One seeded sequence: its starting layers (content under sK of each of
    the batch's layers) and its operations."""

    def __init__(self, seed, nops, keep=None):
        self.seed = seed
        self.nops = nops
        self.keep = keep      # indices of the operations kept (shrinking)
        self.ops = None

    def build(self, layers, sub):
        rng = random.Random(self.seed * 7919 + 1)
        used = rng.randint(1, WRITE_LAYERS)
        for i, layer in enumerate(layers):
            p = os.path.join(layer, sub)
            os.mkdir(p)
            if i < used:
                fill(rng, p, 0, SAFE_TARGETS)
        names = set()
        for layer in layers:
            names.update(all_paths(os.path.join(layer, sub)))
        ops = random_ops(rng, sorted(names), self.nops)
        if self.keep is not None:
            ops = [ops[i] for i in self.keep]
            self.idx = list(self.keep)
        else:
            self.idx = list(range(len(ops)))
        self.ops = ops


def layer_listing(layers, sub):
    out = []
    for n, layer in enumerate(layers):
        root = os.path.join(layer, sub)
        items = []
        for rel in all_paths(root):
            p = os.path.join(root, rel)
            st = os.lstat(p)
            if os.path.islink(p):
                items.append("%s->%s" % (rel, os.readlink(p)))
            elif os.path.isdir(p):
                op = ""
                for x in ("trusted.overlay.opaque", "trusted.unionfs.opaque"):
                    try:
                        os.getxattr(p, x)
                        op += "(%s)" % x.split(".")[1]
                    except OSError:
                        pass
                items.append("%s/%s" % (rel, op))
            elif os.path.isfile(p):
                items.append("%s(%dB,%o)" % (rel, st.st_size,
                                             st.st_mode & 0o7777))
            else:
                items.append("%s(whiteout)" % rel)
        if items:
            out.append("l%d: %s" % (n, " ".join(items)))
    return out


excluded = [0]     # operations left out as documented differences
# The filesystem the write side's layers, upper and workdir are on: "tmpfs"
# (a fresh one per batch) or the scratch disk's ext4 or xfs (mounted once).
LAYER_FS = ["tmpfs"]


def rerun(extra):
    return "%s --fs %s %s" % (sys.argv[0], LAYER_FS[0], extra)


def canon(root, rel):
    """@rel below @root with the symlinks of its parents resolved (the
    operations follow them; the last component is the name itself)."""
    parent = os.path.realpath(os.path.join(root, os.path.dirname(rel)))
    return os.path.relpath(os.path.join(parent, os.path.basename(rel)), root)


def is_dir(root, rel):
    try:
        return S_ISDIR(os.lstat(os.path.join(root, rel)).st_mode)
    except OSError:
        return False


class LowerDirs:
    """Which directories of a sequence lower layers hold, followed through
    the sequence's operations independently of either filesystem: at the
    start every directory comes from a lower layer (the upper is empty);
    mkdir makes one no lower layer holds, rmdir removes one, rename moves
    a subtree and exchange swaps two. unionfs returns EXDEV for an
    exchange of a directory lower layers hold (a documented limit); that
    exemption must not cover any other exchange."""

    def __init__(self, root):
        self.dirs = {rel for rel in all_paths(root) if is_dir(root, rel)}

    def held(self, root, rel):
        return rel in self.dirs and is_dir(root, rel)

    def _take(self, rel):
        sub = {d for d in self.dirs if d == rel or d.startswith(rel + "/")}
        self.dirs -= sub
        return {d[len(rel):] for d in sub}

    def _put(self, rel, tails):
        self.dirs |= {rel + t for t in tails}

    def update(self, kind, a, b):
        """After @kind on canonical names @a, @b succeeded."""
        if kind == "mkdir":
            self.dirs.discard(a)
        elif kind == "rmdir":
            self._take(a)
        elif kind in ("rename", "noreplace"):
            tails = self._take(a)
            if tails:
                self._take(b)
                self._put(b, tails)
        elif kind == "exchange":
            ta, tb = self._take(a), self._take(b)
            self._put(b, ta)
            self._put(a, tb)


def run_ops(seq, ro, ru):
    """Run @seq's operations on the overlayfs (@ro) and unionfs (@ru)
    trees; return the first disagreement, if any."""
    lowers = LowerDirs(ro)
    for i, op in zip(seq.idx, seq.ops):
        kind = op[0][2:] if op[0].startswith("u:") else op[0]
        a, b = canon(ro, op[1]), canon(ro, op[2])
        before = stat_for(ru, op)
        if kind == "exchange":
            eu = apply_op(ru, op)
            if eu == errno.EXDEV and (lowers.held(ro, a) or
                                      lowers.held(ro, b)):
                excluded[0] += 1
                continue
            eo = apply_op(ro, op)
        else:
            eo = apply_op(ro, op)
            eu = apply_op(ru, op)
        if eo != eu:
            return ["op %d %s %s %s: overlay %s, unionfs %s"
                    % ((i,) + op + (eo, eu))]
        if eo == 0:
            lowers.update(kind, a, b)
        after = stat_for(ru, op)
        if kind in KEEP_INODE and before and after and before != after:
            return ["op %d %s %s %s: st_ino %d became %d (copy-up must keep "
                    "it)" % ((i,) + op + (before, after))]
    return []


# Operations that change an object in place: its inode number stays.
KEEP_INODE = {"append", "pwrite", "truncate", "grow", "chmod", "chown",
              "setxattr", "rmxattr", "rdwr", "mmapw", "read", "stat"}


def stat_for(root, op):
    """st_ino of what @op works on (lstat for the operations that do not
    follow a symlink), or None."""
    kind = op[0][2:] if op[0].startswith("u:") else op[0]
    if kind not in KEEP_INODE:
        return None
    try:
        p = os.path.join(root, op[1])
        follow = kind not in ("chown", "setxattr", "rmxattr", "stat")
        return (os.stat if follow else os.lstat)(p).st_ino
    except OSError:
        return None


def run_batch(seqs, base, listing=False):
    """Run @seqs on one pair of mounts; return {index: [differences]} (and
    the starting layers of each sequence when @listing)."""
    work = tempfile.mkdtemp(prefix="wdiff-", dir=base)
    fresh_tmpfs = LAYER_FS[0] == "tmpfs" and os.geteuid() == 0 and \
        libc.mount(b"tmpfs", work.encode(), b"tmpfs", 0,
                   b"size=512m,mode=755") == 0
    results, listings = {}, {}
    try:
        layers = [os.path.join(work, "l%d" % i) for i in range(WRITE_LAYERS)]
        for layer in layers:
            os.mkdir(layer)
        for k, s in enumerate(seqs):
            s.build(layers, "s%d" % k)
            if listing:
                listings[k] = layer_listing(layers, "s%d" % k)
        mounts = {}
        try:
            for fs in ("overlay", "unionfs"):
                for d in ("upper", "work", "mnt"):
                    os.mkdir(os.path.join(work, fs + "-" + d))
                opts = "lowerdir=%s,upperdir=%s,workdir=%s" % (
                    ":".join(layers), os.path.join(work, fs + "-upper"),
                    os.path.join(work, fs + "-work"))
                if fs == "overlay":
                    opts += ",redirect_dir=on,index=off,metacopy=off"
                else:
                    # the smallest chunks: files the sequences grow past
                    # 4 KiB are copied up partially
                    opts += ",chunk=4k"
                    uopts = opts
                mount(fs, os.path.join(work, fs + "-mnt"), opts)
                mounts[fs] = os.path.join(work, fs + "-mnt")
            for k, s in enumerate(seqs):
                ro = os.path.join(mounts["overlay"], "s%d" % k)
                ru = os.path.join(mounts["unionfs"], "s%d" % k)
                diffs = run_ops(s, ro, ru)
                diffs += compare_trees(describe(ro, True),
                                       describe(ru, True, ours=True))
                if diffs:
                    results[k] = diffs
            inodes = {k: inode_numbers(os.path.join(mounts["unionfs"],
                                                    "s%d" % k))
                      for k in range(len(seqs)) if k not in results}
            # What the upper holds (metacopy marks, redirects, whiteouts)
            # must give the same view after umount/mount.
            umount(mounts.pop("unionfs"))
            mount("unionfs", os.path.join(work, "unionfs-mnt"), uopts)
            mounts["unionfs"] = os.path.join(work, "unionfs-mnt")
            for k in range(len(seqs)):
                if k in results:
                    continue
                ru = os.path.join(mounts["unionfs"], "s%d" % k)
                diffs = compare_trees(
                    describe(os.path.join(mounts["overlay"], "s%d" % k), True),
                    describe(ru, True, ours=True))
                now = inode_numbers(ru)
                diffs += ["st_ino of %s: %d before, %d after" %
                          (rel, ino, now[rel])
                          for rel, ino in sorted(inodes[k].items())
                          if rel in now and now[rel] != ino]
                if diffs:
                    results[k] = ["after unionfs remount: " + d for d in diffs]
        finally:
            for m in mounts.values():
                umount(m)
    finally:
        if fresh_tmpfs:
            umount(work)
            os.rmdir(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return (results, listings) if listing else results


def fails(seed, nops, keep, base):
    return bool(run_batch([Seq(seed, nops, keep)], base))


def shrink(seed, nops, base, first_op=None, budget=400):
    """Delta debugging (ddmin) of the sequence's operations: the smallest
    list of operation indices that still disagrees, or None when the
    sequence does not disagree alone."""
    keep = list(range(nops))
    if not fails(seed, nops, keep, base):
        return None, 1
    tries = 1
    # an operation that disagreed ends what matters
    if first_op is not None and first_op + 1 < nops:
        cut = keep[:first_op + 1]
        tries += 1
        if fails(seed, nops, cut, base):
            keep = cut
    n = 2
    while len(keep) >= 2 and tries < budget:
        chunk = max(1, len(keep) // n)
        parts = [keep[i:i + chunk] for i in range(0, len(keep), chunk)]
        reduced = False
        for part in parts:
            rest = [i for i in keep if i not in part]
            tries += 1
            if rest and fails(seed, nops, rest, base):
                keep, n, reduced = rest, max(n - 1, 2), True
                break
            if tries >= budget:
                break
        if not reduced:
            if n >= len(keep):
                break
            n = min(len(keep), n * 2)
    return keep, tries


def report_seq(seed, nops, diffs, base, out):
    first_op = None
    if diffs and diffs[0].startswith("op "):
        first_op = int(diffs[0].split()[1])
    out("disagreement in sequence %d on %s (rerun: %s)"
        % (seed, LAYER_FS[0], rerun("--ops %d --replay %d" % (nops, seed))))
    for d in diffs[:8]:
        out("  " + d)
    keep, tries = shrink(seed, nops, base, first_op)
    if keep is None:
        out("  not reproduced alone on fresh mounts: it depends on the other "
            "sequences of its batch")
        return
    seq = Seq(seed, nops, keep)
    res, lst = run_batch([seq], base, listing=True)
    out("shrunk to %d of %d operations in %d runs (rerun: %s)"
        % (len(keep), nops, tries,
           rerun("--ops %d --replay %d:%s"
                 % (nops, seed, ",".join(map(str, keep))))))
    out("  starting layers (top first), all under one directory:")
    for line in lst[0]:
        out("    " + line)
    out("  operations:")
    for i, op in zip(seq.idx, seq.ops):
        out("    %d: %s %s %s" % ((i,) + op))
    out("  outcome:")
    for d in res.get(0, ["(no longer disagrees: flaky)"])[:8]:
        out("    " + d)


# --- read side ---------------------------------------------------------------

def run_seed(seed, base):
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="diff-%d-" % seed, dir=base)
    try:
        layers = make_stack(rng, work, rng.randint(2, 5))
        omnt = os.path.join(work, "ovl")
        umnt = os.path.join(work, "ufs")
        os.mkdir(omnt)
        os.mkdir(umnt)
        lower = ":".join(layers)
        mount("overlay", omnt, "lowerdir=" + lower)
        try:
            mount("unionfs", umnt, "lowerdir=" + lower)
        except OSError as e:
            umount(omnt)
            return ["unionfs refused a stack overlayfs mounts: %s" % e]
        try:
            o = describe(omnt)
            u = describe(umnt, ours=True)
            diffs = compare_trees(o, u)
            # lookups of every name either side knows, plus absent ones
            probes = set(o) | set(u)
            for layer in layers:
                for dirpath, dirnames, filenames in os.walk(layer):
                    for n in dirnames + filenames:
                        probes.add(os.path.relpath(
                            os.path.join(dirpath, n), layer))
            for rel in sorted(probes):
                eo = lstat_err(os.path.join(omnt, rel))
                eu = lstat_err(os.path.join(umnt, rel))
                if eo != eu:
                    diffs.append("lookup %s: overlay errno %d unionfs errno %d"
                                 % (rel, eo, eu))
            return diffs
        finally:
            umount(umnt)
            umount(omnt)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def out(s):
    print("# " + s)
    sys.stdout.flush()


def layer_base(fs, scratch):
    """A directory on @fs for the write side's layers: @scratch itself for
    tmpfs (each batch mounts a fresh tmpfs below it), else the guest's
    scratch disk for @fs, made anew and mounted (returned with the mount
    point to unmount)."""
    if fs == "tmpfs":
        return scratch, None
    dev = os.environ.get("SCRATCH_" + fs.upper())
    if not dev:
        raise OSError(errno.ENODEV, "no scratch disk for %s (SCRATCH_%s)"
                      % (fs, fs.upper()))
    mkfs = ["mkfs." + fs, "-q", "-f" if fs == "xfs" else "-F", dev]
    subprocess.run(mkfs, check=True, stdout=subprocess.DEVNULL)
    mnt = tempfile.mkdtemp(prefix="diff-%s-" % fs, dir=scratch)
    mount_dev(dev, mnt, fs)
    return mnt, mnt


def mount_dev(dev, mnt, fs):
    if libc.mount(dev.encode(), mnt.encode(), fs.encode(), 0, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "mount %s on %s: %s" % (dev, mnt, os.strerror(e)))


def run_write_side(args, base, n):
    """The write sequences on LAYER_FS[0]; returns (TAP lines used, failed
    lines)."""
    t0 = time.time()
    done_seqs = done_ops = bad = shrunk = failed = 0
    excluded[0] = 0
    nxt = args.first
    fs = LAYER_FS[0]
    while args.seqs == 0 or done_seqs < args.seqs:
        if args.budget and done_seqs and time.time() - t0 > args.budget:
            n += 1
            failed += 1
            print("not ok %d - %s: the time budget of %.0f s ran out after "
                  "%d of %d sequences (raise UNIONFS_DIFF_BUDGET or lower "
                  "UNIONFS_DIFF_SEQS)" % (n, fs, args.budget, done_seqs,
                                          args.seqs))
            break
        count = args.batch if args.seqs == 0 else \
            min(args.batch, args.seqs - done_seqs)
        seeds = list(range(nxt, nxt + count))
        nxt += count
        res = run_batch([Seq(s, args.ops) for s in seeds], base)
        done_seqs += count
        done_ops += count * args.ops
        n += 1
        what = "%s: write seqs %d-%d: %d sequences of %d operations" % (
            fs, seeds[0], seeds[-1], count, args.ops)
        if res:
            failed += 1
            bad += len(res)
            print("not ok %d - %s, %d disagree" % (n, what, len(res)))
            for k in sorted(res):
                if shrunk < args.shrink_max:
                    shrunk += 1
                    report_seq(seeds[k], args.ops, res[k], base, out)
                else:
                    out("sequence %d disagrees (rerun: %s): %s"
                        % (seeds[k], rerun("--ops %d --replay %d"
                                           % (args.ops, seeds[k])),
                           res[k][0]))
        else:
            print("ok %d - %s" % (n, what))
        out("oracle on %s: %d sequences, %d operations (%d left out as "
            "documented differences), %d disagreements, %.0f s"
            % (fs, done_seqs, done_ops, excluded[0], bad, time.time() - t0))
        sys.stdout.flush()
    return n, failed


def main():
    debug = os.environ.get("UNIONFS_DEBUG_KERNEL") == "1"
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int,
                    default=int(os.environ.get("UNIONFS_DIFF_SEEDS",
                                               "5" if debug else "20")),
                    help="read-side seeds")
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--seed", type=int, help="one read-side seed")
    seqs = os.environ.get("UNIONFS_DIFF_SEQS")
    ap.add_argument("--seqs", type=int, default=int(seqs) if seqs else None,
                    help="write sequences per filesystem, instead of the "
                    "counts --fs gives (0: until killed)")
    # Disk filesystems take ~3x as long per sequence as tmpfs.
    ap.add_argument("--fs", default=os.environ.get(
        "UNIONFS_DIFF_FS",
        "tmpfs:100 ext4:30" if debug else "tmpfs:1000 ext4:200 xfs:200"),
                    help="filesystems for the write side's layers, each "
                    "with its number of sequences (tmpfs:N ext4:N xfs:N)")
    ap.add_argument("--ops", type=int, default=100,
                    help="operations per write sequence (0: read side only)")
    ap.add_argument("--batch", type=int, default=100,
                    help="write sequences sharing one pair of mounts")
    ap.add_argument("--shrink-max", type=int, default=3,
                    help="disagreements shrunk per run")
    ap.add_argument("--budget", type=float,
                    default=float(os.environ.get("UNIONFS_DIFF_BUDGET", "900")),
                    help="seconds per filesystem: a write side that has not "
                    "run all its sequences by then fails (0: no limit)")
    ap.add_argument("--replay", help="SEED or SEED:I,J,...: one write "
                    "sequence (or those of its operations) alone")
    args = ap.parse_args()
    counts = {}
    for spec in args.fs.split():
        fs, _, count = spec.partition(":")
        if fs not in ("tmpfs", "ext4", "xfs") or \
                (count and not count.isdigit()):
            ap.error("--fs: %s is not tmpfs, ext4 or xfs[:COUNT]" % spec)
        counts[fs] = int(count or 100) if args.seqs is None else args.seqs
    fses = list(counts)

    subprocess.run(["modprobe", "overlay"], check=False)
    scratch = os.environ.get("UNIONFS_SCRATCH", "/tmp")

    if args.replay:
        LAYER_FS[0] = fses[0]
        base, mnt = layer_base(fses[0], scratch)
        try:
            seed, _, idx = args.replay.partition(":")
            keep = [int(i) for i in idx.split(",")] if idx else None
            seq = Seq(int(seed), args.ops, keep)
            res, lst = run_batch([seq], base, listing=True)
        finally:
            if mnt:
                umount(mnt)
                os.rmdir(mnt)
        print("1..1")
        for line in lst[0]:
            out(line)
        for i, op in zip(seq.idx, seq.ops):
            out("%d: %s %s %s" % ((i,) + op))
        for d in res.get(0, []):
            out(d)
        print("%s 1 - replay %s on %s" % ("not ok" if res else "ok",
                                          args.replay, fses[0]))
        return 1 if res else 0

    read = [args.seed] if args.seed is not None else \
        list(range(args.first, args.first + args.seeds))
    if args.seed is not None or not args.ops:
        fses = []
    # The plan goes last: --seqs 0 leaves the count open.
    failed = 0
    n = 0
    for seed in read:
        n += 1
        diffs = run_seed(seed, scratch)
        if diffs:
            failed += 1
            print("not ok %d - read seed %d (rerun: %s --seed %d)" %
                  (n, seed, sys.argv[0], seed))
            for d in diffs[:20]:
                out(d)
        else:
            print("ok %d - read seed %d" % (n, seed))
        sys.stdout.flush()

    for fs in fses:
        LAYER_FS[0] = fs
        args.seqs = counts[fs]
        try:
            base, mnt = layer_base(fs, scratch)
        except (OSError, subprocess.CalledProcessError) as e:
            n += 1
            failed += 1
            print("not ok %d - %s: cannot make the layers' filesystem: %s"
                  % (n, fs, e))
            continue
        try:
            n, f = run_write_side(args, base, n)
            failed += f
        finally:
            if mnt:
                umount(mnt)
                os.rmdir(mnt)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
