// Shared helpers for the ioredis suites: a client for 127.0.0.1:$REDIS_PORT whose every wait
// is bounded (connect, each command, no reconnect loops), and a fresh database per test.
'use strict';

const Redis = require('ioredis');

const PORT = Number(process.env.REDIS_PORT);
if (!PORT) {
  throw new Error('REDIS_PORT is not set (tests/libraries.rs sets it)');
}

function client(opts = {}) {
  return new Redis({
    host: '127.0.0.1',
    port: PORT,
    connectTimeout: 10000,
    commandTimeout: 10000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null, // no reconnect loop: a lost connection is a failure
    ...opts,
  });
}

async function fresh(t, opts = {}) {
  const r = client(opts);
  t.after(() => r.disconnect());
  await r.flushdb();
  return r;
}

// Collects every batch a scan stream emits (bounded by the stream ending or 10 s).
function collect(stream) {
  return new Promise((resolve, reject) => {
    const out = [];
    const timer = setTimeout(() => reject(new Error('scan stream did not end in 10 s')), 10000);
    stream.on('data', (batch) => out.push(...batch));
    stream.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

module.exports = { Redis, client, fresh, collect, PORT };
