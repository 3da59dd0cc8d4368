#!/bin/sh
# The committed protocol tables must be what tools/kp_gen.py makes of the
# Apache Kafka message definitions. Needs those definitions: KP_SHARED, or
# ../shared/kafka-protocol beside the source tree.
set -u
src=${top_srcdir:-.}
defs=${KP_SHARED:-$src/../shared/kafka-protocol}
py=${PYTHON3:-python3}
if [ ! -d "$defs/message" ]; then
	echo "SKIP: no Apache Kafka message definitions at $defs/message;" >&2
	echo "SKIP: set KP_SHARED=DIR to check protocol/*_gen.* for staleness." >&2
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
"$py" "$src/tools/kp_gen.py" "$defs/message" "$defs/errors.csv" "$tmp" || exit 99
fail=0
for f in kp_fields_gen.h kp_schema_gen.c; do
	if ! cmp -s "$tmp/$f" "$src/protocol/$f"; then
		echo "FAIL: protocol/$f is stale: run 'make regen KP_SHARED=$defs'" >&2
		diff -u "$src/protocol/$f" "$tmp/$f" | head -20 >&2
		fail=1
	fi
done
[ $fail = 0 ] && echo "PASS: protocol/kp_fields_gen.h and kp_schema_gen.c are current"
exit $fail
