#!/usr/bin/python3
"""memlimit.py - max_buffered_total: above it, new clients are refused
(conn.refused, reason memory_limit, and one log line), and accepted again
once the buffers drain.

The real 2.0.2 mock is stopped (SIGSTOP: its kernel still completes TCP
handshakes, but it reads nothing), and a raw socket -- a client that
misbehaves on purpose -- sends the header of a 40 MB Produce request and
streams its body. The proxy relays the body as a byte count; the broker's
socket buffers fill, then the proxy's, up to buffer_high, and the total
goes over max_buffered_total (256 KiB). Probe connections must then be
refused with memory_limit. SIGCONT lets the broker read and drop the
bogus request; once that connection is gone, probes are accepted again
and kcat lists the cluster through the proxy.

Prints "checks: N passed, M failed".
"""
import signal
import socket
import struct
import time

import lib

LIMIT = 256 * 1024
BODY = 40 * 1024 * 1024


def refusals(px):
    return [e for e in px.events() if e.get("event") == "conn.refused"]


def probe(px):
    """Connect once and close; the proxy accepts or refuses it."""
    s = socket.create_connection(("127.0.0.1", px.port), timeout=5)
    s.close()


def scenario(h):
    broker = h.start_broker("2.0.2", brokers=1)
    px = h.start_proxy(broker, name="proxy-mem",
                       extra={"max_buffered_total": LIMIT,
                              "buffer_high": "1M", "buffer_low": "256K",
                              "log_level": "info"})
    # Before: probes are accepted.
    probe(px)
    h.wait_for("the first probe's conn.open",
               lambda: any(e.get("event") == "conn.open"
                           for e in px.events()), 10, px.proc)
    h.check(not refusals(px), "before: a probe is accepted")

    broker.proc.send(signal.SIGSTOP)
    hog = socket.create_connection(("127.0.0.1", px.port), timeout=5)
    # i32 size, i16 Produce, i16 v3, i32 corr, str16 client id, body...
    cid = b"mem-hog"
    hdr = struct.pack(">hhih", 0, 3, 1, len(cid)) + cid
    size = len(hdr) + BODY
    hog.sendall(struct.pack(">i", size) + hdr)
    hog.settimeout(0.5)
    chunk = b"\0" * 65536
    sent, stalls = 0, 0
    deadline = time.monotonic() + 60
    while stalls < 3 and sent < BODY and time.monotonic() < deadline:
        try:
            sent += hog.send(chunk[:min(len(chunk), BODY - sent)])
            stalls = 0
        except socket.timeout:
            stalls += 1
    h.log(f"hog: {sent} body bytes written before the sockets filled")
    h.check(stalls >= 3, "the stopped broker and the proxy stopped taking "
            f"the hog's bytes (after {sent})")

    def refused():
        probe(px)
        return [e for e in refusals(px) if e["reason"] == "memory_limit"]
    got = h.wait_for("a probe refused with memory_limit", refused, 20,
                     px.proc)
    h.check(got and got[0].get("buffered_bytes", 0) > LIMIT,
            f"over the limit: a new client is refused (memory_limit, "
            f"buffered_bytes {got[0].get('buffered_bytes')} > {LIMIT})",
            got[:2])
    h.check("over max_buffered_total" in px.proc.stderr() and
            "refusing new clients" in px.proc.stderr(),
            "over the limit: the proxy logs that it refuses clients",
            px.proc.tail())
    n_before = len(refusals(px))
    probe(px)
    probe(px)
    h.wait_for("two more refusals", lambda: len(refusals(px)) >= n_before + 2,
               10, px.proc)
    h.check(px.proc.stderr().count("refusing new clients") == 1,
            "over the limit: one log line for the whole episode, not one "
            "per refusal", px.proc.tail())

    broker.proc.send(signal.SIGCONT)
    hog.close()
    opens_before = sum(1 for e in px.events() if e.get("event") ==
                       "conn.open")

    def accepted():
        probe(px)
        return sum(1 for e in px.events()
                   if e.get("event") == "conn.open") > opens_before
    try:
        again = h.wait_for("a probe accepted again", accepted, 30, px.proc)
    except lib.TestFailure as e:
        again, why = False, str(e)
    h.check(again, "after draining: new clients are accepted again",
            None if again else why)
    h.check("accepting new clients" in px.proc.stderr(),
            "after draining: the proxy logs that it accepts again",
            px.proc.tail())
    k = h.run("kcat-list", ["kcat", "-b", px.bootstrap, "-L"], 30)
    h.check(k.p.returncode == 0 and "1 brokers" in k.stdout(),
            "after draining: kcat lists the cluster through the proxy",
            k.tail())
    h.stop_proxy(px)
    events = h.check_log(px)
    hogs = [e for e in lib.closes_of(events) if e.get("client_id") == "mem-hog"]
    h.check(len(hogs) == 1, "the hog's connection has its close record",
            [lib.brief(e) for e in hogs])


def main():
    h = lib.Harness("memlimit")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat")
    h.run_scenario(scenario)


if __name__ == "__main__":
    main()
