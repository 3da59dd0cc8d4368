#!/usr/bin/python3
"""pyclient.py - the Python clients of the integration tests:
confluent-kafka-python 1.7.0 (librdkafka 2.0.2) or kafka-python 2.0.2,
producing the lines of a file as records, or consuming them in a consumer
group and printing each record it receives.

usage: pyclient.py produce|consume --lib confluent|kafka-python
           -b BOOTSTRAP -t TOPIC -c CLIENT_ID -p PAYLOAD_FILE
           [-g GROUP] [--timeout S] [--hold S] [--fetch-wait-ms MS]

produce: one record per line of PAYLOAD_FILE; prints "delivered N";
         exit 0 when every record was delivered.
consume: prints "record VALUE" for each record; once every line of
         PAYLOAD_FILE arrived prints "ready", then (with --hold) keeps
         polling for S more seconds; commits, closes; exit 0 when every
         line arrived.
Run with /usr/bin/python3 (Debian's python3-confluent-kafka, python3-kafka).
"""
import argparse
import sys
import time


def out(msg):
    print(msg, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["produce", "consume"])
    p.add_argument("--lib", choices=["confluent", "kafka-python"],
                   required=True)
    p.add_argument("-b", "--bootstrap", required=True)
    p.add_argument("-t", "--topic", required=True)
    p.add_argument("-c", "--client-id", required=True)
    p.add_argument("-p", "--payloads", required=True)
    p.add_argument("-g", "--group", default="pyclient-group")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--hold", type=float, default=0.0)
    p.add_argument("--fetch-wait-ms", type=int, default=None)
    return p.parse_args()


def produce_confluent(a, values):
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": a.bootstrap,
                         "client.id": a.client_id})
    state = {"ok": 0, "bad": 0}

    def report(err, _msg):
        state["bad" if err else "ok"] += 1

    for v in values:
        producer.produce(a.topic, value=v.encode(), on_delivery=report)
        producer.poll(0)
    producer.flush(a.timeout)
    return state["ok"]


def produce_kafka_python(a, values):
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=a.bootstrap.split(","),
                             client_id=a.client_id)
    futures = [producer.send(a.topic, value=v.encode()) for v in values]
    producer.flush(a.timeout)
    ok = 0
    for f in futures:
        try:
            f.get(timeout=a.timeout)
            ok += 1
        except Exception as e:  # noqa: BLE001 - count every failure
            out(f"send failed: {e!r}")
    producer.close(10)
    return ok


class ConfluentConsumer:
    def __init__(self, a):
        from confluent_kafka import Consumer

        conf = {"bootstrap.servers": a.bootstrap, "client.id": a.client_id,
                "group.id": a.group, "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "heartbeat.interval.ms": 500, "session.timeout.ms": 10000}
        if a.fetch_wait_ms is not None:
            conf["fetch.wait.max.ms"] = a.fetch_wait_ms
        self.c = Consumer(conf)
        self.c.subscribe([a.topic])

    def poll(self):
        m = self.c.poll(0.2)
        if m is None or m.error():
            return []
        return [m.value().decode()]

    def close(self, got):
        if got:
            self.c.commit(asynchronous=False)
        self.c.close()


class KafkaPythonConsumer:
    def __init__(self, a):
        from kafka import KafkaConsumer

        conf = dict(bootstrap_servers=a.bootstrap.split(","),
                    client_id=a.client_id, group_id=a.group,
                    auto_offset_reset="earliest", enable_auto_commit=False,
                    heartbeat_interval_ms=500, session_timeout_ms=10000)
        if a.fetch_wait_ms is not None:
            conf["fetch_max_wait_ms"] = a.fetch_wait_ms
        self.c = KafkaConsumer(a.topic, **conf)

    def poll(self):
        vals = []
        for records in self.c.poll(timeout_ms=200).values():
            vals += [r.value.decode() for r in records]
        return vals

    def close(self, got):
        if got:
            self.c.commit()
        self.c.close()


def consume(a, values):
    want = set(values)
    c = (ConfluentConsumer if a.lib == "confluent" else KafkaPythonConsumer)(a)
    got = set()
    deadline = time.monotonic() + a.timeout
    while not want <= got and time.monotonic() < deadline:
        for v in c.poll():
            out(f"record {v}")
            got.add(v)
    if want <= got:
        out("ready")
        hold_end = time.monotonic() + a.hold
        while time.monotonic() < hold_end:
            for v in c.poll():
                out(f"record {v}")
    c.close(len(got))
    return len(want & got)


def main():
    a = parse_args()
    with open(a.payloads) as f:
        values = [line.rstrip("\n") for line in f if line.strip()]
    if a.mode == "produce":
        if a.lib == "confluent":
            n = produce_confluent(a, values)
        else:
            n = produce_kafka_python(a, values)
        out(f"delivered {n} of {len(values)}")
    else:
        n = consume(a, values)
        out(f"received {n} of {len(values)}")
    return 0 if n == len(values) else 1


if __name__ == "__main__":
    sys.exit(main())
