# Shared helpers for scripts/vm/*: sourced, not executed.
# shellcheck shell=bash

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$VM_DIR/../.." && pwd)
BUILD=$TOP/build

die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

note() {
	echo "${0##*/}: $*" >&2
}

# The default guest kernel: the newest 6.1 in /boot.
default_kver() {
	local k
	k=$(find /boot -maxdepth 1 -name 'vmlinuz-6.1.*' -printf '%f\n' 2>/dev/null |
		sed 's/^vmlinuz-//' | sort -V | tail -n1)
	[ -n "$k" ] || die "no /boot/vmlinuz-6.1.* found (run scripts/deps)"
	echo "$k"
}

# The debug (KASAN+lockdep) kernel: prints the cache directory that holds
# bzImage, kver and build/. Builds it the first time (slow, once per machine).
# UNIONFS_DEBUG_KERNEL_DIR overrides the build script.
debug_kernel_dir() {
	local dir out
	if [ -n "${UNIONFS_DEBUG_KERNEL_DIR:-}" ]; then
		dir=$UNIONFS_DEBUG_KERNEL_DIR
	else
		[ -x "$TOP/scripts/debug-kernel/build" ] ||
			die "scripts/debug-kernel/build is missing: cannot boot the debug kernel"
		# Its progress goes to stderr; stdout ends with the cache directory.
		out=$("$TOP/scripts/debug-kernel/build") ||
			die "scripts/debug-kernel/build failed"
		dir=$(printf '%s\n' "$out" | sed '/^[[:space:]]*$/d' | tail -n1)
	fi
	[ -f "$dir/bzImage" ] && [ -f "$dir/kver" ] && [ -d "$dir/build" ] ||
		die "debug kernel dir '$dir' lacks bzImage, kver or build/"
	echo "$dir"
}

# A debug kernel that is already built (without building one): prints its
# directory or nothing. Used to decide whether debug-only checks can run.
debug_kernel_built() {
	local d
	if [ -n "${UNIONFS_DEBUG_KERNEL_DIR:-}" ]; then
		d=$UNIONFS_DEBUG_KERNEL_DIR
	else
		d=$(ls -td /var/cache/unionfs/kernel-*/ 2>/dev/null | head -n1)
		d=${d%/}
	fi
	if [ -n "$d" ] && [ -f "$d/bzImage" ] && [ -f "$d/kver" ] && [ -d "$d/build" ]; then
		echo "$d"
	fi
}

# build_ext_module KBUILD_DIR SRC_DIR OUT_DIR: build the out-of-tree module
# whose sources (*.c, *.h, Kbuild) are in SRC_DIR, in OUT_DIR (a directory of
# symlinks, as the top Makefile does), against the kernel tree KBUILD_DIR.
build_ext_module() {
	local kb=$1 src=$2 out=$3 f
	mkdir -p "$out"
	for f in "$src"/*.c "$src"/*.h "$src"/Kbuild; do
		[ -e "$f" ] && ln -sf "$f" "$out/"
	done
	find "$out" -maxdepth 1 -xtype l -delete
	make -s -C "$kb" M="$out" modules >&2 ||
		die "module build in $out against $kb failed"
}
