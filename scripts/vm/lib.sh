# Shared helpers for scripts/vm/*: sourced, not executed.
# shellcheck shell=bash

# No subshells here: this is sourced by scripts that run in the TCG guest,
# where every fork costs ~0.1 s.
VM_DIR=${BASH_SOURCE[0]%/*}
[ "$VM_DIR" != "${BASH_SOURCE[0]}" ] || VM_DIR=.
[[ "$VM_DIR" == /* ]] || VM_DIR=$PWD/$VM_DIR
VM_DIR=${VM_DIR%/.}
TOP=${VM_DIR%/scripts/vm}
case "$TOP/" in
*/./*|*/../*|*//*) TOP=$(cd "$TOP" && pwd -P); VM_DIR=$TOP/scripts/vm ;;
esac
BUILD=$TOP/build

# Kernel-log problem categories, "name|extended regex": scripts/vm/health
# reports each as one TAP line; run_one_test scans each test's share of the
# log with all of them. (kmemleak's reports are read from its own file by
# scripts/vm/health: only those that involve the module fail a run.)
KERNEL_PROBLEMS=(
	"oops, BUG or panic|BUG:|kernel BUG at|Oops|general protection fault|Kernel panic|Unable to handle kernel|double fault|stack-protector|stack guard page|invalid opcode:"
	"WARNING|WARNING:|\\[ cut here \\]"
	"lockdep report|possible circular locking|inconsistent lock state|possible recursive locking|possible irq lock inversion|suspicious RCU usage|bad unlock balance|held lock freed|lock held when returning to user|DEBUG_LOCKS_WARN_ON|lockdep is turned off|circular locking dependency"
	"KASAN, UBSAN or KFENCE report|KASAN:|UBSAN:|KFENCE:|list_add corruption|list_del corruption|slab.*corrupt|Redzone overwritten|Poison overwritten"
	"lockup, stall or hung task|soft lockup|hard LOCKUP|detected stalls?|blocked for more than|hung_task"
	"Call Trace|Call Trace:"
)
# All of them in one regex.
KERNEL_PROBLEMS_RE=""
for _c in "${KERNEL_PROBLEMS[@]}"; do
	KERNEL_PROBLEMS_RE+="${KERNEL_PROBLEMS_RE:+|}${_c#*|}"
done
unset _c

die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

note() {
	echo "${0##*/}: $*" >&2
}

# resolve_kver K: the installed kernel (/boot/vmlinuz-*) that K names: K
# itself, or the newest release that starts with K followed by ".", "-" or
# "+", so that whole version components match (6.1 picks 6.1.0-57-amd64,
# never 6.12.x). Prints nothing and returns 1 when none does.
resolve_kver() {
	local k
	if [ -e "/boot/vmlinuz-$1" ]; then
		echo "$1"
		return 0
	fi
	k=$(find /boot -maxdepth 1 -name "vmlinuz-${1}[.+-]*" -printf '%f\n' 2>/dev/null |
		sed 's/^vmlinuz-//' | sort -V | tail -n1)
	[ -n "$k" ] || return 1
	echo "$k"
}

# The default guest kernel: the newest 6.1 in /boot.
default_kver() {
	resolve_kver 6.1 || die "no /boot/vmlinuz-6.1.* found (run scripts/deps)"
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
	elif [ -x "$TOP/scripts/debug-kernel/build" ]; then
		# --path: the cache dir of the current config, only if built.
		d=$("$TOP/scripts/debug-kernel/build" --path 2>/dev/null | tail -n1) || d=""
	else
		d=""
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
	if ! make -s -C "$kb" M="$out" modules > "$out/build.log" 2>&1; then
		cat "$out/build.log" >&2
		die "module build in $out against $kb failed"
	fi
}

# run_one_test [--timeout S] [--kmsg] [--cwd DIR] NAME TAPFILE -- CMD [ARG...]
#
# Runs CMD (stdin /dev/null, stdout+stderr into TAPFILE) under a timeout
# (default 300 s) and makes sure TAPFILE fails in prove when the test failed
# without saying so:
#   - no TAP at all: "1..1" plus "ok 1" (exit 0), "ok 1 # SKIP" (exit 4,
#     KSFT_SKIP) or "not ok 1" (any other status);
#   - TAP, but a non-zero status (other than 4) and no "not ok": a "not ok"
#     line is appended (crash, timeout, exit outside the harness);
#   - TAP with fewer test lines than its plan (any status, 4 included), or
#     exit 4 after test lines without a plan: a "not ok" line is appended;
#   - --kmsg (in the guest): the kernel log written while the test ran (from
#     its "begin" mark to its "end" mark in /dev/kmsg) is scanned for
#     KERNEL_PROBLEMS; a hit appends a "not ok" line. What arrives between
#     two tests' marks is scan_kernel_log_gaps' job.
# Prints one progress line (and the TAP's tail on failure). Returns 0 when
# the test passed, 1 when not. Few forks: it runs per test in the guest.
run_one_test() {
	local timeout=300 kmsg=0 cwd="" name tap rc t0 secs why verdict=ok
	local plan tests notok planned mark hits
	while [ $# -gt 0 ]; do
		case "$1" in
		--timeout) timeout=$2; shift 2 ;;
		--kmsg) kmsg=1; shift ;;
		--cwd) cwd=$2; shift 2 ;;
		*) break ;;
		esac
	done
	name=$1 tap=$2
	[ "$3" = -- ] || die "run_one_test: -- expected"
	shift 3

	mark="unionfs-test: begin $name $RANDOM$RANDOM"
	if [ "$kmsg" = 1 ]; then
		echo "$mark" 2>/dev/null > /dev/kmsg || kmsg=0
	fi
	t0=$EPOCHREALTIME
	# (the outer braces swallow bash's "Segmentation fault" job message)
	{
		(
			[ -z "$cwd" ] || cd "$cwd" || exit 126
			exec timeout -k 10 "$timeout" "$@"
		) < /dev/null > "$tap" 2>&1
		rc=$?
	} 2>/dev/null
	secs=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 100000 ))
	secs="$((secs / 10)).$((secs % 10))"
	[ "$kmsg" = 0 ] || echo "unionfs-test: end $name (status $rc)" 2>/dev/null > /dev/kmsg

	# plan (0/1), top-level test lines, "not ok" lines that are not TODO,
	# the planned count
	read -r plan tests notok planned < <(awk '
		/^1\.\.[0-9]+/ { plan = 1; planned = substr($1, 4) + 0 }
		/^(not )?ok([ \t]|$)/ { tests++ }
		/^not ok([ \t]|$)/ && !/#[ \t]*[Tt][Oo][Dd][Oo]/ { notok++ }
		END { print plan + 0, tests + 0, notok + 0, planned + 0 }' "$tap")

	why=""
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		why="timed out after ${timeout}s"
	elif [ "$rc" = 126 ] || [ "$rc" = 127 ]; then
		why="could not run (status $rc)"
	elif [ "$rc" -gt 128 ]; then
		why="killed by signal $((rc - 128))"
	elif [ "$rc" != 0 ] && [ "$rc" != 4 ]; then
		why="exited with status $rc"
	fi
	# A TAP producer that stopped before reporting all it planned failed,
	# whatever its status (4, KSFT_SKIP, included: a skip is a whole
	# "1..0 # SKIP" or skip lines, never tests that did not report).
	if [ "$plan" = 1 ] && [ "$tests" -lt "$planned" ]; then
		why="${why:+$why; }reported $tests of the $planned tests it planned"
	elif [ "$rc" = 4 ] && [ "$tests" -gt 0 ] && [ "$plan" = 0 ]; then
		why="exited with KSFT_SKIP (4) after $tests tests and no plan"
	fi

	if [ "$plan" = 0 ] && [ "$tests" = 0 ]; then
		# Not a TAP producer: one test for the whole program.
		if [ -n "$why" ]; then
			printf '1..1\nnot ok 1 - %s # %s\n' "$name" "$why" >> "$tap"
			notok=1
		elif [ "$rc" = 4 ]; then
			printf '1..1\nok 1 - %s # SKIP exited with KSFT_SKIP (4)\n' "$name" >> "$tap"
		else
			printf '1..1\nok 1 - %s\n' "$name" >> "$tap"
		fi
		tests=1 plan=1
	elif [ -n "$why" ] && [ "$notok" = 0 ]; then
		tests=$((tests + 1))
		printf 'not ok %d - %s # %s\n' "$tests" "$name" "$why" >> "$tap"
		notok=1
		[ "$plan" = 1 ] || echo "1..$tests" >> "$tap"
	fi
	[ -z "$why" ] && [ "$notok" = 0 ] || verdict=FAIL

	if [ "$kmsg" = 1 ]; then
		hits=$(dmesg | RE=$KERNEL_PROBLEMS_RE M=$mark E="unionfs-test: end $name (" awk '
			index($0, ENVIRON["M"]) { on = 1; next }
			on && index($0, ENVIRON["E"]) { exit }
			on && $0 ~ ENVIRON["RE"] && n < 30 { print; n++ }')
		if [ -n "$hits" ]; then
			tests=$((tests + 1))
			{
				printf 'not ok %d - %s: kernel problems while it ran\n' "$tests" "$name"
				printf '%s\n' "$hits" | sed 's/^/#   /'
				[ "$plan" = 1 ] || echo "1..$tests"
			} >> "$tap"
			verdict=FAIL
			why="${why:+$why; }kernel problems in dmesg"
		fi
	fi

	printf '%-4s %s (%ss%s)\n' "$verdict" "$name" "$secs" "${why:+; $why}"
	if [ "$verdict" != ok ]; then
		tail -n 25 "$tap" | sed 's/^/    | /'
		return 1
	fi
	return 0
}

# scan_kernel_log_gaps TAPFILE: the kernel log outside every test's window.
# Deferred work (delayed fput/iput, RCU frees, workqueues, a lazy unmount
# finishing) can report a problem after a test's "end" mark, before the next
# test's "begin" mark or after the last test, where run_one_test --kmsg does
# not look. Writes one TAP line per gap, named by the test before it ("before
# the first test" for boot and setup); a problem there fails the gap's line.
# Returns 1 when a gap has a problem. One dmesg and one awk: runs once, at
# the end of the suite (the guest's log buffer holds the whole run).
scan_kernel_log_gaps() {
	local tap=$1
	dmesg | RE=$KERNEL_PROBLEMS_RE awk '
		function gap_end(   h) {
			n++
			h = hits[n]
			if (h == "") printf "ok %d - kernel log quiet %s\n", n, where
			else {
				printf "not ok %d - kernel problems %s, outside any test\n", n, where
				printf "%s", h
				bad = 1
			}
		}
		BEGIN { n = 0; where = "before the first test"; intest = 0 }
		(i = index($0, "unionfs-test: begin ")) {
			if (!intest) gap_end()
			split(substr($0, i + 20), w, " ")
			intest = 1
			next
		}
		(i = index($0, "unionfs-test: end ")) {
			split(substr($0, i + 18), w, " ")
			where = "after " w[1] " ended"
			intest = 0
			next
		}
		!intest && $0 ~ ENVIRON["RE"] && lines[n + 1]++ < 30 { hits[n + 1] = hits[n + 1] "#   " $0 "\n" }
		END {
			if (!intest) {
				where = where " (the last test; after settling)"
				gap_end()
			}
			printf "1..%d\n", n
			exit bad
		}' > "$tap"
}

# guest_status_tap LABEL RUN_STATUS DIR [LISTS_DIR [LEAVE_OUT]]: did the
# guest's suite (scripts/vm/check) run to its end? LISTS_DIR: where the
# tests.list files are (default $BUILD/selftests); LEAVE_OUT: the AREA/TEST
# names the lane left out (scripts/vm/suite's $UNIONFS_SUITE_LEAVE_OUT).
# Every other test of every tests.list must have left its TAP file, and the suite
# its kernel-log.tap; a non-zero exit status of scripts/vm/run must show as
# a "not ok" somewhere in DIR (1: a test failed; 3: the health check
# failed), else (a crash, 124 timeout, 125 no status) it fails here.
guest_status_tap() {
	local label=$1 rc=$2 d=$3 lists=${4:-$BUILD/selftests} leave_out=${5:-}
	local l dir area entry name t n=0 bad=0 missing=()
	for l in "$lists"/*/tests.list; do
		[ -f "$l" ] || continue
		dir=${l%/tests.list}
		area=${dir##*/}
		while read -r entry; do
			case "$entry" in ''|'#'*) continue ;; esac
			case "$entry" in /*) name=${entry##*/} ;; *) name=${entry#./} ;; esac
			[[ " $leave_out " != *" $area/$name "* ]] || continue
			t=$d/$area-${name//\//_}.tap
			[ -s "$t" ] || missing+=("$area-${name//\//_}.tap")
		done < "$l"
	done
	n=$((n + 1))
	if [ ${#missing[@]} = 0 ]; then
		echo "ok $n - $label: every test of the suite left its TAP file"
	else
		echo "not ok $n - $label: ${#missing[@]} tests left no TAP file (the suite ended early?)"
		printf '#   missing: %s\n' "${missing[@]}"
		bad=1
	fi
	n=$((n + 1))
	if [ -s "$d/kernel-log.tap" ]; then
		echo "ok $n - $label: the suite scanned the kernel log after its last test"
	else
		echo "not ok $n - $label: no kernel-log.tap: the suite did not reach its end"
		bad=1
	fi
	n=$((n + 1))
	case "$rc" in
	0) echo "ok $n - $label: scripts/vm/run exit status 0" ;;
	1|3)
		if grep -qs '^not ok' "$d"/*.tap; then
			echo "ok $n - $label: scripts/vm/run exit status $rc, and a failure says why"
		else
			echo "not ok $n - $label: scripts/vm/run exit status $rc, yet every TAP file passes"
			bad=1
		fi ;;
	*)
		echo "not ok $n - $label: scripts/vm/run exit status $rc (124: timeout, 125: no status from the guest)"
		bad=1 ;;
	esac
	echo "1..$n"
	return "$bad"
}
