#!/bin/sh
# Read the memcheck logs in directory $1 (kc-valgrind.PID.log, one per
# kafka-conntrace process of the valgrind test run): each must say
# "ERROR SUMMARY: 0 errors" and have no heap block left at exit but those
# tests/valgrind.supp suppresses. Prints
# one line per log that does not, its end, and "checks: N passed, M
# failed". Exit 1 on any failure or when there is no log at all.
set -eu
dir=$1
passed=0
failed=0
for log in "$dir"/kc-valgrind.*.log; do
	[ -e "$log" ] || continue
	# Suppressed blocks (tests/valgrind.supp) are in the leak summary's
	# "suppressed" line only.
	if grep -q 'ERROR SUMMARY: 0 errors' "$log" &&
		{ grep -q 'All heap blocks were freed' "$log" ||
			[ "$(grep -cE '(definitely lost|indirectly lost|possibly lost|still reachable): 0 bytes in 0 blocks' "$log")" = 4 ]; }; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $log"
		grep -m1 'Command:' "$log" || true
		tail -n 40 "$log"
	fi
done
if [ $((passed + failed)) = 0 ]; then
	echo "FAIL: no memcheck log in $dir"
	failed=1
fi
echo "checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
