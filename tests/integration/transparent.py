"""transparent.py - transparent sidecar mode, in a network namespace this
test makes: a 3-broker cluster, kafka-conntrace --transparent, and the
redirect rules of scripts/kc-redirect. Real clients (kcat, kafka-python)
use the brokers' real addresses; every connection must go through the
proxy and be traced with its role, every record must arrive, and removing
the rules must restore direct traffic.

Needs root (ip netns, iptables). Prints "checks: N passed, M failed".
"""
import json
import os
import shutil
import signal
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
REDIRECT = os.path.join(TOP, "scripts", "kc-redirect")
MARK = 19267
PROXY_PORT = 15092

passed = failed = 0
procs = []
ns = "kct%d" % os.getpid()
tmp = tempfile.mkdtemp(prefix="kc-transparent-")


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


def nsexec(argv, **kw):
    return ["ip", "netns", "exec", ns] + argv


def spawn(name, argv):
    out = open(os.path.join(tmp, name + ".out"), "w")
    p = subprocess.Popen(nsexec(argv), stdout=out, stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def run(argv, timeout, stdin=None):
    return subprocess.run(nsexec(argv), input=stdin, capture_output=True,
                          timeout=timeout)


def wait_for(what, cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def events(path):
    out = []
    with open(path) as f:
        for line in f:
            out.append(json.loads(line))
    return out


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)


def redirect(action, ports):
    r = run(["sh", REDIRECT, action, "--ports", ",".join(map(str, ports)),
             "--to-port", str(PROXY_PORT), "--mark", str(MARK),
             "--dest", "127.0.0.1"], 20)
    check(r.returncode == 0, "kc-redirect %s: %s" % (action, r.stderr.decode().strip()))


def main():
    if os.geteuid() != 0:
        print("FAIL: this test needs root (ip netns, iptables); CI runs as root")
        return 1
    for tool in ("ip", "iptables", "kcat", "dumpcap"):
        if not shutil.which(tool):
            print("FAIL: %s is not installed (scripts/install-deps.sh)" % tool)
            return 1
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)

    bfile = os.path.join(tmp, "bootstrap")
    spawn("cluster", [MOCK, "-b", "3", "-t", "tt:3", "-f", bfile])
    wait_for("the cluster", lambda: os.path.exists(bfile))
    bootstrap = open(bfile).read().strip()
    ports = [int(a.rsplit(":", 1)[1]) for a in bootstrap.split(",")]

    # A capture of the broker ports inside the namespace: after the
    # redirect, only unredirected (the proxy's marked) sockets reach them.
    pcap = os.path.join(tmp, "brokers.pcapng")
    filt = "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0 and (" + \
        " or ".join("dst port %d" % p for p in ports) + ")"
    cap = spawn("dumpcap", ["dumpcap", "-i", "lo", "-f", filt, "-w", pcap])
    wait_for("dumpcap", lambda: "Capturing on" in
             open(os.path.join(tmp, "dumpcap.out")).read())

    log = os.path.join(tmp, "events.jsonl")
    px = spawn("proxy", [KC_BIN, "--transparent", "--listen",
                         "127.0.0.1:%d" % PROXY_PORT, "--mark", str(MARK),
                         "--upstream", bootstrap,
                         "--event-log", log, "--no-proc"])
    wait_for("proxy.start", lambda: os.path.exists(log) and
             "proxy.start" in open(log).read())
    redirect("add", ports)

    msgs = "".join("transparent-%d\n" % i for i in range(20)).encode()
    r = run(["kcat", "-b", bootstrap, "-P", "-t", "tt", "-X",
             "client.id=tp-producer"], 60, stdin=msgs)
    check(r.returncode == 0, "kcat produced through the redirect")
    r = run(["kcat", "-b", bootstrap, "-G", "tp-group", "-X",
             "client.id=tp-consumer", "-X", "auto.offset.reset=earliest",
             "-e", "-q", "tt"], 90)
    got = sorted(l for l in r.stdout.decode().splitlines() if l.startswith("transparent-"))
    check(got == sorted("transparent-%d" % i for i in range(20)),
          "the kcat consumer group got all 20 records (%d)" % len(got))
    py = ("import sys\nfrom kafka import KafkaProducer, KafkaConsumer\n"
          "p = KafkaProducer(bootstrap_servers=sys.argv[1], client_id='tp-kp')\n"
          "for i in range(10): p.send('tt', b'kp-%d' % i)\n"
          "p.flush(); p.close()\n"
          "c = KafkaConsumer('tt', bootstrap_servers=sys.argv[1], group_id='tp-kpg',\n"
          "    client_id='tp-kpc', auto_offset_reset='earliest', consumer_timeout_ms=8000)\n"
          "n = sum(1 for m in c if m.value.startswith(b'kp-'))\n"
          "c.close(); print(n)\n")
    r = run(["/usr/bin/python3", "-c", py, bootstrap], 120)
    check(r.returncode == 0 and r.stdout.decode().strip() == "10",
          "kafka-python produced and consumed 10 records (%s)" %
          (r.stdout.decode().strip() or r.stderr.decode()[-300:]))

    # Remove the rules: direct traffic again, the proxy sees nothing new.
    redirect("del", ports)
    before = sum(1 for e in events(log) if e["event"] == "conn.open")
    r = run(["kcat", "-b", bootstrap, "-L", "-t", "tt"], 30)
    check(r.returncode == 0 and b"3 brokers" in r.stdout,
          "with the rules removed, kcat reaches the brokers directly")
    px.send_signal(signal.SIGTERM)
    px.wait(30)
    check(px.returncode == 0, "the proxy exited 0 on SIGTERM")
    cap.send_signal(signal.SIGINT)
    cap.wait(20)
    ev = events(log)
    opens = [e for e in ev if e["event"] == "conn.open"]
    closes = [e for e in ev if e["event"] == "conn.close"]
    check(len(opens) == before, "no connection reached the proxy after the "
          "rules were removed (%d, %d)" % (len(opens), before))
    check(sorted(e["conn"] for e in opens) == sorted(e["conn"] for e in closes),
          "every conn.open has its conn.close (%d)" % len(opens))
    check(all(e["listener"]["kind"] == "transparent" for e in opens),
          "every connection was a redirected one")
    check(all(e["listener"].get("original_port") in ports for e in opens),
          "each went to a broker port")
    check(len([e for e in ev if e["event"] == "broker.seen"]) == 3,
          "the three brokers were learned from Metadata")

    # Roles, per client.
    by_client = {}
    for c in closes:
        by_client.setdefault(c["client_id"], []).append(c)
    for cid in ("tp-producer", "tp-consumer", "tp-kp", "tp-kpc"):
        cs = by_client.get(cid, [])
        roles = sorted(c["role"] for c in cs)
        check(roles.count("bootstrap") == 1,
              "%s: exactly one bootstrap connection (%s)" % (cid, roles))
        for c in cs:
            if c["role"] == "bootstrap":
                check(c["client_node_id"] == -1, "%s: bootstrap is node -1" % cid)
            elif c["role"] == "data":
                check(c["client_node_id"] == c["broker_id"] and c["broker_id"] in (1, 2, 3),
                      "%s: data connection node = broker id %s" % (cid, c["broker_id"]))
            elif c["role"] == "coordinator":
                check(c["client_node_id"] == 2147483647 - c["broker_id"],
                      "%s: coordinator node = MAX - broker %s" % (cid, c["broker_id"]))
    for cid in ("tp-consumer", "tp-kpc"):
        check(any(c["role"] == "coordinator" for c in by_client.get(cid, [])),
              "%s: a separate coordinator connection" % cid)

    # Every connection the brokers saw came from the proxy's own sockets.
    r = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "tcp.srcport"],
                       capture_output=True, timeout=60)
    syn_ports = set(int(x) for x in r.stdout.decode().split())
    proxy_ports = set(int(c["upstream_local"].rsplit(":", 1)[1])
                      for c in closes if c.get("upstream_local"))
    # The kcat -L after the rules were removed connects directly: those are
    # the only SYNs allowed from elsewhere, at most one per broker.
    stray = syn_ports - proxy_ports
    check(len(proxy_ports) > 0 and proxy_ports <= syn_ports,
          "the capture saw every upstream connection of the proxy")
    check(len(stray) <= 3, "no client connection went around the proxy while "
          "the rules were in place (%d direct, all from the final kcat -L)" % len(stray))
    return 0


if __name__ == "__main__":
    rc = 1
    try:
        rc = main()
    except Exception as e:  # a harness failure is a test failure
        check(False, "unexpected: %r" % (e,))
    finally:
        cleanup()
        print("checks: %d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 and rc == 0 else 1)
