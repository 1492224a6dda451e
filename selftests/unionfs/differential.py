#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Differential check of the read side against overlayfs.

For each seed: build a random stack of layers (files, directories, symlinks,
whiteouts, opaque directories in overlayfs format and in both formats, user
xattrs), mount it read-only with overlayfs and with unionfs, and compare the
full trees: names, types, modes, sizes, contents, symlink targets, visible
xattrs, and the errno of looking up every name either tree has.

usage: differential.py [--seeds N] [--first S] [--seed S]
A failing seed is printed; rerun it alone with --seed S.
"""
import argparse
import errno
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

NAMES = ["a", "b", "c", "d", "e", "dir", "x.txt", "sub", "lib", "etc"]


def mount(fstype, mnt, opts):
    # -i: never run a mount.<type> helper (unionfs-fuse installs
    # /sbin/mount.unionfs, which is not us)
    subprocess.run(["mount", "-i", "-t", fstype, "none", mnt, "-o", opts],
                   check=True, stderr=subprocess.PIPE)


def umount(mnt):
    subprocess.run(["umount", mnt], check=False)


def make_stack(rng, base, nlayers):
    """Random layers; returns their paths, top first."""
    layers = [os.path.join(base, "l%d" % i) for i in range(nlayers)]
    for layer in layers:
        os.mkdir(layer)

    def fill(path, depth):
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
                fill(p, depth + 1)
            elif kind == "symlink":
                os.symlink(rng.choice(NAMES + ["../a", "/etc/hostname",
                                               "dir/x.txt"]), p)
            else:
                os.mknod(p, 0o020000, os.makedev(0, 0))

    for layer in layers:
        fill(layer, 0)
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


def describe(root):
    """Map relative path -> description of what the union shows there."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = visible(dirpath, dirnames)
        for name in visible(dirpath, dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            d = {"mode": oct(st.st_mode), "nlink_dir": None}
            if os.path.islink(p):
                d["target"] = os.readlink(p)
            elif os.path.isfile(p):
                d["size"] = st.st_size
                with open(p, "rb") as f:
                    d["sha"] = hashlib.sha1(f.read()).hexdigest()
            elif os.path.isdir(p):
                d["entries"] = visible(p, os.listdir(p))
            try:
                names = sorted(os.listxattr(p, follow_symlinks=False))
                d["xattrs"] = {n: os.getxattr(p, n, follow_symlinks=False)
                               for n in names if n.startswith("user.")}
                # overlayfs hides only its own markers and shows ours;
                # unionfs hides both (deliberate): compare overlay's.
                d["private"] = [n for n in names
                                if n.startswith("trusted.overlay.")]
            except OSError as e:
                d["xattrs"] = "errno %d" % e.errno
            out[rel] = d
    return out


def all_paths(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)


def apply_op(root, op):
    """Run one operation below @root; return its errno (0 on success)."""
    kind, a, b = op
    pa = os.path.join(root, a)
    pb = os.path.join(root, b) if b else None
    try:
        if kind == "create":
            with open(pa, "wb") as f:
                f.write(b"new " + a.encode())
        elif kind == "append":
            with open(pa, "ab") as f:
                f.write(b"+more")
        elif kind == "pwrite":
            fd = os.open(pa, os.O_WRONLY)
            try:
                os.pwrite(fd, b"XY", 1)
            finally:
                os.close(fd)
        elif kind == "truncate":
            os.truncate(pa, 3)
        elif kind == "chmod":
            os.chmod(pa, 0o640)
        elif kind == "unlink":
            os.unlink(pa)
        elif kind == "rmdir":
            os.rmdir(pa)
        elif kind == "mkdir":
            os.mkdir(pa, 0o755)
        elif kind == "rename":
            os.rename(pa, pb)
        elif kind == "link":
            os.link(pa, pb)
        elif kind == "symlink":
            os.symlink("target-" + b, pa)
        return 0
    except OSError as e:
        return e.errno


def random_ops(rng, names, count):
    kinds = ["create", "append", "pwrite", "truncate", "chmod", "unlink",
             "rmdir", "mkdir", "rename", "link", "symlink"]
    fresh = ["n%d" % i for i in range(8)]
    ops = []
    for _ in range(count):
        pool = names + fresh + [os.path.join(d, f) for d in names[:6]
                                for f in fresh[:2]]
        a = rng.choice(pool)
        b = rng.choice(pool)
        ops.append((rng.choice(kinds), a, b))
    return ops


def run_write_seed(seed, base, nops):
    """Same random operations through overlayfs and unionfs (with an upper
    layer each, over copies of the same lowers): every errno and the final
    trees must agree."""
    rng = random.Random(seed * 7919 + 1)
    work = tempfile.mkdtemp(prefix="wdiff-%d-" % seed, dir=base)
    try:
        layers = make_stack(rng, work, rng.randint(1, 3))
        mounts = {}
        for fs in ("overlay", "unionfs"):
            for d in ("upper", "work", "mnt"):
                os.mkdir(os.path.join(work, fs + "-" + d))
            opts = "lowerdir=%s,upperdir=%s,workdir=%s" % (
                ":".join(layers), os.path.join(work, fs + "-upper"),
                os.path.join(work, fs + "-work"))
            if fs == "overlay":
                opts += ",redirect_dir=on,index=off,metacopy=off"
            mount(fs, os.path.join(work, fs + "-mnt"), opts)
            mounts[fs] = os.path.join(work, fs + "-mnt")
        diffs = []
        try:
            ops = random_ops(rng, all_paths(mounts["overlay"]), nops)
            for i, op in enumerate(ops):
                eo = apply_op(mounts["overlay"], op)
                eu = apply_op(mounts["unionfs"], op)
                if eo != eu:
                    diffs.append("op %d %s: overlay errno %d unionfs errno %d"
                                 % (i, op, eo, eu))
                    break
            o = describe(mounts["overlay"])
            u = describe(mounts["unionfs"])
            for rel in sorted(set(o) | set(u)):
                if o.get(rel) != u.get(rel):
                    diffs.append("%s: overlay=%s unionfs=%s" %
                                 (rel, o.get(rel), u.get(rel)))
        finally:
            for m in mounts.values():
                umount(m)
        return diffs
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
        except subprocess.CalledProcessError as e:
            umount(omnt)
            return ["unionfs refused a stack overlayfs mounts: %s" %
                    e.stderr.decode(errors="replace").strip()]
        try:
            o = describe(omnt)
            u = describe(umnt)
            diffs = []
            for rel in sorted(set(o) | set(u)):
                if o.get(rel) != u.get(rel):
                    diffs.append("%s: overlay=%s unionfs=%s" %
                                 (rel, o.get(rel), u.get(rel)))
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


def main():
    ap = argparse.ArgumentParser()
    default_seeds = "5" if os.environ.get("UNIONFS_DEBUG_KERNEL") == "1" \
        else "20"
    ap.add_argument("--seeds", type=int,
                    default=int(os.environ.get("UNIONFS_DIFF_SEEDS",
                                               default_seeds)))
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--ops", type=int, default=40,
                    help="write operations per seed (0: read side only)")
    ap.add_argument("--seed", type=int)
    args = ap.parse_args()
    seeds = [args.seed] if args.seed is not None else \
        range(args.first, args.first + args.seeds)

    subprocess.run(["modprobe", "overlay"], check=False)
    base = os.environ.get("UNIONFS_SCRATCH", "/tmp")
    seeds = list(seeds)
    print("1..%d" % (len(seeds) * (2 if args.ops else 1)))
    failed = 0
    tests = [(run_seed, s, "read") for s in seeds]
    if args.ops:
        tests += [(lambda sd, b: run_write_seed(sd, b, args.ops), s,
                   "write %d ops" % args.ops) for s in seeds]
    for i, (fn, seed, what) in enumerate(tests, 1):
        diffs = fn(seed, base)
        if diffs:
            failed += 1
            print("not ok %d - %s seed %d (rerun: %s --seed %d)" %
                  (i, what, seed, sys.argv[0], seed))
            for d in diffs[:20]:
                print("# " + d)
        else:
            print("ok %d - %s seed %d" % (i, what, seed))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
