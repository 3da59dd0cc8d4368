#!/bin/sh
# Instructions per frame for each row of the decoder micro-benchmark, as
# counted by callgrind: unlike times, the same on a quiet or a busy
# machine. Only the loop in count_calls() is counted (--toggle-collect),
# so start-up and frame building are left out. (No memcpy column here:
# under valgrind memcpy is valgrind's own replacement, not glibc's.)
# Prints a Markdown table.
#
#   callgrind-decoder.sh [BENCH_DECODE]    (default tests/bench/bench_decode)
set -eu

bin=${1:-tests/bench/bench_decode}
command -v valgrind >/dev/null 2>&1 || {
	echo "callgrind-decoder.sh: valgrind is not installed" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # ROW N fn|memcpy: instructions in count_calls
	valgrind --tool=callgrind --toggle-collect=count_calls \
		--callgrind-out-file="$tmp/out" "$bin" --count "$1" "$2" "$3" \
		>"$tmp/what" 2>"$tmp/err" || {
		cat "$tmp/err" >&2
		exit 1
	}
	sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/out"
}

echo "| frame | bytes | instructions/frame | instructions/byte |"
echo "|---|---|---|---|"
rows=$("$bin" --rows)
k=0
while [ "$k" -lt "$rows" ]; do
	# Enough calls that the loop's own few instructions do not matter,
	# few enough that the big Metadata rows take seconds, not minutes.
	n=2000
	[ "$(count "$k" 10 fn)" -gt 1000000 ] && n=20
	fn=$(count "$k" "$n" fn)
	what=$(cut -f1 "$tmp/what")
	bytes=$(cut -f2 "$tmp/what")
	awk -v w="$what" -v b="$bytes" -v f="$fn" -v n="$n" \
		'BEGIN { printf "| %s | %s | %.0f | %.1f |\n", w, b, f / n, f / n / b }'
	k=$((k + 1))
done
