#!/bin/sh
# Drive the libFuzzer targets (doc/fuzzing.md). Run from the build tree by
# `make fuzz`, `make fuzz-seeds` and `make fuzz-merge`:
#
#   run.sh fuzz  SRCDIR SECONDS NAME...   each target for SECONDS, one at a
#        time, one process (-jobs=1), over its committed corpus; new inputs
#        and crashes go to fuzz-out/NAME/, never to the source tree. Prints
#        a summary: runs, exec/s, cov, ft, corpus, crashes.
#   run.sh seeds SRCDIR NAME...           merge fresh seeds into the
#        committed corpus: tests/fuzz/mkseeds output (captured and synthetic
#        frames) and tests/fuzz/seeds/, minimised with -merge=1.
#   run.sh merge SRCDIR NAME...           fold fuzz-out/NAME/corpus into
#        the committed corpus, minimised with -merge=1.
#
# FUZZ_ARGS adds libFuzzer flags (e.g. FUZZ_ARGS=-max_len=4096).
set -u
mode=$1
src=$2
shift 2
out=fuzz-out
bin=tests/fuzz
status=0

# Flags every run gets. A single input may take a while under ASan on a
# loaded machine, not ten seconds.
common="-timeout=10 -rss_limit_mb=2048 -print_final_stats=1"

dict_of() {
	[ -f "$src/tests/fuzz/$1.dict" ] && echo "-dict=$src/tests/fuzz/$1.dict"
}

# Minimise FROM... into the committed corpus of $1, replacing it. Without
# hit counts (-use_counters=0) the corpus keeps every covered edge in about
# half the files; fuzzing finds the hit counts again within seconds.
merge_into() {
	name=$1
	shift
	corpus=$src/tests/fuzz/corpus/$name
	new=$out/$name/merged.$$
	rm -rf "$new"
	mkdir -p "$new" "$corpus" || return 1
	# shellcheck disable=SC2046
	if ! "$bin/fuzz_$name" -merge=1 -use_counters=0 $common \
		$(dict_of "$name") \
		"$new" "$corpus" "$@" >"$out/$name/merge.log" 2>&1; then
		echo "fuzz-merge: $name failed, see $out/$name/merge.log" >&2
		tail -n 30 "$out/$name/merge.log" >&2
		rm -rf "$new"
		return 1
	fi
	rm -f "$corpus"/*
	cp "$new"/* "$corpus"/ 2>/dev/null
	rm -rf "$new"
	echo "$name: $(ls "$corpus" | wc -l) inputs," \
		"$(cat "$corpus"/* | wc -c) bytes in tests/fuzz/corpus/$name"
}

case $mode in
fuzz)
	secs=$1
	shift
	printf '%-8s %8s %10s %8s %6s %6s %7s %s\n' target seconds runs \
		exec/s cov ft corpus crashes >"$out.summary.tmp" 2>/dev/null ||
		{ mkdir -p "$out" && : >"$out.summary.tmp"; }
	for name in "$@"; do
		dir=$out/$name
		mkdir -p "$dir/corpus" "$dir/crashes"
		log=$dir/fuzz.log
		start=$(date +%s)
		echo "fuzz: $name for ${secs}s (log: $log)"
		# shellcheck disable=SC2046,SC2086
		"$bin/fuzz_$name" -max_total_time="$secs" $common \
			$(dict_of "$name") -artifact_prefix="$dir/crashes/" \
			${FUZZ_ARGS:-} "$dir/corpus" \
			"$src/tests/fuzz/corpus/$name" >"$log" 2>&1
		rc=$?
		end=$(date +%s)
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
		last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
		cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
		ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
		corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
		crashes=$(ls "$dir/crashes" | wc -l)
		printf '%-8s %8s %10s %8s %6s %6s %7s %s\n' "$name" \
			$((end - start)) "${runs:-?}" "${speed:-?}" "${cov:-?}" \
			"${ft:-?}" "${corp:-?}" "$crashes" >>"$out.summary.tmp"
		if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
			echo "fuzz: $name FAILED (exit $rc); the end of $log:" >&2
			grep -E 'ERROR|check failed|SUMMARY|Test unit written' \
				"$log" | head -n 10 >&2
			status=1
		fi
	done
	echo
	echo "fuzz summary ($(date -u '+%Y-%m-%d %H:%M UTC'), ${secs}s each):"
	cat "$out.summary.tmp"
	mv "$out.summary.tmp" "$out/summary.txt"
	[ $status -eq 0 ] || echo "fuzz: crashes in $out/*/crashes:" \
		"save each under tests/fuzz/regressions/NAME/" >&2
	;;
seeds)
	tmp=$out/seeds.$$
	rm -rf "$tmp"
	mkdir -p "$tmp" || exit 1
	"$bin/mkseeds" "$src/tests/data" "$tmp" || exit 1
	for name in "$@"; do
		mkdir -p "$out/$name" "$tmp/$name"
		[ -d "$src/tests/fuzz/seeds/$name" ] &&
			cp "$src/tests/fuzz/seeds/$name"/* "$tmp/$name"/
		merge_into "$name" "$tmp/$name" || status=1
	done
	rm -rf "$tmp"
	;;
merge)
	for name in "$@"; do
		[ -d "$out/$name/corpus" ] || continue
		merge_into "$name" "$out/$name/corpus" || status=1
	done
	;;
*)
	echo "usage: run.sh fuzz|seeds|merge SRCDIR ..." >&2
	exit 2
	;;
esac
exit $status
