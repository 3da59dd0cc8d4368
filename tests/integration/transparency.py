#!/usr/bin/python3
"""transparency.py - the proxy changes nothing on the wire but broker
addresses and version caps.

dumpcap records both sides of the proxy (the client side: bootstrap port
and a fixed --broker-ports range; the upstream side: the brokers' ports)
while kcat and kafka-python (librdkafka 2.0.2 mock), then node-rdkafka and
confluent-kafka-python (2.12 mock) produce and consume through it, one
record of node-rdkafka's above 64 KiB so that big frames stream. The TCP
streams are reassembled per direction and matched to connections through
conn.close (client_port, listener port; upstream_local, upstream_port):

- client -> proxy equals proxy -> broker, byte for byte;
- broker -> proxy and proxy -> client hold the same frames with the same
  correlation ids; every frame of an API the proxy does not rewrite is
  byte-identical; Metadata and FindCoordinator answers differ only in the
  brokers' host and port (the proxy's host and the broker's listener
  port), ApiVersions answers only in lowered maximum versions;
- the byte counts of conn.close are those of the streams.
"""
import collections
import os
import signal
import struct

import lib

CLIENT_TIMEOUT = 60
N_RECORDS = 20
BIG = 200 * 1024

# First flexible version of each response the proxy rewrites.
FLEX = {lib.API_METADATA: 9, lib.API_FIND_COORDINATOR: 3,
        lib.API_API_VERSIONS: 3}


class Short(Exception):
    pass


class Reader:
    """Kafka primitive types over bytes; Short when they run out."""

    def __init__(self, b, pos=0):
        self.b = b
        self.pos = pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.b):
            raise Short()
        v = self.b[self.pos:self.pos + n]
        self.pos += n
        return v

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        v, shift = 0, 0
        while True:
            c = self.take(1)[0]
            v |= (c & 0x7F) << shift
            if not c & 0x80:
                return v
            shift += 7
            if shift > 35:
                raise Short()

    def string(self, flexible):
        n = self.uvarint() - 1 if flexible else self.i16()
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def array_len(self, flexible):
        return self.uvarint() - 1 if flexible else self.i32()

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def frames(stream):
    """Split a byte stream into whole Kafka frames (size prefix included);
    and the bytes left over after the last whole frame."""
    out, pos = [], 0
    while pos + 4 <= len(stream):
        size = struct.unpack(">i", stream[pos:pos + 4])[0]
        if size < 0 or pos + 4 + size > len(stream):
            break
        out.append(stream[pos:pos + 4 + size])
        pos += 4 + size
    return out, len(stream) - pos


def request_header(frame):
    """api key, version, correlation id of a request frame."""
    key, ver, corr = struct.unpack(">hhi", frame[4:12])
    return key, ver, corr


def broker_addrs(key, ver, frame):
    """The broker entries of a Metadata / FindCoordinator response:
    [(node_id, host, port, start, end)] with start/end the byte range of
    host+port in the frame; and the position after the last entry."""
    flex = ver >= FLEX[key]
    r = Reader(frame, 8)            # size, correlation id
    if flex:
        r.tags()                    # response header v1
    out = []
    if key == lib.API_METADATA:
        if ver >= 3:
            r.i32()                 # throttle_time_ms
        for _ in range(r.array_len(flex)):
            node = r.i32()
            start = r.pos
            host = r.string(flex)
            port = r.i32()
            out.append((node, host, port, start, r.pos))
            if ver >= 1:
                r.string(flex)      # rack
            if flex:
                r.tags()
        return out, r.pos
    # FindCoordinator
    if ver >= 4:
        r.i32()
        for _ in range(r.array_len(True)):
            r.string(True)          # key
            node = r.i32()
            start = r.pos
            host = r.string(True)
            port = r.i32()
            out.append((node, host, port, start, r.pos))
            r.i16()
            r.string(True)
            r.tags()
        return out, r.pos
    if ver >= 1:
        r.i32()                     # throttle_time_ms
    r.i16()                         # error_code
    if ver >= 1:
        r.string(flex)              # error_message
    node = r.i32()
    start = r.pos
    host = r.string(flex)
    port = r.i32()
    out.append((node, host, port, start, r.pos))
    return out, r.pos


def api_versions(ver, frame):
    """(error, [(key, min, max, start, end)], position after the list)
    of an ApiVersions response; start/end bracket each entry."""
    flex = ver >= FLEX[lib.API_API_VERSIONS]
    r = Reader(frame, 8)            # ApiVersions answers: header v0 always
    err = r.i16()
    keys = []
    for _ in range(r.array_len(flex)):
        start = r.pos
        k, lo, hi = r.i16(), r.i16(), r.i16()
        if flex:
            r.tags()
        keys.append((k, lo, hi, start, r.pos))
    return err, keys, r.pos


def compare_rewritten(key, ver, up, down, listen, upstream, adv_host):
    """'' when `down` is `up` with only the allowed changes, else why not."""
    if key in (lib.API_METADATA, lib.API_FIND_COORDINATOR):
        try:
            a, a_end = broker_addrs(key, ver, up)
            b, b_end = broker_addrs(key, ver, down)
        except Short:
            return "does not decode"
        if [x[0] for x in a] != [x[0] for x in b]:
            return f"node ids {[x[0] for x in a]} -> {[x[0] for x in b]}"
        for (node, h1, p1, _, _), (_, h2, p2, _, _) in zip(a, b):
            if node < 0:
                if (h1, p1) != (h2, p2):
                    return f"node {node}: {h1}:{p1} -> {h2}:{p2}"
                continue
            if (h1, p1) != upstream.get(node):
                return (f"node {node}: the broker said {h1}:{p1}, not its "
                        f"address {upstream.get(node)}")
            if (h2, p2) != (adv_host, listen.get(node)):
                return (f"node {node}: rewritten to {h2}:{p2}, not "
                        f"{adv_host}:{listen.get(node)}")
        # Outside the host/port fields, the bytes must be the same.
        pa, pb, ia, ib = [], [], 8, 8
        for (_, _, _, s1, e1), (_, _, _, s2, e2) in zip(a, b):
            pa.append(up[ia:s1])
            pb.append(down[ib:s2])
            ia, ib = e1, e2
        pa.append(up[ia:])
        pb.append(down[ib:])
        if pa != pb or up[4:8] != down[4:8]:
            return "bytes other than broker hosts and ports differ"
        if not a:
            return "no broker address in it"
        return ""
    if key == lib.API_API_VERSIONS:
        if up == down:
            return ""
        try:
            e1, k1, end1 = api_versions(ver, up)
            e2, k2, end2 = api_versions(ver, down)
        except Short:
            return "differs and does not decode"
        if e1 != e2 or [x[:2] for x in k1] != [x[:2] for x in k2]:
            return "error code or API keys/minimum versions differ"
        raised = [(x[0], x[2], y[2]) for x, y in zip(k1, k2) if y[2] > x[2]]
        if raised:
            return f"maximum versions raised: {raised}"
        if up[end1:] != down[end2:] or up[4:8] != down[4:8]:
            return "bytes after the version list differ"
        return ""
    return "not a rewritten API"


def streams(h, cap):
    """(src port, dst port) -> the bytes that direction carried, from
    the capture; and the problems met (holes, reused port pairs). The
    capture's own canary connection is left out: its first bytes are sent
    while dumpcap may not be capturing yet."""
    out = h.tshark(["-r", cap.path, "-o", "tcp.analyze_sequence_numbers:FALSE",
                    "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport",
                    "-e", "tcp.seq_raw", "-e", "tcp.flags", "-e",
                    "tcp.payload"], timeout=300)
    isn, segs, problems = {}, collections.defaultdict(dict), []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 5:
            continue
        s, d, seq, flags, payload = parts
        key = (int(s), int(d))
        if cap.canary_port in key:
            continue
        seq, flags = int(seq), int(flags, 16)
        if flags & 0x02:            # SYN
            if key in isn and isn[key] != seq:
                problems.append(f"port pair {key} used twice")
            isn[key] = seq
            continue
        if payload and key in isn:
            off = (seq - isn[key] - 1) % (1 << 32)
            segs[key][off] = bytes.fromhex(payload)
    result = {}
    for key, parts in segs.items():
        buf = bytearray()
        for off in sorted(parts):
            data = parts[off]
            if off > len(buf):
                problems.append(f"{key}: hole at byte {len(buf)}")
                break
            buf += data[len(buf) - off:]
        result[key] = bytes(buf)
    return result, problems


def check_conns(h, tag, events, data, adv_host):
    listen = {e["broker_id"]: e.get("listen_port") for e in events
              if e["event"] == "broker.listener"}
    upstream = {e["broker_id"]: (e["upstream_addr"], e["upstream_port"])
                for e in events if e["event"] == "broker.listener"}
    bad = collections.defaultdict(list)
    n_conns = n_frames = n_rewritten = n_same = 0
    apis = collections.Counter()
    for c in lib.closes_of(events):
        if not c["upstream_local"]:
            continue
        n_conns += 1
        cport, lport = c["client_port"], c["listener"]["port"]
        uport = int(c["upstream_local"].rsplit(":", 1)[1])
        bport = c["upstream_port"]
        c2p = data.get((cport, lport), b"")
        p2c = data.get((lport, cport), b"")
        p2b = data.get((uport, bport), b"")
        b2p = data.get((bport, uport), b"")
        k = f"conn {c['conn']}"
        if c2p != p2b:
            lost = ""
            if c2p.startswith(p2b):
                lost = ", not forwarded: " + ", ".join(
                    "api {} v{} corr {}".format(*request_header(f))
                    for f in frames(c2p[len(p2b):])[0])
            bad["requests"].append(f"{k}: client->proxy {len(c2p)} bytes, "
                                   f"proxy->broker {len(p2b)} bytes, first "
                                   f"difference at byte "
                                   f"{first_diff(c2p, p2b)}{lost} (closed "
                                   f"by {c['closed_by']}, {c['how']})")
        reqs, _ = frames(c2p)
        kinds = {}
        for f in reqs:
            key, ver, corr = request_header(f)
            kinds[corr] = (key, ver)
        up, up_left = frames(b2p)
        down, down_left = frames(p2c)
        # What the broker sent after the proxy had closed this connection
        # (answers to requests still in flight) never reached the proxy.
        missing = len(up) - len(down)
        late_ok = c["closed_by"] in ("client", "proxy") and \
            0 <= missing <= c["inflight_at_close"]
        if not (missing == 0 or late_ok) or \
                (down_left and c["closed_by"] != "client"):
            bad["frames"].append(f"{k}: broker sent {len(up)} frames "
                                 f"(+{up_left} bytes), client got "
                                 f"{len(down)} (+{down_left}); closed by "
                                 f"{c['closed_by']} with "
                                 f"{c['inflight_at_close']} in flight")
        relayed = sum(len(f) for f in up[:len(down)])
        if len(c2p) != c["bytes_from_client"] or not (
                relayed <= c["bytes_from_broker"] <= len(b2p)) or (
                c["closed_by"] == "broker" and
                len(b2p) != c["bytes_from_broker"]):
            bad["byte counts"].append(
                f"{k}: client sent {len(c2p)}, broker sent {len(b2p)} "
                f"({relayed} in frames relayed), conn.close says "
                f"{c['bytes_from_client']}/{c['bytes_from_broker']}")
        for fu, fd in zip(up, down):
            n_frames += 1
            corr_u, corr_d = fu[4:8], fd[4:8]
            if corr_u != corr_d:
                bad["correlation ids"].append(
                    f"{k}: {corr_u.hex()} -> {corr_d.hex()}")
                break
            key, ver = kinds.get(struct.unpack(">i", corr_u)[0], (None, 0))
            apis[key] += 1
            if key in (lib.API_METADATA, lib.API_FIND_COORDINATOR,
                       lib.API_API_VERSIONS):
                why = compare_rewritten(key, ver, fu, fd, listen, upstream,
                                        adv_host)
                if why:
                    bad["rewritten frames"].append(
                        f"{k} corr {struct.unpack('>i', corr_u)[0]} api "
                        f"{key} v{ver}: {why}")
                n_rewritten += fu != fd
            elif fu != fd:
                bad["other frames"].append(
                    f"{k} corr {struct.unpack('>i', corr_u)[0]} api {key} "
                    f"v{ver}: {len(fu)} -> {len(fd)} bytes, first "
                    f"difference at {first_diff(fu, fd)}")
            else:
                n_same += 1
    h.check(n_conns > 0 and n_frames > 0,
            f"{tag}: {n_conns} connections and {n_frames} response frames "
            "found in the capture", dict(apis))
    h.check(not bad["requests"], f"{tag}: client->proxy and proxy->broker "
            "are the same bytes on every connection",
            "\n".join(bad["requests"][:10]))
    h.check(not bad["byte counts"], f"{tag}: bytes_from_client is what the "
            "client sent, bytes_from_broker what the proxy read of the "
            "broker's stream",
            "\n".join(bad["byte counts"][:10]))
    h.check(not bad["frames"] and not bad["correlation ids"],
            f"{tag}: proxy->client holds the frames of broker->proxy, same "
            "correlation ids, in order (less only the answers that came "
            "after the client left)",
            "\n".join((bad["frames"] + bad["correlation ids"])[:10]))
    h.check(n_same > 0 and not bad["other frames"],
            f"{tag}: {n_same} response frames of APIs that are not rewritten "
            "passed byte for byte", "\n".join(bad["other frames"][:10]))
    h.check(n_rewritten > 0 and not bad["rewritten frames"],
            f"{tag}: {n_rewritten} rewritten Metadata/FindCoordinator/"
            "ApiVersions answers differ only in broker hosts and ports or "
            "lowered maximum versions",
            "\n".join(bad["rewritten frames"][:10]))


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else None


def client_run(h, px, kind, client, mode, values_file, tag):
    topic, group, cid = f"t-{tag}", f"g-{tag}", f"{tag}-{mode}r"
    if client == "kcat" and mode == "produce":
        return h.spawn(f"{client}-{mode}", ["kcat", "-b", px.bootstrap, "-P",
                                            "-t", topic, "-X",
                                            f"client.id={cid}"],
                       stdin=values_file)
    if client == "kcat":
        n = sum(1 for _ in open(values_file))
        return h.spawn(f"{client}-{mode}", [
            "kcat", "-b", px.bootstrap, "-G", group, "-X", f"client.id={cid}",
            "-X", "auto.offset.reset=earliest", "-f", "record %s\n", "-c",
            str(n), topic])
    common = ["-b", px.bootstrap, "-t", topic, "-c", cid, "-p", values_file,
              "-g", group]
    if client == "node-rdkafka":
        return h.spawn(f"{client}-{mode}", ["node", os.path.join(
            lib.HERE, "nrclient.js"), mode] + common, env=h.node_env())
    return h.spawn(f"{client}-{mode}", [lib.PYTHON, os.path.join(
        lib.HERE, "pyclient.py"), mode, "--lib", client] + common)


def part(h, kind, clients, big_for=None):
    label = f"{'+'.join(clients)} / {kind} mock"
    broker = h.start_broker(kind, brokers=3)
    lo, hi = lib.free_port_range(3)
    port = lib.free_port()
    cap = h.start_capture(f"cap-{kind}", ports=broker.ports + [port],
                          port_ranges=[(lo, hi)])
    files = {}
    for client in clients:
        tag = f"tr{client.replace('-', '')}{kind.replace('.', '')}"
        values = lib.payloads(tag, N_RECORDS)
        if client == big_for:
            values[3] = values[3] + "-" + "b" * BIG
        files[client] = (tag, h.write(f"{client}-{kind}.payloads",
                                      "\n".join(values) + "\n"))
    px = h.start_proxy(broker, name=f"proxy-{kind}", broker_ports=(lo, hi),
                       port=port)
    for mode in ("produce", "consume"):
        procs = {c: client_run(h, px, kind, c, mode, files[c][1], files[c][0])
                 for c in clients}
        for c, p in procs.items():
            rc = p.wait(CLIENT_TIMEOUT)
            if rc is None:
                p.stop(signal.SIGKILL)
            ok = rc == 0
            if mode == "consume" and c == "kcat":
                got = {x[len("record "):] for x in p.stdout().splitlines()
                       if x.startswith("record ")}
                ok = ok and got == set(open(files[c][1]).read().split("\n")
                                       ) - {""}
            h.check(ok, f"{c} {mode}r ({kind} mock) exited 0, with every "
                    f"record (status {rc})", p.tail())
    rc = h.stop_proxy(px)
    h.check(rc == 0, f"{label}: proxy exited 0 on SIGTERM (status {rc})")
    h.stop_capture(cap)
    broker.proc.stop()
    events = h.check_log(px)
    data, problems = streams(h, cap)
    h.check(not problems, f"{label}: every TCP stream reassembled without "
            "holes", "\n".join(problems[:10]))
    check_conns(h, label, events, data, "127.0.0.1")


def main():
    h = lib.Harness("transparency")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat", "dumpcap", "tshark",
                    "node", "node-rdkafka")
    h.run_scenario(scenario)


def scenario(h):
    part(h, "2.0.2", ["kcat", "kafka-python"])
    part(h, "2.12", ["node-rdkafka", "confluent"], big_for="node-rdkafka")


main()
