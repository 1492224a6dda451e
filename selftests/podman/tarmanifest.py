#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print a sorted manifest of a tar (podman export): one line per entry with
name, type, mode, uid, gid, size, sha256 of the contents, link target and
xattrs; mtimes are left out. Hard links print their target's manifest line's
contents (podman may pick either name as the first of a link set)."""
import hashlib
import sys
import tarfile

KIND = {tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f", tarfile.DIRTYPE: "d",
        tarfile.SYMTYPE: "l", tarfile.LNKTYPE: "h", tarfile.CHRTYPE: "c",
        tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p"}

lines = []
with tarfile.open(sys.argv[1]) as t:
    digest = {}
    members = t.getmembers()
    for m in members:
        if m.isreg():
            digest[m.name] = hashlib.sha256(t.extractfile(m).read()).hexdigest()
    for m in members:
        name = m.name.rstrip("/")
        kind = KIND.get(m.type, "?")
        sha, size, link = "-", m.size, "-"
        if m.isreg():
            sha = digest[m.name]
        elif m.islnk():
            kind, sha, link = "f", digest.get(m.linkname, "?"), "-"
            size = t.getmember(m.linkname).size
        elif m.issym():
            link = m.linkname
        if m.ischr() or m.isblk():
            link = "%d:%d" % (m.devmajor, m.devminor)
        xattrs = sorted("%s=%s" % (k[len("SCHILY.xattr."):], v)
                        for k, v in m.pax_headers.items()
                        if k.startswith("SCHILY.xattr."))
        lines.append("%s %s %o %d:%d %d %s %s %s" % (
            name, kind, m.mode, m.uid, m.gid, size if kind == "f" else 0,
            sha, link, ",".join(xattrs) or "-"))
for line in sorted(lines):
    print(line)
