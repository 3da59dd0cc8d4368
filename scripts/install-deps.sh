#!/bin/sh
# Install what kafka-conntrace needs to build and test on Debian 12, as
# root: the build toolchain and libraries, and the real Kafka peers the
# integration tests run against. Safe to run again: it installs only what
# is missing.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config clang-format
libevent-dev libjansson-dev libcriterion-dev
librdkafka-dev kcat python3 python3-confluent-kafka python3-kafka python3-jsonschema
tshark haproxy iptables iproute2
chromium python3-prometheus-client valgrind"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
# Node.js may come from elsewhere than Debian (with npm bundled): take
# whatever `node` and `npm` there are, and Debian's only when there are none.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing packages:$missing; run as root" >&2
		exit 1
	fi
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; they need not.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# node-rdkafka 3.6.1 for the integration tests (the librdkafka 2.12 mock
# broker and client), from tests/peers/package-lock.json. It compiles its
# bundled librdkafka: about 2 minutes; JOBS must stay unset (a parallel
# make breaks that build).
peers="$(cd "$(dirname "$0")/.." && pwd)/tests/peers"
if [ ! -f "$peers/node_modules/node-rdkafka/build/Release/node-librdkafka.node" ]; then
	echo "install-deps: npm ci in $peers (node-rdkafka, ~2 min)"
	(cd "$peers" && env -u JOBS npm ci --no-audit --no-fund)
fi
