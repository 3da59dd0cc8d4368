#!/usr/bin/python3
"""split_frames.py - turn loopback captures of real Kafka clients talking to
real brokers into per-frame test fixtures (dev-time tool, stdlib only).

usage: split_frames.py --protocol-dir DIR --out OUTDIR SOURCE=CAPTURE.pcapng...

For every TCP stream of each capture (only streams whose SYN was captured:
the SYN sender is the client), the payload of each direction is reassembled
from tshark's per-segment fields and cut into Kafka frames (int32 big-endian
size + body). Responses are matched to the requests of their connection in
order and by correlation id (a Produce with acks=0 has no response).

Kept per (source, api_key, api_version, direction): at most 2 samples; the
smallest frame, and as a second one the largest Metadata response, the largest
Produce request (record batches), the smallest Fetch response with records, or
else the next smallest frame with different bytes. Each sample is written as
OUTDIR/<source>/<Api>-v<ver>-<req|resp>-<n>.bin (the whole frame, size prefix
included), and OUTDIR/index.tsv lists them. The files of the previous
index.tsv and the .bin files of this run's sources are replaced.

DIR is Apache Kafka's clients/src/main/resources/common/message folder: it
gives the api key -> name map and which versions are flexible.
"""
import argparse
import collections
import glob
import json
import os
import re
import struct
import subprocess
import sys

MAX_SAMPLES = 2
SIZE_CAP = 256 * 1024        # never keep a single frame larger than this
API_VERSIONS, PRODUCE, FETCH, METADATA = 18, 0, 1, 3


def die(msg):
    sys.stderr.write(f"split_frames: {msg}\n")
    sys.exit(1)


def warn(msg):
    sys.stderr.write(f"split_frames: warning: {msg}\n")


# ----------------------------------------------------------- message specs

def parse_version_range(text):
    """'9+' -> (9, None); 'none' -> None; '0-3' -> (0, 3); '2' -> (2, 2)."""
    text = text.strip()
    if text == "none":
        return None
    if text.endswith("+"):
        return (int(text[:-1]), None)
    if "-" in text:
        lo, hi = text.split("-")
        return (int(lo), int(hi))
    return (int(text), int(text))


def load_specs(protocol_dir):
    if not protocol_dir:
        die("--protocol-dir is required: Apache Kafka's message definitions "
            "(clients/src/main/resources/common/message), e.g. "
            "../shared/kafka-protocol/message")
    if not os.path.isdir(protocol_dir):
        die(f"protocol dir {protocol_dir!r} does not exist")
    files = sorted(glob.glob(os.path.join(protocol_dir, "*Request.json")))
    if not files:
        die(f"no *Request.json message definitions in {protocol_dir!r}")
    specs = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = "".join(line for line in f
                           if not line.lstrip().startswith("//"))
        try:
            msg = json.loads(text)
        except ValueError as e:
            die(f"{path}: cannot parse: {e}")
        if msg.get("type") != "request" or "apiKey" not in msg:
            continue
        name = msg["name"]
        if name.endswith("Request"):
            name = name[:-len("Request")]
        specs[msg["apiKey"]] = {
            "name": name,
            "flexible": parse_version_range(msg.get("flexibleVersions", "none")),
        }
    if API_VERSIONS not in specs or PRODUCE not in specs:
        die(f"{protocol_dir!r} does not look like Kafka's message folder")
    return specs


def is_flexible(specs, api_key, version):
    spec = specs.get(api_key)
    if spec is None or spec["flexible"] is None:
        return False
    lo, hi = spec["flexible"]
    return version >= lo and (hi is None or version <= hi)


def api_name(specs, api_key):
    spec = specs.get(api_key)
    return spec["name"] if spec else f"Api{api_key}"


# ------------------------------------------------------------ tiny reader

class Short(Exception):
    pass


class Reader:
    def __init__(self, buf, pos=0):
        self.buf, self.pos = buf, pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.buf):
            raise Short()
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 28:
                raise Short()

    def string(self, compact):
        """Nullable string: None for null."""
        n = self.uvarint() - 1 if compact else self.i16()
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def blob_len(self, compact):
        """Length of a nullable bytes/records field, consuming its bytes."""
        n = self.uvarint() - 1 if compact else self.i32()
        if n > 0:
            self.take(n)
        return n

    def array_len(self, compact):
        return self.uvarint() - 1 if compact else self.i32()

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def request_header(frame, specs):
    """(api_key, api_version, correlation_id, client_id, end of client_id)."""
    r = Reader(frame, 4)
    api_key, version, corr = r.i16(), r.i16(), r.i32()
    client_id = r.string(False)   # the header's ClientId is never compact
    return api_key, version, corr, client_id, r.pos


def produce_acks(frame, specs, version, client_id_end):
    """acks of a Produce request, or None if it cannot be read."""
    flex = is_flexible(specs, PRODUCE, version)
    try:
        r = Reader(frame, client_id_end)
        if flex:
            r.tags()
        if version >= 3:
            r.string(flex)        # transactional_id
        return r.i16()
    except Short:
        return None


def fetch_record_bytes(frame, specs, version):
    """Total bytes of record data in a Fetch response, or None if unreadable."""
    flex = is_flexible(specs, FETCH, version)
    try:
        r = Reader(frame, 8)      # size, correlation id
        if flex:
            r.tags()
        if version >= 1:
            r.i32()               # throttle_time_ms
        if version >= 7:
            r.i16()
            r.i32()               # error_code, session_id
        total = 0
        for _ in range(max(0, r.array_len(flex))):
            if version >= 13:
                r.take(16)        # topic_id
            else:
                r.string(flex)
            for _ in range(max(0, r.array_len(flex))):
                r.i32()
                r.i16()
                r.i64()           # partition, error, high watermark
                if version >= 4:
                    r.i64()       # last stable offset
                if version >= 5:
                    r.i64()       # log start offset
                if version >= 4:
                    for _ in range(max(0, r.array_len(flex))):
                        r.i64()
                        r.i64()
                        if flex:
                            r.tags()
                if version >= 11:
                    r.i32()       # preferred read replica
                total += max(0, r.blob_len(flex))
                if flex:
                    r.tags()
            if flex:
                r.tags()
        return total
    except Short:
        return None


# ------------------------------------------------------ capture -> streams

TSHARK_FIELDS = ["tcp.stream", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport",
                 "tcp.seq_raw", "tcp.flags.syn", "tcp.flags.ack", "tcp.len",
                 "tcp.payload"]


def truthy(text):
    return text in ("1", "True", "true")


def read_segments(pcap):
    cmd = ["tshark", "-r", pcap, "-n", "-o", "tcp.desegment_tcp_streams:FALSE",
           "-Y", "tcp", "-T", "fields", "-E", "separator=\t"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        die("tshark not found")
    except subprocess.CalledProcessError as e:
        die(f"tshark failed on {pcap}: {e.stderr.strip()}")
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < len(TSHARK_FIELDS):
            cols += [""] * (len(TSHARK_FIELDS) - len(cols))
        stream, src, sport, dst, dport, seq, syn, ack, length, payload = cols[:10]
        yield {
            "stream": int(stream), "src": (src, int(sport)), "dst": (dst, int(dport)),
            "seq": int(seq), "syn": truthy(syn), "ack": truthy(ack),
            "len": int(length or 0),
            "payload": bytes.fromhex(payload.replace(":", "")) if payload else b"",
        }


class Direction:
    """One direction of a TCP connection, reassembled by sequence number."""

    def __init__(self):
        self.isn = None
        self.chunks = {}          # offset -> bytes

    def add(self, seg):
        if seg["syn"]:
            self.isn = seg["seq"]
        p = seg["payload"]
        if p and len(p) > len(self.chunks.get(seg["seq"], b"")):
            self.chunks[seg["seq"]] = p

    def data(self, label):
        if self.isn is None:
            return None
        out = bytearray()
        base = (self.isn + 1) & 0xFFFFFFFF
        pieces = sorted((((seq - base) & 0xFFFFFFFF), p) for seq, p in self.chunks.items())
        for off, p in pieces:
            if off > len(out):
                warn(f"{label}: {off - len(out)} bytes missing at offset "
                     f"{len(out)}; using the data before the gap")
                break
            if off + len(p) > len(out):
                out += p[len(out) - off:]
        return bytes(out)


def split_frames(data, label):
    frames, pos = [], 0
    while pos + 4 <= len(data):
        size = struct.unpack(">i", data[pos:pos + 4])[0]
        if size < 0 or pos + 4 + size > len(data):
            warn(f"{label}: incomplete frame at offset {pos} "
                 f"(size {size}, {len(data) - pos - 4} bytes left)")
            return frames
        frames.append(data[pos:pos + 4 + size])
        pos += 4 + size
    if pos != len(data):
        warn(f"{label}: {len(data) - pos} trailing bytes")
    return frames


def connections(pcap):
    """Yields (stream, client_addr, client_bytes, server_bytes)."""
    streams = collections.OrderedDict()
    for seg in read_segments(pcap):
        st = streams.setdefault(seg["stream"], {"client": None, "dirs": {}})
        if seg["syn"] and not seg["ack"]:
            st["client"] = seg["src"]
        st["dirs"].setdefault(seg["src"], Direction()).add(seg)
    for num, st in streams.items():
        label = f"{os.path.basename(pcap)} stream {num}"
        if st["client"] is None:
            warn(f"{label}: SYN not captured, skipped")
            continue
        c = st["dirs"].get(st["client"])
        s = [d for a, d in st["dirs"].items() if a != st["client"]]
        cdata = c.data(label + " c->s") if c else b""
        sdata = s[0].data(label + " s->c") if s else b""
        if cdata is None or sdata is None:
            warn(f"{label}: handshake incomplete, skipped")
            continue
        yield num, st["client"], cdata, sdata


# ------------------------------------------------------------- frames

def frames_of_capture(source, pcap, specs, stats):
    """Kafka frames of one capture, as dicts, in capture order per stream."""
    out = []
    for num, client, cdata, sdata in connections(pcap):
        label = f"{source} stream {num}"
        pending = []
        for f in split_frames(cdata, label + " requests"):
            try:
                key, ver, corr, cid, hdr_end = request_header(f, specs)
            except Short:
                warn(f"{label}: short request header ({len(f)} bytes)")
                continue
            rec = {"source": source, "dir": "req", "key": key, "ver": ver,
                   "corr": corr, "client_id": cid, "frame": f, "stream": num}
            out.append(rec)
            rec["acks0"] = key == PRODUCE and produce_acks(f, specs, ver, hdr_end) == 0
            stats["acks0"] += rec["acks0"]
            pending.append(rec)
        for f in split_frames(sdata, label + " responses"):
            if len(f) < 8:
                warn(f"{label}: short response ({len(f)} bytes)")
                continue
            corr = struct.unpack(">i", f[4:8])[0]
            idx = next((i for i, p in enumerate(pending) if p["corr"] == corr), None)
            if idx is None:
                warn(f"{label}: response with correlation id {corr} matches "
                     "no request, skipped")
                stats["unmatched"] += 1
                continue
            for skipped in pending[:idx]:
                if not skipped["acks0"]:
                    warn(f"{label}: request {api_name(specs, skipped['key'])} "
                         f"v{skipped['ver']} corr {skipped['corr']} got no response")
            req = pending[idx]
            if req["acks0"]:
                stats["acks0_answered"] += 1
            del pending[:idx + 1]
            out.append({"source": source, "dir": "resp", "key": req["key"],
                        "ver": req["ver"], "corr": corr,
                        "client_id": req["client_id"], "frame": f, "stream": num})
        # Requests still in flight when the client closed (typically a
        # long-polling Fetch, or Metadata on a socket being torn down).
        for p in pending:
            if not p["acks0"]:
                stats["in_flight"] += 1
                stats[f"in_flight {api_name(specs, p['key'])}"] += 1
    return out


def choose(cands, specs):
    """Picks at most MAX_SAMPLES frames of one combination."""
    cands = [c for c in cands if len(c["frame"]) <= SIZE_CAP]
    if not cands:
        return []
    by_size = sorted(cands, key=lambda c: (len(c["frame"]), c["order"]))
    first = by_size[0]
    rest = [c for c in by_size[1:] if c["frame"] != first["frame"]]
    key, direction = first["key"], first["dir"]
    second = None
    if key == METADATA and direction == "resp" or key == PRODUCE and direction == "req":
        second = rest[-1] if rest else None
    elif key == FETCH and direction == "resp":
        if not first["records"]:
            with_records = [c for c in rest if c["records"]]
            second = with_records[0] if with_records else None
        if second is None and rest:
            second = rest[0]
    elif rest:
        second = rest[0]
    return [first] + ([second] if second else [])


def clean_out(out_dir, sources):
    """Removes what an earlier run generated: the files its index.tsv lists,
    the .bin files in this run's source folders, and index.tsv itself."""
    idx = os.path.join(out_dir, "index.tsv")
    old = []
    if os.path.exists(idx):
        with open(idx, encoding="utf-8") as fh:
            old = [line.split("\t", 1)[0] for line in fh.read().splitlines()[1:]]
    for rel in old:
        path = os.path.join(out_dir, rel)
        if rel.endswith(".bin") and ".." not in rel.split("/") and os.path.isfile(path):
            os.remove(path)
    for source in sources:
        for path in glob.glob(os.path.join(out_dir, source, "*.bin")):
            os.remove(path)
    for d in glob.glob(os.path.join(out_dir, "*", "")):
        if not os.listdir(d):
            os.rmdir(d)
    if os.path.exists(idx):
        os.remove(idx)


def main():
    ap = argparse.ArgumentParser(
        description="Split Kafka captures into per-frame fixtures.")
    ap.add_argument("--protocol-dir", default=None,
                    help="Apache Kafka message definitions folder (required)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("captures", nargs="+", metavar="SOURCE=CAPTURE")
    args = ap.parse_args()
    specs = load_specs(args.protocol_dir)

    pairs = []
    for item in args.captures:
        source, sep, pcap = item.partition("=")
        if not sep or not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", source):
            die(f"bad SOURCE=CAPTURE argument {item!r} "
                "(source: lowercase letters, digits, '.', '-')")
        if not os.path.isfile(pcap):
            die(f"capture {pcap!r} not found")
        pairs.append((source, pcap))

    stats = collections.Counter()
    frames = []
    for source, pcap in pairs:
        frames += frames_of_capture(source, pcap, specs, stats)
    for i, f in enumerate(frames):
        f["order"] = i
        f["records"] = None
        if f["key"] == FETCH and f["dir"] == "resp":
            f["records"] = fetch_record_bytes(f["frame"], specs, f["ver"])
            if f["records"] is None:
                warn(f"{f['source']}: Fetch v{f['ver']} response corr "
                     f"{f['corr']} could not be walked")

    combos = collections.OrderedDict()
    for f in frames:
        combos.setdefault((f["source"], f["key"], f["ver"], f["dir"]), []).append(f)

    os.makedirs(args.out, exist_ok=True)
    clean_out(args.out, [source for source, _ in pairs])
    rows = []
    total = 0
    summary = []
    for (source, key, ver, direction), cands in sorted(combos.items()):
        picked = choose(cands, specs)
        os.makedirs(os.path.join(args.out, source), exist_ok=True)
        for n, f in enumerate(picked, 1):
            rel = f"{source}/{api_name(specs, key)}-v{ver}-{direction}-{n}.bin"
            with open(os.path.join(args.out, rel), "wb") as fh:
                fh.write(f["frame"])
            total += len(f["frame"])
            rows.append([rel, direction, str(key), api_name(specs, key), str(ver),
                         str(f["corr"]), f["client_id"] if f["client_id"] is not None else "",
                         source])
        sizes = ",".join(str(len(f["frame"])) for f in picked)
        summary.append(f"{source:22} {api_name(specs, key):26} v{ver:<3} {direction:4} "
                       f"seen {len(cands):4}  kept {len(picked)} ({sizes} B)")

    with open(os.path.join(args.out, "index.tsv"), "w", encoding="utf-8") as fh:
        fh.write("file\tdirection\tapi_key\tapi_name\tapi_version\tcorrelation_id"
                 "\tclient_id\tsource\n")
        for row in rows:
            fh.write("\t".join(c.replace("\t", " ") for c in row) + "\n")

    print("\n".join(summary))
    in_flight = ", ".join(f"{k.split(' ', 1)[1]} {v}" for k, v in sorted(stats.items())
                          if k.startswith("in_flight "))
    print(f"split_frames: {len(frames)} frames, {len(rows)} kept "
          f"({total} bytes) in {args.out}")
    print(f"split_frames: acks=0 Produce requests {stats['acks0']} (answered "
          f"anyway: {stats['acks0_answered']}); requests in flight at close "
          f"{stats['in_flight']} ({in_flight or '-'}); unmatched responses "
          f"{stats['unmatched']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
