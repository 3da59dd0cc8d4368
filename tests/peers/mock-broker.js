// mock-broker.js - a Kafka broker with modern (flexible) protocol versions for
// tests: librdkafka 2.12's mock cluster, started inside this process through
// node-rdkafka, serves OTHER processes on 127.0.0.1 until SIGTERM/SIGINT.
//
// usage: node mock-broker.js [-b BROKERS] [-f FILE] [-t TOPIC[:PARTITIONS]]...
//   -b  number of mock brokers (default 3): ids 1..N, random ports
//   -f  write the bootstrap list (ordered by broker id) to FILE.tmp, then
//       rename it to FILE: its existence means "ready"
//   -t  make TOPIC exist before ready (repeatable). This mock has no topic API
//       reachable from node and no CreateTopics handler: a Metadata request
//       auto-creates the topic with the mock's fixed 4 partitions, so another
//       PARTITIONS value is only reported as not honoured.
// Prints "BOOTSTRAP 127.0.0.1:p1,..." on stdout once ready.
'use strict';

const fs = require('fs');
const Kafka = require('node-rdkafka');

const USAGE = 'usage: node mock-broker.js [-b BROKERS] [-f FILE] [-t TOPIC[:PARTITIONS]]...';
const MOCK_PARTITIONS = 4;

function fail(msg) {
  process.stderr.write(`mock-broker: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opt = { brokers: 3, file: null, topics: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '-h' || flag === '--help') { console.log(USAGE); process.exit(0); }
    if (!['-b', '-f', '-t'].includes(flag)) fail(`unknown option '${flag}'`);
    const val = argv[++i];
    if (val === undefined || val === '') fail(`${flag} needs a value`);
    if (flag === '-b') {
      if (!/^[0-9]+$/.test(val) || +val < 1 || +val > 64) fail(`bad broker count '${val}'`);
      opt.brokers = +val;
    } else if (flag === '-f') {
      opt.file = val;
    } else {
      const m = /^([^:]+)(?::([0-9]+))?$/.exec(val);
      if (!m || (m[2] !== undefined && +m[2] < 1)) fail(`bad topic spec '${val}'`);
      opt.topics.push({ name: m[1], partitions: m[2] === undefined ? MOCK_PARTITIONS : +m[2] });
    }
  }
  return opt;
}

const opt = parseArgs(process.argv.slice(2));
const started = Date.now();
const log = (msg) => process.stderr.write(`mock-broker [+${Date.now() - started} ms]: ${msg}\n`);

// The host handle only carries the mock cluster; keep it quiet on the wire
// (no periodic metadata refresh) so captures show the clients' traffic only.
const host = new Kafka.Producer({
  'client.id': 'mock-broker-host',
  'test.mock.num.brokers': opt.brokers,   // hidden property: start the mock cluster
  'bootstrap.servers': 'unused:9',        // replaced by the mock's own list
  'topic.metadata.refresh.interval.ms': -1,
  'log_level': 4,
  'event_cb': true,
});
host.on('event.error', (e) => log(`rdkafka error: ${e.message}`));

function metadata(request) {
  return new Promise((resolve, reject) => {
    host.getMetadata(request, (err, md) => (err ? reject(err) : resolve(md)));
  });
}

function writeReadyFile(file, list) {
  fs.writeFileSync(`${file}.tmp`, `${list}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

async function setUp() {
  const md = await metadata({ allTopics: true, timeout: 10000 });
  if (md.brokers.length !== opt.brokers) {
    throw new Error(`expected ${opt.brokers} brokers, metadata lists ${md.brokers.length}`);
  }
  const list = md.brokers
    .slice()
    .sort((a, b) => a.id - b.id)
    .map((b) => `${b.host}:${b.port}`)
    .join(',');
  for (const t of opt.topics) {
    const tmd = await metadata({ topic: t.name, allTopics: false, timeout: 10000 });
    const found = tmd.topics.find((x) => x.name === t.name);
    const count = found ? found.partitions.length : 0;
    if (count === 0) throw new Error(`topic ${t.name} was not created`);
    const note = t.partitions !== count ? ` (asked for ${t.partitions}: not honoured by this mock)` : '';
    log(`topic ${t.name}: ${count} partitions${note}`);
  }
  if (opt.file) writeReadyFile(opt.file, list);
  process.stdout.write(`BOOTSTRAP ${list}\n`);
  log(`${opt.brokers} brokers up, pid ${process.pid}`);
}

host.connect({ timeout: 10000 }, (err) => {
  if (err) {
    log(`could not start the mock cluster: ${err.message}`);
    process.exit(1);
  }
  setUp().catch((e) => {
    log(`setup failed: ${e.message}`);
    process.exit(1);
  });
});

// Keep the event loop alive until a signal arrives.
const idle = setInterval(() => {}, 1 << 30);
let stopping = false;
function stop(sig) {
  if (stopping) return;
  stopping = true;
  log(`stopping on ${sig}`);
  clearInterval(idle);
  const hardStop = setTimeout(() => process.exit(0), 5000);
  host.disconnect(() => {
    clearTimeout(hardStop);
    process.exit(0);
  });
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
