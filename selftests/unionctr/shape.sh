#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The launcher's shape (issue 16, "Shape of the code"), checked on its
# source and on one run (TAP on stdout):
#   - no function longer than 80 lines (the developer guide's limit);
#   - modules depend downward: CLI -> container -> images/volumes -> store;
#     "who references this image/volume" is the store's answer, so images.c,
#     volumes.c and store.c include no module above them;
#   - no function of ours in json-c's json_ namespace (one JSON module);
#   - the image's merged view is a host-side helper (images.c), not part of
#     the in-container mounts.c, and the CLI never moves itself into a
#     private mount namespace to mount it (strace of a create that fills a
#     volume from a three-layer image).
# UNIONCTR_SRC: the launcher's source (default: the tree this was built from).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
e2e_init uc-shape
trap 'rm -rf "$T"' EXIT
SRC=${UNIONCTR_SRC:-@UC_SRC@}
case $SRC in @*) SRC=$(cd "$HERE/../../.." && pwd)/userspace/unionctr ;; esac

[ -f "$SRC/container.c" ]
ok $? "the launcher's source at $SRC"

# Kernel style: a definition's "{" and "}" at column 0, its header (first
# line at column 0 with a "(") just before.
long=$(awk '
	/^[A-Za-z_].*\(/ && !/;[ \t]*$/ { hdr = $0; hline = FNR }
	/^\{/ && hdr != "" {
		start = FNR; infn = 1
		name = hdr; gsub(/__attribute__\(\([^)]*\)\)/, "", name)
		sub(/\(.*/, "", name); sub(/.*[ \t*]/, "", name)
	}
	/^\}/ && infn { if (FNR - start + 1 > 80) print FILENAME ":" hline " " name " " FNR - start + 1; infn = 0; hdr = "" }
	' "$SRC"/*.c | sed "s|^$SRC/||")
is "$long" "" "no function longer than 80 lines"
n=$(awk '/^\{/ { n++ } END { print n + 0 }' "$SRC"/*.c)
ok $(( n < 100 )) "  ($n function bodies measured)"

includes() { # FILE: the project headers it includes
	sed -n 's/^#include "\([a-z_]*\.h\)".*/\1/p' "$SRC/$1" 2>/dev/null | sort | tr '\n' ' '
}
for pair in images.c:container.h volumes.c:container.h volumes.c:images.h \
	images.c:volumes.h import.c:container.h store.c:container.h store.c:images.h \
	store.c:volumes.h layer.c:container.h layer.c:images.h; do
	f=${pair%%:*} h=${pair#*:}
	unlike "$(includes "$f")" "(^| )$h( |$)" "$f does not include $h (modules depend downward)"
done
for f in store_image_users store_volume_users; do
	grep -q "^[a-z].*[ *]$f(" "$SRC/store.c"
	ok $? "the store answers who references: $f() in store.c"
done

ours=$(grep -nE '^[a-z].*[ *]json_[a-z0-9_]*\(' "$SRC"/*.c | sed "s|^$SRC/||")
is "$ours" "" "no function of ours in json-c's json_ namespace"

view=$(grep -nE '^[a-z].*[ *]image_view[a-z_]*\(' "$SRC"/mounts.c | sed "s|^$SRC/||")
is "$view" "" "no image view helper in the in-container mounts.c"

# The CLI itself never unshares: a volume filled from a three-layer image
# (its merged view is mounted) by a create traced without -f, so that only
# the CLI's own process is seen.
if command -v strace >/dev/null; then
	make_busybox_rootfs "$T/rootfs"
	make_oci_layout "$T/rootfs" "$T/oci"
	uc import "$T/oci" >/dev/null
	out=$(strace -qq -e trace=unshare,setns -o "$T/trace" "$UC" --root "$ROOT" \
		create -v seedvol:/opt/seed ocitest:1 true 2>&1); rc=$?
	is "$rc" 0 "create -v seedvol:/opt/seed of a three-layer image (the volume is filled from its merged view)"
	id=$(echo "$out" | tail -1)
	is "$(cat "$ROOT/volumes/seedvol/_data/file" 2>&1)" "seed" "  the volume holds the image's /opt/seed/file"
	is "$(grep -E 'unshare|setns' "$T/trace")" "" "  the CLI's own process never unshares or enters a namespace"
	uc rm -v "$id" >/dev/null 2>&1
else
	ok 1 "strace is needed to trace the CLI (scripts/deps installs it)"
fi
done_testing
