#!/usr/bin/python3
"""py_client.py - Python Kafka clients for tests: confluent-kafka-python
(librdkafka) or kafka-python (pure Python) producing N messages to a topic
and/or consuming them in a consumer group.

Run it with /usr/bin/python3 (Debian's python3-confluent-kafka and
python3-kafka). Exit status 0 when every message was delivered and (consume)
at least N were received, 1 otherwise, 2 on bad arguments.
"""
import argparse
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["metadata", "produce", "consume", "both"],
                   help="metadata: list all topics (an all-topics Metadata request)")
    p.add_argument("--lib", choices=["confluent", "kafka-python"], required=True)
    p.add_argument("-b", "--bootstrap", required=True)
    p.add_argument("-t", "--topic", help="required except for metadata")
    p.add_argument("-n", "--count", type=int, default=10)
    p.add_argument("-g", "--group", default="py-client-group")
    p.add_argument("-s", "--seconds", type=float, default=15.0,
                   help="consume for at most this long")
    p.add_argument("--linger", type=float, default=0.0,
                   help="after the last message, stay in the group this long "
                        "(lets heartbeats happen)")
    p.add_argument("-c", "--client-id", default=None)
    p.add_argument("-k", "--keys", action="store_true",
                   help='give every message a key "key-<i>"')
    p.add_argument("-z", "--big", type=int, default=0,
                   help="make message 0 this many bytes")
    p.add_argument("-C", "--compression", default=None,
                   help="gzip, lz4, snappy, zstd (what the library supports)")
    p.add_argument("--acks", default=None, help="0, 1 or all")
    p.add_argument("-i", "--idempotent", action="store_true",
                   help="enable.idempotence=true (confluent only)")
    p.add_argument("-x", "--transactional-id", default=None,
                   help="one committed transaction (confluent only); also "
                        "commits the group's offsets through the transaction")
    a = p.parse_args()
    if a.lib == "kafka-python" and (a.idempotent or a.transactional_id):
        p.error("kafka-python 2.0.2 has no idempotent/transactional producer")
    if a.mode != "metadata" and not a.topic:
        p.error("--topic is required for " + a.mode)
    if a.count < 1:
        p.error("--count must be at least 1")
    return a


def log(msg):
    print(f"py_client: {msg}", flush=True)


def value_of(args, i):
    if i == 0 and args.big > 0:
        return b"y" * args.big
    return f"py_client message {i}".encode()


def key_of(args, i):
    return f"key-{i}".encode() if args.keys else None


# ---------------------------------------------------------------- confluent

def confluent_metadata(args):
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": args.bootstrap,
                         "client.id": args.client_id or "py-confluent"})
    md = admin.list_topics(timeout=10)
    log(f"confluent metadata: {len(md.brokers)} brokers, {len(md.topics)} topics")
    return len(md.brokers) > 0


def confluent_produce(args):
    from confluent_kafka import Consumer, Producer, TopicPartition

    conf = {"bootstrap.servers": args.bootstrap,
            "client.id": args.client_id or "py-confluent"}
    if args.compression:
        conf["compression.codec"] = args.compression
    if args.acks is not None:
        conf["acks"] = args.acks
    if args.idempotent:
        conf["enable.idempotence"] = True
    if args.transactional_id:
        conf["transactional.id"] = args.transactional_id
    producer = Producer(conf)
    state = {"ok": 0, "bad": 0}

    def report(err, _msg):
        state["bad" if err else "ok"] += 1

    if args.transactional_id:
        producer.init_transactions(10)
        producer.begin_transaction()
    for i in range(args.count):
        producer.produce(args.topic, value=value_of(args, i),
                         key=key_of(args, i), on_delivery=report)
        producer.poll(0)
    if args.transactional_id:
        # Commit the group's position as part of the transaction:
        # AddOffsetsToTxn + TxnOffsetCommit on the wire.
        meta = Consumer({"bootstrap.servers": args.bootstrap,
                         "group.id": args.group,
                         "client.id": (args.client_id or "py-confluent") + "-txn"})
        producer.send_offsets_to_transaction(
            [TopicPartition(args.topic, 0, 0)],
            meta.consumer_group_metadata(), 10)
        producer.commit_transaction(10)
        meta.close()
    left = producer.flush(10)
    log(f"confluent produced to {args.topic}: ok={state['ok']} "
        f"failed={state['bad']} unsent={left}")
    return state["ok"] == args.count


def confluent_consume(args):
    from confluent_kafka import Consumer

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "client.id": args.client_id or "py-confluent",
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "heartbeat.interval.ms": 500,
        "session.timeout.ms": 10000,
    })
    consumer.subscribe([args.topic])
    got = 0
    deadline = time.monotonic() + args.seconds
    while got < args.count and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is not None and not msg.error():
            got += 1
    if got:
        consumer.commit(asynchronous=False)
    linger_end = time.monotonic() + args.linger
    while time.monotonic() < linger_end:
        consumer.poll(0.2)
    consumer.close()
    log(f"confluent consumed from {args.topic} (group {args.group}): {got}")
    return got >= args.count


# ------------------------------------------------------------- kafka-python

def kafka_python_metadata(args):
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap.split(","),
                             client_id=args.client_id or "py-kafka-python")
    topics = consumer.topics()    # all-topics Metadata request
    consumer.close()
    log(f"kafka-python metadata: {len(topics)} topics")
    return True


def kafka_python_produce(args):
    from kafka import KafkaProducer

    conf = {"bootstrap_servers": args.bootstrap.split(","),
            "client_id": args.client_id or "py-kafka-python"}
    if args.compression:
        conf["compression_type"] = args.compression
    if args.acks is not None:
        conf["acks"] = args.acks if args.acks == "all" else int(args.acks)
    producer = KafkaProducer(**conf)  # api_version auto-detected
    futures = [producer.send(args.topic, value=value_of(args, i),
                             key=key_of(args, i))
               for i in range(args.count)]
    producer.flush(10)
    ok = 0
    for f in futures:
        try:
            f.get(timeout=10)
            ok += 1
        except Exception as e:  # noqa: BLE001 - report and count any failure
            log(f"kafka-python send failed: {e!r}")
    producer.close(10)
    log(f"kafka-python produced to {args.topic}: ok={ok}")
    return ok == args.count


def kafka_python_consume(args):
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap.split(","),
        client_id=args.client_id or "py-kafka-python",
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        heartbeat_interval_ms=500,
        session_timeout_ms=10000,
    )
    got = 0
    deadline = time.monotonic() + args.seconds
    while got < args.count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            got += len(records)
    if got:
        consumer.commit()
    linger_end = time.monotonic() + args.linger
    while time.monotonic() < linger_end:
        consumer.poll(timeout_ms=200)
    consumer.close()
    log(f"kafka-python consumed from {args.topic} (group {args.group}): {got}")
    return got >= args.count


def main():
    args = parse_args()
    produce = confluent_produce if args.lib == "confluent" else kafka_python_produce
    consume = confluent_consume if args.lib == "confluent" else kafka_python_consume
    if args.mode == "metadata":
        meta = confluent_metadata if args.lib == "confluent" else kafka_python_metadata
        return 0 if meta(args) else 1
    ok = True
    if args.mode in ("produce", "both"):
        ok = produce(args) and ok
    if args.mode in ("consume", "both"):
        ok = consume(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
