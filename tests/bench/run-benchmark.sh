#!/bin/bash
# End-to-end benchmark of kafka-conntrace against a direct connection and
# HAProxy in TCP mode, on one 3-broker librdkafka mock cluster. Run by
# `make benchmark` as root; writes doc/benchmarks.md (tests/bench/
# bench_report.py formats it). Every claim is a ratio to a baseline
# measured in the same run: the paths are interleaved, several runs each.
#
# Layout (two network namespaces, loopback only, nothing else reachable):
#   kcb-b-PID  the mock brokers on 127.0.0.1:P1..P3, and the direct client
#   kcb-p-PID  HAProxy on 127.0.0.1:P1..P3 (the brokers' own port numbers,
#              `server ... namespace kcb-b-PID`), kafka-conntrace on
#              127.0.0.1:19092 + its broker listeners, and their clients.
# kafka-conntrace reaches the brokers through tests/bench/netshim.so, which
# makes each socket it connects inside kcb-b-PID, as HAProxy's `namespace`
# does. In kcb-p-PID the broker addresses exist only as HAProxy's
# listeners, so a client the proxy failed to rewrite for would land in
# HAProxy; each run checks that the proxy off its path stayed idle.
#
# Environment: BENCH_QUICK=1 (a smoke test: one run, tiny sizes, output to
# ./benchmarks-quick.md), BENCH_RUNS, BENCH_SECS, BENCH_LAT_SECS,
# BENCH_LAT_RATE, BENCH_IDLE_CONNS, BENCH_IDLE_PROC_CONNS, BENCH_PEAK_MB,
# BENCH_LONG_MB,
# BENCH_PROFILE=1 (perf record kafka-conntrace under the 10 KB producer),
# BENCH_ONLY="runs transfers idle" (a subset of the parts, for debugging),
# BENCH_KC_NODELAY=1 (an experiment: netshim.so sets TCP_NODELAY on
# kafka-conntrace's sockets, which it does not do itself),
# BENCH_HAPROXY_THREADS (default 1), BENCH_OUT, BENCH_KEEP=1 (keep the
# work directory), BENCH_HOLD=1 (set up, print how to reach each path,
# and wait for ^C: for profiling by hand). Paths: KC_BIN, MOCK_CLUSTER, KBENCH, KIDLE, NETSHIM,
# top_srcdir.
set -euo pipefail

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
KC_BIN=${KC_BIN:-./kafka-conntrace}
MOCK_CLUSTER=${MOCK_CLUSTER:-./tests/peers/mock_cluster}
KBENCH=${KBENCH:-./tests/bench/kbench}
KIDLE=${KIDLE:-./tests/bench/kidle}
NETSHIM=${NETSHIM:-./tests/bench/netshim.so}
REPORT=${BENCH_REPORT:-$top_srcdir/tests/bench/bench_report.py}
PYTHON=/usr/bin/python3

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	d_runs=1 d_secs=1 d_lat=1 d_idle=500 d_proc=200 d_peak=100 d_long=200
	d_out=./benchmarks-quick.md
else
	d_runs=5 d_secs=3 d_lat=5 d_idle=10000 d_proc=1000 d_peak=1024
	d_long=4096
	d_out=$top_srcdir/doc/benchmarks.md
fi
RUNS=${BENCH_RUNS:-$d_runs}
SECS=${BENCH_SECS:-$d_secs}
LAT_SECS=${BENCH_LAT_SECS:-$d_lat}
LAT_RATE=${BENCH_LAT_RATE:-1000}
IDLE_WANT=${BENCH_IDLE_CONNS:-$d_idle}
IDLE_PROC_CONNS=${BENCH_IDLE_PROC_CONNS:-$d_proc}
PEAK_MB=${BENCH_PEAK_MB:-$d_peak}
LONG_MB=${BENCH_LONG_MB:-$d_long}
PROFILE=${BENCH_PROFILE:-0}
HAP_THREADS=${BENCH_HAPROXY_THREADS:-1}
KC_NODELAY=${BENCH_KC_NODELAY:-0}
ONLY=" ${BENCH_ONLY:-runs transfers idle} "
part() { [[ $ONLY == *" $1 "* ]]; }
OUT=${BENCH_OUT:-$d_out}

KC_PORT=19092       # kafka-conntrace's bootstrap listener (in NS_P)
KC_BROKER_PORTS=19093-19099
IDLE_SINK_PORT=19500
IDLE_KC_PORT=19600
IDLE_HAP_PORT=19601

say() { echo "benchmark: $*" >&2; }
die() {
	say "FAILED: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (network namespaces, HAProxy's namespace option, setns)"
if ! command -v haproxy >/dev/null 2>&1; then
	say "haproxy missing: running scripts/install-deps.sh"
	sh "$top_srcdir/scripts/install-deps.sh"
fi
for f in "$KC_BIN" "$MOCK_CLUSTER" "$KBENCH" "$KIDLE" "$NETSHIM"; do
	[ -e "$f" ] || die "$f not built (make benchmark builds it)"
done
KC_BIN=$(realpath "$KC_BIN") MOCK_CLUSTER=$(realpath "$MOCK_CLUSTER")
KBENCH=$(realpath "$KBENCH") KIDLE=$(realpath "$KIDLE")
NETSHIM=$(realpath "$NETSHIM")

# Every process this script starts, to be stopped by its pid.
PIDS=()
NS_B=kcb-b-$$
NS_P=kcb-p-$$
WORK=$(mktemp -d /tmp/kc-benchmark.XXXXXX)

stop_pid() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	ip netns del "$NS_P" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		say "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Raise the open-files limit as far as allowed; each proxy holds two
# sockets per client connection.
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
IDLE_CONNS=$IDLE_WANT
if [ $((2 * IDLE_CONNS + 100)) -gt "$NOFILE" ]; then
	IDLE_CONNS=$(((NOFILE - 100) / 2))
	say "open-files limit $NOFILE: $IDLE_CONNS idle connections, not $IDLE_WANT (the report scales to $IDLE_WANT)"
fi

wait_for() { # DESCRIPTION TIMEOUT_S COMMAND...
	local what=$1 t=$2 i
	shift 2
	for i in $(seq $((t * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	die "timed out waiting for $what"
}
listening() { # NS PORT
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .
}
established() { # NS PORT: connections accepted on PORT
	ip netns exec "$1" ss -Htn state established "( sport = :$2 )" | wc -l
}
has_line() { # FILE TEXT
	[ -f "$1" ] && grep -q "$2" "$1"
}
ticks() { # PID: user+system CPU in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat"
}
busy() { # CPU time of the whole machine, in clock ticks: user, system, irq
	# and softirq, leaving out idle, iowait and niced processes (a
	# background job at nice 19 is not part of any path)
	awk '/^cpu / {print $2 + $4 + $7 + $8}' /proc/stat
}
rss_kb() { # PID
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}
hwm_kb() { # PID
	awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# ---- the cluster and the two proxies ----

ip netns add "$NS_B"
ip netns add "$NS_P"
ip -n "$NS_B" link set lo up
ip -n "$NS_P" link set lo up

say "mock cluster in $NS_B"
LD_PRELOAD=$NETSHIM KC_BENCH_NODELAY=1 ip netns exec "$NS_B" \
	"$MOCK_CLUSTER" -b 3 -f "$WORK/bootstrap" \
	-t bench-p:6 -t bench-c:8 -t bench-l:3 >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
wait_for "the mock cluster's bootstrap file" 20 test -s "$WORK/bootstrap"
BOOT=$(cat "$WORK/bootstrap")
IFS=, read -r -a BROKERS <<<"$BOOT"

haproxy_cfg() { # MAXCONN then "LISTEN_PORT UPSTREAM_PORT" lines on stdin
	local maxconn=$1 lp up i=0
	printf 'global\n\tnbthread %s\n\tmaxconn %s\n' "$HAP_THREADS" "$maxconn"
	printf 'defaults\n\tmode tcp\n\ttimeout connect 5s\n'
	printf '\ttimeout client 1h\n\ttimeout server 1h\n'
	while read -r lp up; do
		i=$((i + 1))
		printf 'frontend f%d\n\tbind 127.0.0.1:%s\n\tdefault_backend b%d\n' \
			$i "$lp" $i
		printf 'backend b%d\n\tserver s%d 127.0.0.1:%s namespace %s\n' \
			$i $i "$up" "$NS_B"
	done
}

for b in "${BROKERS[@]}"; do echo "${b##*:} ${b##*:}"; done |
	haproxy_cfg 2000 >"$WORK/haproxy.cfg"
say "HAProxy in $NS_P"
ip netns exec "$NS_P" haproxy -f "$WORK/haproxy.cfg" -db \
	>"$WORK/haproxy.log" 2>&1 &
HAP_PID=$!
PIDS+=("$HAP_PID")
for b in "${BROKERS[@]}"; do
	wait_for "HAProxy on ${b##*:}" 10 listening "$NS_P" "${b##*:}"
done

say "kafka-conntrace in $NS_P"
LD_PRELOAD=$NETSHIM KC_BENCH_NETNS=$NS_B KC_BENCH_NODELAY=$KC_NODELAY \
	ip netns exec "$NS_P" \
	"$KC_BIN" --listen "127.0.0.1:$KC_PORT" --upstream "$BOOT" \
	--broker-ports "$KC_BROKER_PORTS" --event-log "$WORK/kc-events.jsonl" \
	>"$WORK/kc.log" 2>&1 &
KC_PID=$!
PIDS+=("$KC_PID")
wait_for "kafka-conntrace's proxy.start" 10 has_line "$WORK/kc-events.jsonl" proxy.start

# Who answers where: the direct and HAProxy clients see the brokers' own
# ports; kafka-conntrace's see its listeners.
ip netns exec "$NS_B" "$KBENCH" meta -b "$BOOT" >"$WORK/meta-direct.txt"
ip netns exec "$NS_P" "$KBENCH" meta -b "$BOOT" >"$WORK/meta-haproxy.txt"
ip netns exec "$NS_P" "$KBENCH" meta -b "127.0.0.1:$KC_PORT" >"$WORK/meta-conntrace.txt"
# Every broker kafka-conntrace advertises must be one of its listeners.
awk -v lo="${KC_BROKER_PORTS%-*}" -v hi="${KC_BROKER_PORTS#*-}" '
	/^BROKER/ { n++; split($3, a, ":"); if (a[2] < lo || a[2] > hi) bad++ }
	END { exit !(n == 3 && !bad) }' "$WORK/meta-conntrace.txt" ||
	die "kafka-conntrace did not advertise its own listeners: $(cat "$WORK/meta-conntrace.txt")"

# The consumer's topic: 8 partitions of ~5 MiB (all the mock keeps).
say "filling bench-c"
ip netns exec "$NS_B" "$KBENCH" fill -b "$BOOT" -t bench-c -s 10240 \
	-n $((8 * 6 * 1048576)) >"$WORK/fill.txt"

if [ "${BENCH_HOLD:-0}" = 1 ]; then
	say "holding the setup until interrupted (BENCH_HOLD=1):"
	say "  direct:          ip netns exec $NS_B CLIENT -b $BOOT"
	say "  HAProxy:         ip netns exec $NS_P CLIENT -b $BOOT (pid $HAP_PID)"
	say "  kafka-conntrace: ip netns exec $NS_P CLIENT -b 127.0.0.1:$KC_PORT (pid $KC_PID)"
	while :; do sleep 1; done
fi

# ---- throughput and latency: interleaved runs ----

RESULTS=$WORK/results.txt
: >"$RESULTS"
PATHS=(direct haproxy conntrace)
WORKLOADS=(produce:100 produce:1024 produce:10240 produce:102400
	consume:10240 latency:1024)

run_client() { # PATH ARGS...: kbench on that path; prints its RESULT line
	local path=$1 ns bs
	shift
	case $path in
	direct) ns=$NS_B bs=$BOOT ;;
	haproxy) ns=$NS_P bs=$BOOT ;;
	conntrace) ns=$NS_P bs=127.0.0.1:$KC_PORT ;;
	esac
	ip netns exec "$ns" "$KBENCH" "$1" -b "$bs" "${@:2}" 2>>"$WORK/kbench.err" |
		grep '^RESULT'
}

workload_args() { # WORKLOAD
	local kind=${1%%:*} size=${1##*:}
	case $kind in
	produce) echo "produce -t bench-p -s $size -d $SECS" ;;
	consume) echo "consume -t bench-c -s $size -d $SECS" ;;
	latency) echo "latency -t bench-l -s $size -r $LAT_RATE -d $LAT_SECS" ;;
	esac
}

measure() { # RUN PATH WORKLOAD
	local run=$1 path=$2 w=$3 k0 h0 b0 k1 h1 b1 t0 t1 line
	# shellcheck disable=SC2046
	k0=$(ticks "$KC_PID") h0=$(ticks "$HAP_PID") b0=$(busy) t0=$(date +%s.%N)
	line=$(run_client "$path" $(workload_args "$w")) ||
		die "$w on $path (run $run): see $WORK/kbench.err"
	k1=$(ticks "$KC_PID") h1=$(ticks "$HAP_PID") b1=$(busy) t1=$(date +%s.%N)
	echo "run=$run path=$path workload=$w kc_ticks=$((k1 - k0)) hap_ticks=$((h1 - h0)) busy_ticks=$((b1 - b0)) wall=$(awk "BEGIN {print $t1 - $t0}") ${line#RESULT }" >>"$RESULTS"
	say "run $run $path $w: ${line#RESULT mode=* }"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
part runs || RUNS=0
for run in $(seq "$RUNS"); do
	# a,b,c then b,c,a then c,a,b: no path always goes first.
	for w in "${WORKLOADS[@]}"; do
		for i in 0 1 2; do
			measure "$run" "${PATHS[$(((i + run - 1) % 3))]}" "$w"
		done
	done
done

# ---- memory: a long transfer through each proxy ----

transfer() { # PATH PID MB TAG: 10 KB messages, RSS sampled every 100 ms
	local path=$1 pid=$2 mb=$3 tag=$4 rss0 sampler line
	echo 5 >"/proc/$pid/clear_refs" # resets VmHWM to the current RSS
	rss0=$(rss_kb "$pid")
	while :; do
		rss_kb "$pid"
		sleep 0.1
	done >"$WORK/rss-$tag-$path.txt" 2>/dev/null &
	sampler=$!
	PIDS+=("$sampler")
	line=$(run_client "$path" produce -t bench-p -s 10240 -n $((mb * 1048576))) ||
		die "transfer through $path"
	stop_pid "$sampler"
	echo "run=0 path=$path workload=$tag rss0_kb=$rss0 hwm_kb=$(hwm_kb "$pid") rss1_kb=$(rss_kb "$pid") samples=$WORK/rss-$tag-$path.txt ${line#RESULT }" >>"$RESULTS"
	say "$tag through $path: peak $(hwm_kb "$pid") kB"
}
for path in conntrace haproxy; do
	part transfers || break
	pid=$KC_PID
	[ $path = haproxy ] && pid=$HAP_PID
	transfer $path $pid "$PEAK_MB" peak
	transfer $path $pid "$LONG_MB" long
done

# ---- memory: idle connections through fresh proxies ----

all_upstream() { # COUNT: the sink holds every connection the proxy made
	[ "$(established "$NS_B" $IDLE_SINK_PORT)" -ge "$1" ]
}

# PATH CONNS TAG [KC_FLAG...]: hold CONNS idle client connections through
# a fresh proxy in front of a sink; record its RSS before and with them.
idle_test() {
	local path=$1 conns=$2 tag=$3 sink pid port t0 t90 t1 rss0 rss1 kid n
	shift 3
	rm -f "$WORK/idle-ready" "$WORK/idle-kc-events.jsonl"
	ip netns exec "$NS_B" "$KIDLE" sink $IDLE_SINK_PORT >"$WORK/sink.log" 2>&1 &
	sink=$!
	PIDS+=("$sink")
	wait_for "the idle sink" 10 listening "$NS_B" $IDLE_SINK_PORT
	if [ "$path" = conntrace ]; then
		port=$IDLE_KC_PORT
		LD_PRELOAD=$NETSHIM KC_BENCH_NETNS=$NS_B ip netns exec "$NS_P" \
			"$KC_BIN" --listen "127.0.0.1:$port" \
			--upstream "127.0.0.1:$IDLE_SINK_PORT" \
			--event-log "$WORK/idle-kc-events.jsonl" "$@" \
			>"$WORK/idle-kc.log" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		wait_for "the idle kafka-conntrace" 10 has_line "$WORK/idle-kc-events.jsonl" proxy.start
	else
		port=$IDLE_HAP_PORT
		echo "$port $IDLE_SINK_PORT" |
			haproxy_cfg $((conns + 10)) >"$WORK/idle-haproxy.cfg"
		ip netns exec "$NS_P" haproxy -f "$WORK/idle-haproxy.cfg" -db \
			>"$WORK/idle-haproxy.log" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		wait_for "the idle HAProxy" 10 listening "$NS_P" $port
	fi
	sleep 0.5
	rss0=$(rss_kb "$pid")
	t0=$(date +%s.%N)
	ip netns exec "$NS_P" "$KIDLE" open "127.0.0.1:$port" "$conns" \
		"$WORK/idle-ready" >"$WORK/idle-$tag-$path.txt" 2>&1 &
	kid=$!
	PIDS+=("$kid")
	wait_for "$conns connections through $path" 600 test -f "$WORK/idle-ready"
	# The proxy accepts at its own pace behind the kernel's backlog: time
	# it by the connections it has made upstream.
	wait_for "$((conns * 9 / 10)) upstream connections of $path" 600 \
		all_upstream $((conns * 9 / 10))
	t90=$(date +%s.%N)
	wait_for "$conns upstream connections of $path" 300 all_upstream "$conns"
	t1=$(date +%s.%N)
	sleep 1
	rss1=$(rss_kb "$pid")
	n=$(established "$NS_B" $IDLE_SINK_PORT)
	stop_pid "$kid"
	wait "$kid" 2>/dev/null || true
	echo "run=0 path=$path workload=$tag conns=$conns upstream=$n rss0_kb=$rss0 rss1_kb=$rss1 setup_s=$(awk "BEGIN {print $t1 - $t0}") last_tenth_ms=$(awk "BEGIN {print ($t1 - $t90) * 1000 / ($conns - $conns * 9 / 10)}") flags=${*:-none} $(grep '^RESULT' "$WORK/idle-$tag-$path.txt" | sed 's/^RESULT mode=idle //' || echo closed_by_peer=?)" >>"$RESULTS"
	say "$tag through $path: $conns connections in $(awk "BEGIN {print $t1 - $t0}") s, RSS $rss0 -> $rss1 kB"
	# The sink first: with its upstream gone the proxy has nothing
	# left to drain and exits at once.
	stop_pid "$sink"
	stop_pid "$pid"
}
# CONNS TAG [KC_FLAG...]: what a burst of CONNS connections costs a fresh
# kafka-conntrace in CPU per accept, and how many it then drops.
accepted_all() { # FILE COUNT
	[ "$(grep -c '"conn.open"' "$1" 2>/dev/null)" -ge "$2" ]
}
accept_test() {
	local conns=$1 tag=$2 sink pid kid k0 k1 t0 t1 ev=$WORK/accept-$2.jsonl
	shift 2
	ip netns exec "$NS_B" "$KIDLE" sink $IDLE_SINK_PORT >"$WORK/sink.log" 2>&1 &
	sink=$!
	PIDS+=("$sink")
	wait_for "the idle sink" 10 listening "$NS_B" $IDLE_SINK_PORT
	LD_PRELOAD=$NETSHIM KC_BENCH_NETNS=$NS_B ip netns exec "$NS_P" \
		"$KC_BIN" --listen "127.0.0.1:$IDLE_KC_PORT" \
		--upstream "127.0.0.1:$IDLE_SINK_PORT" --event-log "$ev" "$@" \
		>"$WORK/accept-$tag.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for "kafka-conntrace for $tag" 10 has_line "$ev" proxy.start
	rm -f "$WORK/idle-ready"
	k0=$(ticks "$pid") t0=$(date +%s.%N)
	ip netns exec "$NS_P" "$KIDLE" open "127.0.0.1:$IDLE_KC_PORT" "$conns" \
		"$WORK/idle-ready" >"$WORK/accept-$tag.txt" 2>&1 &
	kid=$!
	PIDS+=("$kid")
	wait_for "$conns accepts ($tag)" 600 accepted_all "$ev" "$conns"
	t1=$(date +%s.%N)
	# The next loop turns finish the upstream connects, or time them out.
	sleep 2
	k1=$(ticks "$pid")
	echo "run=0 path=conntrace workload=$tag conns=$conns accept_s=$(awk "BEGIN {print $t1 - $t0}") cpu_ms_per_accept=$(awk "BEGIN {print ($k1 - $k0) * 1000 / $(getconf CLK_TCK) / $conns}") upstream=$(established "$NS_B" $IDLE_SINK_PORT) upstream_timeouts=$(grep -c '"upstream_timeout"' "$ev") flags=${*:-none}" >>"$RESULTS"
	say "$tag: $conns accepts in $(awk "BEGIN {print $t1 - $t0}") s, $(grep -c '"upstream_timeout"' "$ev") closed as upstream_timeout"
	stop_pid "$kid"
	stop_pid "$sink"
	stop_pid "$pid"
}

if part idle; then
	# The memory figure is taken with --no-proc: kafka-conntrace looks up
	# each client's process in /proc as it accepts, on the event loop, at
	# a cost that grows with the sockets and file descriptors on the
	# machine; 10,000 connections would take over 20 minutes to open.
	# accept_test measures that cost.
	idle_test conntrace "$IDLE_CONNS" idle --no-proc
	idle_test haproxy "$IDLE_CONNS" idle
	accept_test "$IDLE_PROC_CONNS" accept-proc
	accept_test "$IDLE_PROC_CONNS" accept-noproc --no-proc
fi

# ---- optional: where kafka-conntrace spends its time ----

if [ "$PROFILE" = 1 ]; then
	command -v perf >/dev/null 2>&1 || die "BENCH_PROFILE=1 needs perf (linux-perf)"
	say "perf record on kafka-conntrace, 10 KB producer"
	perf record -F 999 --call-graph dwarf,16384 -p "$KC_PID" \
		-o "$WORK/perf.data" -- sleep $((SECS + 3)) >"$WORK/perf.log" 2>&1 &
	perf_pid=$!
	PIDS+=("$perf_pid")
	sleep 0.5
	measure 0 conntrace produce:10240
	wait "$perf_pid" || true
	perf report -i "$WORK/perf.data" --stdio --no-children --sort dso \
		-g none >"$WORK/profile-dso.txt" 2>/dev/null
	perf report -i "$WORK/perf.data" --stdio --children --sort symbol \
		-g none --percent-limit 1 >"$WORK/profile-children.txt" 2>/dev/null
	perf report -i "$WORK/perf.data" --stdio --no-children --sort symbol \
		-g none --percent-limit 0.5 >"$WORK/profile-self.txt" 2>/dev/null
	cp "$WORK/profile-dso.txt" "$WORK/profile-children.txt" \
		"$WORK/profile-self.txt" .
	say "profiles: ./profile-dso.txt ./profile-children.txt ./profile-self.txt (perf.data kept in the work directory with BENCH_KEEP=1)"
fi

# ---- the report ----

T_END=$(date +%s)
cmd="make benchmark"
for v in BENCH_QUICK BENCH_RUNS BENCH_SECS BENCH_LAT_SECS BENCH_LAT_RATE \
	BENCH_IDLE_CONNS BENCH_IDLE_PROC_CONNS BENCH_PEAK_MB BENCH_LONG_MB BENCH_PROFILE \
	BENCH_HAPROXY_THREADS BENCH_KC_NODELAY; do
	[ -n "${!v:-}" ] && cmd="$cmd $v=${!v}"
done
{
	echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
	echo "command=$cmd"
	echo "nproc=$(nproc)"
	echo "cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
	echo "kernel=$(uname -r)"
	echo "kc_version=$("$KC_BIN" --version 2>&1 | head -n 1)"
	echo "kc_cflags=${KC_CFLAGS:-unknown}"
	echo "haproxy=$(haproxy -v 2>&1 | head -n 1)"
	echo "haproxy_threads=$HAP_THREADS"
	echo "kc_nodelay=$KC_NODELAY"
	echo "librdkafka=$(sed -n 's/^LIBRDKAFKA //p' "$WORK/meta-direct.txt")"
	echo "libevent=$(pkg-config --modversion libevent 2>/dev/null || echo unknown)"
	echo "runs=$RUNS"
	echo "secs=$SECS"
	echo "lat_secs=$LAT_SECS"
	echo "lat_rate=$LAT_RATE"
	echo "peak_mb=$PEAK_MB"
	echo "long_mb=$LONG_MB"
	echo "nofile=$NOFILE"
	echo "elapsed_s=$((T_END - T_START))"
	echo "load_start=$LOAD_START"
	echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "clk_tck=$(getconf CLK_TCK)"
	echo "leaders=$(grep '^PARTITION' "$WORK/meta-direct.txt" | awk '{printf "%s/%s:%s ", $2, $3, $5}')"
	echo "quick=$QUICK"
	echo "decoder=$top_srcdir/doc/bench-decoder.md"
	echo "profile=$([ "$PROFILE" = 1 ] && echo "$PWD/profile-" || echo)"
} >"$WORK/meta.txt"
# Kept so that the report can be rendered again:
#   tests/bench/bench_report.py benchmark-meta.txt benchmark-results.txt
cp "$RESULTS" ./benchmark-results.txt
cp "$WORK/meta.txt" ./benchmark-meta.txt
"$PYTHON" "$REPORT" "$WORK/meta.txt" "$RESULTS" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "wrote $OUT (raw results: ./benchmark-results.txt)"
cat "$OUT"
