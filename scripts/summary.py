#!/usr/bin/python3
"""Print a short human-readable summary of a kafka-conntrace event log:
one line per connection, from its conn.close record."""
import json
import sys


def main(path):
    closes, brokers, other = [], [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                ev = json.loads(line)
            except ValueError:
                print(f"{path}:{n}: not JSON, skipped", file=sys.stderr)
                continue
            kind = ev.get("event")
            if kind == "conn.close":
                closes.append(ev)
            elif kind == "broker.listener":
                brokers.append(ev)
            else:
                other[kind] = other.get(kind, 0) + 1
    print()
    print("Brokers seen (each behind a local listener of the proxy):")
    for b in brokers:
        print(f"  broker {b['broker_id']}: {b['upstream_addr']}:{b['upstream_port']}"
              f" -> {b.get('listen_addr', '?')}:{b.get('listen_port', '?')}")
    print()
    print(f"{'conn':>4}  {'client':<16} {'client_id':<14} {'role':<11} {'node':>10}"
          f"  {'life s':>7}  {'idle s':>6}  {'closed by':<14} requests")
    for c in sorted(closes, key=lambda e: e["conn"]):
        reqs = ", ".join(f"{k} {v}" for k, v in sorted(c["requests"].items()))
        who = f"{c['closed_by']}/{c['how']}"
        print(f"{c['conn']:>4}  {c['client_addr'] + ':' + str(c['client_port']):<16}"
              f" {str(c['client_id'])[:14]:<14} {c['role']:<11} {c['client_node_id']:>10}"
              f"  {c['duration_s']:7.2f}  {c['max_idle_s']:6.2f}  {who:<14} {reqs}")
    print()
    print(f"{len(closes)} connections; other events: "
          + ", ".join(f"{k} {v}" for k, v in sorted(other.items())))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: summary.py EVENT_LOG")
    main(sys.argv[1])
