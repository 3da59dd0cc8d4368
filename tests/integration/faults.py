#!/usr/bin/python3
"""faults.py - connections that end badly, and the proxy's own end.

Two clusters, each behind its own kafka-conntrace:
  A: librdkafka 2.0.2 mock (tests/peers/mock_cluster), proxy A;
  B: librdkafka 2.12 mock (tests/peers/mock-broker.js), proxy B, with
     --log-requests and a 2 s drain timeout.

(a) A node-rdkafka consumer (fetch.wait.max.ms 1 s: it always holds a
    Fetch long poll) is SIGKILLed once it has every record: its
    connections are closed by the client, how is fin, rst or
    mid_frame_eof, and at least one had a request in flight.
(b) The broker process of A is SIGKILLed while a confluent-kafka-python
    consumer and a kcat producer are connected, and that of a third
    cluster C (2.0.2 mock, proxy C) gets SIGTERM under a kcat producer:
    every connection open at that moment is closed by the broker; those
    the clients open afterwards fail to connect (closed by the proxy,
    connect_failed).
(c) Proxy B gets SIGTERM while a kcat producer is producing through it:
    it exits 0 within the drain timeout (plus a margin), every conn.open
    has its conn.close, the connections still open then are closed by the
    proxy, and the log ends with proxy.stop.
(d) Bytes a client sends just before it closes still reach the broker:
    kcat producers with acks=0 (no answer is awaited: the request bytes
    and the FIN follow each other) through proxy A; every record must be
    stored.
Every log validates against doc/event-log.schema.json.
"""
import os
import signal
import subprocess
import threading
import time

import lib

DRAIN_MS = 2000
FETCH_WAIT_MS = 1000
DRAIN_MARGIN_S = 1.5
N_SEED = 20
ACKS0_RUNS = 20
ACKS0_RECORDS = 2000


def wait_line(h, proc, text, timeout):
    h.wait_for(f"{proc.name} to print {text!r}",
               lambda: text in proc.stdout().splitlines(), timeout, proc)


def wait_event(h, px, what, pred, timeout):
    def found():
        return any(pred(e) for e in lib.read_events(px.log_path)[0])
    h.wait_for(what, found, timeout, px.proc)


def seed(h, broker_or_px, topic, name):
    values = lib.payloads(name, N_SEED)
    pfile = h.write(f"{name}.payloads", "\n".join(values) + "\n")
    p = h.run(f"seed-{name}", ["kcat", "-b", broker_or_px, "-P", "-t",
                               topic], 30, stdin=pfile)
    h.check(p.p.returncode == 0, f"seeded {topic} with {N_SEED} records "
            f"(status {p.p.returncode})", p.tail())
    return pfile


def conns_of_pid(events, pid):
    conns = lib.conns_of(events)
    return [c["close"] for c in conns.values()
            if "close" in c and c["close"].get("pid") == pid]


def case_acks0(h, broker, px):
    """(d): the last request before a client's FIN is not lost."""
    want = 0
    for i in range(ACKS0_RUNS):
        values = lib.payloads(f"acks0-{i}", ACKS0_RECORDS)
        pfile = h.write(f"acks0-{i}.payloads", "\n".join(values) + "\n")
        p = h.run(f"acks0-producer-{i}", [
            "kcat", "-b", px.bootstrap, "-P", "-t", "t-acks0", "-X",
            "acks=0", "-X", "client.id=acks0"], 30, stdin=pfile)
        want += ACKS0_RECORDS if p.p.returncode == 0 else 0
    # Count what the broker stored, asking it directly (no proxy).
    p = h.run("acks0-count", ["kcat", "-b", broker.bootstrap, "-C", "-t",
                              "t-acks0", "-o", "beginning", "-e", "-q",
                              "-f", "%s\n"], 30)
    got = len([x for x in p.stdout().splitlines() if x.startswith("acks0-")])
    opaque = sum(1 for e in px.events() if e["event"] == "conn.opaque")
    h.check(want == ACKS0_RUNS * ACKS0_RECORDS and got == want,
            f"(d) {ACKS0_RUNS} acks=0 producers ({ACKS0_RECORDS} records "
            f"each) through the proxy: all {want} records stored (the "
            f"broker has {got}): what a client sends before its FIN "
            "reaches the broker, and the proxy's close does not reset it",
            f"conn.opaque events so far: {opaque} (a known cause: this "
            "mock answers acks=0 Produce requests; the proxy then closes "
            "its upstream socket with those answers unread, i.e. with an "
            "RST, and the broker's kernel drops the request bytes it had "
            "not read yet)")


class Feeder(threading.Thread):
    """Writes a record line to a producer's stdin every few ms."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc = proc
        self.stop_flag = threading.Event()
        self.n = 0

    def run(self):
        tag = os.urandom(4).hex()
        try:
            while not self.stop_flag.is_set():
                self.proc.p.stdin.write(f"feed-{tag}-{self.n}\n".encode())
                self.proc.p.stdin.flush()
                self.n += 1
                time.sleep(0.005)
        except (BrokenPipeError, OSError, ValueError):
            pass


def check_broker_death(h, tag, name, events, pids, t_kill):
    """The connections open when the broker process died were closed by
    the broker; the ones the clients opened afterwards never got through."""
    closes = [c for c in lib.closes_of(events) if c.get("pid") in pids]
    at_kill = [c for c in closes if lib.ts_seconds(c["opened"]) < t_kill <=
               lib.ts_seconds(c["closed"]) + 0.05]
    after = [c for c in closes if lib.ts_seconds(c["opened"]) >= t_kill]
    detail = "\n".join(lib.brief(c) for c in at_kill + after)
    h.check(len(at_kill) >= 2 and
            all(c["closed_by"] == "broker" and c["reason"] == "broker_closed"
                and c["how"] in ("fin", "rst", "mid_frame_eof")
                for c in at_kill),
            f"{tag}: the {len(at_kill)} connections open when broker {name} "
            "died were closed by the broker", detail)
    h.check(after and all(c["closed_by"] == "proxy" and
                          c["how"] in ("connect_failed", "connect_timeout") and
                          c["upstream_local"] is None for c in after),
            f"{tag}: the {len(after)} connections opened after it died never "
            "reached it (closed by the proxy, connect_failed, no "
            "upstream_local)", detail)


def scenario(h):
    a = h.start_broker("2.0.2", name="broker-A")
    b = h.start_broker("2.12", name="broker-B")
    pxa = h.start_proxy(a, name="proxy-A")
    pxb = h.start_proxy(b, name="proxy-B", log_requests=True,
                        drain_timeout_ms=DRAIN_MS)
    pa = seed(h, pxa.bootstrap, "t-fa", "fa")
    pb = seed(h, pxb.bootstrap, "t-fb", "fb")

    # Consumers for (a) and (b) join their groups while (d) runs.
    ca = h.spawn("consumer-a", [
        "node", os.path.join(lib.HERE, "nrclient.js"), "consume", "-b",
        pxb.bootstrap, "-t", "t-fb", "-c", "fault-a", "-p", pb, "-g",
        "g-fault-a", "--timeout", "30", "--hold", "60", "--fetch-wait-ms",
        str(FETCH_WAIT_MS)], env=h.node_env())
    cb = h.spawn("consumer-b", [
        lib.PYTHON, os.path.join(lib.HERE, "pyclient.py"), "consume",
        "--lib", "confluent", "-b", pxa.bootstrap, "-t", "t-fa", "-c",
        "fault-b", "-p", pa, "-g", "g-fault-b", "--timeout", "30", "--hold",
        "60", "--fetch-wait-ms", "10000"])
    prod_b = h.spawn("producer-b", ["kcat", "-b", pxa.bootstrap, "-P", "-t",
                                    "t-fa", "-X", "client.id=fault-b-prod"],
                     stdin=subprocess.PIPE)
    prod_b.p.stdin.write(b"one-record-from-producer-b\n")
    prod_b.p.stdin.flush()
    case_acks0(h, a, pxa)

    # (a) SIGKILL the consumer during its Fetch long poll. Once it has
    # every record it only long-polls (1 s each, FETCH_WAIT_MS), sending
    # the next Fetch as soon as one comes back empty: after the first
    # empty answer (a request event with the long latency) a Fetch is in
    # flight at all times.
    wait_line(h, ca, "ready", 40)
    wait_event(h, pxb, "an empty Fetch long poll of the consumer",
               lambda e: e["event"] == "request" and e["api"] == "Fetch" and
               e["client_id"] == "fault-a" and
               e["latency_ms"] >= FETCH_WAIT_MS * 0.8, 20)
    t_kill_a = time.time()
    ca.stop(signal.SIGKILL)
    wait_event(h, pxb, "the killed consumer's connections to close",
               lambda e: e["event"] == "conn.close" and
               e.get("pid") == ca.pid and e["role"] == "coordinator", 10)

    # (b) SIGKILL broker A under a connected consumer and producer.
    wait_line(h, cb, "ready", 40)
    t_kill_b = time.time()
    a.proc.stop(signal.SIGKILL)
    # The clients reconnect; the proxy cannot reach the broker any more.
    wait_event(h, pxa, "a reconnect that fails (connect_failed)",
               lambda e: e["event"] == "conn.close" and
               e["how"] == "connect_failed", 20)
    for p in (cb, prod_b):
        p.stop(signal.SIGKILL)
    rc = h.stop_proxy(pxa)
    h.check(rc == 0, f"(b) proxy A exited 0 on SIGTERM after its broker "
            f"died (status {rc})")

    # (b) again, with SIGTERM: mock_cluster destroys the cluster and
    # closes its connections itself.
    c = h.start_broker("2.0.2", name="broker-C")
    pxc = h.start_proxy(c, name="proxy-C")
    prod_bc = h.spawn("producer-bc", ["kcat", "-b", pxc.bootstrap, "-P",
                                      "-t", "t-fbc", "-X",
                                      "client.id=fault-bc"],
                      stdin=subprocess.PIPE)
    feeder_bc = Feeder(prod_bc)
    feeder_bc.start()
    wait_event(h, pxc, "the producer's data connection",
               lambda e: e["event"] == "conn.process" and
               e.get("pid") == prod_bc.pid and
               e["listener"]["kind"] == "broker", 20)
    t_term_c = time.time()
    rc = c.proc.stop(signal.SIGTERM)
    h.check(rc == 0, f"(b) broker C exited 0 on SIGTERM (status {rc})")
    wait_event(h, pxc, "a reconnect that fails (connect_failed)",
               lambda e: e["event"] == "conn.close" and
               e["how"] == "connect_failed", 20)
    feeder_bc.stop_flag.set()
    prod_bc.stop(signal.SIGKILL)
    feeder_bc.join(5)
    rc = h.stop_proxy(pxc)
    h.check(rc == 0, f"(b) proxy C exited 0 on SIGTERM after its broker "
            f"stopped (status {rc})")

    # (c) SIGTERM proxy B while a producer is producing through it.
    prod_c = h.spawn("producer-c", ["kcat", "-b", pxb.bootstrap, "-P", "-t",
                                    "t-fc", "-X", "client.id=fault-c",
                                    "-X", "linger.ms=5"],
                     stdin=subprocess.PIPE)
    feeder = Feeder(prod_c)
    feeder.start()
    wait_event(h, pxb, "the producer's first Produce answer",
               lambda e: e["event"] == "request" and
               e["api"] == "Produce" and e["client_id"] == "fault-c", 20)
    t_term = time.time()
    rc = h.stop_proxy(pxb, timeout=DRAIN_MS / 1000 + 10)
    feeder.stop_flag.set()
    prod_c.stop(signal.SIGKILL)
    feeder.join(5)
    h.check(rc == 0, f"(c) proxy B exited 0 on SIGTERM during a producer's "
            f"run (status {rc})")
    h.check(pxb.stop_seconds is not None and
            pxb.stop_seconds <= DRAIN_MS / 1000 + DRAIN_MARGIN_S,
            f"(c) proxy B was gone {pxb.stop_seconds:.2f} s after SIGTERM "
            f"(drain timeout {DRAIN_MS} ms + {DRAIN_MARGIN_S} s)")
    b.proc.stop()

    # ---- the logs ----
    ev_a = h.check_log(pxa)
    ev_b = h.check_log(pxb)
    ev_c = h.check_log(pxc)

    # (a)
    mine = conns_of_pid(ev_b, ca.pid)
    detail = "\n".join(lib.brief(c) for c in mine)
    h.check(len(mine) >= 3, f"(a) the consumer's connections are in the log "
            f"({len(mine)})", detail)
    live = [c for c in mine if lib.ts_seconds(c["closed"]) >= t_kill_a - 0.05]
    h.check(live and all(c["closed_by"] == "client" and
                         c["how"] in ("rst", "mid_frame_eof", "fin") and
                         c["reason"] == "client_closed" for c in live),
            f"(a) the {len(live)} connections the SIGKILL ended: closed by "
            "the client, how fin/rst/mid_frame_eof", detail)
    h.check(any(c["inflight_at_close"] > 0 and "Fetch" in c["requests"]
                for c in live),
            "(a) a data connection died with its Fetch long poll in flight "
            "(inflight_at_close > 0)", detail)
    h.check(all(lib.ts_seconds(c["closed"]) - t_kill_a < 3 for c in live),
            "(a) the proxy saw them end at once (< 3 s)", detail)

    # (b)
    check_broker_death(h, "(b) SIGKILL", "A", ev_a, {cb.pid, prod_b.pid},
                       t_kill_b)
    check_broker_death(h, "(b) SIGTERM", "C", ev_c, {prod_bc.pid}, t_term_c)

    # (c)
    kinds = [e["event"] for e in ev_b]
    stopping = kinds.index("proxy.stopping") if "proxy.stopping" in kinds \
        else len(kinds)
    open_then = [e for e in ev_b[stopping:] if e["event"] == "conn.close"]
    detail = "\n".join(lib.brief(c) for c in open_then)
    h.check(ev_b[stopping]["open_connections"] == len(open_then) > 0
            if stopping < len(ev_b) else False,
            f"(c) proxy.stopping counted the {len(open_then)} connections "
            "still open, each then closed", detail)
    h.check(all(c["closed_by"] == "proxy" and c["reason"] == "shutdown" and
                c["how"] in ("fin", "drain_timeout") for c in open_then),
            "(c) the proxy closed them (fin once idle, or drain_timeout)",
            detail)
    h.check(any(c["client_id"] == "fault-c" and "Produce" in c["requests"]
                for c in open_then),
            "(c) the running producer's data connection was among them",
            detail)
    h.check(lib.ts_seconds(ev_b[-1]["ts"]) - t_term <=
            DRAIN_MS / 1000 + DRAIN_MARGIN_S,
            "(c) proxy.stop was written within the drain timeout")


def main():
    h = lib.Harness("faults")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat", "node", "node-rdkafka")
    h.run_scenario(scenario)


main()
