#!/bin/sh
# Harness self-test case: never finishes -> the per-test timeout must fail it.
echo "1..1"
exec sleep 3600
