#!/usr/bin/python3
"""rules_mixed.py - role.mixed with real clients. None of the clients here
ever carries group coordination or transaction APIs on a data connection:
librdkafka (2.0.2 and 2.12) keeps a dedicated coordinator connection, and
kafka-python 2.0.2 one keyed "coordinator-<id>". So this script checks that
consumer groups of both stay quiet and that their group APIs and Fetch
really travel on different connections, then SKIPs (exit 77), loudly, for
the half it cannot show: the rule firing. tests/unit/test_rules.c covers
that half with synthetic events.

Prints "checks: N passed, M failed" (or SKIP with the reason).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

TOPIC = "mixed"
GROUP_APIS = lib.GROUP_APIS - {"ConsumerGroupHeartbeat"}

PRODUCE = r"""
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1]})
for i in range(20):
    p.produce('""" + TOPIC + r"""', b'm%d' % i)
p.flush(10)
"""

# Consume until all 20 records are in, commit, leave the group.
RDKAFKA = r"""
import sys, time
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'g-rd',
              'client.id': 'mixed-rdkafka', 'auto.offset.reset': 'earliest'})
c.subscribe(['""" + TOPIC + r"""'])
n, deadline = 0, time.time() + 30
while n < 20 and time.time() < deadline:
    m = c.poll(0.2)
    if m is not None and not m.error():
        n += 1
c.commit(asynchronous=False)
c.close()
print('consumed', n)
"""

KAFKA_PYTHON = r"""
import sys
from kafka import KafkaConsumer
c = KafkaConsumer('""" + TOPIC + r"""', bootstrap_servers=sys.argv[1],
                  group_id='g-kp', client_id='kafka-python-mixed',
                  auto_offset_reset='earliest', consumer_timeout_ms=20000)
n = 0
for m in c:
    n += 1
    if n == 20:
        break
c.commit()
c.close()
print('consumed', n)
"""


def main(h):
    broker = h.start_broker("2.0.2", topics=[TOPIC])
    px = h.start_proxy(broker, extra={"proc_lookup": False})
    r = h.run("produce", [lib.PYTHON, h.write("p.py", PRODUCE),
                          px.bootstrap], 60)
    h.check(r.p.returncode == 0, "produced 20 records", r.tail())
    rd = h.spawn("rdkafka", [lib.PYTHON, h.write("rd.py", RDKAFKA),
                             px.bootstrap])
    kp = h.spawn("kafka-python", [lib.PYTHON, h.write("kp.py", KAFKA_PYTHON),
                                  px.bootstrap])
    for p in (rd, kp):
        rc = p.wait(60)
        h.check(rc == 0 and "consumed 20" in p.stdout(),
                f"{p.name}: a consumer group member read every record",
                p.tail())
    h.stop_proxy(px)
    ev = px.events()
    for cid in ("mixed-rdkafka", "kafka-python-mixed"):
        cl = [e for e in ev if e["event"] == "conn.close" and
              e.get("client_id") == cid]
        group = [c for c in cl if GROUP_APIS & set(c["requests"])]
        data = [c for c in cl if lib.DATA_APIS & set(c["requests"])]
        h.check(group and data and not set(c["conn"] for c in group) &
                set(c["conn"] for c in data),
                f"{cid}: group APIs and data on different connections "
                f"({len(group)} and {len(data)})",
                [(c["conn"], c["requests"]) for c in cl])
        h.check(not [e for e in ev if e["event"] == "finding" and
                     e["rule"] == "role.mixed" and e.get("client_id") == cid],
                f"{cid}: no role.mixed")
    if h.failed == 0:
        h.cleanup()
        shutil.rmtree(h.dir, ignore_errors=True)
        lib.die_skip("role.mixed: no client available here carries group "
                     "or transaction APIs on a data connection (librdkafka "
                     "2.0.2 and kafka-python 2.0.2 as checked above; "
                     "librdkafka 2.12 keeps the same dedicated coordinator "
                     "connection), so the rule cannot be shown firing with "
                     "a real client; tests/unit/test_rules.c "
                     "(role_mixed_depends_on_profile) covers it")


if __name__ == "__main__":
    harness = lib.Harness("rules_mixed")
    harness.require_tools("KC_BIN", "MOCK_CLUSTER")
    harness.run_scenario(main)
