#!/bin/sh
# The main job end to end, on an embedded default: a 3-broker demo
# cluster (librdkafka's mock), kafka-conntrace in front of it, a real
# producer and a real consumer group (kcat) through it, then a summary of
# the connection records and where the JSON log is.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh >/dev/null
make -C build -s tests/peers/mock_cluster >/dev/null

run=$top/build/demo
rm -rf "$run"
mkdir -p "$run"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# Wait until a file exists and holds a line matching $2 (bounded).
wait_for() {
	i=0
	while ! grep -qs "$2" "$1"; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "demo: timed out waiting for $1" >&2
			exit 1
		fi
		sleep 0.1
	done
}

echo "== starting a 3-broker demo cluster"
build/tests/peers/mock_cluster -b 3 -t demo:6 -f "$run/bootstrap" \
	>"$run/cluster.log" 2>&1 &
cluster=$!
pids="$pids $cluster"
wait_for "$run/bootstrap" 127.0.0.1
echo "   brokers: $(cat "$run/bootstrap")"

echo "== starting kafka-conntrace on 127.0.0.1:19092"
build/kafka-conntrace --listen 127.0.0.1:19092 \
	--upstream "$(cat "$run/bootstrap")" \
	--event-log "$run/events.jsonl" --log-requests \
	2>"$run/kafka-conntrace.log" &
kc=$!
pids="$pids $kc"
wait_for "$run/events.jsonl" proxy.start

echo "== producing 20 messages with kcat through the proxy"
i=1
while [ $i -le 20 ]; do
	echo "message-$i"
	i=$((i + 1))
done | kcat -b 127.0.0.1:19092 -P -t demo -X client.id=demo-producer

echo "== consuming them with a kcat consumer group through the proxy"
n=$(timeout 60 kcat -b 127.0.0.1:19092 -G demo-group -X client.id=demo-consumer \
	-X auto.offset.reset=earliest -e -q demo 2>/dev/null | grep -c '^message-' || true)
echo "   consumed $n of 20"

echo "== stopping kafka-conntrace (SIGTERM: it writes every record)"
kill -TERM "$kc"
wait "$kc" || true
kill -TERM "$cluster"
wait "$cluster" || true
pids=""

/usr/bin/python3 "$top/scripts/summary.py" "$run/events.jsonl"
echo
echo "The JSON log: $run/events.jsonl"
[ "$n" = 20 ]
