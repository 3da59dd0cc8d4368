#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: install what is
# missing, build, run `make check` (unit suites, generator freshness,
# integration tests against real brokers and clients), the format check,
# and print one summary line "N passed, N failed".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh
cd build
status=0
make -j"$(nproc)" check || status=$?
make format-check || status=$?
sh "$top/scripts/summary.sh" . || status=$?
exit $status
