#!/bin/sh
# Harness self-test case: plans 2 tests, passes 1, then dies of SIGSEGV
# without a "not ok" -> must count as a failure.
echo "1..2"
echo "ok 1 - first"
kill -SEGV $$
