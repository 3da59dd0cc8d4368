"""lib.py - the integration tests' harness: real brokers (librdkafka's mock
clusters), the real kafka-conntrace binary and real clients, run as child
processes in a temporary directory, with their event log parsed, validated
against doc/event-log.schema.json and checked.

Every process a test starts is recorded here and stopped by its pid when
the test ends, also when it fails or is interrupted. Readiness is always a
signal (a bootstrap file, the proxy.start line, dumpcap's banner), waited
for with a bounded timeout, never a fixed sleep.

Environment: KC_BIN (the daemon), MOCK_CLUSTER (tests/peers/mock_cluster),
top_srcdir (for doc/, tests/peers/). Run with /usr/bin/python3.

KC_VALGRIND=1 (set by `KC_VALGRIND=1 make check`, which also points KC_BIN
at tests/integration/kc-valgrind): every kafka-conntrace runs under
memcheck, every timeout here is SLOW times longer, and each proxy this
harness started must leave a valgrind log with no error and no leak of
any kind -- one failed check per proxy otherwise.
"""
import atexit
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.path.abspath(os.environ.get("top_srcdir") or
                             os.path.join(HERE, "..", ".."))
PEERS = os.path.join(TOP_SRCDIR, "tests", "peers")
# node-rdkafka, from `npm ci` in tests/peers unless said otherwise.
NODE_MODULES = os.environ.get("KC_NODE_MODULES") or \
    os.path.join(PEERS, "node_modules")
SCHEMA = os.path.join(TOP_SRCDIR, "doc", "event-log.schema.json")
PYTHON = "/usr/bin/python3"
INT32_MAX = 2147483647
VALGRIND = os.environ.get("KC_VALGRIND") == "1"
VALGRIND_DIR = os.environ.get("KC_VALGRIND_DIR") or ""
# memcheck runs the proxy 10-50 times slower: waits for it scale, checks
# do not change.
SLOW = 10 if VALGRIND else 1

# The API keys the proxy rewrites responses of (broker addresses, version
# caps); every other response must pass byte for byte.
API_METADATA = 3
API_FIND_COORDINATOR = 10
API_API_VERSIONS = 18
API_DESCRIBE_CLUSTER = 60
REWRITTEN_APIS = {API_METADATA, API_FIND_COORDINATOR, API_API_VERSIONS,
                  API_DESCRIBE_CLUSTER}
# Data APIs and group APIs, by the names the event log uses.
DATA_APIS = {"Produce", "Fetch", "ListOffsets"}
GROUP_APIS = {"JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup",
              "OffsetCommit", "OffsetFetch", "ConsumerGroupHeartbeat"}


def die_skip(reason):
    """Exit 77 (automake's SKIP), saying why, loudly."""
    sys.stderr.write(f"SKIP: {reason}\n")
    print(f"SKIP: {reason}")
    sys.exit(77)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_port_range(n, lo=20000, hi=32000):
    """n consecutive ports that were all free a moment ago, below Linux's
    ephemeral range (32768-60999), so that no client socket takes one
    before the proxy binds it."""
    rnd = int.from_bytes(os.urandom(4), "little")
    for attempt in range(200):
        base = lo + (rnd + attempt * 7919) % (hi - lo - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base, base + n - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {n} consecutive free ports")


class TestFailure(Exception):
    """A test cannot go on (a peer did not start, a client hung)."""


class Proc:
    """A child process with its output in files of the test directory."""

    def __init__(self, h, name, argv, stdin=None, env=None):
        self.h = h
        self.name = name
        self.argv = argv
        self.out_path = os.path.join(h.dir, f"{name}.out")
        self.err_path = os.path.join(h.dir, f"{name}.err")
        out = open(self.out_path, "wb")
        err = open(self.err_path, "wb")
        if isinstance(stdin, str):
            stdin = open(stdin, "rb")
        try:
            self.p = subprocess.Popen(
                argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=out, stderr=err, env=env)
        finally:
            out.close()
            err.close()
            if stdin is not None and stdin is not subprocess.PIPE:
                stdin.close()
        self.pid = self.p.pid
        self.started = time.monotonic()
        h.procs.append(self)
        h.log(f"started {name} (pid {self.pid}): {' '.join(argv)}")

    def alive(self):
        return self.p.poll() is None

    def wait(self, timeout):
        """The exit status, or None if it is still running at timeout
        (SLOW times longer under valgrind)."""
        try:
            return self.p.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            return None

    def send(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signal it, wait, SIGKILL it if it does not go; the exit status."""
        if self.alive():
            self.p.send_signal(sig)
            if self.wait(timeout) is None:
                self.h.log(f"{self.name} (pid {self.pid}) ignored "
                           f"{signal.Signals(sig).name}: SIGKILL")
                self.p.kill()
                self.p.wait()
        return self.p.returncode

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tail(self, n=15):
        lines = (self.stdout() + self.stderr()).splitlines()
        return "\n".join(f"    {self.name}: {x}" for x in lines[-n:])


class Broker:
    """A mock cluster: broker ids 1..n at the addresses of `bootstrap`."""

    def __init__(self, kind, proc, bootstrap):
        self.kind = kind
        self.proc = proc
        self.bootstrap = bootstrap
        self.addrs = bootstrap.split(",")
        self.ports = [int(a.rsplit(":", 1)[1]) for a in self.addrs]


class Proxy:
    """A running kafka-conntrace."""

    def __init__(self, proc, port, log_path, config):
        self.proc = proc
        self.port = port
        self.bootstrap = f"127.0.0.1:{port}"
        self.log_path = log_path
        self.config = config
        self.stop_status = None
        self.stop_seconds = None

    def events(self):
        return read_events(self.log_path)[0]


class Capture:
    """dumpcap on the loopback interface, limited by a capture filter,
    with a canary connection of our own inside the filter."""

    def __init__(self, proc, path, cli, srv):
        self.proc = proc
        self.path = path
        self.cli = cli
        self.srv = srv
        self.canary_port = srv.getsockname()[1]
        self.dropped = None

    def sync(self, h, timeout=20):
        """Return once every packet sent before this call is in the file.
        dumpcap hands packets over in blocks and buffers its writes, and
        on SIGINT drops what it has not handed over yet: so send a marker
        over the canary connection until the marker is in the file."""
        marker = b"kc-sync-" + os.urandom(8).hex().encode()
        chunk = marker * (65536 // len(marker))
        seen = [0]

        def written():
            self.cli.sendall(chunk)
            left = len(chunk)
            while left:
                left -= len(self.srv.recv(left))
            with open(self.path, "rb") as f:
                f.seek(max(0, seen[0] - len(marker)))
                data = f.read()
                seen[0] = f.tell()
            return marker in data
        h.wait_for(f"{self.proc.name} to write all packets so far", written,
                   timeout, self.proc)

    def close(self):
        self.cli.close()
        self.srv.close()


def read_events(path):
    """The event log's lines as dicts, and the lines that did not parse."""
    events, bad = [], []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                events.append(json.loads(raw))
            except ValueError:
                bad.append((n, raw[:200]))
    return events, bad


class Harness:
    """One test script: a temporary directory, the processes it started,
    and the checks it made."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.procs = []
        self.t0 = time.monotonic()
        self.dir = tempfile.mkdtemp(prefix=f"kc-{name}-")
        self.kc_bin = os.environ.get("KC_BIN") or ""
        self.mock_cluster = os.environ.get("MOCK_CLUSTER") or ""
        self._finished = False
        atexit.register(self.cleanup)
        # A harness timeout or ^C must still stop every child.
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_signal)
        self.log(f"{name}: working in {self.dir}")

    def _on_signal(self, sig, frame):
        self.log(f"interrupted by {signal.Signals(sig).name}")
        sys.exit(1)

    # ---- reporting ----

    def log(self, msg):
        print(f"[{time.monotonic() - self.t0:6.2f}s] {msg}", flush=True)

    def check(self, cond, msg, detail=None):
        """Count one assertion and say how it went; True if it held."""
        if cond:
            self.passed += 1
            print(f"ok: {msg}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL: {msg}", flush=True)
            if detail:
                for line in str(detail).splitlines()[:40]:
                    print(f"    {line}", flush=True)
        return bool(cond)

    def finish(self):
        """Stop everything, print the one summary line, exit."""
        self.cleanup()
        if VALGRIND:
            self.check_valgrind()
        ok = self.failed == 0
        if ok:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            sys.stderr.write(f"{self.name}: kept {self.dir} for inspection\n")
        self.log(f"{self.name}: done")
        print(f"checks: {self.passed} passed, {self.failed} failed",
              flush=True)
        sys.exit(0 if ok else 1)

    def run_scenario(self, fn, *args):
        """Run a scenario, count a failure that stops it half-way (a peer
        that does not start, a client that hangs, a bug in the test) as a
        failed check, then finish()."""
        try:
            fn(self, *args)
        except TestFailure as e:
            self.check(False, f"the scenario ran to its end: {e}")
        except Exception:  # noqa: BLE001 - reported, then counted
            import traceback
            self.check(False, "the scenario ran to its end",
                       traceback.format_exc())
        self.finish()

    def check_valgrind(self):
        """Each kafka-conntrace this test started ran clean under
        memcheck: its log says 0 errors and nothing in use at exit."""
        for p in self.procs:
            if p.argv[:1] != [self.kc_bin]:
                continue
            ok, why = valgrind_verdict(
                os.path.join(VALGRIND_DIR, f"kc-valgrind.{p.pid}.log"))
            self.check(ok, f"{p.name}: valgrind memcheck found no error and "
                       f"no leak (status {p.p.returncode})", why)

    def cleanup(self):
        """Stop every process this test started that is still running,
        each by its own pid."""
        for p in reversed(self.procs):
            if p.alive():
                self.log(f"stopping leftover {p.name} (pid {p.pid})")
                p.stop(signal.SIGTERM, timeout=5)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # ---- requirements ----

    def require_tools(self, *tools):
        """The named programs must exist (77 and why, if not)."""
        for t in tools:
            if t == "KC_BIN":
                if not (self.kc_bin and os.access(self.kc_bin, os.X_OK)):
                    die_skip(f"KC_BIN={self.kc_bin!r} is not an executable "
                             "kafka-conntrace (run through `make check`)")
            elif t == "MOCK_CLUSTER":
                if not (self.mock_cluster and
                        os.access(self.mock_cluster, os.X_OK)):
                    die_skip(f"MOCK_CLUSTER={self.mock_cluster!r} is not "
                             "built (tests/peers/mock_cluster)")
            elif t == "node-rdkafka":
                mod = os.path.join(NODE_MODULES, "node-rdkafka", "build",
                                   "Release", "node-librdkafka.node")
                if not shutil.which("node") or not os.path.exists(mod):
                    die_skip(f"node-rdkafka is not installed in "
                             f"{NODE_MODULES}: run `cd tests/peers && npm ci "
                             "--no-audit --no-fund` (or set KC_NODE_MODULES)")
            elif not shutil.which(t):
                die_skip(f"{t} is not installed (scripts/install-deps.sh)")

    # ---- processes ----

    def spawn(self, name, argv, stdin=None, env=None):
        return Proc(self, name, argv, stdin=stdin, env=env)

    def node_env(self):
        env = dict(os.environ)
        env["NODE_PATH"] = NODE_MODULES
        return env

    def wait_for(self, what, cond, timeout, proc=None):
        """Poll cond() until it is true; fail if proc dies or time runs
        out. Polling a file is how these peers signal readiness."""
        timeout *= SLOW
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = cond()
            if v:
                return v
            if proc is not None and not proc.alive():
                raise TestFailure(f"{proc.name} exited with status "
                                  f"{proc.p.returncode} before {what}\n"
                                  f"{proc.tail()}")
            time.sleep(0.02)
        raise TestFailure(f"no {what} within {timeout} s" +
                          (f"\n{proc.tail()}" if proc else ""))

    def start_broker(self, kind, brokers=3, topics=(), name=None):
        """kind "2.0.2": tests/peers/mock_cluster; "2.12": mock-broker.js.
        Ready when its bootstrap file appears."""
        name = name or f"broker-{kind}"
        bfile = self.path(f"{name}.bootstrap")
        targs = []
        for t in topics:
            targs += ["-t", t]
        if kind == "2.0.2":
            argv = [self.mock_cluster, "-b", str(brokers), "-f", bfile] + targs
            proc = self.spawn(name, argv)
        elif kind == "2.12":
            argv = ["node", os.path.join(PEERS, "mock-broker.js"), "-b",
                    str(brokers), "-f", bfile] + targs
            proc = self.spawn(name, argv, env=self.node_env())
        else:
            raise ValueError(kind)
        self.wait_for(f"{name} bootstrap file", lambda: os.path.exists(bfile),
                      30, proc)
        with open(bfile) as f:
            bootstrap = f.read().strip()
        b = Broker(kind, proc, bootstrap)
        self.log(f"{name} ready: {bootstrap}")
        return b

    def start_proxy(self, broker, name="proxy", log_requests=False,
                    broker_ports=None, drain_timeout_ms=None, extra=None,
                    port=None):
        """kafka-conntrace with a generated config file; ready when the
        event log's first line, proxy.start, is there. It listens on
        `port`, or on a free port it picks."""
        last_err = ""
        fixed = port
        for attempt in range(5):
            port = fixed or free_port()
            log_path = self.path(f"{name}.events.jsonl")
            conf = {
                "listen": f"127.0.0.1:{port}",
                "upstream": broker.addrs,
                "event_log": log_path,
                "log_requests": bool(log_requests),
                "log_level": "info",
            }
            if broker_ports:
                conf["broker_ports"] = f"{broker_ports[0]}-{broker_ports[1]}"
            if drain_timeout_ms is not None:
                conf["drain_timeout_ms"] = drain_timeout_ms
            conf.update(extra or {})
            cpath = self.write(f"{name}.json", json.dumps(conf, indent=2))
            if os.path.exists(log_path):
                os.unlink(log_path)
            proc = self.spawn(name, [self.kc_bin, "--config", cpath])

            def started():
                if not os.path.exists(log_path):
                    return False
                with open(log_path, "rb") as f:
                    line = f.readline()
                if not line.endswith(b"\n"):
                    return False
                return json.loads(line).get("event") == "proxy.start"
            try:
                self.wait_for(f"{name} proxy.start", started, 15, proc)
            except TestFailure as e:
                last_err = str(e)
                if "in use" in proc.stderr() and attempt < 4 and not fixed:
                    continue  # lost a race for the port: take another
                raise
            self.log(f"{name} ready on 127.0.0.1:{port} (pid {proc.pid})")
            return Proxy(proc, port, log_path, conf)
        raise TestFailure(last_err)

    def stop_proxy(self, px, sig=signal.SIGTERM, timeout=20):
        """Stop the proxy; its exit status and how long it took."""
        t = time.monotonic()
        px.proc.send(sig)
        rc = px.proc.wait(timeout)
        px.stop_seconds = time.monotonic() - t
        if rc is None:
            px.proc.stop(signal.SIGKILL, timeout=5)
            rc = None
        px.stop_status = rc
        self.log(f"{px.proc.name} stopped: status {rc} after "
                 f"{px.stop_seconds:.2f} s")
        return rc

    def run(self, name, argv, timeout, stdin=None, env=None):
        """Run a client to its end (killed at timeout); the Proc."""
        p = self.spawn(name, argv, stdin=stdin, env=env)
        rc = p.wait(timeout)
        if rc is None:
            self.log(f"{name} still running after {timeout * SLOW} s: "
                     "SIGKILL")
            p.stop(signal.SIGKILL)
        return p

    # ---- captures ----

    def start_capture(self, name, ports=(), port_ranges=()):
        """dumpcap on lo for these TCP ports. dumpcap's banner comes
        before it captures anything, so readiness is a canary: bytes sent
        over a port of our own, also in the filter, until dumpcap has
        written packets to the file."""
        canary = socket.socket()
        canary.bind(("127.0.0.1", 0))
        canary.listen(1)
        cport = canary.getsockname()[1]
        terms = [f"tcp port {p}" for p in list(ports) + [cport]]
        terms += [f"tcp portrange {lo}-{hi}" for lo, hi in port_ranges]
        path = self.path(f"{name}.pcapng")
        proc = self.spawn(name, ["dumpcap", "-q", "-i", "lo", "-B", "64",
                                 "-f", " or ".join(terms), "-w", path])
        self.wait_for(f"{name} to start capturing",
                      lambda: "Capturing on" in proc.stderr(), 15, proc)
        cli = socket.create_connection(("127.0.0.1", cport))
        srv, _ = canary.accept()
        chunk = b"canary" * 2731
        header = []

        def captured():
            cli.sendall(chunk)
            left = len(chunk)
            while left:
                left -= len(srv.recv(left))
            size = os.path.getsize(path) if os.path.exists(path) else 0
            if size and not header:
                header.append(size)  # the file's header blocks only
            return header and size > header[0]
        try:
            self.wait_for(f"{name} to write captured packets", captured, 20,
                          proc)
        except BaseException:
            cli.close()
            srv.close()
            raise
        finally:
            canary.close()
        return Capture(proc, path, cli, srv)

    def stop_capture(self, cap):
        """SIGINT, so that dumpcap flushes the file; the packets it
        dropped, if it says."""
        try:
            cap.sync(self)
        finally:
            rc = cap.proc.stop(signal.SIGINT, timeout=10)
            cap.close()
        err = cap.proc.stderr()
        # "Packets received/dropped on interface 'Loopback: lo': 12/0 ..."
        m = re.search(r"received/dropped on interface .*: (\d+)/(\d+) ", err)
        cap.dropped = int(m.group(2)) if m else None
        self.check(rc == 0 and cap.dropped == 0,
                   f"{cap.proc.name}: capture complete (status {rc}, "
                   f"dropped {cap.dropped})", err)
        return cap

    def tshark(self, args, timeout=120):
        """tshark's standard output (fails the test if tshark fails)."""
        r = subprocess.run(["tshark"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise TestFailure(f"tshark {' '.join(args)}: status "
                              f"{r.returncode}: {r.stderr.decode()[-500:]}")
        return r.stdout.decode("utf-8", "replace")

    # ---- the event log ----

    def check_log(self, px, expect_stopped=True):
        """Whole-log checks every scenario makes: every line parses and
        validates against the schema, proxy.start first, proxy.stop last
        (after proxy.stopping), every conn.open has exactly one conn.close
        with the same conn id and vice versa. Returns the events."""
        events, bad = read_events(px.log_path)
        tag = px.proc.name
        self.check(not bad, f"{tag}: every event-log line is JSON",
                   "\n".join(f"line {n}: {raw!r}" for n, raw in bad))
        errs = validate_events(self, events)
        self.check(not errs, f"{tag}: all {len(events)} events validate "
                   "against doc/event-log.schema.json", "\n".join(errs[:20]))
        kinds = [e.get("event") for e in events]
        self.check(kinds[:1] == ["proxy.start"],
                   f"{tag}: the first event is proxy.start", kinds[:3])
        if expect_stopped:
            self.check(kinds[-1:] == ["proxy.stop"],
                       f"{tag}: the last event is proxy.stop", kinds[-3:])
            self.check(kinds.count("proxy.stopping") == 1 and
                       kinds.count("proxy.stop") == 1 and
                       kinds.index("proxy.stopping") <
                       kinds.index("proxy.stop"),
                       f"{tag}: one proxy.stopping, then one proxy.stop")
        opens = collections.Counter(e["conn"] for e in events
                                    if e.get("event") == "conn.open")
        closes = collections.Counter(e["conn"] for e in events
                                     if e.get("event") == "conn.close")
        dup = sorted(c for c, n in (opens + closes).items()
                     if opens[c] != 1 or closes[c] != 1)
        self.check(opens and not dup,
                   f"{tag}: each of {len(opens)} conn.open has exactly one "
                   "conn.close with the same conn id, and no other close",
                   f"conn ids with open/close counts off: "
                   f"{[(c, opens[c], closes[c]) for c in dup[:20]]}")
        return events


def valgrind_verdict(path):
    """(True, "") if the memcheck log at path reports no error and no
    block left at exit but those suppressed, else (False, why)."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError as e:
        return False, f"no valgrind log: {e}"
    m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    if not m:
        return False, ("no ERROR SUMMARY (killed before it could exit?)\n" +
                       text[-2000:])
    # Blocks tests/valgrind.supp suppresses are still "in use at exit";
    # the leak summary counts them apart.
    clean_heap = ("All heap blocks were freed" in text or all(
        re.search(rf"{kind}: 0 bytes in 0 blocks", text)
        for kind in ("definitely lost", "indirectly lost", "possibly lost",
                     "still reachable")))
    if m.group(1) != "0" or not clean_heap:
        return False, f"{path}:\n" + text[-3000:]
    return True, ""


_schema_checked = []


def validate_events(h, events):
    """Schema errors of the events, one line each. The schema must be
    usable as it is: a $ref it cannot resolve is a failed check of its
    own, and the events are then validated against a copy with an
    absolute $id, so that they are still checked."""
    import jsonschema

    with open(SCHEMA) as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    if not _schema_checked:
        try:
            cls.check_schema(schema)
            ok, why = True, ""
        except jsonschema.exceptions.SchemaError as e:
            ok, why = False, str(e)[:500]
        h.check(ok, "doc/event-log.schema.json is a valid draft 2020-12 "
                "schema", why)
    sample = events[0] if events else {}
    try:
        list(cls(schema).iter_errors(sample))
        usable, why = True, ""
    except jsonschema.exceptions.RefResolutionError as e:
        usable, why = False, str(e)
        schema = dict(schema, **{"$id": "urn:kafka-conntrace:event-log"})
    if not _schema_checked:
        h.check(usable, "doc/event-log.schema.json resolves its own $refs "
                "(python3-jsonschema): its $id must be an absolute URI",
                f"{why}; $id is {json.load(open(SCHEMA)).get('$id')!r}")
        _schema_checked.append(True)
    v = cls(schema)
    errs = []
    for n, e in enumerate(events, 1):
        for err in v.iter_errors(e):
            errs.append(f"event {n} ({e.get('event')}): "
                        f"{'/'.join(map(str, err.absolute_path))}: "
                        f"{err.message[:300]}")
    return errs


# ---- views of an event log ----

def conns_of(events):
    """conn id -> {"open": conn.open, "close": conn.close}."""
    out = collections.defaultdict(dict)
    for e in events:
        if e.get("event") == "conn.open":
            out[e["conn"]]["open"] = e
        elif e.get("event") == "conn.close":
            out[e["conn"]]["close"] = e
    return out


def closes_of(events):
    return [e for e in events if e.get("event") == "conn.close"]


def requests_of(events):
    return [e for e in events if e.get("event") == "request"]


def upstream_local_ports(events):
    ports = set()
    for e in closes_of(events):
        if e.get("upstream_local"):
            ports.add(int(e["upstream_local"].rsplit(":", 1)[1]))
    return ports


def ts_seconds(ts):
    """An event-log timestamp ("2026-01-02T03:04:05.123456Z") in seconds
    since the epoch."""
    import datetime
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def brief(close):
    """A conn.close record in one line, for failure details."""
    return (f"conn {close['conn']} pid {close.get('pid')} "
            f"{close['listener']['kind']}/{close.get('broker_id')} "
            f"role {close['role']} node {close['client_node_id']} "
            f"client_id {close['client_id']!r} "
            f"sw {close['client_software_name']!r} "
            f"{close['client_software_version']!r} "
            f"requests {close['requests']} closed_by {close['closed_by']} "
            f"how {close['how']} inflight {close['inflight_at_close']}")


def syn_sources(h, pcap, dst_ports):
    """(src port, dst port) of every first SYN to one of dst_ports."""
    out = h.tshark(["-r", pcap, "-Y",
                    "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                    "-T", "fields", "-e", "tcp.srcport", "-e",
                    "tcp.dstport"])
    syns = []
    for line in out.splitlines():
        if not line.strip():
            continue
        s, d = line.split("\t")
        if int(d) in dst_ports:
            syns.append((int(s), int(d)))
    return syns


def payloads(tag, n):
    """n unique record values for one client's run."""
    rnd = os.urandom(4).hex()
    return [f"{tag}-{rnd}-{i:05d}" for i in range(n)]
