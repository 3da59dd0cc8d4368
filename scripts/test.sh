#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: install what is
# missing, build, run `make check` (unit suites, generator freshness,
# fuzz-corpus replays, integration tests against real brokers and
# clients), then all of it again in a sanitizer build (ASan + UBSan, no
# recovery), the format check, and print one summary line
# "N passed, N failed".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh
status=0
make -C build -j"$(nproc)" check || status=$?
make -C build format-check || status=$?
mkdir -p build-san
(cd build-san && ../configure -q --enable-werror --enable-sanitizers) &&
	make -C build-san -j"$(nproc)" ||
	status=$?
make -C build-san -j"$(nproc)" check || status=$?
sh "$top/scripts/summary.sh" build build-san || status=$?
exit $status
