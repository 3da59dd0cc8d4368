"""clientsuite.py - the clients scenario, for one mock cluster: kcat,
confluent-kafka-python, kafka-python and node-rdkafka each produce unique
records and consume them back in a consumer group, all through one
kafka-conntrace, while dumpcap watches the brokers' ports. The event log
must then tell each client's connections as ../../shared/CLIENTS.md (and
tests/peers/README.md) predict for that library, and no client may have
reached a broker but through the proxy.

clients_mock202.py and clients_mock212.py run it against the librdkafka
2.0.2 and 2.12 mocks.
"""
import collections
import os
import signal

import lib

N_RECORDS = 40
CLIENT_TIMEOUT = 60

# What each client is and what its library predicts.
#   family: librdkafka (ApiVersions on every socket, one bootstrap socket,
#           a dedicated coordinator socket) or kafka-python (ApiVersions
#           v0 on the bootstrap socket only, no software name, a
#           coordinator-<id> socket).
#   closes_bootstrap: librdkafka >= 2.10 closes its bootstrap socket right
#           after the first Metadata answer; 2.0.2 keeps it to the end.
CLIENTS = {
    "kcat": dict(family="librdkafka", comm="kcat", sw_name="librdkafka",
                 sw_version=lambda v: v == "2.0.2", closes_bootstrap=False),
    "confluent": dict(family="librdkafka", comm="python3",
                      sw_name="confluent-kafka-python",
                      sw_version=lambda v: bool(v) and
                      v.startswith("1.7.0-rdkafka-2.0.2"),
                      closes_bootstrap=False),
    "kafka-python": dict(family="kafka-python", comm="python3",
                         sw_name=None, sw_version=lambda v: v is None,
                         closes_bootstrap=None),
    "node-rdkafka": dict(family="librdkafka", comm="node",
                         sw_name="librdkafka",
                         sw_version=lambda v: v == "2.12.0",
                         closes_bootstrap=True),
}


def client_argv(h, client, mode, bootstrap, topic, cid, pfile, group):
    """argv, stdin and env of one client run."""
    if client == "kcat":
        if mode == "produce":
            return (["kcat", "-b", bootstrap, "-P", "-t", topic,
                     "-X", f"client.id={cid}"], pfile, None)
        n = sum(1 for _ in open(pfile))
        return (["kcat", "-b", bootstrap, "-G", group, "-X",
                 f"client.id={cid}", "-X", "auto.offset.reset=earliest",
                 "-X", "heartbeat.interval.ms=500", "-f", "record %s\n",
                 "-c", str(n), topic], None, None)
    common = ["-b", bootstrap, "-t", topic, "-c", cid, "-p", pfile, "-g",
              group, "--timeout", str(CLIENT_TIMEOUT - 10)]
    if client == "node-rdkafka":
        return (["node", os.path.join(lib.HERE, "nrclient.js"), mode] +
                common, None, h.node_env())
    return ([lib.PYTHON, os.path.join(lib.HERE, "pyclient.py"), mode,
             "--lib", client] + common, None, None)


def run_phase(h, mode, bootstrap, runs):
    """Start one client process per entry of runs (all at once: the mocks
    hold the first JoinGroup of each group ~3 s), wait for all."""
    procs = {}
    for client, r in runs.items():
        argv, stdin, env = client_argv(h, client, mode, bootstrap, r["topic"],
                                       r[f"{mode}_cid"], r["pfile"],
                                       r["group"])
        procs[client] = h.spawn(f"{client}-{mode}", argv, stdin=stdin,
                                env=env)
    for client, p in procs.items():
        rc = p.wait(CLIENT_TIMEOUT)
        if rc is None:
            p.stop(signal.SIGKILL)
        h.check(rc == 0, f"{client} {mode}r exited 0 (status {rc})",
                p.tail())
    return procs


def check_records(h, client, proc, values):
    got = [line[len("record "):] for line in proc.stdout().splitlines()
           if line.startswith("record ")]
    missing = set(values) - set(got)
    extra = set(got) - set(values)
    h.check(not missing and not extra,
            f"{client}: all {len(values)} records produced through the proxy "
            f"came back through it, unchanged ({len(got)} received)",
            f"missing {sorted(missing)[:5]} ({len(missing)}), "
            f"unexpected {sorted(extra)[:5]} ({len(extra)})")


def check_process(h, client, mode, proc, conns, cid):
    """The connections of one client process against its library's
    profile."""
    spec = CLIENTS[client]
    tag = f"{client} {mode}r (pid {proc.pid})"
    mine = [c for c in conns.values()
            if (c.get("close") or {}).get("pid") == proc.pid]
    closes = [c["close"] for c in mine if "close" in c]
    detail = "\n".join(lib.brief(c) for c in closes)
    if not h.check(len(closes) >= 2,
                   f"{tag}: its connections went through the proxy "
                   f"({len(closes)} conns)", detail):
        return
    h.check(all(c["close"].get("comm") == spec["comm"] for c in mine),
            f"{tag}: conn.close names its pid and comm {spec['comm']!r}",
            [c["close"].get("comm") for c in mine])
    boot = [c for c in closes if c["listener"]["kind"] == "bootstrap"]
    brk = [c for c in closes if c["listener"]["kind"] == "broker"]
    req = lambda c: set(c["requests"])  # noqa: E731

    # Bootstrap connections.
    if spec["family"] == "librdkafka":
        h.check(len(boot) == 1, f"{tag}: exactly one bootstrap connection "
                f"(librdkafka: one per bootstrap.servers entry)", detail)
    else:
        h.check(len(boot) >= 1, f"{tag}: a bootstrap connection", detail)
    h.check(all(c["role"] == "bootstrap" and c["client_node_id"] == -1 and
                c["broker_id"] is None for c in boot),
            f"{tag}: bootstrap connections: role bootstrap, node -1, "
            "no broker id", detail)
    h.check(all(req(c) and req(c) <= {"ApiVersions", "Metadata",
                                      "FindCoordinator"} for c in boot),
            f"{tag}: bootstrap connections carry only ApiVersions, Metadata "
            "and FindCoordinator", detail)
    h.check(any("Metadata" in req(c) for c in boot),
            f"{tag}: Metadata went over a bootstrap connection", detail)

    # Broker connections: role, node id, listener.
    bad = [c for c in brk if not (
        c["broker_id"] == c["listener"].get("broker_id") and
        c["role"] in ("data", "coordinator", "other") and
        c["client_node_id"] == (lib.INT32_MAX - c["broker_id"]
                                if c["role"] == "coordinator"
                                else c["broker_id"]))]
    h.check(brk and not bad, f"{tag}: broker connections: role data, "
            "coordinator or other; node id = broker id, or 2147483647 - "
            "broker id for the coordinator",
            "\n".join(lib.brief(c) for c in bad))
    per_broker = collections.Counter(c["broker_id"] for c in brk
                                     if c["role"] != "coordinator")
    h.check(all(n == 1 for n in per_broker.values()),
            f"{tag}: one (non-coordinator) connection per broker",
            dict(per_broker))

    # Identity.
    h.check(all(c["client_id"] == cid for c in closes if c["requests"]),
            f"{tag}: every connection's client_id is {cid!r}", detail)
    h.check(all(c["client_software_name"] == spec["sw_name"] and
                spec["sw_version"](c["client_software_version"])
                for c in closes if "ApiVersions" in req(c) or
                spec["sw_name"] is None),
            f"{tag}: client_software_name/version "
            f"{spec['sw_name']!r} (from ApiVersions v3)", detail)
    if spec["family"] == "librdkafka":
        h.check(all("ApiVersions" in req(c) for c in closes),
                f"{tag}: ApiVersions on every connection (librdkafka)",
                detail)
    else:
        h.check(all("ApiVersions" not in req(c) for c in brk) and
                sum(c["requests"].get("ApiVersions", 0) for c in boot) == 1,
                f"{tag}: one ApiVersions (v0, version probe), on a bootstrap "
                "connection only (kafka-python 2.0.2)", detail)

    # Roles by what the process does.
    coord = [c for c in brk if c["role"] == "coordinator"]
    data = [c for c in brk if c["role"] == "data"]
    if mode == "produce":
        h.check(not coord, f"{tag}: no coordinator connection (no group)",
                detail)
        h.check(any("Produce" in req(c) for c in data),
                f"{tag}: Produce on data connections", detail)
        h.check(all(not (req(c) & lib.GROUP_APIS) for c in closes),
                f"{tag}: no group API anywhere", detail)
    else:
        h.check(len(coord) == 1, f"{tag}: exactly one coordinator "
                "connection (a dedicated socket)", detail)
        h.check(all({"JoinGroup", "SyncGroup", "OffsetFetch"} <= req(c) and
                    not (req(c) & lib.DATA_APIS) for c in coord),
                f"{tag}: the coordinator connection carries JoinGroup, "
                "SyncGroup, OffsetFetch and no data API", detail)
        h.check(all(not (req(c) & lib.GROUP_APIS) for c in closes
                    if c not in coord),
                f"{tag}: group APIs only on the coordinator connection",
                detail)
        h.check(any("Fetch" in req(c) for c in data),
                f"{tag}: Fetch on data connections", detail)
    h.check(all(c["closed_by"] == "client" for c in closes),
            f"{tag}: the client closed every connection", detail)

    # Lifecycle of the bootstrap socket.
    others = [c for c in closes if c not in boot]
    if boot and others and spec["closes_bootstrap"] is True:
        h.check(boot[0]["closed"] < min(c["closed"] for c in others),
                f"{tag}: the bootstrap connection closed before any other "
                "(librdkafka >= 2.10 drops it after the first Metadata)",
                detail)
    elif boot and others and spec["closes_bootstrap"] is False:
        h.check(boot[0]["closed"] >= max(c["opened"] for c in others),
                f"{tag}: the bootstrap connection stayed open to the end "
                "(librdkafka < 2.10 keeps it)", detail)
    elif boot and others:
        first = min(boot, key=lambda c: c["opened"])
        first_brk = min((c for c in brk), key=lambda c: c["opened"])
        h.check(lib.ts_seconds(first["closed"]) <=
                lib.ts_seconds(first_brk["opened"]) + 1.0,
                f"{tag}: the first bootstrap connection closed as the first "
                "broker connection came up (kafka-python 2.x)", detail)
    return mine


def run(kind):
    h = lib.Harness(f"clients-{kind}")
    h.require_tools("KC_BIN", "kcat", "dumpcap", "tshark", "node",
                    "node-rdkafka")
    if kind == "2.0.2":
        h.require_tools("MOCK_CLUSTER")
    h.run_scenario(scenario, kind)


def scenario(h, kind):
    broker = h.start_broker(kind, brokers=3)
    # The node mock's own handle connected before this point; from now on
    # every SYN to a broker port must be the proxy's.
    cap = h.start_capture("cap-brokers", ports=broker.ports)
    px = h.start_proxy(broker, log_requests=True)

    runs = {}
    for client in CLIENTS:
        tag = f"{client.replace('-', '')}{kind.replace('.', '')}"
        values = lib.payloads(tag, N_RECORDS)
        runs[client] = dict(
            topic=f"t-{tag}", group=f"g-{tag}", values=values,
            pfile=h.write(f"{client}.payloads", "\n".join(values) + "\n"),
            produce_cid=f"{tag}-producer", consume_cid=f"{tag}-consumer")
    producers = run_phase(h, "produce", px.bootstrap, runs)
    consumers = run_phase(h, "consume", px.bootstrap, runs)

    rc = h.stop_proxy(px)
    h.check(rc == 0, f"proxy exited 0 on SIGTERM (status {rc})")
    h.stop_capture(cap)

    events = h.check_log(px)
    conns = lib.conns_of(events)
    stopping = [e for e in events if e["event"] == "proxy.stopping"]
    h.check(stopping and stopping[0]["open_connections"] == 0,
            "every connection had ended before the proxy was stopped",
            stopping)
    listeners = {e["broker_id"]: e for e in events
                 if e["event"] == "broker.listener"}
    h.check(sorted(listeners) == [1, 2, 3] and
            all(listeners[i]["upstream_port"] == broker.ports[i - 1] and
                listeners[i].get("listen_port") for i in listeners),
            "one broker.listener per broker (ids 1-3), at the broker's "
            "address", listeners)

    for client, r in runs.items():
        check_records(h, client, consumers[client], r["values"])
    attributed = set()
    for client, r in runs.items():
        for mode, procs, cid in (("produce", producers, r["produce_cid"]),
                                 ("consume", consumers, r["consume_cid"])):
            mine = check_process(h, client, mode, procs[client], conns, cid)
            attributed |= {c["open"]["conn"] for c in mine or []}
    stray = [lib.brief(c["close"]) for k, c in conns.items()
             if k not in attributed and "close" in c]
    h.check(not stray, "every connection belongs to one of the client "
            "processes (by the pid in conn.open)", "\n".join(stray))

    # Each response produced exactly one request event on its connection.
    per_conn = collections.Counter(e["conn"] for e in lib.requests_of(events))
    off = [(k, c["close"]["responses"], per_conn[k]) for k, c in conns.items()
           if c["close"]["responses"] != per_conn[k]]
    h.check(not off, "one request event per response on every connection "
            "(--log-requests)", off[:10])

    # Nobody went around the proxy.
    ups = lib.upstream_local_ports(events)
    syns = lib.syn_sources(h, cap.path, set(broker.ports))
    rogue = [s for s in syns if s[0] not in ups]
    h.check(syns and not rogue,
            f"every one of {len(syns)} TCP SYNs to a broker port came from "
            "the proxy's own upstream sockets (upstream_local)",
            f"SYNs from elsewhere (src, dst): {rogue[:10]}")
    h.check(ups == {s[0] for s in syns},
            f"every upstream_local port ({len(ups)}) is seen connecting in "
            "the capture", f"not seen: {sorted(ups - {s[0] for s in syns})}")
