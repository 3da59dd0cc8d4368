#!/bin/bash
# capture_frames.sh - dev-time tool: capture real Kafka clients (kcat,
# confluent-kafka-python, kafka-python, node-rdkafka) talking to real brokers
# (librdkafka 2.0.2's mock cluster via tests/peers/mock_cluster.c, librdkafka
# 2.12's via tests/peers/mock-broker.js) on loopback, and split the traffic
# into per-frame fixtures in tests/data/captured (see split_frames.py).
#
# usage: tests/tools/capture_frames.sh -p KAFKA_MESSAGE_DIR [-o OUT_DIR] [-w WORK_DIR] [-k]
#   -p  Apache Kafka's message definitions (e.g. ../shared/kafka-protocol/message);
#       or set KAFKA_MESSAGE_DIR. Required: api names come from there.
#   -o  output folder (default tests/data/captured)
#   -w  work folder for builds, logs and .pcapng files, kept (default: a new
#       temp folder, removed at exit unless -k)
#   -k  keep the temp work folder
# Needs: gcc, pkg-config, librdkafka-dev, kcat, dumpcap + tshark (root or
# capture rights on lo), node + tests/peers/node_modules (npm ci), /usr/bin/python3
# with python3-confluent-kafka and python3-kafka.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEERS=$ROOT/tests/peers
PY=/usr/bin/python3
MSG_DIR=${KAFKA_MESSAGE_DIR:-}
OUT=$ROOT/tests/data/captured
WORK=
KEEP=0

usage() {
	sed -n 's/^# \{0,1\}//; 8,14p' "$0" >&2
	exit 2
}

while getopts "p:o:w:kh" opt; do
	case $opt in
	p) MSG_DIR=$OPTARG ;;
	o) OUT=$OPTARG ;;
	w) WORK=$OPTARG ;;
	k) KEEP=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

die() { echo "capture_frames: $*" >&2; exit 1; }
say() { echo "capture_frames: $*" >&2; }

if [ -z "$MSG_DIR" ]; then
	die "give Apache Kafka's message definitions with -p DIR (or KAFKA_MESSAGE_DIR), e.g. -p ../shared/kafka-protocol/message"
fi
ls "$MSG_DIR"/*Request.json > /dev/null 2>&1 ||
	die "no *Request.json message definitions in '$MSG_DIR'"
for tool in gcc pkg-config kcat dumpcap tshark node timeout; do
	command -v "$tool" > /dev/null || die "$tool not found"
done
[ -x "$PY" ] || die "$PY not found"
"$PY" -c 'import confluent_kafka, kafka' 2> /dev/null ||
	die "$PY cannot import confluent_kafka and kafka (apt-get install python3-confluent-kafka python3-kafka)"
[ -d "$PEERS/node_modules/node-rdkafka" ] ||
	die "node-rdkafka missing: run (cd tests/peers && npm ci --no-audit --no-fund)"

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/capture_frames.XXXXXX) || die "mktemp failed"
	OWN_WORK=1
else
	KEEP=1
	mkdir -p "$WORK" || die "cannot create $WORK"
fi

# ------------------------------------------------------------- process care
PIDS=()        # every background process we started and still own
BROKER_PID=
DUMPCAP_PID=

stop_pid() {   # stop_pid PID SIGNAL: signal, then wait up to 10 s, then KILL
	local pid=$1 sig=$2 i
	kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null; return 0; }
	kill "-$sig" "$pid" 2> /dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2> /dev/null; then
		say "pid $pid ignored SIG$sig for 10 s, killing it"
		kill -KILL "$pid" 2> /dev/null
	fi
	wait "$pid" 2> /dev/null
}

cleanup() {
	local pid
	# dumpcap first (SIGINT flushes its file), then clients, then brokers.
	[ -n "$DUMPCAP_PID" ] && stop_pid "$DUMPCAP_PID" INT
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid" TERM
	done
	PIDS=()
	if [ "$KEEP" = 1 ]; then
		say "work folder kept: $WORK"
	elif [ "${OWN_WORK:-0}" = 1 ]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM HUP

forget_pid() {
	local keep=() pid
	for pid in "${PIDS[@]}"; do
		[ "$pid" = "$1" ] || keep+=("$pid")
	done
	PIDS=("${keep[@]}")
}

wait_for() {   # wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
	local secs=$1 what=$2 i
	shift 2
	for i in $(seq $((secs * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	die "timed out after ${secs}s waiting for $what"
}

# run_client TIMEOUT LABEL CMD...: run a client in the background (so traps
# act at once) and wait for it. A non-zero status is fatal, except a timeout
# (status 124, SIGINT sent) when OK_ON_TIMEOUT=1.
run_client() {
	local secs=$1 label=$2 pid rc
	shift 2
	say "  client: $label"
	timeout -s INT -k 5 "$secs" "$@" >> "$WORK/$SOURCE.clients.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	case $rc in
	0) ;;
	124) [ "${OK_ON_TIMEOUT:-0}" = 1 ] ||
		die "$label timed out after ${secs}s (log: $WORK/$SOURCE.clients.log)" ;;
	*) die "$label failed with status $rc (log: $WORK/$SOURCE.clients.log)" ;;
	esac
}

# ------------------------------------------------------------ broker + capture
start_broker() {   # start_broker mock202|mock212 TOPIC...
	local kind=$1 bs="$WORK/$SOURCE.bootstrap" targs=() t
	shift
	for t in "$@"; do targs+=(-t "$t"); done
	rm -f "$bs"
	case $kind in
	mock202) "$WORK/mock_cluster" -b 3 -f "$bs" "${targs[@]}" \
		> "$WORK/$SOURCE.broker.log" 2>&1 & ;;
	mock212) node "$PEERS/mock-broker.js" -b 3 -f "$bs" "${targs[@]}" \
		> "$WORK/$SOURCE.broker.log" 2>&1 & ;;
	*) die "unknown broker kind $kind" ;;
	esac
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	wait_for 30 "the $kind bootstrap file" test -s "$bs"
	BOOTSTRAP=$(cat "$bs")
	say "  broker $kind up: $BOOTSTRAP"
}

start_capture() {
	local filter="" port log="$WORK/$SOURCE.dumpcap.log"
	for port in $(tr ',' '\n' <<< "$BOOTSTRAP" | sed 's/.*://'); do
		filter+="${filter:+ or }tcp port $port"
	done
	dumpcap -q -i lo -f "$filter" -w "$WORK/$SOURCE.pcapng" > "$log" 2>&1 &
	DUMPCAP_PID=$!
	wait_for 15 "dumpcap to start" grep -q "^Capturing on" "$log"
}

stop_capture_and_broker() {
	# The clients have exited; give dumpcap a moment to read the last packets
	# from the kernel before SIGINT makes it flush and close the file.
	sleep 0.5
	stop_pid "$DUMPCAP_PID" INT
	DUMPCAP_PID=
	stop_pid "$BROKER_PID" TERM
	forget_pid "$BROKER_PID"
	BROKER_PID=
	[ -s "$WORK/$SOURCE.pcapng" ] || die "no capture written for $SOURCE"
	CAPTURES+=("$SOURCE=$WORK/$SOURCE.pcapng")
}

# ----------------------------------------------------------------- clients
# Message sets: a few short lines, one of ~2 KB, some with keys.
make_inputs() {
	local big
	big=$(head -c 2048 /dev/zero | tr '\0' 'k')
	printf 'plain message %s\n' 1 2 3 > "$WORK/plain.txt"
	printf '%s\n' "$big" >> "$WORK/plain.txt"
	printf 'key-%s:keyed message %s\n' 1 1 2 2 3 3 > "$WORK/keyed.txt"
}

# Topics for an all-topics Metadata response of a few KB.
META_TOPICS_202=(meta-a:8 meta-b:8 meta-c:8 meta-d:8 meta-e:8 meta-f:8)
META_TOPICS_212=(meta-a meta-b meta-c meta-d meta-e meta-f meta-g meta-h)

kcat_clients() {   # kcat 1.7.1 (librdkafka 2.0.2)
	local b=$BOOTSTRAP
	run_client 20 "kcat -L" kcat -b "$b" -L
	run_client 20 "kcat producer" kcat -b "$b" -P -t kc-plain -l "$WORK/plain.txt"
	run_client 20 "kcat producer, keys" kcat -b "$b" -P -t kc-keys -K : -l "$WORK/keyed.txt"
	run_client 20 "kcat producer, gzip" kcat -b "$b" -P -t kc-gzip -z gzip -l "$WORK/plain.txt"
	run_client 20 "kcat producer, idempotent" kcat -b "$b" -P -t kc-idem \
		-X enable.idempotence=true -l "$WORK/keyed.txt"
	run_client 20 "kcat producer, acks=0" kcat -b "$b" -P -t kc-acks0 \
		-X acks=0 -l "$WORK/plain.txt"
	# A balanced consumer stays until SIGINT (timeout): first JoinGroup is
	# held 3 s by the mock, then a few heartbeats, commits and LeaveGroup.
	OK_ON_TIMEOUT=1 run_client 8 "kcat consumer group" kcat -b "$b" -G kc-group \
		-X auto.offset.reset=earliest -X heartbeat.interval.ms=500 \
		-X auto.commit.interval.ms=1000 -q kc-plain kc-keys kc-gzip
}

confluent_clients() {   # confluent-kafka-python 1.7.0 (librdkafka 2.0.2)
	local b=$BOOTSTRAP c=("$PY" "$PEERS/py_client.py")
	run_client 20 "confluent metadata" "${c[@]}" metadata --lib confluent -b "$b"
	run_client 20 "confluent producer, keys, 2 KB, lz4" "${c[@]}" produce --lib confluent \
		-b "$b" -t cf-lz4 -n 5 -k -z 2048 -C lz4
	run_client 20 "confluent producer, idempotent" "${c[@]}" produce --lib confluent \
		-b "$b" -t cf-idem -n 3 -i
	run_client 30 "confluent producer, transactional" "${c[@]}" produce --lib confluent \
		-b "$b" -t cf-txn -n 3 -x cf-txn-1 -g cf-group
	run_client 30 "confluent consumer group" "${c[@]}" consume --lib confluent \
		-b "$b" -t cf-lz4 -n 5 -g cf-group --linger 2
}

pykafka_clients() {   # kafka-python 2.0.2, api_version auto-detected
	local b=$BOOTSTRAP c=("$PY" "$PEERS/py_client.py")
	run_client 20 "kafka-python metadata" "${c[@]}" metadata --lib kafka-python -b "$b"
	run_client 20 "kafka-python producer, keys, 2 KB, gzip" "${c[@]}" produce \
		--lib kafka-python -b "$b" -t pk-gzip -n 5 -k -z 2048 -C gzip
	run_client 20 "kafka-python producer" "${c[@]}" produce --lib kafka-python \
		-b "$b" -t pk-plain -n 3
	run_client 30 "kafka-python consumer group" "${c[@]}" consume --lib kafka-python \
		-b "$b" -t pk-gzip -n 5 -g pk-group --linger 2
}

noderdkafka_clients() {   # node-rdkafka 3.6.1 (librdkafka 2.12.0); $1 = broker kind
	local b=$BOOTSTRAP c=(node "$PEERS/nr-client.js")
	run_client 20 "node-rdkafka producer, keys, 2 KB, lz4" "${c[@]}" produce \
		-b "$b" -t nr-lz4 -n 5 -k -z 2048 -C lz4
	run_client 20 "node-rdkafka producer, idempotent" "${c[@]}" produce \
		-b "$b" -t nr-idem -n 3 -i
	run_client 30 "node-rdkafka producer, transactional" "${c[@]}" produce \
		-b "$b" -t nr-txn -n 3 -x nr-txn-1
	run_client 30 "node-rdkafka consumer, classic group" "${c[@]}" consume \
		-b "$b" -t nr-lz4 -n 5 -g nr-classic -p classic -l 2
	if [ "$1" = mock212 ]; then
		run_client 30 "node-rdkafka consumer, group.protocol=consumer" "${c[@]}" consume \
			-b "$b" -t nr-lz4 -n 5 -g nr-848 -p consumer -l 2
	fi
}

# scenario SOURCE BROKER_KIND CLIENT_FUNCTION TOPIC...
scenario() {
	SOURCE=$1
	local kind=$2 fn=$3
	shift 3
	say "scenario $SOURCE"
	start_broker "$kind" "$@"
	start_capture
	"$fn" "$kind"
	stop_capture_and_broker
}

# ------------------------------------------------------------------- main
say "work folder $WORK"
gcc -O2 -Wall -Wextra -o "$WORK/mock_cluster" "$PEERS/mock_cluster.c" -pthread \
	$(pkg-config --cflags --libs rdkafka) || die "building mock_cluster failed"
make_inputs
CAPTURES=()

scenario kcat-mock202 mock202 kcat_clients kc-plain:2 kc-keys:2 kc-gzip:2 kc-idem:2 \
	kc-acks0:2 "${META_TOPICS_202[@]}"
scenario confluent-mock202 mock202 confluent_clients cf-lz4:2 cf-idem:2 cf-txn:2 \
	"${META_TOPICS_202[@]}"
scenario pykafka-mock202 mock202 pykafka_clients pk-gzip:2 pk-plain:2 \
	"${META_TOPICS_202[@]}"
scenario noderdkafka-mock202 mock202 noderdkafka_clients nr-lz4:2 nr-idem:2 nr-txn:2
scenario kcat-mock212 mock212 kcat_clients kc-plain kc-keys kc-gzip kc-idem kc-acks0 \
	"${META_TOPICS_212[@]}"
scenario confluent-mock212 mock212 confluent_clients cf-lz4 cf-idem cf-txn
scenario pykafka-mock212 mock212 pykafka_clients pk-gzip pk-plain
scenario noderdkafka-mock212 mock212 noderdkafka_clients nr-lz4 nr-idem nr-txn \
	"${META_TOPICS_212[@]}"

say "splitting ${#CAPTURES[@]} captures into $OUT"
"$PY" "$HERE/split_frames.py" --protocol-dir "$MSG_DIR" --out "$OUT" "${CAPTURES[@]}" \
	> "$WORK/split.txt" || die "split_frames.py failed"
cat "$WORK/split.txt"

# ----------------------------------------------------------------- coverage
INDEX=$OUT/index.tsv
MISSING=0
need() {   # need API_NAME DIRECTION [VERSION] [SOURCE]
	awk -F'\t' -v a="$1" -v d="$2" -v v="${3:-}" -v s="${4:-}" '
		NR > 1 && $4 == a && $2 == d && (v == "" || $5 == v) && (s == "" || $8 == s) { f = 1 }
		END { exit !f }' "$INDEX" && return 0
	say "MISSING: $1 ${3:+v$3 }$2${4:+ from $4}"
	MISSING=1
}
need ApiVersions req 0
need ApiVersions req 3
need ApiVersions resp 3
need Metadata req 12 noderdkafka-mock212
[ "$(awk -F'\t' 'NR > 1 && $4 == "Metadata" { print $5 }' "$INDEX" | sort -u | wc -l)" -ge 3 ] ||
	{ say "MISSING: Metadata in at least 3 versions"; MISSING=1; }
for api in FindCoordinator Produce Fetch ListOffsets JoinGroup SyncGroup Heartbeat \
	LeaveGroup OffsetCommit OffsetFetch InitProducerId; do
	need "$api" req
	need "$api" resp
done
need ConsumerGroupHeartbeat req "" noderdkafka-mock212
need ConsumerGroupHeartbeat resp "" noderdkafka-mock212
# Only if node-rdkafka sends it: report, do not fail.
grep -q $'\tGetTelemetrySubscriptions\t' "$INDEX" ||
	say "note: no GetTelemetrySubscriptions frames captured"
SIZE=$(du -sb "$OUT" | cut -f1)
say "$OUT: $(find "$OUT" -name '*.bin' | wc -l) frames, $SIZE bytes"
[ "$SIZE" -le 3145728 ] || { say "output larger than 3 MiB"; MISSING=1; }
[ "$MISSING" = 0 ] || die "coverage incomplete (logs in $WORK; use -k to keep them)"
say "done"
