#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write a docker-archive image, offline, for podman-e2e.sh.

mkimage.py BUSYBOX OUT.tar TAG

Three layers:
  1. a busybox rootfs (applets as symlinks), files with other owners, modes,
     a symlink, a hard link, a user.* xattr (PAX SCHILY.xattr);
  2. AUFS-format deletions: etc/.wh.gone hides etc/gone, opq/.wh..wh..opq
     makes opq opaque (hides opq/old and opq/sub), opq/new and dir/b added;
  3. etc/keep rewritten, etc/l3 added.
"""
import hashlib
import io
import json
import sys
import tarfile

MTIME = 1700000000
APPLETS = ("sh ls cat echo rm mkdir touch chmod chown mv sleep test true "
           "false stat sync wc grep ln cp sort").split()


def entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, uid=0, gid=0,
          link="", xattrs=None):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = MTIME
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    if xattrs:
        ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def d(name, mode=0o755, **kw):
    return entry(name, tarfile.DIRTYPE, mode=mode, **kw)


def f(name, data, **kw):
    return entry(name, data=data.encode() if isinstance(data, str) else data,
                 **kw)


def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, fobj in entries:
            t.addfile(ti, fobj)
    return buf.getvalue()


def main():
    busybox, out, tag = sys.argv[1:4]
    with open(busybox, "rb") as fh:
        bb = fh.read()
    base = [d("bin/"), d("etc/"), d("tmp/", mode=0o1777), d("root/", mode=0o700),
            f("bin/busybox", bb, mode=0o755)]
    base += [entry("bin/" + a, tarfile.SYMTYPE, link="busybox", mode=0o777)
             for a in APPLETS]
    base += [f("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
               "user:x:1000:100::/home/user:/bin/sh\n"),
             f("etc/group", "root:x:0:\nusers:x:100:\n"),
             f("etc/keep", "keep\n"), f("etc/gone", "gone\n"),
             d("opq/"), f("opq/old", "old\n"), d("opq/sub/"),
             f("opq/sub/deep", "deep\n"),
             d("dir/"), f("dir/a", "a\n"),
             d("data/"), f("data/mod", "orig\n"), f("data/del", "del\n"),
             f("data/owned", "owned\n", mode=0o640, uid=1000, gid=100),
             f("data/suid", "suid\n", mode=0o4755),
             f("data/xattr", "xattr\n", xattrs={"user.e2e": "value"}),
             entry("data/link", tarfile.SYMTYPE, link="mod", mode=0o777),
             entry("data/hard", tarfile.LNKTYPE, link="data/mod"),
             d("data/sub/", mode=0o750, uid=1000, gid=100),
             f("data/sub/f", "sub\n"),
             d("ren/"), f("ren/f", "ren\n"), d("ren/in/"), f("ren/in/g", "g\n")]
    wh = [d("etc/"), f("etc/.wh.gone", ""),
          d("opq/"), f("opq/.wh..wh..opq", ""), f("opq/new", "new\n"),
          d("dir/"), f("dir/b", "b\n")]
    top = [d("etc/"), f("etc/keep", "keep2\n"), f("etc/l3", "l3\n")]

    layers = [layer_tar(x) for x in (base, wh, top)]
    ids = [hashlib.sha256(x).hexdigest() for x in layers]
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "created": "2023-11-14T22:13:20Z",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + i for i in ids]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": w}
                    for w in ("base", "whiteouts", "top")],
    }, sort_keys=True).encode()
    cid = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": cid + ".json", "RepoTags": [tag],
                            "Layers": [i + "/layer.tar" for i in ids]}]).encode()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        files = [(cid + ".json", config), ("manifest.json", manifest)]
        files += [(i + "/layer.tar", x) for i, x in zip(ids, layers)]
        for name, data in files:
            ti, fobj = f(name, data)
            t.addfile(ti, fobj)


if __name__ == "__main__":
    main()
