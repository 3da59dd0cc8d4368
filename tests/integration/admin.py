#!/usr/bin/python3
"""admin.py - the admin API against the event log.

kcat producers, a kcat consumer group and confluent-kafka-python go
through kafka-conntrace with --admin (and --log-requests), while a raw
socket sits idle on the bootstrap port. Then /metrics (read strictly, and
by prometheus_client's parser), /api/connections, /api/clients,
/api/brokers and /api/findings must agree with the event log the same
proxy wrote: connections opened and closed by role, closed_by, how and
reason; requests and bytes per API; latency histogram counts; findings by
rule; listeners; every closed connection's fields. Filters, status codes,
the Host check, the token, and the refusal of a non-loopback admin address
without one are checked too. Last, `kafka-conntrace report` on the run's
log must give the per-client table computed here from the same log.
"""
import collections
import json
import os
import re
import signal
import socket
import subprocess

import adminlib
import lib

N_RECORDS = 30
TIMEOUTS = (60, 300, 540, 600)


def main():
    h = lib.Harness("admin")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat")
    h.run_scenario(scenario)


def run_clients(h, px):
    values = lib.payloads("adm", N_RECORDS)
    pfile = h.write("records", "\n".join(values) + "\n")
    for i in (1, 2):
        p = h.run(f"kcat-prod{i}", ["kcat", "-b", px.bootstrap, "-P", "-t",
                                    "orders", "-X", f"client.id=adm-prod{i}"],
                  30, stdin=pfile)
        h.check(p.p.returncode == 0, f"kcat producer {i} exited 0", p.tail())
    p = h.run("kcat-cons", ["kcat", "-b", px.bootstrap, "-G", "adm-group",
                            "-X", "client.id=adm-cons", "-X",
                            "auto.offset.reset=earliest", "-X",
                            "heartbeat.interval.ms=500", "-f", "record %s\n",
                            "-c", str(2 * N_RECORDS), "orders"], 60)
    got = [x for x in p.stdout().splitlines() if x.startswith("record ")]
    h.check(p.p.returncode == 0 and len(got) == 2 * N_RECORDS,
            f"kcat consumer got all {2 * N_RECORDS} records "
            f"({len(got)})", p.tail())
    p = h.run("py-prod", [lib.PYTHON, os.path.join(lib.HERE, "pyclient.py"),
                          "produce", "--lib", "confluent", "-b",
                          px.bootstrap, "-t", "orders", "-c", "adm-py",
                          "-p", pfile, "--timeout", "20"], 40)
    h.check(p.p.returncode == 0, "confluent-kafka-python producer exited 0",
            p.tail())


def check_idle_socket(h, px, adm):
    """A raw connection that never speaks: open, bootstrap, idle."""
    s = socket.create_connection(("127.0.0.1", px.port))

    def seen():
        c = adm.get_json("/api/connections")["connections"]
        return c if len(c) == 1 and c[0]["idle_s"] > 1.2 else None
    conns = h.wait_for("the idle socket in /api/connections", seen, 10)
    c = conns[0]
    h.check(c["role"] == "bootstrap" and c["state"] == "open" and
            c["session"] is None and c["listener"] == "bootstrap" and
            c["requests"] == 0,
            "/api/connections: the idle socket is an open bootstrap "
            "connection without a session", c)
    idle = adm.get_json("/api/connections?idle_gt=1")["connections"]
    busy = adm.get_json("/api/connections?idle_gt=1000")["connections"]
    h.check([x["conn"] for x in idle] == [c["conn"]] and busy == [],
            "?idle_gt= keeps connections idle longer than that", (idle, busy))
    _, text = adm.metrics()
    m, _ = adminlib.parse_prometheus(text)
    h.check(adminlib.series(m, "kafka_conntrace_connections_open",
                            role="bootstrap", broker="bootstrap") == 1,
            "/metrics: connections_open{role=bootstrap,broker=bootstrap} 1")
    s.close()
    h.wait_for("no open connection", lambda: adm.get_json(
        "/api/status")["open_connections"] == 0, 10)


def check_http(h, adm):
    st, hdrs, _ = adm.request("/healthz")
    h.check(st == 200, f"/healthz 200 ({st})")
    st, hdrs, body = adm.request("/api/connections",
                                 headers={"Host": "evil.example:80"})
    h.check(st == 403, f"a non-loopback Host is refused without a token "
            f"(403, got {st})", body)
    st, _, _ = adm.request("/api/connections", method="POST")
    h.check(st in (405, 501), f"POST is refused ({st})")
    st, _, body = adm.request("/api/nothing")
    h.check(st == 404, f"an unknown endpoint is 404 ({st})")
    st, _, body = adm.request("/api/connections?bogus=1")
    h.check(st == 400 and b"bogus" in body,
            f"an unknown filter is 400 and named ({st} {body[:100]!r})")
    st, _, body = adm.request("/api/connections?idle_gt=soon")
    h.check(st == 400, f"a bad filter value is 400 ({st})")
    st, hdrs, body = adm.request("/../../etc/passwd")
    h.check(st == 404, f"no path leaves web_root ({st})")
    st, hdrs, body = adm.request("/")
    h.check(st == 200 and hdrs.get("content-type", "").startswith(
        "text/html") and "default-src 'self'" in
        hdrs.get("content-security-policy", ""),
        "/ is the live page, with a same-origin-only CSP", hdrs)
    st, hdrs, body = adm.request("/healthz", method="HEAD")
    h.check(st == 200 and body == b"", f"HEAD /healthz: 200, no body "
            f"({st}, {body!r})")


def compare_metrics(h, text, events):
    closes = lib.closes_of(events)
    opens = [e for e in events if e["event"] == "conn.open"]
    reqs = lib.requests_of(events)
    m, problems = adminlib.parse_prometheus(text)
    h.check(not problems, "/metrics reads strictly as text format 0.0.4",
            "\n".join(problems[:20]))
    try:
        from prometheus_client.parser import text_string_to_metric_families
        fams = list(text_string_to_metric_families(text))
        h.check(len(fams) >= 18, f"prometheus_client parses /metrics "
                f"({len(fams)} families)")
    except ImportError:
        h.log("SKIP: prometheus_client is not installed "
              "(python3-prometheus-client): its parser is not tried")

    dash = open(os.path.join(lib.TOP_SRCDIR, "doc",
                             "grafana-dashboard.json")).read()
    json.loads(dash)
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    used = set(re.findall(r"kafka_conntrace_[a-z_]+", dash))
    unknown = {n for n in used if n not in families and
               re.sub(r"_(bucket|sum|count)$", "", n) not in families}
    h.check(used and not unknown, f"doc/grafana-dashboard.json queries "
            f"only metrics /metrics has ({len(used)} names)", unknown)

    def eq(what, got, want):
        h.check(got == want, f"/metrics {what} agrees with the event log",
                f"metrics: {got}\nlog:     {want}")

    opened = collections.Counter(e["listener"]["kind"] for e in opens)
    eq("connections_opened_total by listener",
       {k[0]: v for k, v in by_label_nz(
           m, "kafka_conntrace_connections_opened_total",
           "listener").items()}, dict(opened))
    eq("connections_closed_total by role/closed_by/how/reason",
       by_label_nz(m, "kafka_conntrace_connections_closed_total", "role",
                   "closed_by", "how", "reason"),
       dict(collections.Counter((c["role"], c["closed_by"], c["how"],
                                 c["reason"]) for c in closes)))
    req = collections.Counter()
    for c in closes:
        req.update(c["requests"])
    eq("requests_total by api",
       {k[0]: v for k, v in by_label_nz(
           m, "kafka_conntrace_requests_total", "api").items()}, dict(req))
    eq("bytes_total",
       (adminlib.series(m, "kafka_conntrace_bytes_total",
                        direction="from_client"),
        adminlib.series(m, "kafka_conntrace_bytes_total",
                        direction="from_broker")),
       (sum(c["bytes_from_client"] for c in closes),
        sum(c["bytes_from_broker"] for c in closes)))
    api_bytes = collections.Counter()
    lat_n, lat_sum = collections.Counter(), collections.Counter()
    for r in reqs:
        api_bytes[(r["api"], "request")] += r["request_bytes"]
        api_bytes[(r["api"], "response")] += r["response_bytes"]
        lat_n[r["api"]] += 1
        lat_sum[r["api"]] += r["latency_ms"] / 1000
    eq("api_bytes_total by api/direction (the request events' sizes)",
       by_label_nz(m, "kafka_conntrace_api_bytes_total", "api",
                   "direction"), dict(api_bytes))
    eq("request_duration_seconds_count by api (the request events)",
       {k[0]: v for k, v in by_label_nz(
           m, "kafka_conntrace_request_duration_seconds_count",
           "api").items()}, dict(lat_n))
    sums = by_label_nz(m, "kafka_conntrace_request_duration_seconds_sum",
                       "api")
    h.check(all(abs(sums.get((a,), 0) - s) < 1e-5 * lat_n[a] + 1e-9
                for a, s in lat_sum.items()),
            "/metrics request_duration_seconds_sum agrees with the request "
            "events' latency_ms", (sums, dict(lat_sum)))
    inf = by_label_nz(m, "kafka_conntrace_request_duration_seconds_bucket",
                      "api", "le")
    h.check(all(inf.get((a, "+Inf")) == n for a, n in lat_n.items()),
            "+Inf buckets equal the counts")
    fnd = collections.Counter(e["rule"] for e in events
                              if e["event"] == "finding")
    eq("findings_total by rule",
       {k[0]: v for k, v in by_label_nz(
           m, "kafka_conntrace_findings_total", "rule").items()}, dict(fnd))
    h.check(adminlib.series(m, "kafka_conntrace_findings_total",
                            rule="exit.abrupt") is not None,
            "findings_total lists rules that did not fire, at 0")
    eq("decode_problems_total",
       sum(m.get("kafka_conntrace_decode_problems_total", {}).values()),
       sum(1 for e in events if e["event"] == "decode.problem"))
    eq("listeners{kind=broker}",
       adminlib.series(m, "kafka_conntrace_listeners", kind="broker"),
       sum(1 for e in events if e["event"] == "broker.listener" and
           "error" not in e))
    eq("upstream_connect_failures_total",
       adminlib.series(m, "kafka_conntrace_upstream_connect_failures_total"),
       sum(1 for c in closes if c["how"] in ("connect_failed",
                                              "connect_timeout")))
    eq("connections_open, requests_inflight",
       (sum(m.get("kafka_conntrace_connections_open", {}).values()),
        adminlib.series(m, "kafka_conntrace_requests_inflight")), (0, 0))
    eq("sessions", adminlib.series(m, "kafka_conntrace_sessions"),
       len({c["session"] for c in closes if "session" in c}))
    per_client = collections.Counter(c["client_id"] or "" for c in closes)
    eq("client_connections_total by client_id (client_labels)",
       {k[0]: v for k, v in by_label_nz(
           m, "kafka_conntrace_client_connections_total",
           "client_id").items()}, dict(per_client))


def by_label_nz(m, name, *keys):
    return {k: v for k, v in adminlib.by_label(m, name, *keys).items()
            if v}


def compare_api(h, api, events):
    closes = {c["conn"]: c for c in lib.closes_of(events)}
    conns = {c["conn"]: c for c in api["all"]["connections"]}
    h.check(set(conns) == set(closes),
            f"/api/connections?state=all lists the {len(closes)} "
            "connections of the log", (sorted(conns), sorted(closes)))
    bad = []
    for cid, c in closes.items():
        a = conns.get(cid)
        if not a:
            continue
        for k in ("role", "closed_by", "how", "reason", "client_id",
                  "client_software_name", "client_software_version",
                  "bytes_from_client", "bytes_from_broker", "session",
                  "broker_id", "client_node_id", "client_port", "opened",
                  "closed"):
            if a.get(k) != c.get(k):
                bad.append(f"conn {cid} {k}: api {a.get(k)!r} log "
                           f"{c.get(k)!r}")
        if a["state"] != "closed" or \
                a["requests"] != sum(c["requests"].values()) or \
                abs(a["duration_s"] - c["duration_s"]) > 2e-6 or \
                abs(a["max_idle_s"] - c["max_idle_s"]) > 2e-6:
            bad.append(f"conn {cid}: state/requests/duration/idle "
                       f"{a['state']} {a['requests']} {a['duration_s']} "
                       f"{a['max_idle_s']} vs {lib.brief(c)}")
    h.check(not bad, "every closed connection in /api/connections matches "
            "its conn.close", "\n".join(bad[:20]))
    for name, pred, path in (
            ("role=data", lambda c: c["role"] == "data", "role=data"),
            ("client=adm-cons", lambda c: c["client_id"] == "adm-cons",
             "client=adm-cons"),
            ("broker=bootstrap", lambda c: c["broker_id"] is None,
             "broker=bootstrap")):
        got = sorted(c["conn"] for c in api[path]["connections"])
        want = sorted(i for i, c in closes.items() if pred(c))
        h.check(got == want and want,
                f"/api/connections?state=all&{name}: {len(want)} "
                "connections, as in the log", (got, want))
    # Which brokers lead the partitions is the cluster's choice: each
    # broker filter must match the log, and together they must cover
    # every broker connection.
    per_broker = {}
    for b in (1, 2, 3):
        got = sorted(c["conn"] for c in api[f"broker={b}"]["connections"])
        want = sorted(i for i, c in closes.items() if c["broker_id"] == b)
        per_broker[b] = (got, want)
    h.check(all(g == w for g, w in per_broker.values()) and
            sum(len(w) for _, w in per_broker.values()) ==
            sum(1 for c in closes.values() if c["broker_id"] is not None),
            "/api/connections?state=all&broker=N: each broker's "
            "connections, as in the log", per_broker)
    sessions = collections.Counter(c.get("session") for c in closes.values())
    ids = {c.get("session"): c["client_id"] for c in closes.values()}
    cl = {c["session"]: c for c in api["clients"]["clients"]}
    h.check(set(cl) == set(sessions) and all(
        cl[s]["total_connections"] == n and cl[s]["client_id"] == ids[s] and
        cl[s]["open_connections"] == 0 for s, n in sessions.items()),
        "/api/clients: each session's connections and client id, as in "
        "the log", (cl, dict(sessions)))
    listeners = {e["broker_id"]: e for e in events
                 if e["event"] == "broker.listener"}
    br = {b["broker_id"]: b for b in api["brokers"]["brokers"]}
    h.check(set(br) == set(listeners) and all(
        br[i]["listen_port"] == e["listen_port"] and
        br[i]["upstream_port"] == e["upstream_port"]
        for i, e in listeners.items()),
        "/api/brokers: the brokers and their listeners of broker.listener",
        (br, listeners))
    fnd = [e for e in events if e["event"] == "finding"]
    got = [(f["ts"], f["rule"], f.get("conns")) for f in
           api["findings"]["findings"]]
    want = [(f["ts"], f["rule"], f.get("conns")) for f in fnd]
    h.check(got == want and want, f"/api/findings: the {len(want)} findings "
            "of the log, in order", (got, want))


def expected_report(events):
    """The report's per-session table, computed here from the log."""
    out = {}
    for c in lib.closes_of(events):
        key = (c["client_addr"], c["client_id"], c["client_software_name"])
        s = out.setdefault(key, dict(total=0, roles=collections.Counter(),
                                     idle=-1, would=[0] * 4,
                                     findings=collections.Counter()))
        s["total"] += 1
        s["roles"][c["role"]] += 1
        s["idle"] = max(s["idle"], c["max_idle_s"])
        for i, t in enumerate(TIMEOUTS):
            s["would"][i] += any(g >= t for g in c["idle_gaps_s"])
    for f in events:
        if f["event"] != "finding":
            continue
        key = (f.get("client_addr"), f.get("client_id"),
               f.get("client_software_name"))
        out.setdefault(key, dict(total=0, roles=collections.Counter(),
                                 idle=-1, would=[0] * 4,
                                 findings=collections.Counter()))
        out[key]["findings"][f["rule"]] += 1
    return out


def check_report(h, px, events):
    r = subprocess.run([h.kc_bin, "report", "--json", "--svg",
                        h.path("timeline.svg"), px.log_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    h.check(r.returncode == 0, f"report exited 0 ({r.returncode})",
            r.stderr.decode()[-500:])
    rep = json.loads(r.stdout)
    want = expected_report(events)
    got = {}
    for s in rep["sessions"]:
        got[(s["client_addr"], s["client_id"], s["client_software_name"])] = \
            dict(total=s["connections"]["total"],
                 roles=collections.Counter(
                     {k: v for k, v in s["connections"]["by_role"].items()
                      if v}),
                 idle=s["longest_idle"]["seconds"]
                 if s["longest_idle"]["seconds"] is not None else -1,
                 would=[t["would_close"] for t in s["idle_timeouts"]],
                 findings=collections.Counter(s["findings"]))
    h.check(set(got) == set(want), f"report: the {len(want)} client "
            "sessions of the log", (sorted(got, key=str),
                                    sorted(want, key=str)))
    diffs = [f"{k}: report {got[k]} log {want[k]}" for k in want
             if k in got and got[k] != want[k]]
    h.check(not diffs, "report: per session, connections by role, longest "
            "idle, the idle-timeout table and findings agree with the log",
            "\n".join(diffs))
    h.check(rep["connections_closed"] == len(lib.closes_of(events)) and
            rep["bad_lines"] == 0 and rep["connections_open_at_end"] == 0,
            "report: totals", {k: rep[k] for k in (
                "connections_closed", "bad_lines",
                "connections_open_at_end")})
    svg = open(h.path("timeline.svg")).read()
    bars = svg.count('<g class="conn" data-conn=')
    h.check(bars == len(lib.closes_of(events)),
            f"report --svg: one bar per connection ({bars})")
    # The text form, and bad lines in a copy of the log.
    copy = h.path("damaged.jsonl")
    with open(px.log_path) as f, open(copy, "w") as o:
        lines = f.readlines()
        o.writelines(lines[:3] + ["{not json\n"] + lines[3:] +
                     ['{"ts":"2026-01-01T00:00:00Z","event":"conn.cl'])
    r = subprocess.run([h.kc_bin, "report", copy], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    text = r.stdout.decode()
    h.check(r.returncode == 0 and f"{copy}:4: not JSON" in text and
            f"{copy}:{len(lines) + 2}: truncated" in text and
            'client 127.0.0.1  client id "adm-cons"  software librdkafka'
            in text and "would close" in text,
            "report: text, with the bad lines named FILE:LINE and skipped",
            text[:3000])


def check_security(h, broker):
    # A non-loopback admin address without a token: refused at start.
    r = subprocess.run([h.kc_bin, "--listen", f"127.0.0.1:{lib.free_port()}",
                        "--upstream", broker.addrs[0], "--admin",
                        f"0.0.0.0:{lib.free_port()}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    h.check(r.returncode == 2 and b"not a loopback address" in r.stderr and
            b"--admin-token-file" in r.stderr,
            "--admin 0.0.0.0:PORT without a token: exit 2, saying why",
            r.stderr)
    r = subprocess.run([h.kc_bin, "--listen", f"127.0.0.1:{lib.free_port()}",
                        "--upstream", broker.addrs[0], "--event-log",
                        h.path("bad-admin.jsonl"), "--admin",
                        f"127.0.0.1:{lib.free_port()}", "--config",
                        h.write("bad-admin.json",
                                '{"admin": {"clinet_labels": true}}')],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    h.check(r.returncode == 2 and b"clinet_labels" in r.stderr,
            "an unknown \"admin\" option: exit 2, named",
            (r.returncode, r.stderr))
    token = "s3cret-" + os.urandom(8).hex()
    tfile = h.write("admin.token", token + "\n")
    px, adm = adminlib.start_proxy(h, broker, name="proxy-token",
                                   token_file=tfile)
    st, hdrs, _ = adm.request("/metrics")
    h.check(st == 401 and hdrs.get("www-authenticate", "").startswith(
        "Bearer"), f"with a token: no Authorization is 401 ({st})", hdrs)
    st, _, _ = adm.request("/api/connections", token="wrong")
    h.check(st == 401, f"a wrong token is 401 ({st})")
    st, _, _ = adm.request("/healthz", token=token)
    h.check(st == 200, f"the token opens /healthz ({st})")
    st, _, body = adm.request("/metrics", token=token,
                              headers={"Host": "kafka-proxy.example:9"})
    h.check(st == 200 and b"kafka_conntrace_listeners" in body,
            f"with a token any Host is fine ({st})")
    st, _, _ = adm.request("/live.js")
    h.check(st == 200, f"the page's static files need no token ({st})")
    rc = h.stop_proxy(px)
    h.check(rc == 0, f"token proxy exited 0 ({rc})")


def scenario(h):
    broker = h.start_broker("2.0.2", brokers=3, topics=["orders"])
    px, adm = adminlib.start_proxy(
        h, broker, log_requests=True, admin={"client_labels": True})
    h.wait_for("/readyz 200", lambda: adm.request("/readyz")[0] == 200, 15,
               px.proc)
    check_http(h, adm)
    run_clients(h, px)
    check_idle_socket(h, px, adm)
    hdrs, text = adm.metrics()
    h.check(hdrs.get("content-type") ==
            "text/plain; version=0.0.4; charset=utf-8",
            "/metrics Content-Type is the 0.0.4 text format", hdrs)
    api = {"all": adm.get_json("/api/connections?state=all"),
           "clients": adm.get_json("/api/clients"),
           "brokers": adm.get_json("/api/brokers"),
           "findings": adm.get_json("/api/findings")}
    for q in ("role=data", "client=adm-cons", "broker=1", "broker=2",
              "broker=3", "broker=bootstrap"):
        api[q] = adm.get_json(f"/api/connections?state=all&{q}")
    rc = h.stop_proxy(px)
    h.check(rc == 0, f"proxy exited 0 on SIGTERM ({rc})")
    events = h.check_log(px)
    compare_metrics(h, text, events)
    compare_api(h, api, events)
    check_report(h, px, events)
    check_security(h, broker)
    broker.proc.stop(signal.SIGTERM)


if __name__ == "__main__":
    main()
