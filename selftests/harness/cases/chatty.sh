#!/bin/sh
# Harness self-test case: a clean test that fills the kernel log with 4000
# lines (~400 KiB, ufs_fault "spam"), as a chatty suite does: more than a
# default 128 KiB log buffer holds.
echo "1..1"
if echo spam > /sys/kernel/debug/ufs_fault/trigger; then
	echo "ok 1 - 4000 lines logged"
else
	echo "not ok 1 - could not trigger (is ufs_fault loaded?)"
fi
