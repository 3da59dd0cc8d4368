#!/usr/bin/python3
"""secrets.py - SASL PLAIN credentials go through kafka-conntrace and
appear nowhere it writes: not in the event log, not on its stderr, not in
/metrics or any /api/* answer of the admin API, with request logging on
and the log level at debug.

Neither real broker here accepts SASL: librdkafka's mock clusters (2.0.2
and 2.12) advertise no SaslHandshake in ApiVersions, so librdkafka clients
(kcat) refuse to authenticate before sending anything, and the 2.12 mock
closes the connection on kafka-python's SaslHandshake before any secret
is sent. So two cases:

  refused  kafka-python against the real 2.12 mock through the proxy: the
           SaslHandshake is relayed, the broker closes, the proxy records
           the request and the close, and nothing else happens.
  gate     a SASL gate in front of the real 2.0.2 mock (one broker):
           this script answers ApiVersions (the broker's answer plus
           SaslHandshake 0-1 and SaslAuthenticate 0-1), SaslHandshake and
           SaslAuthenticate (v1 and kafka-python's raw v0 token) itself,
           records the credentials it got, points Metadata's broker at
           itself, and relays every other frame to the real broker. kcat
           (SaslHandshake v1 + SaslAuthenticate) and kafka-python
           (SaslHandshake v0 + raw token) authenticate through the proxy
           with a distinctive password and produce to the real broker;
           the gate must have received the password intact (so it went
           through the proxy), and a kcat consumer straight from the
           broker must read the records.

Prints "checks: N passed, M failed".
"""
import base64
import os
import socket
import struct
import threading

import adminlib
import lib

USER = "kc-user"
PASSWORD = "Pw-" + os.urandom(12).hex() + "-S3cr3t"
TOPIC = "sasl-topic"

API_SASL_HANDSHAKE = 17
API_SASL_AUTHENTICATE = 36


def secret_forms():
    """The password as it could leak: raw, hex (a frame's hex prefix),
    base64, and the whole PLAIN token in those forms."""
    pw = PASSWORD.encode()
    token = b"\0" + USER.encode() + b"\0" + pw
    forms = {"password": pw, "password hex": pw.hex().encode(),
             "password HEX": pw.hex().upper().encode(),
             "password base64": base64.b64encode(pw),
             "token base64": base64.b64encode(token),
             "token hex": token.hex().encode()}
    # A leak could be cut short (a truncated string, a hex prefix).
    forms["password's random part"] = PASSWORD[3:27].encode()
    forms["password's random part, hex"] = PASSWORD[3:27].encode().hex(
    ).encode()
    return forms


def leaks(data):
    """The names of the secret's forms found in data."""
    return [name for name, form in secret_forms().items() if form in data]


# ---- the SASL gate ----

def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def recv_frame(s):
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    return recv_exact(s, size)


def send_frame(s, body):
    s.sendall(struct.pack(">i", len(body)) + body)


def str16(b):
    return struct.pack(">h", len(b)) + b


class Gate:
    """SASL in front of a real broker; relays everything else to it."""

    def __init__(self, h, broker_addr):
        self.h = h
        host, port = broker_addr.rsplit(":", 1)
        self.broker = (host, int(port))
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.addr = f"127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.auths = []     # (how, auth bytes) received
        self.handshakes = []  # (version, mechanism)
        self.errors = []
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                cs, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(cs,),
                             daemon=True).start()

    def serve(self, cs):
        up = None
        try:
            up = socket.create_connection(self.broker, timeout=30)
            raw_next = False
            while True:
                if raw_next:
                    # SaslHandshake v0: the PLAIN token follows as a bare
                    # size-prefixed blob; success is an empty one.
                    tok = recv_frame(cs)
                    with self.lock:
                        self.auths.append(("raw v0", tok))
                    cs.sendall(struct.pack(">i", 0))
                    raw_next = False
                    continue
                req = recv_frame(cs)
                key, ver, corr = struct.unpack(">hhi", req[:8])
                if key == API_SASL_HANDSHAKE:
                    clen = struct.unpack(">h", req[8:10])[0]
                    body = req[10 + max(clen, 0):]
                    mlen = struct.unpack(">h", body[:2])[0]
                    mech = body[2:2 + mlen].decode()
                    with self.lock:
                        self.handshakes.append((ver, mech))
                    send_frame(cs, struct.pack(">ihi", corr, 0, 1) +
                               str16(b"PLAIN"))
                    raw_next = ver == 0
                    continue
                if key == API_SASL_AUTHENTICATE:
                    clen = struct.unpack(">h", req[8:10])[0]
                    body = req[10 + max(clen, 0):]
                    alen = struct.unpack(">i", body[:4])[0]
                    with self.lock:
                        self.auths.append((f"SaslAuthenticate v{ver}",
                                           body[4:4 + alen]))
                    resp = struct.pack(">ihhi", corr, 0, -1, 0)
                    if ver >= 1:
                        resp += struct.pack(">q", 0)
                    send_frame(cs, resp)
                    continue
                send_frame(up, req)
                resp = recv_frame(up)
                if key == lib.API_API_VERSIONS and ver <= 2:
                    resp = self.add_sasl_apis(resp, ver)
                elif key == lib.API_METADATA and ver <= 2:
                    resp = self.point_at_gate(resp, ver)
                send_frame(cs, resp)
        except (EOFError, OSError):
            pass
        except Exception as e:  # noqa: BLE001 - reported by the test
            with self.lock:
                self.errors.append(repr(e))
        finally:
            cs.close()
            if up:
                up.close()

    @staticmethod
    def add_sasl_apis(resp, ver):
        # corr i32, error i16, [key i16, min i16, max i16], (v1+) throttle
        corr, err, n = struct.unpack(">ihi", resp[:10])
        if err != 0:
            return resp
        end = 10 + 6 * n
        extra = struct.pack(">hhh", API_SASL_HANDSHAKE, 0, 1) + \
            struct.pack(">hhh", API_SASL_AUTHENTICATE, 0, 1)
        return struct.pack(">ihi", corr, err, n + 2) + resp[10:end] + \
            extra + resp[end:]

    def point_at_gate(self, resp, ver):
        # corr i32, [node i32, host str16, port i32, (v1+) rack str16]...
        out = bytearray(resp[:8])
        n = struct.unpack(">i", resp[4:8])[0]
        off = 8
        for _ in range(n):
            node = resp[off:off + 4]
            hlen = struct.unpack(">h", resp[off + 4:off + 6])[0]
            off += 6 + hlen + 4
            out += node + str16(b"127.0.0.1") + struct.pack(">i", self.port)
            if ver >= 1:
                rlen = struct.unpack(">h", resp[off:off + 2])[0]
                out += resp[off:off + 2 + max(rlen, 0)]
                off += 2 + max(rlen, 0)
        return bytes(out + resp[off:])

    def close(self):
        self.lsock.close()


# ---- clients ----

KAFKA_PYTHON = r"""
import sys, time
from kafka import KafkaProducer
bootstrap, topic, user, pw, n, release = sys.argv[1:7]
p = KafkaProducer(bootstrap_servers=bootstrap, client_id="sasl-kafka-python",
                  api_version=(1, 0), security_protocol="SASL_PLAINTEXT",
                  sasl_mechanism="PLAIN", sasl_plain_username=user,
                  sasl_plain_password=pw, request_timeout_ms=10000,
                  max_block_ms=10000)
fs = [p.send(topic, value=f"kp-{i}".encode()) for i in range(int(n))]
p.flush(20)
ok = sum(1 for f in fs if f.succeeded())
print(f"PRODUCED {ok}", flush=True)
deadline = time.monotonic() + 60
while not __import__("os").path.exists(release) and \
        time.monotonic() < deadline:
    time.sleep(0.05)
p.close(10)
"""

REFUSED = r"""
import sys
from kafka import KafkaProducer
from kafka.errors import KafkaError
bootstrap, user, pw = sys.argv[1:4]
try:
    KafkaProducer(bootstrap_servers=bootstrap, client_id="sasl-refused",
                  api_version=(1, 0), security_protocol="SASL_PLAINTEXT",
                  sasl_mechanism="PLAIN", sasl_plain_username=user,
                  sasl_plain_password=pw, max_block_ms=2000,
                  reconnect_backoff_max_ms=200).send("t", b"x").get(3)
    print("SENT")
except KafkaError as e:
    print(f"REFUSED {type(e).__name__}")
"""

KCAT_SASL = ["-X", "security.protocol=SASL_PLAINTEXT",
             "-X", "sasl.mechanisms=PLAIN",
             "-X", f"sasl.username={USER}",
             "-X", f"sasl.password={PASSWORD}"]


def haystacks(px, admin):
    """Everything the proxy has written or answers: name -> bytes."""
    out = {}
    with open(px.log_path, "rb") as f:
        out["event log"] = f.read()
    out["stderr"] = px.proc.stderr().encode()
    out["stdout"] = px.proc.stdout().encode()
    if admin is not None:
        for path in ("/metrics", "/api/connections", "/api/clients",
                     "/api/brokers", "/api/findings", "/api/status",
                     "/api/connections?state=all", "/healthz", "/readyz"):
            status, _, body = admin.request(path)
            out[f"GET {path} ({status})"] = body
    return out


def check_no_leak(h, tag, hay):
    for name, data in hay.items():
        found = leaks(data)
        h.check(not found, f"{tag}: the password is not in the proxy's "
                f"{name} ({len(data)} bytes)", f"found: {found}")


def refused(h):
    broker = h.start_broker("2.12", brokers=1)
    px, admin = adminlib.start_proxy(
        h, broker, name="proxy-refused", log_requests=True,
        extra={"log_level": "debug"})
    c = h.run("kp-refused", [lib.PYTHON, "-c", REFUSED, px.bootstrap, USER,
                             PASSWORD], 60)
    h.check("REFUSED" in c.stdout(),
            "refused: kafka-python could not authenticate with a broker "
            "that has no SASL", c.tail())
    hay = haystacks(px, admin)
    h.stop_proxy(px)
    events = h.check_log(px)
    closes = [e for e in lib.closes_of(events)
              if e.get("client_id") == "sasl-refused"]
    # The broker closes before it answers: no request event (those are
    # written with the answer), but the close record counts the request.
    h.check(closes and all(e["requests"] == {"SaslHandshake": 1} and
                           e["closed_by"] == "broker" for e in closes),
            "refused: each of the client's connections relayed one "
            "SaslHandshake and was closed by the broker",
            [lib.brief(e) for e in closes])
    hay["event log"] = open(px.log_path, "rb").read()
    hay["stderr"] = px.proc.stderr().encode()
    check_no_leak(h, "refused", hay)


def gate(h):
    broker = h.start_broker("2.0.2", brokers=1, topics=[TOPIC])
    g = Gate(h, broker.addrs[0])
    front = lib.Broker("gate", None, g.addr)
    px, admin = adminlib.start_proxy(
        h, front, name="proxy-gate", log_requests=True,
        extra={"log_level": "debug"})

    # kcat: SaslHandshake v1 and SaslAuthenticate.
    values = lib.payloads("kcat-sasl", 5)
    pfile = h.write("kcat-records", "\n".join(values) + "\n")
    k = h.run("kcat-sasl", ["kcat", "-b", px.bootstrap, "-P", "-t", TOPIC,
                            "-X", "client.id=sasl-kcat"] + KCAT_SASL, 60,
              stdin=pfile)
    h.check(k.p.returncode == 0, "gate: kcat authenticated with SASL PLAIN "
            "through the proxy and produced", k.tail())

    # kafka-python: SaslHandshake v0 and the raw token; held open while
    # the admin API is asked.
    release = h.path("release")
    kp = h.spawn("kp-sasl", [lib.PYTHON, "-c", KAFKA_PYTHON, px.bootstrap,
                             TOPIC, USER, PASSWORD, "5", release])
    h.wait_for("kafka-python to produce", lambda: "PRODUCED" in kp.stdout(),
               60, kp)
    h.check("PRODUCED 5" in kp.stdout(), "gate: kafka-python authenticated "
            "with SASL PLAIN (v0, raw token) through the proxy and produced "
            "5 records", kp.tail())
    hay_open = haystacks(px, admin)
    with open(release, "w"):
        pass
    h.check(kp.wait(30) == 0, "gate: kafka-python closed cleanly",
            kp.tail())

    with g.lock:
        auths = list(g.auths)
        shakes = list(g.handshakes)
    token = b"\0" + USER.encode() + b"\0" + PASSWORD.encode()
    h.check(any(how.startswith("SaslAuthenticate") and a == token
                for how, a in auths),
            "gate: kcat's SaslAuthenticate reached the broker's side intact",
            [(how, len(a)) for how, a in auths])
    # kafka-python sends its user name as the authorization id too.
    kp_token = USER.encode() + token
    h.check(any(how == "raw v0" and a == kp_token for how, a in auths),
            "gate: kafka-python's raw PLAIN token reached the broker's side "
            "intact", [(how, len(a)) for how, a in auths])
    h.check((1, "PLAIN") in shakes and (0, "PLAIN") in shakes,
            "gate: both SaslHandshake versions went through", shakes)
    h.check(not g.errors, "gate: no errors in the SASL gate", g.errors)

    # The records are in the real broker.
    got = h.run("kcat-read", ["kcat", "-b", broker.bootstrap, "-C", "-t",
                              TOPIC, "-o", "beginning", "-e", "-q"], 60)
    lines = set(got.stdout().split())
    h.check(set(values) <= lines and
            {f"kp-{i}" for i in range(5)} <= lines,
            "gate: the broker holds every record produced over the SASL "
            "connections", got.tail())

    hay = haystacks(px, admin)
    h.stop_proxy(px)
    g.close()
    events = h.check_log(px)
    apis = [e.get("api") for e in lib.requests_of(events)]
    h.check("SaslAuthenticate" in apis and "SaslHandshake" in apis and
            "Produce" in apis,
            "gate: the event log has the SaslHandshake, SaslAuthenticate "
            "and Produce requests", sorted(set(a for a in apis if a)))
    h.check("-> sasl_raw (SaslHandshake v0)" in px.proc.stderr(),
            "gate: kafka-python's connection went through the sasl_raw "
            "state (debug log)", px.proc.tail())
    check_no_leak(h, "gate, clients connected", hay_open)
    hay["event log"] = open(px.log_path, "rb").read()
    hay["stderr"] = px.proc.stderr().encode()
    hay["stdout"] = px.proc.stdout().encode()
    check_no_leak(h, "gate, after exit", hay)
    # The test's own view: the secret is in what the clients sent.
    h.check(leaks(token), "the leak check finds the password when it is "
            "there (self-test)")


def scenario(h):
    refused(h)
    gate(h)


def main():
    h = lib.Harness("secrets")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat", "node-rdkafka")
    h.run_scenario(scenario)


if __name__ == "__main__":
    main()
