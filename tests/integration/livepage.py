#!/usr/bin/python3
"""livepage.py - the live page, rendered by a real browser.

Clients (kcat producers, a kcat consumer group) go through kafka-conntrace
with --admin while a raw socket stays open and idle. Headless Chromium
(Debian's chromium) loads the page from the admin API and runs its
script; the DOM it dumps must hold exactly one bar per connection of the
run, with the role, state and closer that /api/connections and then the
event log give. A screenshot of the page, and of `report --svg` on the
run's log, are taken too (KC_DOC_IMG=doc/img refreshes the documentation's
pictures from them).
"""
import html.parser
import os
import signal
import socket
import subprocess

import adminlib
import lib

N_RECORDS = 20


class Bars(html.parser.HTMLParser):
    """The connection groups (<g class="conn ..." data-conn=...>) of a
    DOM, and the page's update counter."""

    def __init__(self):
        super().__init__()
        self.bars = []
        self.updates = 0
        self.findings = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("data-updates"):
            self.updates = int(a["data-updates"])
        if tag == "g" and "conn" in (a.get("class") or "").split():
            self.bars.append(a)
        if tag == "path" and a.get("class") == "finding" and \
                a.get("data-rule"):
            self.findings += 1


def main():
    h = lib.Harness("livepage")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat")
    if not adminlib.chromium_path():
        lib.die_skip("chromium is not installed (Debian's chromium; "
                     "scripts/install-deps.sh)")
    h.run_scenario(scenario)


def scenario(h):
    broker = h.start_broker("2.0.2", brokers=3, topics=["orders"])
    px, adm = adminlib.start_proxy(h, broker, log_requests=True,
                                   extra={"rules": {"idle_s": 1}})
    values = lib.payloads("live", N_RECORDS)
    pfile = h.write("records", "\n".join(values) + "\n")
    for i in (1, 2):
        p = h.run(f"kcat-prod{i}", ["kcat", "-b", px.bootstrap, "-P", "-t",
                                    "orders", "-X", f"client.id=live-prod{i}"],
                  30, stdin=pfile)
        h.check(p.p.returncode == 0, f"producer {i} exited 0", p.tail())
    p = h.run("kcat-cons", ["kcat", "-b", px.bootstrap, "-G", "live-group",
                            "-X", "client.id=live-cons", "-X",
                            "auto.offset.reset=earliest", "-X",
                            "heartbeat.interval.ms=500", "-c",
                            str(2 * N_RECORDS), "orders"], 60)
    h.check(p.p.returncode == 0, "consumer exited 0", p.tail())
    idle = socket.create_connection(("127.0.0.1", px.port))
    h.wait_for("the idle socket, idle over 1.5 s", lambda: any(
        c["idle_s"] > 1.5 for c in
        adm.get_json("/api/connections")["connections"]), 10, px.proc)

    url = adm.base + "/"
    dom = adminlib.chromium(h, ["--virtual-time-budget=6000", "--dump-dom",
                                url])
    api = {c["conn"]: c for c in
           adm.get_json("/api/connections?state=all")["connections"]}
    shot = h.path("live-page.png")
    adminlib.chromium(h, ["--virtual-time-budget=6000",
                          "--window-size=1240,640", f"--screenshot={shot}",
                          url])
    idle.close()

    b = Bars()
    b.feed(dom)
    h.check(b.updates >= 1, f"the page drew itself from the API "
            f"({b.updates} updates)", dom[:2000])
    ids = [int(x["data-conn"]) for x in b.bars]
    h.check(sorted(ids) == sorted(api) and len(ids) == len(set(ids)),
            f"the page has one bar per connection of /api/connections "
            f"({len(ids)} bars, {len(api)} connections)",
            (sorted(ids), sorted(api)))
    wrong = [(x, api.get(int(x["data-conn"]))) for x in b.bars
             if int(x["data-conn"]) in api and (
                 x["data-role"] != api[int(x["data-conn"])]["role"] or
                 x["data-state"] != api[int(x["data-conn"])]["state"] or
                 x["data-closed-by"] !=
                 (api[int(x["data-conn"])].get("closed_by") or ""))]
    h.check(not wrong, "each bar has its connection's role, state and "
            "closer", wrong[:5])
    open_bars = [x for x in b.bars if x["data-state"] == "open"]
    h.check(len(open_bars) == 1 and open_bars[0]["data-role"] ==
            "bootstrap", "the idle socket is the one open bar, a bootstrap "
            "one", open_bars)
    size = adminlib.png_size(shot)
    h.check(size == (1240, 640), f"a screenshot of the page ({size})")
    adminlib.save_doc_image(h, shot, "live-page.png")

    rc = h.stop_proxy(px)
    h.check(rc == 0, f"proxy exited 0 ({rc})")
    events = h.check_log(px)
    closes = {c["conn"]: c for c in lib.closes_of(events)}
    h.check(set(closes) == set(ids), "every connection of the event log "
            "had its bar", (sorted(closes), sorted(ids)))
    bad = [(x, lib.brief(closes[int(x["data-conn"])])) for x in b.bars
           if x["data-state"] == "closed" and int(x["data-conn"]) in closes
           and (x["data-role"] != closes[int(x["data-conn"])]["role"] or
                x["data-closed-by"] !=
                closes[int(x["data-conn"])]["closed_by"])]
    h.check(not bad, "the bars of closed connections have the roles and "
            "closers of their conn.close records", bad[:5])

    # The report's timeline of the same run, drawn the same way.
    svg = h.path("timeline.svg")
    r = subprocess.run([h.kc_bin, "report", "--svg", svg, px.log_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    h.check(r.returncode == 0, f"report --svg exited 0 ({r.returncode})",
            r.stderr)
    s = Bars()
    s.feed(open(svg).read())
    got = {int(x["data-conn"]): x["data-role"] for x in s.bars}
    h.check(got == {i: c["role"] for i, c in closes.items()},
            "report --svg: one bar per connection, with its role",
            (got, {i: c["role"] for i, c in closes.items()}))
    shot2 = h.path("report-timeline.png")
    adminlib.chromium(h, ["--window-size=1200,360", f"--screenshot={shot2}",
                          "file://" + svg])
    h.check(adminlib.png_size(shot2) == (1200, 360),
            "a screenshot of the report's timeline")
    adminlib.save_doc_image(h, shot2, "report-timeline.png")
    broker.proc.stop(signal.SIGTERM)


if __name__ == "__main__":
    main()
