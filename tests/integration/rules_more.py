#!/usr/bin/python3
"""rules_more.py - the lifecycle rules that rules.py leaves out, with real
clients through the proxy and thresholds scaled down in the configuration
(several through per-client-id overrides). Each scenario shows the finding
for the client that misbehaves and none for a well-behaved client in the
same run:

  bootstrap  librdkafka 2.0.2 keeps its bootstrap connection; held by an
             override to the generic profile with bootstrap_linger_s 1 it
             gets bootstrap.lingering. kafka-python closes its own: none
  metadata   a producer with topic.metadata.refresh.interval.ms=100 gets
             metadata.frequent (metadata_per_minute 10, metadata_startup_s
             2); one with the default refresh: none
  churn      a producer per message: churn.short_lived and churn.open_rate
             (open_rate 8); the same pattern under an override that
             expects it: none; a steady producer: none. Four producer
             instances sharing a client id at once (two connections each
             at least): conns.excess; the
             steady producer: none
  storm      enforce max_conns_per_session 1 refuses two producers' data
             connections after they named themselves: the one with
             reconnect.backoff.ms=1 gets reconnect.storm, the one with
             librdkafka's defaults retries four times and gets none; a
             reload lifts the limit and both deliver every record (an
             upstream that refuses is not used: the proxy closes those
             connections before the client names itself, see
             doc/rules.md)
  addr       enforce max_conns_per_addr 6: a producer that needs 4
             connections delivers every record with none refused; four
             producer instances at once are refused at accept (reason
             enforce.max_conns_addr)
  session    enforce max_conns_per_session 6 and max_conn_rate 10: the
             steady producer delivers every record, untouched; four
             instances sharing a client id are refused beyond 6
             (enforce.max_conns_session); a producer per message is refused
             beyond 10 new connections a minute (enforce.conn_rate)

role.mixed has a script of its own (rules_mixed.py). Prints "checks: N
passed, M failed".
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

TOPIC = "rm"

# A confluent-kafka (librdkafka 2.0.2) producer. argv: bootstrap, extra
# config (JSON), records per instance, instances, "together" (instances
# kept open at once) or "one-by-one", "hold" (then keep producing one
# record every 50 ms until stdin closes) or "exit". Prints "ready" after
# the first flush and "delivered N of M" at the end.
PRODUCER = r"""
import json, sys, threading
from confluent_kafka import Producer
boot, extra, n, instances = sys.argv[1], json.loads(sys.argv[2]), \
    int(sys.argv[3]), int(sys.argv[4])
together, hold = sys.argv[5] == "together", sys.argv[6] == "hold"
conf = {'bootstrap.servers': boot, 'linger.ms': 5}
conf.update(extra)
delivered, sent = [0], [0]
def cb(err, msg):
    if err is None:
        delivered[0] += 1
kept = []
for i in range(instances):
    p = Producer(conf)
    for j in range(n):
        p.produce('""" + TOPIC + r"""', b'%d-%d' % (i, j), callback=cb)
        sent[0] += 1
    if together:
        kept.append(p)
    else:
        p.flush(float(extra.get('message.timeout.ms', 10000)) / 1000 + 2)
for p in kept:
    p.flush(float(extra.get('message.timeout.ms', 10000)) / 1000 + 2)
print('ready', flush=True)
if hold:
    p = kept[-1] if kept else p
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()),
                     daemon=True).start()
    while not done.wait(0.05):
        p.produce('""" + TOPIC + r"""', b'h', callback=cb)
        sent[0] += 1
        p.poll(0)
    p.flush(30)
print('delivered %d of %d' % (delivered[0], sent[0]), flush=True)
"""

# A kafka-python 2.0.2 producer: produces 10 records, then waits for stdin
# to close.
KAFKA_PYTHON = r"""
import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], client_id=sys.argv[2])
for i in range(10):
    p.send('""" + TOPIC + r"""', b'k%d' % i)
p.flush()
print('ready', flush=True)
sys.stdin.read()
p.close()
print('delivered', flush=True)
"""


def producer_argv(h, addr, extra, n=10, instances=1, together=False,
                  hold=False):
    path = h.path("producer.py")
    if not os.path.exists(path):
        h.write("producer.py", PRODUCER)
    return [lib.PYTHON, path, addr, json.dumps(extra), str(n),
            str(instances), "together" if together else "one-by-one",
            "hold" if hold else "exit"]


def producer(h, name, addr, extra, n=10, instances=1, together=False,
             hold=False):
    argv = producer_argv(h, addr, extra, n, instances, together, hold)
    return h.spawn(name, argv, stdin=subprocess.PIPE if hold else None)


def finish(h, p, timeout=60):
    """Close a held client's stdin and wait for its end; its stdout."""
    if p.p.stdin:
        p.p.stdin.close()
    if p.wait(timeout) is None:
        p.stop(signal.SIGKILL)
        raise lib.TestFailure(f"{p.name} did not finish\n{p.tail()}")
    return p.stdout()


def delivered(out):
    """(delivered, sent) from a producer's last line."""
    for line in reversed(out.splitlines()):
        w = line.split()
        if len(w) == 4 and w[0] == "delivered":
            return int(w[1]), int(w[3])
    return None


def run_proxy(h, broker, name, rules):
    return h.start_proxy(broker, name=name,
                         extra={"rules": rules, "janitor_interval_ms": 100,
                                "proc_lookup": False})


def findings(ev, rule, client_id=None):
    return [e for e in ev if e["event"] == "finding" and e["rule"] == rule
            and (client_id is None or e.get("client_id") == client_id)]


def finding_in_log(px, rule, client_id):
    return lambda: findings(px.events(), rule, client_id)


def closes(ev, client_id=None):
    return [e for e in ev if e["event"] == "conn.close" and
            (client_id is None or e.get("client_id") == client_id)]


def stop(h, px):
    h.stop_proxy(px)
    ev, bad = lib.read_events(px.log_path)
    h.check(not bad, f"{px.proc.name}: every event line parses", bad[:3])
    return ev


def scenario_bootstrap(h, broker):
    px = run_proxy(h, broker, "bootstrap", {
        "bootstrap_linger_s": 1,
        "overrides": [{"client_id": "lingerer", "profile": "generic",
                       "bootstrap_linger_s": 1}]})
    rd = producer(h, "lingerer", px.bootstrap, {"client.id": "lingerer"},
                  hold=True)
    kp = h.spawn("kafka-python-tidy",
                 [lib.PYTHON, h.write("kafka_python.py", KAFKA_PYTHON),
                  px.bootstrap, "kafka-python-tidy"], stdin=subprocess.PIPE)
    h.wait_for("kafka-python ready", lambda: "ready" in kp.stdout(), 30, kp)
    h.wait_for("bootstrap.lingering for lingerer",
               finding_in_log(px, "bootstrap.lingering", "lingerer"), 20, rd)
    finish(h, kp)
    out = finish(h, rd)
    ev = stop(h, px)
    d = delivered(out)
    h.check(d and d[0] == d[1], f"bootstrap: lingerer delivered all ({d})")
    f = findings(ev, "bootstrap.lingering", "lingerer")
    h.check(len(f) == 1 and f[0]["profile"] == "generic" and
            f[0]["evidence"]["profile_linger_s"] == 1 and
            f[0]["evidence"]["open_s"] > 1,
            "bootstrap: librdkafka 2.0.2's kept bootstrap connection is "
            "reported once, held by the override to 1 s", f)
    boot = [c for c in closes(ev, "lingerer") if c["broker_id"] is None]
    h.check(boot and f and boot[0]["conn"] in f[0]["conns"],
            "bootstrap: the finding names the bootstrap connection")
    kpb = [c for c in closes(ev, "kafka-python-tidy")
           if c["broker_id"] is None]
    h.check(kpb and all(c["closed_by"] == "client" and c["duration_s"] < 1
                        for c in kpb),
            "bootstrap: kafka-python closed its bootstrap connection itself",
            kpb)
    h.check(not findings(ev, "bootstrap.lingering", "kafka-python-tidy"),
            "bootstrap: so kafka-python gets no finding")


def scenario_metadata(h, broker):
    px = run_proxy(h, broker, "metadata", {"metadata_per_minute": 10,
                                           "metadata_startup_s": 2})
    chatty = producer(h, "chatty", px.bootstrap,
                      {"client.id": "chatty",
                       "topic.metadata.refresh.interval.ms": 100}, hold=True)
    calm = producer(h, "calm", px.bootstrap, {"client.id": "calm"},
                    hold=True)
    h.wait_for("metadata.frequent for chatty",
               finding_in_log(px, "metadata.frequent", "chatty"), 20, chatty)
    finish(h, chatty)
    finish(h, calm)
    ev = stop(h, px)
    f = findings(ev, "metadata.frequent", "chatty")
    h.check(len(f) == 1 and f[0]["evidence"]["metadata_last_minute"] > 10,
            "metadata: a 100 ms refresh is reported once", f)
    md = sum(c["requests"].get("Metadata", 0) for c in closes(ev, "calm"))
    life = max((c["duration_s"] for c in closes(ev, "calm")), default=0)
    h.check(life > 2 and md <= 10,
            f"metadata: the default refresh sent {md} Metadata in "
            f"{life:.1f} s")
    h.check(not findings(ev, "metadata.frequent", "calm"),
            "metadata: and is not reported")


def scenario_churn(h, broker):
    px = run_proxy(h, broker, "churn", {
        "open_rate": 8,
        "overrides": [{"client_id": "batch-*", "short_lived_s": 0,
                       "open_rate": 0}]})
    steady = producer(h, "steady", px.bootstrap, {"client.id": "steady"},
                      hold=True)
    h.wait_for("steady ready", lambda: "ready" in steady.stdout(), 30,
               steady)
    per = producer(h, "per-message", px.bootstrap,
                   {"client.id": "per-message"}, n=1, instances=6)
    batch = producer(h, "batch-import", px.bootstrap,
                     {"client.id": "batch-import"}, n=1, instances=6)
    leaky = producer(h, "leaky", px.bootstrap, {"client.id": "leaky"},
                     n=50, instances=4, together=True, hold=True)
    for p in (per, batch):
        if p.wait(90) is None:
            raise lib.TestFailure(f"{p.name} did not finish\n{p.tail()}")
    h.wait_for("conns.excess for leaky",
               finding_in_log(px, "conns.excess", "leaky"), 20, leaky)
    finish(h, leaky)
    out = finish(h, steady)
    ev = stop(h, px)
    d = delivered(out)
    h.check(d and d[0] == d[1], f"churn: steady delivered all ({d})")
    for rule in ("churn.short_lived", "churn.open_rate"):
        h.check(len(findings(ev, rule, "per-message")) == 1,
                f"churn: {rule} for a producer per message")
        h.check(not findings(ev, rule, "batch-import"),
                f"churn: none under the override that expects it ({rule})")
        h.check(not findings(ev, rule, "steady"),
                f"churn: none for the steady producer ({rule})")
    sl = findings(ev, "churn.short_lived", "per-message")
    h.check(sl and sl[0]["evidence"]["short_lived_connections"] >= 5,
            "churn: with the short-lived connections counted", sl)
    f = findings(ev, "conns.excess", "leaky")
    h.check(len(f) == 1 and f[0]["evidence"]["open"] >
            f[0]["evidence"]["expected_at_most"],
            "churn: four instances with one client id: conns.excess", f)
    h.check(not findings(ev, "conns.excess", "steady"),
            "churn: one instance: no conns.excess")


def scenario_storm(h, broker):
    # The proxy refuses each producer's connections beyond the first (its
    # bootstrap), after they named themselves: failed connections the
    # clients retry. Then a reload lifts the limit.
    px = run_proxy(h, broker, "storm", {"mode": "enforce",
                                        "max_conns_per_session": 1})
    fast = {"reconnect.backoff.ms": 1, "reconnect.backoff.max.ms": 10}
    stormy = producer(h, "stormy", px.bootstrap,
                      dict(fast, **{"client.id": "stormy"}), hold=True)
    patient = producer(h, "patient", px.bootstrap, {"client.id": "patient"},
                       hold=True)

    def refused(client_id):
        return len([c for c in refusals(px.events(),
                                        "enforce.max_conns_session")
                    if c["client_id"] == client_id])
    h.wait_for("reconnect.storm for stormy",
               finding_in_log(px, "reconnect.storm", "stormy"), 20, stormy)
    h.wait_for("four refusals for patient", lambda: refused("patient") >= 4,
               20, patient)
    conf = dict(px.config, rules={})
    h.write("storm.json", json.dumps(conf, indent=2))
    px.proc.send(signal.SIGHUP)
    h.wait_for("config.reload", lambda: [
        e for e in px.events() if e["event"] == "config.reload"
        and e["ok"]], 10, px.proc)
    outs = [finish(h, p) for p in (stormy, patient)]
    ev = stop(h, px)
    f = findings(ev, "reconnect.storm", "stormy")
    h.check(len(f) == 1 and f[0]["evidence"]["last_gap_s"] < 0.1 and
            f[0]["evidence"]["profile_backoff_s"] == 0.1,
            "storm: reconnect.storm for reconnect.backoff.ms=1", f)
    n = len([c for c in refusals(ev, "enforce.max_conns_session")
             if c["client_id"] == "patient"])
    h.check(not findings(ev, "reconnect.storm", "patient"),
            f"storm: none for librdkafka's own backoff ({n} connections "
            "refused)")
    for name, out in zip(("stormy", "patient"), outs):
        d = delivered(out)
        h.check(d and d[0] == d[1] and d[1] >= 10,
                f"storm: {name} delivered every record once the reload "
                f"lifted the limit ({d})")


def refusals(ev, rule):
    return [c for c in closes(ev) if c["closed_by"] == "proxy" and
            c["how"] == "refused" and c["reason"] == rule]


def scenario_addr(h, broker):
    px = run_proxy(h, broker, "addr", {"mode": "enforce",
                                       "max_conns_per_addr": 6})
    r = h.run("steady-addr", producer_argv(h, px.bootstrap,
                                           {"client.id": "steady"}, n=50),
              60)
    d = delivered(r.stdout())
    h.check(d == (50, 50), f"addr: 4 connections, under the limit: every "
            f"record delivered ({d})")
    n_before = len(px.events())
    h.run("leaky-addr", producer_argv(h, px.bootstrap,
                                      {"client.id": "leaky",
                                       "message.timeout.ms": 3000},
                                      n=50, instances=4, together=True), 60)
    ev = stop(h, px)
    h.check(not refusals(ev[:n_before], "enforce.max_conns_addr"),
            "addr: nothing refused while the steady producer ran")
    ref = refusals(ev, "enforce.max_conns_addr")
    f = findings(ev, "enforce.max_conns_addr")
    h.check(ref, f"addr: connections beyond 6 refused at accept, the rule "
            f"as reason ({len(ref)})")
    h.check(f and all(x["action"] == "refuse" and
                      x["evidence"]["limit"] == 6 for x in f) and
            set(c for x in f for c in x["conns"]) ==
            set(c["conn"] for c in ref),
            "addr: one finding per refused connection, naming it")
    h.check(all(c["client_id"] is None and c["requests"] == {} for c in ref),
            "addr: refused before any request was relayed")


def scenario_session(h, broker):
    px = run_proxy(h, broker, "session", {"mode": "enforce",
                                          "max_conns_per_session": 6,
                                          "max_conn_rate": 10})
    steady = producer(h, "steady-s", px.bootstrap, {"client.id": "steady"},
                      n=50, hold=True)
    h.wait_for("steady ready", lambda: "ready" in steady.stdout(), 30,
               steady)
    limited = {"message.timeout.ms": 2000}
    h.run("leaky-s", producer_argv(h, px.bootstrap,
                                   dict(limited, **{"client.id": "leaky"}),
                                   n=50, instances=4, together=True), 60)
    h.run("per-message-s",
          producer_argv(h, px.bootstrap,
                        dict(limited, **{"client.id": "per-message"}), n=1,
                        instances=7), 90)
    out = finish(h, steady)
    ev = stop(h, px)
    d = delivered(out)
    h.check(d and d[0] == d[1],
            f"session: the steady producer delivered every record ({d})")
    st = closes(ev, "steady")
    h.check(st and not [c for c in st if c["closed_by"] == "proxy"],
            "session: and none of its connections was refused")
    ref = [c for c in refusals(ev, "enforce.max_conns_session")
           if c["client_id"] == "leaky"]
    h.check(ref, f"session: four instances with one client id refused "
            f"beyond 6 connections ({len(ref)})")
    f = findings(ev, "enforce.max_conns_session", "leaky")
    h.check(f and all(x["action"] == "refuse" and
                      x["evidence"]["open"] > 6 for x in f),
            "session: with refuse findings")
    h.check(all(c["requests"] == {"ApiVersions": 1} and
                c["responses"] == 0 and c["bytes_from_broker"] == 0
                for c in ref),
            "session: refused at its first request, which was not relayed",
            ref[:2])
    ref = [c for c in refusals(ev, "enforce.conn_rate")
           if c["client_id"] == "per-message"]
    h.check(ref, f"session: a producer per message refused beyond 10 new "
            f"connections a minute ({len(ref)})")
    f = findings(ev, "enforce.conn_rate", "per-message")
    h.check(f and all(x["evidence"]["opens_last_minute"] > 10 for x in f),
            "session: with conn_rate findings")
    h.check(not [c for c in refusals(ev, "enforce.conn_rate") +
                 refusals(ev, "enforce.max_conns_session")
                 if c["client_id"] == "steady"],
            "session: the steady producer is never refused")


def main(h):
    broker = h.start_broker("2.0.2", topics=[TOPIC])
    scenario_bootstrap(h, broker)
    scenario_metadata(h, broker)
    scenario_churn(h, broker)
    scenario_storm(h, broker)
    scenario_addr(h, broker)
    scenario_session(h, broker)


if __name__ == "__main__":
    harness = lib.Harness("rules_more")
    harness.require_tools("KC_BIN", "MOCK_CLUSTER")
    harness.run_scenario(main)
