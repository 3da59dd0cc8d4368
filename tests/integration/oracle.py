#!/usr/bin/python3
"""oracle.py - tshark as an independent decoder of what the proxy logs.

With --log-requests and a fixed --broker-ports range, dumpcap records the
client side of the proxy (its bootstrap port and the broker listener
range) while kcat and kafka-python produce and consume through it (the
librdkafka 2.0.2 mock: old, non-flexible versions tshark decodes), then
node-rdkafka does the same against the 2.12 mock (flexible versions:
tshark reads their headers only). For every Kafka request tshark decodes,
the proxy's request event on the same connection (client port -> conn)
with the same correlation id must agree on API key, version and client
id, and, where tshark decodes the body, on topic names and partition ids.
tshark mis-decodes JoinGroup/SyncGroup bodies and cannot decode flexible
bodies: those are compared on the header only. The counts of requests and
responses per connection must agree too.
"""
import collections
import json
import os
import signal

import lib

N_RECORDS = 20
CLIENT_TIMEOUT = 60

# First flexible version of the APIs these clients use; tshark 4.0
# decodes bodies only below it. JoinGroup (11) and SyncGroup (14) bodies
# it mis-decodes at any version.
FIRST_FLEXIBLE = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4,
                  13: 4, 14: 4, 18: 3, 22: 2}
HEADER_ONLY_APIS = {11, 14}


def body_decoded(key, version):
    return (key not in HEADER_ONLY_APIS and key in FIRST_FLEXIBLE and
            version < FIRST_FLEXIBLE[key])


def collect(tree, name, into):
    """Every value of field `name` anywhere under a tshark JSON tree."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == name:
                into.extend(v if isinstance(v, list) else [v])
            else:
                collect(v, name, into)
    elif isinstance(tree, list):
        for v in tree:
            collect(v, name, into)
    return into


def tshark_pdus(h, pcap, decode_as):
    """Kafka PDUs tshark found: dicts with src/dst port and its fields."""
    args = ["-r", pcap]
    for d in decode_as:
        args += ["-d", f"tcp.port=={d},kafka"]
    args += ["-Y", "kafka", "-T", "json", "--no-duplicate-keys",
             "-J", "tcp kafka"]
    pdus = []
    for pkt in json.loads(h.tshark(args) or "[]"):
        layers = pkt["_source"]["layers"]
        tcp = layers["tcp"]
        ks = layers.get("kafka")
        for k in ks if isinstance(ks, list) else [ks]:
            if not k:
                continue
            pdus.append(dict(src=int(tcp["tcp.srcport"]),
                             dst=int(tcp["tcp.dstport"]), f=k))
    return pdus


def field(pdu, name):
    v = pdu["f"].get(name)
    return v[0] if isinstance(v, list) else v


def compare(h, tag, events, pdus, listener_ports):
    """The proxy's request events against tshark's requests."""
    conns = lib.conns_of(events)
    by_port = {(c["open"]["client_port"], c["open"]["listener"]["port"]): k
               for k, c in conns.items()}
    reqs = collections.defaultdict(list)    # conn -> tshark requests
    resps = collections.Counter()           # conn -> tshark responses
    unknown = []
    headless = []
    answers = {}                            # (conn, corr) -> response
    for p in pdus:
        # Every PDU towards a listener is a request, every one from it a
        # response (tshark cannot name the response to a request body it
        # found malformed, but it still frames it).
        if p["dst"] in listener_ports:
            k = by_port.get((p["src"], p["dst"]))
            if k is None:
                unknown.append((p["src"], p["dst"]))
            elif field(p, "kafka.request_key") is None:
                headless.append(f"conn {k}: {json.dumps(p['f'])[:200]}")
            else:
                reqs[k].append(p)
        elif p["src"] in listener_ports:
            k = by_port.get((p["dst"], p["src"]))
            if k is not None:
                resps[k] += 1
                corr = field(p, "kafka.correlation_id")
                if corr is not None:
                    answers[(k, int(corr))] = p
    h.check(sum(map(len, reqs.values())) > 0 and not unknown,
            f"{tag}: tshark decoded {sum(map(len, reqs.values()))} requests, "
            "each on a connection of the event log (client port -> conn)",
            f"requests from unknown client ports: {unknown[:10]}")
    h.check(not headless, f"{tag}: tshark read the header of every request",
            "\n".join(headless[:10]))

    events_by = {(e["conn"], e["correlation_id"]): e
                 for e in lib.requests_of(events)}
    seen = set()
    mism = collections.defaultdict(list)
    n_body = 0
    counts_off = []
    for k, plist in sorted(reqs.items()):
        close = conns[k]["close"]
        total = sum(close["requests"].values())
        if len(plist) != total:
            counts_off.append(f"conn {k}: tshark {len(plist)} requests, "
                              f"conn.close {total}")
        # conn.close counts the responses the proxy relayed. When the
        # client closes first, the broker's answer to its last request
        # may reach the proxy (and be counted) after the client's socket
        # is gone, so the client-side capture cannot show it: at most one
        # such response per connection, and only when the client closed.
        late = close["responses"] - resps[k]
        if not (late == 0 or (late == 1 and close["closed_by"] == "client")):
            counts_off.append(f"conn {k}: tshark {resps[k]} responses, "
                              f"conn.close {close['responses']}, closed by "
                              f"{close['closed_by']}")
        unanswered = 0
        for i, p in enumerate(plist):
            key = int(field(p, "kafka.request_key"))
            ver = int(field(p, "kafka.api_version"))
            corr = int(field(p, "kafka.correlation_id"))
            e = events_by.get((k, corr))
            if e is None:
                # Only the last requests, still in flight at the close,
                # have no event (they never got a response).
                unanswered += 1
                if i < len(plist) - close["inflight_at_close"]:
                    mism["answered request without an event"].append(
                        f"conn {k} corr {corr} key {key} v{ver}")
                continue
            seen.add((k, corr))
            if (e["api_key"], e["api_version"]) != (key, ver):
                mism["api key/version"].append(
                    f"conn {k} corr {corr}: tshark {key} v{ver}, proxy "
                    f"{e['api_key']} v{e['api_version']} ({e['api']})")
            cid = field(p, "kafka.client_id")
            if cid is not None and cid != e["client_id"]:
                mism["client id"].append(f"conn {k} corr {corr}: tshark "
                                         f"{cid!r}, proxy {e['client_id']!r}")
            if key == 18 and ver >= 3:
                sw = field(p, "kafka.client_software_name")
                if sw != close["client_software_name"]:
                    mism["client software name"].append(
                        f"conn {k}: tshark {sw!r}, conn.close "
                        f"{close['client_software_name']!r}")
            # Frames over 64 KiB stream through undecoded (doc/event-log.md).
            ans = answers.get((k, corr))
            if ans is not None and e["response_bytes"] <= 65536 and \
                    (body_decoded(key, ver) or key == 18):
                # ApiVersions answers start with their error code in
                # every version, which tshark reads even in a refusal.
                codes = [int(x) for x in collect(ans["f"], "kafka.error", [])
                         if x != "0"]
                if len(codes) != sum(e["errors"].values()):
                    mism["response error codes"].append(
                        f"conn {k} corr {corr} {e['api']} v{ver}: tshark "
                        f"{codes}, proxy {e['errors']}")
            if not body_decoded(key, ver) or e["request_bytes"] > 65536:
                continue
            n_body += 1
            t_topics = set(collect(p["f"], "kafka.topic_name", []))
            t_parts = sorted(int(x) for x in
                             collect(p["f"], "kafka.partition_id", []))
            p_topics = {t["topic"] for t in e["topics"]}
            p_parts = sorted(x for t in e["topics"] for x in t["partitions"])
            if t_topics != p_topics:
                mism["topic names"].append(
                    f"conn {k} corr {corr} {e['api']} v{ver}: tshark "
                    f"{sorted(t_topics)}, proxy {sorted(p_topics)}")
            if t_parts != p_parts:
                mism["partition ids"].append(
                    f"conn {k} corr {corr} {e['api']} v{ver}: tshark "
                    f"{t_parts}, proxy {p_parts} ({e['topics']})")
        if unanswered > close["inflight_at_close"]:
            counts_off.append(f"conn {k}: {unanswered} requests without an "
                              f"event, inflight_at_close "
                              f"{close['inflight_at_close']}")
    h.check(not counts_off, f"{tag}: per connection, tshark and conn.close "
            "count the same requests and responses", "\n".join(counts_off))
    extra = [f"conn {k} corr {c} {events_by[(k, c)]['api']}"
             for (k, c) in events_by if (k, c) not in seen]
    h.check(not extra, f"{tag}: every request event is a request tshark "
            "saw on that connection", "\n".join(extra[:20]))
    h.check(not mism["answered request without an event"],
            f"{tag}: every request tshark saw answered has its request event",
            "\n".join(mism["answered request without an event"][:20]))
    for what in ("api key/version", "client id", "client software name",
                 "response error codes"):
        h.check(not mism[what], f"{tag}: request events agree with tshark "
                f"on {what} ({len(seen)} requests)",
                "\n".join(mism[what][:20]))
    h.check(n_body > 0 and not mism["topic names"],
            f"{tag}: request events agree with tshark on topic names "
            f"({n_body} bodies tshark decodes)",
            "\n".join(mism["topic names"][:20]))
    h.check(n_body > 0 and not mism["partition ids"],
            f"{tag}: request events agree with tshark on partition ids "
            f"({n_body} bodies tshark decodes)",
            "\n".join(mism["partition ids"][:20]))
    return reqs


def run_clients(h, px, kind, clients):
    """Producers together, then consumers together (one JoinGroup hold)."""
    for mode in ("produce", "consume"):
        procs = {}
        for client in clients:
            tag = f"or{client.replace('-', '')}{kind.replace('.', '')}"
            if mode == "produce":
                values = lib.payloads(tag, N_RECORDS)
                h.write(f"{client}.payloads", "\n".join(values) + "\n")
            pfile = h.path(f"{client}.payloads")
            topic, group, cid = f"t-{tag}", f"g-{tag}", f"{tag}-{mode}r"
            if client == "kcat" and mode == "produce":
                argv, stdin, env = (["kcat", "-b", px.bootstrap, "-P", "-t",
                                     topic, "-X", f"client.id={cid}"],
                                    pfile, None)
            elif client == "kcat":
                argv, stdin, env = (["kcat", "-b", px.bootstrap, "-G", group,
                                     "-X", f"client.id={cid}", "-X",
                                     "auto.offset.reset=earliest", "-f",
                                     "record %s\n", "-c", str(N_RECORDS),
                                     topic], None, None)
            elif client == "node-rdkafka":
                argv, stdin, env = (["node", os.path.join(lib.HERE,
                                                          "nrclient.js"),
                                     mode, "-b", px.bootstrap, "-t", topic,
                                     "-c", cid, "-p", pfile, "-g", group],
                                    None, h.node_env())
            else:
                argv, stdin, env = ([lib.PYTHON,
                                     os.path.join(lib.HERE, "pyclient.py"),
                                     mode, "--lib", client, "-b",
                                     px.bootstrap, "-t", topic, "-c", cid,
                                     "-p", pfile, "-g", group], None, None)
            procs[client] = h.spawn(f"{client}-{mode}-{kind}", argv,
                                    stdin=stdin, env=env)
        for client, p in procs.items():
            rc = p.wait(CLIENT_TIMEOUT)
            if rc is None:
                p.stop(signal.SIGKILL)
            h.check(rc == 0, f"{client} {mode}r through the proxy "
                    f"({kind} mock) exited 0 (status {rc})", p.tail())


def part(h, kind, clients):
    tag = f"{'+'.join(clients)} / {kind} mock"
    broker = h.start_broker(kind, brokers=3)
    lo, hi = lib.free_port_range(3)
    px = h.start_proxy(broker, name=f"proxy-{kind}", log_requests=True,
                       broker_ports=(lo, hi))
    cap = h.start_capture(f"cap-{kind}", ports=[px.port],
                          port_ranges=[(lo, hi)])
    run_clients(h, px, kind, clients)
    rc = h.stop_proxy(px)
    h.check(rc == 0, f"{tag}: proxy exited 0 on SIGTERM (status {rc})")
    h.stop_capture(cap)
    broker.proc.stop()
    events = h.check_log(px)
    listeners = [e for e in events if e["event"] == "broker.listener"]
    h.check(len(listeners) == 3 and
            all(lo <= e.get("listen_port", 0) <= hi for e in listeners),
            f"{tag}: the broker listeners took ports of --broker-ports "
            f"{lo}-{hi}", listeners)
    pdus = tshark_pdus(h, cap.path, [px.port, f"{lo}-{hi}"])
    compare(h, tag, events, pdus, set(range(lo, hi + 1)) | {px.port})


def main():
    h = lib.Harness("oracle")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat", "dumpcap", "tshark",
                    "node", "node-rdkafka")
    h.run_scenario(scenario)


def scenario(h):
    part(h, "2.0.2", ["kcat", "kafka-python"])
    part(h, "2.12", ["node-rdkafka"])


main()
