#!/bin/sh
# Harness self-test case: passes by its own TAP but makes the kernel WARN
# (ufs_fault module) -> the per-test kernel log scan must fail it.
echo "1..1"
if echo warn > /sys/kernel/debug/ufs_fault/trigger; then
	echo "ok 1 - WARN triggered"
else
	echo "not ok 1 - could not trigger (is ufs_fault loaded?)"
fi
