// nrclient.js - the node-rdkafka client of the integration tests
// (librdkafka 2.12): produces the lines of a file as records, or consumes
// them in a consumer group and prints each record it receives. The same
// interface as pyclient.py. node-rdkafka comes from tests/peers/node_modules
// (NODE_PATH; `npm ci` there installs it).
//
// usage: node nrclient.js produce|consume -b BOOTSTRAP -t TOPIC -c CLIENT_ID
//            -p PAYLOAD_FILE [-g GROUP] [--timeout S] [--hold S]
//            [--fetch-wait-ms MS]
// produce: prints "delivered N of M"; exit 0 when every record was delivered.
// consume: prints "record VALUE" per record, "ready" once every line
//          arrived, polls --hold seconds more, commits, disconnects; exit 0
//          when every line arrived.
'use strict';

const fs = require('fs');
const Kafka = require('node-rdkafka');

function fail(msg) {
  process.stderr.write(`nrclient: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { mode: argv[0], group: 'nrclient-group', timeout: 30, hold: 0, fetchWait: null };
  if (o.mode !== 'produce' && o.mode !== 'consume') fail(`bad mode '${o.mode}'`);
  for (let i = 1; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (v === undefined) fail(`${argv[i]} needs a value`);
    switch (argv[i]) {
      case '-b': o.bootstrap = v; break;
      case '-t': o.topic = v; break;
      case '-c': o.clientId = v; break;
      case '-p': o.payloads = v; break;
      case '-g': o.group = v; break;
      case '--timeout': o.timeout = +v; break;
      case '--hold': o.hold = +v; break;
      case '--fetch-wait-ms': o.fetchWait = +v; break;
      default: fail(`unknown option '${argv[i]}'`);
    }
  }
  if (!o.bootstrap || !o.topic || !o.clientId || !o.payloads) {
    fail('-b, -t, -c and -p are required');
  }
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const values = fs.readFileSync(opt.payloads, 'utf8').split('\n').filter((l) => l.length > 0);
const out = (msg) => process.stdout.write(`${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function call(fn) {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

async function produce() {
  const producer = new Kafka.Producer({
    'bootstrap.servers': opt.bootstrap, 'client.id': opt.clientId, dr_cb: true,
  });
  let delivered = 0;
  let failed = 0;
  producer.on('delivery-report', (err) => { if (err) failed++; else delivered++; });
  producer.on('event.error', (e) => process.stderr.write(`producer error: ${e.message}\n`));
  producer.setPollInterval(20);
  await call((cb) => producer.connect({ timeout: 10000 }, cb));
  for (const v of values) producer.produce(opt.topic, null, Buffer.from(v), null, Date.now());
  await call((cb) => producer.flush(opt.timeout * 1000, cb));
  const deadline = Date.now() + opt.timeout * 1000;
  while (delivered + failed < values.length && Date.now() < deadline) await sleep(20);
  out(`delivered ${delivered} of ${values.length}`);
  await call((cb) => producer.disconnect(cb));
  return delivered === values.length;
}

async function consume() {
  const conf = {
    'bootstrap.servers': opt.bootstrap, 'client.id': opt.clientId, 'group.id': opt.group,
    'enable.auto.commit': false, 'session.timeout.ms': 10000, 'heartbeat.interval.ms': 500,
  };
  if (opt.fetchWait !== null) conf['fetch.wait.max.ms'] = opt.fetchWait;
  const consumer = new Kafka.KafkaConsumer(conf, { 'auto.offset.reset': 'earliest' });
  const want = new Set(values);
  const got = new Set();
  consumer.on('data', (m) => {
    const v = m.value.toString();
    out(`record ${v}`);
    got.add(v);
  });
  consumer.on('event.error', (e) => process.stderr.write(`consumer error: ${e.message}\n`));
  await call((cb) => consumer.connect({ timeout: 10000 }, cb));
  consumer.subscribe([opt.topic]);
  consumer.consume();
  const all = () => [...want].every((v) => got.has(v));
  const deadline = Date.now() + opt.timeout * 1000;
  while (!all() && Date.now() < deadline) await sleep(20);
  if (all()) {
    out('ready');
    await sleep(opt.hold * 1000);
  }
  if (got.size > 0) {
    try { consumer.commitSync(null); } catch (e) { process.stderr.write(`commit: ${e.message}\n`); }
  }
  await call((cb) => consumer.disconnect(cb));
  const n = [...want].filter((v) => got.has(v)).length;
  out(`received ${n} of ${values.length}`);
  return n === values.length;
}

(async () => {
  let ok = false;
  try {
    ok = opt.mode === 'produce' ? await produce() : await consume();
  } catch (e) {
    process.stderr.write(`nrclient: ${e.message || e}\n`);
  }
  process.exit(ok ? 0 : 1);
})();
