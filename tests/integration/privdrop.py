#!/usr/bin/python3
"""privdrop.py - --user: kafka-conntrace started as root gives up root
once its listeners are bound and its event log is open.

  nobody    started as root with "user": "nobody" in front of the real
            2.0.2 mock (3 brokers): /proc/PID/status shows nobody's uid
            and gid (real, effective, saved, filesystem), nobody's groups
            and no capabilities; kcat produces and consumes through it,
            over broker listeners that are bound only after the drop (on
            first sight of each broker id).
  mark      --transparent --mark N --user nobody: only CAP_NET_ADMIN is
            left (permitted and effective), which SO_MARK needs.
  unknown   a user that does not exist: exit 2 with a message naming it,
            before anything is bound.

Needs root (it is the point). Prints "checks: N passed, M failed".
"""
import os
import pwd
import subprocess

import lib

TOPIC = "privdrop"
CAP_NET_ADMIN = 12


def proc_status(pid):
    """/proc/PID/status as {field: value}."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def nobody_ids():
    pw = pwd.getpwnam("nobody")
    groups = sorted(os.getgrouplist("nobody", pw.pw_gid))
    return pw.pw_uid, pw.pw_gid, groups


def check_ids(h, tag, st):
    uid, gid, groups = nobody_ids()
    h.check(st["Uid"].split() == [str(uid)] * 4,
            f"{tag}: Uid (real, effective, saved, fs) is nobody's {uid}",
            st["Uid"])
    h.check(st["Gid"].split() == [str(gid)] * 4,
            f"{tag}: Gid (real, effective, saved, fs) is nobody's {gid}",
            st["Gid"])
    h.check(sorted(int(g) for g in st["Groups"].split()) == groups,
            f"{tag}: the supplementary groups are nobody's {groups}",
            st["Groups"])
    h.check(st.get("NoNewPrivs") == "1", f"{tag}: no_new_privs is set",
            st.get("NoNewPrivs"))


def nobody(h):
    broker = h.start_broker("2.0.2", brokers=3, topics=[TOPIC])
    px = h.start_proxy(broker, name="proxy-nobody", extra={"user": "nobody"})
    st = proc_status(px.proc.pid)
    check_ids(h, "nobody", st)
    h.check(int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0,
            "nobody: no capabilities left (CapEff and CapPrm are 0)",
            f"CapEff {st['CapEff']} CapPrm {st['CapPrm']}")
    h.check("running as nobody" in px.proc.stderr(),
            "nobody: the proxy says it runs as nobody", px.proc.tail())
    h.check("broker.listener" not in open(px.log_path).read(),
            "nobody: no broker listener exists before the first client")

    values = lib.payloads("drop", 20)
    pfile = h.write("records", "\n".join(values) + "\n")
    p = h.run("kcat-prod", ["kcat", "-b", px.bootstrap, "-P", "-t", TOPIC,
                            "-X", "client.id=drop-prod"], 60, stdin=pfile)
    h.check(p.p.returncode == 0, "nobody: kcat produced through the proxy",
            p.tail())
    c = h.run("kcat-cons", ["kcat", "-b", px.bootstrap, "-C", "-t", TOPIC,
                            "-o", "beginning", "-e", "-q", "-X",
                            "client.id=drop-cons"], 60)
    got = c.stdout().split()
    h.check(sorted(got) == sorted(values),
            f"nobody: kcat consumed all {len(values)} records through the "
            "proxy", c.tail())
    st2 = proc_status(px.proc.pid)
    h.check(st2["Uid"] == st["Uid"] and st2["CapEff"] == st["CapEff"],
            "nobody: still nobody with no capabilities after serving",
            st2["Uid"])
    h.stop_proxy(px)
    events = h.check_log(px)
    lst = [e for e in events if e.get("event") == "broker.listener"]
    h.check(len(lst) == 3 and all("listen_port" in e and "error" not in e
                                  for e in lst),
            "nobody: the 3 broker listeners were bound as nobody", lst)
    via_broker = [e for e in lib.closes_of(events)
                  if e["listener"]["kind"] == "broker" and
                  e["requests"].get("Produce", 0) +
                  e["requests"].get("Fetch", 0) > 0]
    h.check(via_broker, "nobody: Produce and Fetch went through broker "
            "listeners bound after the drop",
            [lib.brief(e) for e in lib.closes_of(events)])
    h.check(px.stop_status == 0, "nobody: the proxy exited 0",
            px.stop_status)


def mark(h):
    broker = h.start_broker("2.0.2", brokers=1, name="broker-mark")
    px = h.start_proxy(broker, name="proxy-mark",
                       extra={"user": "nobody", "transparent": True,
                              "mark": 4242})
    st = proc_status(px.proc.pid)
    check_ids(h, "mark", st)
    want = 1 << CAP_NET_ADMIN
    h.check(int(st["CapEff"], 16) == want and int(st["CapPrm"], 16) == want
            and int(st["CapInh"], 16) == 0,
            "mark: CAP_NET_ADMIN alone is left, for SO_MARK",
            f"CapEff {st['CapEff']} CapPrm {st['CapPrm']} "
            f"CapInh {st['CapInh']}")
    h.stop_proxy(px)
    h.check(px.stop_status == 0, "mark: the proxy exited 0", px.stop_status)


def unknown(h):
    port = lib.free_port()
    r = subprocess.run([h.kc_bin, "--listen", f"127.0.0.1:{port}",
                        "--upstream", "127.0.0.1:9", "--event-log",
                        h.path("unknown.jsonl"), "--user",
                        "kc-no-such-user"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20)
    err = r.stderr.decode()
    h.check(r.returncode == 2 and "kc-no-such-user: no such user" in err,
            "unknown: a user that does not exist is refused (exit 2) with "
            "its name", f"status {r.returncode}: {err}")
    h.check(not os.path.exists(h.path("unknown.jsonl")),
            "unknown: refused before the event log was opened")


def scenario(h):
    if os.geteuid() != 0:
        lib.die_skip("--user needs the test to run as root")
    nobody(h)
    mark(h)
    unknown(h)


def main():
    h = lib.Harness("privdrop")
    h.require_tools("KC_BIN", "MOCK_CLUSTER", "kcat")
    h.run_scenario(scenario)


if __name__ == "__main__":
    main()
