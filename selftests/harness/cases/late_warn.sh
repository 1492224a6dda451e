#!/bin/sh
# Harness self-test case: passes by its own TAP, and its window of the
# kernel log is clean; but it leaves delayed work behind that WARNs 1 s
# later, after the test ended (as deferred work or a lazy unmount would).
# The suite's scan of the log between and after tests must catch it.
echo "1..1"
if echo warn_later > /sys/kernel/debug/ufs_fault/trigger; then
	echo "ok 1 - delayed WARN queued"
else
	echo "not ok 1 - could not trigger (is ufs_fault loaded?)"
fi
