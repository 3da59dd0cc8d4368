"""rules.py - the lifecycle rules with real clients through the proxy, with
timers scaled down in the configuration: one scenario per rule family.

  idle        a librdkafka client left idle (it never closes idle sockets)
              gets idle.connection; kafka-python with
              connections_max_idle_ms=1500 closes its own first: none
  kill        a consumer killed with SIGKILL mid-poll: exit.abrupt and
              exit.no_leave_group; a consumer closed properly:
              exit.graceful
  churn       a script that builds a producer per message:
              churn.client_per_message
  unknown     a producer to a topic that does not exist (librdkafka 2.12's
              mock, which honours allow.auto.create.topics=false):
              metadata.unknown_topic naming the topic
  enforce     enforce mode with idle_timeout_s while a producer keeps
              producing in bursts: idle connections are closed by the proxy
              with the rule as reason, and a consumer counts every record
              exactly once afterwards

Prints "checks: N passed, M failed".
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.environ.get("top_srcdir") or
                      os.path.join(HERE, "..", ".."))
KC_BIN = os.environ.get("KC_BIN", os.path.join(TOP, "build", "kafka-conntrace"))
MOCK = os.environ.get("MOCK_CLUSTER",
                      os.path.join(TOP, "build", "tests", "peers", "mock_cluster"))
NODE_MODULES = os.environ.get("KC_NODE_MODULES") or \
    os.path.join(TOP, "tests", "peers", "node_modules")
PY = "/usr/bin/python3"

passed = failed = 0
procs = []
tmp = tempfile.mkdtemp(prefix="kc-rules-")


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
        print("ok: " + msg)
    else:
        failed += 1
        print("FAIL: " + msg)
    sys.stdout.flush()
    return cond


def spawn(name, argv, env=None):
    out = open(os.path.join(tmp, name + ".out"), "w")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def wait_for(what, cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def findings(ev, rule, client_id=None):
    return [e for e in ev if e["event"] == "finding" and e["rule"] == rule and
            (client_id is None or e.get("client_id") == client_id)]


def start_broker(name, node=False):
    bfile = os.path.join(tmp, name + ".bootstrap")
    if node:
        env = dict(os.environ, NODE_PATH=NODE_MODULES)
        spawn(name, ["node", os.path.join(TOP, "tests", "peers", "mock-broker.js"),
                     "-b", "3", "-f", bfile], env=env)
    else:
        spawn(name, [MOCK, "-b", "3", "-t", "rt:3", "-f", bfile])
    wait_for(name, lambda: os.path.exists(bfile), 60)
    return open(bfile).read().strip()


def start_proxy(name, bootstrap, rules):
    log = os.path.join(tmp, name + ".jsonl")
    conf = os.path.join(tmp, name + ".json")
    port = free_port()
    with open(conf, "w") as f:
        json.dump({"listen": "127.0.0.1:%d" % port, "upstream": bootstrap,
                   "event_log": log, "janitor_interval_ms": 200,
                   "proc_lookup": False, "rules": rules}, f)
    p = spawn(name, [KC_BIN, "--config", conf])
    wait_for("proxy.start", lambda: os.path.exists(log) and
             "proxy.start" in open(log).read())
    return p, "127.0.0.1:%d" % port, log


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def py(code, *args, timeout=120):
    r = subprocess.run([PY, "-c", code] + list(args), capture_output=True,
                       timeout=timeout)
    if r.returncode != 0:
        print(r.stdout.decode()[-800:], r.stderr.decode()[-800:])
    return r


CONFLUENT_IDLE = """
import sys, time
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'client.id': 'idle-rdkafka'})
p.produce('rt', b'x'); p.flush(10)
time.sleep(float(sys.argv[2]))
p.flush(1)
"""

KAFKA_PYTHON_IDLE = """
import sys, time
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], client_id='idle-kp',
                  connections_max_idle_ms=1500, metadata_max_age_ms=600000)
p.send('rt', b'y'); p.flush()
time.sleep(float(sys.argv[2]))
p.close()
"""


def scenario_idle(bootstrap):
    px, addr, log = start_proxy("idle", bootstrap, {"idle_s": 3})
    a = subprocess.Popen([PY, "-c", CONFLUENT_IDLE, addr, "5"])
    b = subprocess.Popen([PY, "-c", KAFKA_PYTHON_IDLE, addr, "5"])
    check(a.wait(60) == 0 and b.wait(60) == 0, "idle: both clients ran")
    stop(px)
    ev = events(log)
    rd = findings(ev, "idle.connection", "idle-rdkafka")
    kp = findings(ev, "idle.connection", "idle-kp")
    check(len(rd) >= 1, "idle: librdkafka's idle connections were reported (%d)" % len(rd))
    check(all(f["evidence"]["idle_s"] > 3 and f["profile"] == "librdkafka" for f in rd),
          "idle: with the evidence and the librdkafka profile")
    kp_closes = [e for e in ev if e["event"] == "conn.close" and e["client_id"] == "idle-kp"]
    check(any(c["closed_by"] == "client" and c["max_idle_s"] >= 1.4 for c in kp_closes),
          "idle: kafka-python closed an idle connection itself")
    check(not kp, "idle: so no idle finding for kafka-python (%d)" % len(kp))
    ids = set(c for f in rd for c in f["conns"])
    opened = set(e["conn"] for e in ev if e["event"] == "conn.open")
    check(ids <= opened, "idle: findings name real connection ids")


CONSUMER = """
import sys, time
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': sys.argv[2],
              'client.id': sys.argv[2], 'auto.offset.reset': 'earliest',
              'fetch.wait.max.ms': 5000})
c.subscribe(['rt'])
deadline = time.time() + float(sys.argv[3])
n = 0
while time.time() < deadline:
    m = c.poll(0.2)
    if m is not None and not m.error():
        n += 1
        if n == 1:
            print('polling', flush=True)
if sys.argv[4] == 'close':
    c.close()
"""


def scenario_kill(bootstrap):
    px, addr, log = start_proxy("kill", bootstrap, {})
    r = py("""
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1]})
for i in range(20): p.produce('rt', b'k%d' % i)
p.flush(10)
""", addr)
    check(r.returncode == 0, "kill: produced records to consume")
    out = os.path.join(tmp, "victim.out")
    victim = subprocess.Popen([PY, "-u", "-c", CONSUMER, addr, "victim", "60", "no"],
                              stdout=open(out, "w"), stderr=subprocess.STDOUT)
    procs.append(victim)
    wait_for("the victim to poll", lambda: "polling" in open(out).read(), 60)
    time.sleep(0.5)  # inside its poll loop, a Fetch long poll in flight
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    r = py(CONSUMER, addr, "polite", "6", "close", timeout=90)
    check(r.returncode == 0, "kill: a second consumer closed properly")
    # Wait for the killed client's connections to be closed (the broker and
    # the kernel see the process gone at once).
    stop(px)
    ev = events(log)
    check(len(findings(ev, "exit.abrupt", "victim")) == 1,
          "kill: exit.abrupt for the killed consumer")
    check(len(findings(ev, "exit.no_leave_group", "victim")) == 1,
          "kill: exit.no_leave_group for the killed consumer")
    check(not findings(ev, "exit.graceful", "victim"), "kill: not graceful")
    check(len(findings(ev, "exit.graceful", "polite")) == 1,
          "kill: exit.graceful for the consumer that closed")
    check(not findings(ev, "exit.abrupt", "polite"), "kill: not abrupt")


PER_MESSAGE = """
import sys
from confluent_kafka import Producer
for i in range(int(sys.argv[2])):
    p = Producer({'bootstrap.servers': sys.argv[1], 'client.id': 'per-message'})
    p.produce('rt', b'm%d' % i)
    p.flush(10)
"""


def scenario_churn(bootstrap):
    px, addr, log = start_proxy("churn", bootstrap, {"clients_per_minute": 8})
    r = py(PER_MESSAGE, addr, "12")
    check(r.returncode == 0, "churn: 12 producers, one message each")
    r = py("""
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'client.id': 'one-producer'})
for i in range(200): p.produce('rt', b'o%d' % i)
p.flush(10)
""", addr)
    stop(px)
    ev = events(log)
    f = findings(ev, "churn.client_per_message")
    check(len(f) == 1, "churn: churn.client_per_message raised once (%d)" % len(f))
    check(f and f[0]["evidence"]["client_instances_last_minute"] >= 8,
          "churn: with the number of client instances")


UNKNOWN = """
import sys, time
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'client.id': 'lost-producer',
              'allow.auto.create.topics': False, 'message.timeout.ms': 6000,
              'topic.metadata.refresh.interval.ms': 500})
p.produce('no-such-topic', b'z')
p.flush(8)
"""


def scenario_unknown(bootstrap):
    px, addr, log = start_proxy("unknown", bootstrap, {})
    py(UNKNOWN, addr)
    stop(px)
    ev = events(log)
    f = findings(ev, "metadata.unknown_topic", "lost-producer")
    check(len(f) == 1, "unknown: metadata.unknown_topic raised once (%d)" % len(f))
    check(f and f[0]["evidence"]["topic"] == "no-such-topic",
          "unknown: naming the topic")


BURSTS = """
import sys, time
from confluent_kafka import Producer
delivered = [0]
def cb(err, msg):
    if err is None: delivered[0] += 1
p = Producer({'bootstrap.servers': sys.argv[1], 'client.id': 'burster',
              'linger.ms': 5})
n = 0
for burst in range(4):
    for i in range(25):
        p.produce('rt2', b'b%d' % n, callback=cb); n += 1
    p.flush(20)
    time.sleep(3.5)     # longer than idle_timeout_s: the proxy closes
p.flush(20)
print(delivered[0])
"""

COUNT = """
import sys, time
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'counter',
              'auto.offset.reset': 'earliest'})
c.subscribe(['rt2'])
seen = {}
deadline = time.time() + 20
while time.time() < deadline and len(seen) < 100:
    m = c.poll(0.5)
    if m is not None and not m.error():
        seen[m.value()] = seen.get(m.value(), 0) + 1
c.close()
print(len(seen), sum(seen.values()))
"""


def scenario_enforce(bootstrap):
    px, addr, log = start_proxy("enforce", bootstrap,
                                {"mode": "enforce", "idle_timeout_s": 2})
    r = py(BURSTS, addr, timeout=120)
    check(r.returncode == 0 and r.stdout.decode().split()[-1:] == ["100"],
          "enforce: all 100 records delivered to the producer (%s)" %
          r.stdout.decode().strip())
    stop(px)
    ev = events(log)
    closes = [e for e in ev if e["event"] == "conn.close"
              and e["client_id"] == "burster"]
    enforced = [c for c in closes if c["closed_by"] == "proxy"
                and c["reason"] == "enforce.idle_timeout"]
    check(len(enforced) >= 2, "enforce: the proxy closed idle connections "
          "with the rule as reason (%d)" % len(enforced))
    check(all(c["inflight_at_close"] == 0 for c in enforced),
          "enforce: never with a request in flight")
    f = findings(ev, "enforce.idle_timeout", "burster")
    check(len(f) == len(enforced) and all(x["action"] == "close" for x in f),
          "enforce: one finding per enforced close")
    # Count with a consumer afterwards, directly at the brokers.
    r = py(COUNT, bootstrap, timeout=60)
    got = r.stdout.decode().split()
    check(got == ["100", "100"], "enforce: a consumer counts every record "
          "exactly once (%s)" % got)


def main():
    for tool in ("node",):
        if not shutil.which(tool):
            print("FAIL: %s is not installed" % tool)
            return 1
    mod = os.path.join(NODE_MODULES, "node-rdkafka", "build", "Release",
                       "node-librdkafka.node")
    if not os.path.exists(mod):
        # Like the harness's tests: a missing peer is a loud skip.
        print("SKIP: node-rdkafka is not installed in %s: run `cd "
              "tests/peers && npm ci --no-audit --no-fund` (or set "
              "KC_NODE_MODULES)" % NODE_MODULES)
        return 77
    b202 = start_broker("mock202")
    scenario_idle(b202)
    scenario_kill(b202)
    scenario_churn(b202)
    scenario_enforce(b202)
    b212 = start_broker("mock212", node=True)
    scenario_unknown(b212)
    return 0


if __name__ == "__main__":
    rc = 1
    try:
        rc = main()
    except Exception as e:
        check(False, "unexpected: %r" % (e,))
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
        print("checks: %d passed, %d failed" % (passed, failed))
    sys.exit(77 if rc == 77 and failed == 0 else
             0 if failed == 0 and rc == 0 else 1)
