#!/bin/sh
# Add up `make check` runs in build dirs $@ (default .): Criterion's
# per-suite counts (hidden by automake in tests/*.log) plus the script
# tests' own counts, then print the failing logs and one line
# "N passed, N failed". Exit 1 on failures.
set -eu
[ $# -gt 0 ] || set -- .
passed=0
failed=0
skipped=0
for trs in $(find "$@" -path '*/tests/*' -name '*.trs' | sort); do
	dir=${trs%%/tests/*}
	log=${trs%.trs}.log
	res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	syn=$(grep -a 'Synthesis: Tested:' "$log" 2>/dev/null | tail -n 1 || true)
	chk=$(grep -a '^checks: [0-9]* passed, [0-9]* failed' "$log" 2>/dev/null | tail -n 1 || true)
	if [ -n "$chk" ]; then
		# An integration script: its own count of checks.
		p=$(echo "$chk" | sed 's/^checks: \([0-9]*\) passed.*/\1/')
		f=$(echo "$chk" | sed 's/.* \([0-9]*\) failed.*/\1/')
		if [ "$res" != PASS ] && [ "$res" != SKIP ] && [ "$f" = 0 ]; then
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		echo "$(basename "$dir")/$(basename "${trs%.trs}"): $p passed, $f failed"
	elif [ -n "$syn" ]; then
		p=$(echo "$syn" | sed 's/.*Passing: \([0-9]*\).*/\1/')
		f=$(echo "$syn" | sed 's/.*Failing: \([0-9]*\).*/\1/')
		c=$(echo "$syn" | sed 's/.*Crashing: \([0-9]*\).*/\1/')
		# A suite that failed without counting a failing test (it
		# died before its summary was complete) still counts once.
		if [ "$res" != PASS ] && [ $((f + c)) = 0 ]; then
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f + c))
		echo "$(basename "$dir")/$(basename "${trs%.trs}"): $p passed, $((f + c)) failed"
	else
		case $res in
		PASS) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
		echo "$(basename "$dir")/$(basename "${trs%.trs}"): $res"
	fi
	case $res in
	PASS | SKIP) ;;
	*)
		echo "---- $log ----"
		tail -n 60 "$log"
		;;
	esac
	if [ "$res" = SKIP ]; then
		echo "  SKIPPED: $(grep -a 'SKIP' "$log" | head -n 2 | tr '\n' ' ')"
	fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
