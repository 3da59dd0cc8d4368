"""hostile.py - what the proxy does with bytes that are not what it
expects, with a bad reload and with an upstream that is not there, in
front of a real broker (librdkafka's 2.0.2 mock), while a real client
keeps working:

  tls        a TLS ClientHello on the plaintext port: conn.opaque "tls"
  garbage    bytes that are not Kafka framing: conn.opaque "not_kafka"
  badframe   a valid request, then a frame with a negative size: the
             request is relayed, then the connection is closed
             (protocol_error, bad_frame)
  huge       a frame over --max-frame after a valid one: frame_too_large
  refused    a bootstrap upstream with nothing listening: connect_failed,
             upstream_refused, and the next upstream is tried
  reload     SIGHUP with a broken configuration file: config.reload
             ok=false with the error, the old configuration stays, and
             clients keep being served

Every case also checks that kcat, through the same proxy, still lists the
cluster: one bad connection affects no other. Prints
"checks: N passed, M failed".
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.environ.get("top_srcdir") or
                      os.path.join(HERE, "..", ".."))
KC_BIN = os.environ.get("KC_BIN", os.path.join(TOP, "build", "kafka-conntrace"))
MOCK = os.environ.get("MOCK_CLUSTER",
                      os.path.join(TOP, "build", "tests", "peers", "mock_cluster"))

passed = failed = 0
procs = []
tmp = tempfile.mkdtemp(prefix="kc-hostile-")


def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
        print("ok: " + msg)
    else:
        failed += 1
        print("FAIL: " + msg)
    sys.stdout.flush()
    return cond


def wait_for(what, cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def kcat_lists(addr):
    r = subprocess.run(["kcat", "-b", addr, "-L", "-m", "10"],
                       capture_output=True, timeout=30)
    return r.returncode == 0 and b"3 brokers" in r.stdout


def raw(addr, data, read=True):
    """Send data on a fresh connection; return what came back before the
    other side closed (bounded), and the connection's client port."""
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    cport = s.getsockname()[1]
    s.sendall(data)
    got = b""
    if read:
        try:
            while len(got) < 65536:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        except socket.timeout:
            pass
    s.close()
    return got, cport


def frame(key, ver, corr, body=b"", client=b"hostile"):
    hdr = struct.pack(">hhih", key, ver, corr, len(client)) + client
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def close_of(log, cport, timeout=20):
    """The conn.close of the connection from this client port (records of
    earlier connections may still be arriving: do not count them)."""
    found = []

    def seen():
        ev = events(log)
        # The newest connection from this port is ours: an earlier one
        # may have used the same port.
        ids = [e["conn"] for e in ev if e["event"] == "conn.open"
               and e.get("client_port") == cport]
        found[:] = [e for e in ev if e["event"] == "conn.close"
                    and ids and e["conn"] == max(ids)]
        return found
    wait_for("the conn.close of client port %d" % cport, seen, timeout)
    return found[-1]


def main():
    bfile = os.path.join(tmp, "bootstrap")
    mc = subprocess.Popen([MOCK, "-b", "3", "-f", bfile],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(mc)
    wait_for("the cluster", lambda: os.path.exists(bfile))
    bootstrap = open(bfile).read().strip()
    dead = free_port()  # nothing listens here
    port = free_port()
    addr = "127.0.0.1:%d" % port
    log = os.path.join(tmp, "events.jsonl")
    conf = os.path.join(tmp, "kc.json")
    with open(conf, "w") as f:
        json.dump({"listen": addr,
                   "upstream": ["127.0.0.1:%d" % dead] + bootstrap.split(","),
                   "event_log": log, "max_frame": 1048576,
                   "max_rewrite_frame": 1048576, "proc_lookup": False}, f)
    px = subprocess.Popen([KC_BIN, "--config", conf],
                          stdout=subprocess.DEVNULL, stderr=open(
                              os.path.join(tmp, "kc.err"), "w"))
    procs.append(px)
    wait_for("proxy.start", lambda: os.path.exists(log) and
             "proxy.start" in open(log).read())

    # refused: the first bootstrap upstream has nothing listening; the
    # proxy goes on to the next, so the client does not notice.
    check(kcat_lists(addr), "refused: kcat lists the cluster through the proxy")

    # tls
    hello = bytes([0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b,
                   0x03, 0x03]) + os.urandom(32) + bytes([0, 0, 2, 0, 0x2f, 1, 0])
    close_of(log, raw(addr, hello)[1])
    op = [e for e in events(log) if e["event"] == "conn.opaque"]
    check(any(e["reason"] == "tls" for e in op), "tls: conn.opaque, reason tls")

    # garbage (not Kafka framing: a size far over max_frame)
    close_of(log, raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")[1])
    op = [e for e in events(log) if e["event"] == "conn.opaque"]
    check(any(e["reason"] == "not_kafka" and e["prefix"].startswith("474554")
              for e in op), "garbage: conn.opaque, reason not_kafka, hex prefix")

    # badframe: ApiVersions v0, then a negative size
    c = close_of(log, raw(addr, frame(18, 0, 1) + struct.pack(">i", -5) +
                          b"xxxx")[1])
    # The proxy closes at once on a broken frame; the valid request
    # before it was relayed, and is counted as in flight if its answer had
    # not come back yet.
    check(c["requests"].get("ApiVersions") == 1 and
          c["inflight_at_close"] + c["responses"] == 1,
          "badframe: the valid request before it was relayed and accounted "
          "for (%d answered, %d in flight)" % (c["responses"],
                                               c["inflight_at_close"]))
    check(c["closed_by"] == "proxy" and c["reason"] == "bad_frame" and
          c["how"] == "protocol_error",
          "badframe: closed by the proxy, protocol_error/bad_frame (%s/%s/%s)"
          % (c["closed_by"], c["how"], c["reason"]))

    # huge: a valid request, then a frame announced over max_frame
    c = close_of(log, raw(addr, frame(18, 0, 1) +
                          struct.pack(">i", 50 * 1024 * 1024) + b"\0" * 64)[1])
    check(c["reason"] == "frame_too_large", "huge: frame_too_large (%s)" % c["reason"])
    dp = [e for e in events(log) if e["event"] == "decode.problem"]
    check(any(e["status"] == "too large" for e in dp),
          "huge: a decode.problem with status 'too large'")

    check(kcat_lists(addr), "after the hostile connections, kcat still lists "
          "the cluster")

    # reload: break the file, SIGHUP; the old configuration stays.
    with open(conf, "w") as f:
        f.write('{"listen": "%s",\n "upstream": "%s",\n "bogus_key": 1}\n'
                % (addr, bootstrap))
    px.send_signal(signal.SIGHUP)
    wait_for("config.reload", lambda: any(
        e["event"] == "config.reload" for e in events(log)))
    rl = [e for e in events(log) if e["event"] == "config.reload"][-1]
    check(rl["ok"] is False and "bogus_key" in rl.get("error", "") and
          ":3:" in rl.get("error", ""),
          "reload: refused, naming the key and its line (%s)" % rl.get("error"))
    check(px.poll() is None, "reload: the proxy is still running")
    check(kcat_lists(addr), "reload: clients are still served")

    px.send_signal(signal.SIGTERM)
    px.wait(30)
    check(px.returncode == 0, "the proxy exited 0 on SIGTERM")
    ev = events(log)
    opens = sorted(e["conn"] for e in ev if e["event"] == "conn.open")
    closes = sorted(e["conn"] for e in ev if e["event"] == "conn.close")
    check(opens == closes, "every conn.open has its conn.close (%d)" % len(opens))
    check(ev[-1]["event"] == "proxy.stop", "the log ends with proxy.stop")
    fails = [e for e in ev if e["event"] == "conn.close" and
             e.get("reason") in ("upstream_refused", "upstream_unreachable")]
    check(not fails, "refused: no client connection failed for the dead "
          "upstream (the next one was tried)")
    try:
        import jsonschema
        schema = json.load(open(os.path.join(TOP, "doc", "event-log.schema.json")))
        v = jsonschema.Draft202012Validator(schema)
        errs = [(i, e.message) for i, x in enumerate(ev) for e in v.iter_errors(x)]
        check(not errs, "the log validates against the schema %s" % errs[:3])
    except ImportError:
        check(False, "python3-jsonschema is missing (scripts/install-deps.sh)")
    return 0


if __name__ == "__main__":
    rc = 1
    try:
        rc = main()
    except Exception as e:
        check(False, "unexpected: %r" % (e,))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        print("checks: %d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 and rc == 0 else 1)
