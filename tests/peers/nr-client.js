// nr-client.js - a modern Kafka client for tests: node-rdkafka (librdkafka
// 2.12) producing N messages to a topic and/or consuming them in a consumer
// group, with the classic group protocol or KIP-848 (group.protocol=consumer).
//
// usage: node nr-client.js MODE -b BOOTSTRAP -t TOPIC [options]
//   MODE           produce | consume | both (produce, then consume)
//   -n N           messages to produce / expect (default 10)
//   -g GROUP       consumer group id (default nr-client-group)
//   -p PROTOCOL    classic (JoinGroup/SyncGroup/Heartbeat, default) or
//                  consumer (ConsumerGroupHeartbeat)
//   -s SECONDS     consume for at most this long (default 15)
//   -l SECONDS     after the last message, stay in the group this long
//                  (lets heartbeats happen; default 0)
//   -c CLIENT_ID   client.id (default nr-client)
//   -k             give every message a key ("key-<i>")
//   -z BYTES       make message 0 this large (others are short)
//   -C CODEC       compression.codec (none, gzip, snappy, lz4, zstd)
//   -i             enable.idempotence=true
//   -x TXN_ID      transactional producer with this transactional.id
//                  (all messages in one committed transaction)
//   -X KEY=VALUE   any other librdkafka property (repeatable, both roles)
// Exit status 0 when every message was delivered and (consume) at least N
// were received; 1 otherwise; 2 on bad arguments.
'use strict';

const Kafka = require('node-rdkafka');

const USAGE = 'usage: node nr-client.js produce|consume|both -b BOOTSTRAP -t TOPIC ' +
  '[-n N] [-g GROUP] [-p classic|consumer] [-s SECONDS] [-l SECONDS] [-c CLIENT_ID] ' +
  '[-k] [-z BYTES] [-C CODEC] [-i] [-x TXN_ID] [-X KEY=VALUE]...';

function fail(msg) {
  process.stderr.write(`nr-client: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    mode: argv[0], bootstrap: null, topic: null, count: 10, group: 'nr-client-group',
    protocol: 'classic', seconds: 15, linger: 0, clientId: 'nr-client', keys: false, bigSize: 0,
    codec: null, idempotent: false, txnId: null, extra: {},
  };
  if (!['produce', 'consume', 'both'].includes(o.mode)) fail(`bad mode '${o.mode}'`);
  const withValue = new Set(['-b', '-t', '-n', '-g', '-p', '-s', '-l', '-c', '-z', '-C', '-x', '-X']);
  const num = (flag, v) => {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) fail(`${flag} needs a number, got '${v}'`);
    return +v;
  };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '-k') { o.keys = true; continue; }
    if (flag === '-i') { o.idempotent = true; continue; }
    if (!withValue.has(flag)) fail(`unknown option '${flag}'`);
    const v = argv[++i];
    if (v === undefined || v === '') fail(`${flag} needs a value`);
    switch (flag) {
      case '-b': o.bootstrap = v; break;
      case '-t': o.topic = v; break;
      case '-n': o.count = num(flag, v); break;
      case '-g': o.group = v; break;
      case '-p':
        if (v !== 'classic' && v !== 'consumer') fail(`bad group protocol '${v}'`);
        o.protocol = v; break;
      case '-s': o.seconds = num(flag, v); break;
      case '-l': o.linger = num(flag, v); break;
      case '-c': o.clientId = v; break;
      case '-z': o.bigSize = num(flag, v); break;
      case '-C': o.codec = v; break;
      case '-x': o.txnId = v; break;
      case '-X': {
        const eq = v.indexOf('=');
        if (eq <= 0) fail(`-X needs KEY=VALUE, got '${v}'`);
        o.extra[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      default: fail(`unhandled option '${flag}'`);
    }
  }
  if (!o.bootstrap) fail('-b BOOTSTRAP is required');
  if (!o.topic) fail('-t TOPIC is required');
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const started = Date.now();
const log = (msg) => console.log(`nr-client [${((Date.now() - started) / 1000).toFixed(2)} s]: ${msg}`);

function messageValue(i) {
  if (i === 0 && opt.bigSize > 0) return Buffer.alloc(opt.bigSize, 'x');
  return Buffer.from(`nr-client message ${i}`);
}

function call(fn) {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

async function produce() {
  const conf = {
    'bootstrap.servers': opt.bootstrap, 'client.id': opt.clientId, dr_cb: true, ...opt.extra,
  };
  if (opt.codec) conf['compression.codec'] = opt.codec;
  if (opt.idempotent) conf['enable.idempotence'] = true;
  if (opt.txnId) conf['transactional.id'] = opt.txnId;
  const producer = new Kafka.Producer(conf);
  let delivered = 0;
  let failed = 0;
  producer.on('delivery-report', (err) => { if (err) failed++; else delivered++; });
  producer.on('event.error', (e) => log(`producer error: ${e.message}`));
  producer.setPollInterval(20);
  await call((cb) => producer.connect({ timeout: 10000 }, cb));
  if (opt.txnId) {
    await call((cb) => producer.initTransactions(10000, cb));
    await call((cb) => producer.beginTransaction(cb));
  }
  for (let i = 0; i < opt.count; i++) {
    const key = opt.keys ? `key-${i}` : null;
    producer.produce(opt.topic, null, messageValue(i), key, Date.now());
  }
  if (opt.txnId) await call((cb) => producer.commitTransaction(10000, cb));
  await call((cb) => producer.flush(10000, cb));
  const deadline = Date.now() + 10000;
  while (delivered + failed < opt.count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  log(`produced to ${opt.topic}: delivered=${delivered} failed=${failed}`);
  await call((cb) => producer.disconnect(cb));
  return delivered === opt.count;
}

async function consume() {
  const conf = {
    'bootstrap.servers': opt.bootstrap, 'client.id': opt.clientId, 'group.id': opt.group,
    'group.protocol': opt.protocol, 'enable.auto.commit': false, ...opt.extra,
  };
  if (opt.protocol === 'classic') {
    conf['session.timeout.ms'] = 10000;
    conf['heartbeat.interval.ms'] = 500;
  }
  const consumer = new Kafka.KafkaConsumer(conf, { 'auto.offset.reset': 'earliest' });
  let received = 0;
  consumer.on('data', () => { received++; });
  consumer.on('event.error', (e) => log(`consumer error: ${e.message}`));
  await call((cb) => consumer.connect({ timeout: 10000 }, cb));
  consumer.subscribe([opt.topic]);
  consumer.consume();
  const deadline = Date.now() + opt.seconds * 1000;
  while (received < opt.count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (received > 0) {
    try { consumer.commitSync(null); } catch (e) { log(`commit failed: ${e.message}`); }
  }
  await new Promise((r) => setTimeout(r, opt.linger * 1000));
  log(`consumed from ${opt.topic} (group ${opt.group}, ${opt.protocol}): ${received} messages`);
  await call((cb) => consumer.disconnect(cb));
  return received >= opt.count;
}

(async () => {
  let ok = true;
  try {
    if (opt.mode !== 'consume') ok = (await produce()) && ok;
    if (opt.mode !== 'produce') ok = (await consume()) && ok;
  } catch (e) {
    log(`failed: ${e.message || e}`);
    ok = false;
  }
  process.exit(ok ? 0 : 1);
})();
