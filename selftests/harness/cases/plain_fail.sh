#!/bin/sh
# Harness self-test case: no TAP, exit 1 -> must count as a failure.
echo "something went wrong" >&2
exit 1
