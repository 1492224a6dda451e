#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `unionctr run --rm IMAGE /bin/true` end to end, against crun, runc and bwrap
# running the same busybox rootfs, alternating, N rounds; medians in ms.
# usage: bench-run.sh [-n ROUNDS] [--storage overlay|unionfs] [--csv FILE]
# Needs root, /bin/busybox; crun/runc/bwrap are measured when installed.
set -u
n=20 storage=${UNIONCTR_STORAGE:-overlay} csv=""
args=("$@")	# for the re-exec below: the loop shifts them away
while [ $# -gt 0 ]; do
	case "$1" in
	-n) n=$2; shift 2 ;;
	--storage) storage=$2; shift 2 ;;
	--csv) csv=$2; shift 2 ;;
	*) echo "usage: $0 [-n ROUNDS] [--storage overlay|unionfs] [--csv FILE]" >&2; exit 2 ;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
UC=${UNIONCTR:-$HERE/../../build/bin/unionctr}
[ "$(id -u)" = 0 ] || { echo "bench-run: needs root" >&2; exit 1; }
# crun refuses hybrid cgroup hosts: run everything in a private mount
# namespace that shows the unified hierarchy alone at /sys/fs/cgroup.
if [ -z "${UC_BENCH_NS:-}" ] && [ -d /sys/fs/cgroup/unified ]; then
	exec env UC_BENCH_NS=1 unshare -m "$0" "${args[@]}"
fi
if [ -n "${UC_BENCH_NS:-}" ]; then
	mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup
fi
[ -x "$UC" ] || { echo "bench-run: $UC not built" >&2; exit 1; }

T=$(mktemp -d "${UC_BENCH_TMPDIR:-/tmp}/uc-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
R=$T/bundle/rootfs
mkdir -p "$R"/{bin,etc,proc,sys,dev,tmp}
cp /bin/busybox "$R/bin/"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
"$UC" --root "$T/state" import --name bench "$R" >/dev/null || exit 1

tools=(unionctr)
if command -v crun >/dev/null; then
	(cd "$T/bundle" && crun spec)
	# /bin/true, no terminal, and no cgroup mount (crun refuses hybrid hosts).
	python3 - "$T/bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["mounts"] = [m for m in c["mounts"] if m.get("type") != "cgroup"]
json.dump(c, open(p, "w"))
EOF
	tools+=(crun)
fi
command -v runc >/dev/null && [ -f "$T/bundle/config.json" ] && tools+=(runc)
command -v bwrap >/dev/null && tools+=(bwrap)

run_one() {
	case "$1" in
	unionctr) "$UC" --root "$T/state" --storage "$storage" run --rm bench /bin/true ;;
	crun) crun --cgroup-manager=disabled run -b "$T/bundle" "b$$" ;;
	runc) runc run -b "$T/bundle" "b$$" ;;
	bwrap) bwrap --bind "$R" / --proc /proc --dev /dev --unshare-all --die-with-parent /bin/true ;;
	esac
}

declare -A times
for t in "${tools[@]}"; do
	run_one "$t" >/dev/null 2>&1 || { echo "# $t failed: dropped" >&2; continue; }
	times[$t]=""
done
for i in $(seq "$n"); do
	for t in "${!times[@]}"; do
		s=$(date +%s%N)
		run_one "$t" >/dev/null 2>&1
		times[$t]+=" $(( ($(date +%s%N) - s) / 1000 ))"
	done
done
printf '%-10s %10s %10s\n' tool median_ms min_ms
[ -n "$csv" ] && echo "tool,median_ms,min_ms" > "$csv"
for t in "${tools[@]}"; do
	[ -n "${times[$t]+x}" ] || continue
	read -r med min < <(printf '%s\n' ${times[$t]} | sort -n |
		awk '{v[NR]=$1} END {printf "%.1f %.1f\n", v[int((NR+1)/2)]/1000, v[1]/1000}')
	printf '%-10s %10s %10s\n' "$t" "$med" "$min"
	[ -n "$csv" ] && echo "$t,$med,$min" >> "$csv"
done
exit 0
