#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare one layer of an image built on two stores, as tarmanifest.py
manifests (DIR/1.manifest ... DIR/N.manifest, in layer order):

    layercmp.py REF_DIR TEST_DIR I

Exit 0 when layer I is the same, printing each accepted difference as a
TAP comment; else print the differences and exit 1.

One difference is accepted, and only in one direction: a directory that the
reference's layer holds and the tested one does not, whose manifest line is
exactly the line of the same directory in the newest earlier reference layer
that holds it. That is a directory whose name, mode, owner and xattrs did not
change in that step. Native overlay's diff is the upper directory, and holds
every directory a step copied up (creating and removing a file in it, as
buildah does with a mount point in /run, copies it up); with a mount_program
containers/storage uses its naive diff, which compares the mounted layer with
its parent and leaves out directories whose metadata did not change. Every
mount_program gets the naive diff (fuse-overlayfs too)."""
import sys


def read(d, i):
    with open("%s/%d.manifest" % (d, i)) as f:
        return {line.split(" ", 1)[0]: line.rstrip("\n") for line in f}


def unchanged_dir(ref, i, name, line):
    if line.split(" ")[1] != "d":
        return False
    for j in range(i - 1, 0, -1):
        earlier = read(ref, j)
        if name in earlier:
            return earlier[name] == line
    return False


def main():
    ref, test, i = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a, b = read(ref, i), read(test, i)
    bad = []
    for name in sorted(set(a) | set(b)):
        if a.get(name) == b.get(name):
            continue
        if name not in b and unchanged_dir(ref, i, name, a[name]):
            print("# accepted: %s: only the reference holds this unchanged "
                  "directory (naive diff)" % a[name])
            continue
        if name in a:
            bad.append("< " + a[name])
        if name in b:
            bad.append("> " + b[name])
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
