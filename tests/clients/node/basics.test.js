// ioredis as an application uses it: connect, strings, pipelines, errors, the data types,
// scan streams and expiry. Expectations are Redis 7.0's (check with REDIS_LITE_TEST_REDIS=1).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Redis, client, fresh, collect } = require('./common');

const { ReplyError } = Redis;

test('connect, ping, name, select', async (t) => {
  const r = await fresh(t);
  assert.equal(await r.ping(), 'PONG');
  assert.equal(r.status, 'ready');
  assert.equal(await r.echo('hi'), 'hi');
  const named = client({ connectionName: 'node-app', db: 5 });
  t.after(() => named.disconnect());
  assert.equal(await named.client('GETNAME'), 'node-app');
  await named.set('in-db-5', 'x');
  assert.equal(await named.get('in-db-5'), 'x');
  assert.equal(await r.get('in-db-5'), null);
  await named.flushdb();
  const info = await r.info('server');
  assert.match(info, /^# Server\r\n/);
  assert.match(info, /redis_version:/);
});

test('strings', async (t) => {
  const r = await fresh(t);
  assert.equal(await r.set('greeting', 'hello'), 'OK');
  assert.equal(await r.get('greeting'), 'hello');
  assert.equal(await r.get('missing'), null);
  assert.equal(await r.set('greeting', 'x', 'NX'), null);
  assert.equal(await r.set('greeting', 'world', 'XX', 'GET'), 'hello');
  assert.equal(await r.incr('n'), 1);
  assert.equal(await r.incrby('n', 9), 10);
  assert.equal(await r.incrbyfloat('f', '1.5'), '1.5');
  assert.equal(await r.mset({ a: '1', b: '2' }), 'OK');
  assert.deepEqual(await r.mget('a', 'missing', 'b'), ['1', null, '2']);
  assert.equal(await r.del('a', 'b', 'missing'), 2);
  const blob = Buffer.from([0, 1, 2, 13, 10, 255, 254]);
  await r.set('bin', blob);
  assert.deepEqual(await r.getBuffer('bin'), blob);
  assert.equal(await r.strlen('bin'), blob.length);
});

test('errors reject with ReplyError and the connection stays usable', async (t) => {
  const r = await fresh(t);
  await r.rpush('list', 'a');
  await assert.rejects(r.get('list'), (e) => {
    assert.ok(e instanceof ReplyError, `not a ReplyError: ${e}`);
    assert.equal(e.message, 'WRONGTYPE Operation against a key holding the wrong kind of value');
    return true;
  });
  await r.set('s', 'abc');
  await assert.rejects(r.incr('s'), /^ReplyError: ERR value is not an integer or out of range$/);
  await assert.rejects(r.call('NOSUCHCOMMAND', 'x'), (e) => {
    assert.ok(e instanceof ReplyError);
    assert.match(e.message, /^ERR unknown command 'NOSUCHCOMMAND'/);
    return true;
  });
  await assert.rejects(r.call('GET'), /wrong number of arguments for 'get' command/);
  assert.equal(await r.get('s'), 'abc');
});

test('pipeline', async (t) => {
  const r = await fresh(t);
  const p = r.pipeline();
  for (let i = 0; i < 300; i++) p.set(`k:${i}`, String(i));
  for (let i = 0; i < 300; i++) p.get(`k:${i}`);
  p.lpush('k:0', 'x'); // WRONGTYPE in the middle
  p.incr('counter');
  const res = await p.exec();
  assert.equal(res.length, 602);
  for (let i = 0; i < 300; i++) assert.deepEqual(res[i], [null, 'OK']);
  for (let i = 0; i < 300; i++) assert.deepEqual(res[300 + i], [null, String(i)]);
  assert.ok(res[600][0] instanceof ReplyError);
  assert.match(res[600][0].message, /^WRONGTYPE/);
  assert.deepEqual(res[601], [null, 1]);
  assert.equal(await r.dbsize(), 301);
  // Automatic pipelining of concurrent commands on one connection.
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => r.incr(`c:${i % 7}`)));
  assert.equal(many.length, 200);
  assert.equal(Number(await r.get('c:0')), 29);
});

test('hashes', async (t) => {
  const r = await fresh(t);
  assert.equal(await r.hset('user:1', { name: 'ada', age: '36' }), 2);
  assert.deepEqual(await r.hgetall('user:1'), { name: 'ada', age: '36' });
  assert.equal(await r.hincrby('user:1', 'age', 1), 37);
  assert.deepEqual(await r.hmget('user:1', 'name', 'nope'), ['ada', null]);
  assert.equal(await r.hdel('user:1', 'name'), 1);
  assert.deepEqual(await r.hgetall('nope'), {});
  const fields = {};
  for (let i = 0; i < 700; i++) fields[`f${i}`] = String(i);
  await r.hset('big', fields);
  const flat = await collect(r.hscanStream('big', { count: 50 }));
  const seen = {};
  for (let i = 0; i < flat.length; i += 2) seen[flat[i]] = flat[i + 1];
  assert.deepEqual(seen, fields);
});

test('lists', async (t) => {
  const r = await fresh(t);
  assert.equal(await r.rpush('q', 'a', 'b', 'c'), 3);
  assert.equal(await r.lpush('q', 'z'), 4);
  assert.deepEqual(await r.lrange('q', 0, -1), ['z', 'a', 'b', 'c']);
  assert.equal(await r.lpop('q'), 'z');
  assert.deepEqual(await r.rpop('q', 2), ['c', 'b']);
  assert.deepEqual(await r.blpop('q', 1), ['q', 'a']);
  assert.equal(await r.blpop('q', 0.1), null);
  assert.equal(await r.exists('q'), 0);
});

test('sets', async (t) => {
  const r = await fresh(t);
  assert.equal(await r.sadd('s', 'a', 'b', 'c', 'a'), 3);
  assert.deepEqual((await r.smembers('s')).sort(), ['a', 'b', 'c']);
  assert.equal(await r.sismember('s', 'a'), 1);
  assert.equal(await r.sismember('s', 'z'), 0);
  await r.sadd('t', 'b', 'c', 'd');
  assert.deepEqual((await r.sinter('s', 't')).sort(), ['b', 'c']);
  assert.equal(await r.sunionstore('u', 's', 't'), 4);
  const members = Array.from({ length: 400 }, (_, i) => `m${i}`);
  await r.sadd('big', ...members);
  const seen = await collect(r.sscanStream('big', { count: 25 }));
  assert.deepEqual([...new Set(seen)].sort(), members.slice().sort());
});

test('sorted sets', async (t) => {
  const r = await fresh(t);
  assert.equal(await r.zadd('board', 10, 'ann', 20.5, 'bob', -3, 'cid'), 3);
  assert.deepEqual(await r.zrange('board', 0, -1), ['cid', 'ann', 'bob']);
  assert.deepEqual(await r.zrange('board', 0, -1, 'WITHSCORES'), ['cid', '-3', 'ann', '10', 'bob', '20.5']);
  assert.equal(await r.zscore('board', 'bob'), '20.5');
  assert.equal(await r.zincrby('board', 5, 'ann'), '15');
  assert.equal(await r.zrank('board', 'ann'), 1);
  assert.deepEqual(await r.zrangebyscore('board', '(0', '+inf'), ['ann', 'bob']);
  assert.deepEqual(await r.zpopmax('board'), ['bob', '20.5']);
  assert.equal(await r.zcard('board'), 2);
  const args = [];
  for (let i = 0; i < 300; i++) args.push(i, `m${i}`);
  await r.zadd('big', ...args);
  const flat = await collect(r.zscanStream('big', { count: 20 }));
  const seen = new Map();
  for (let i = 0; i < flat.length; i += 2) seen.set(flat[i], flat[i + 1]);
  assert.equal(seen.size, 300);
  assert.equal(seen.get('m299'), '299');
});

test('scanStream', async (t) => {
  const r = await fresh(t);
  const p = r.pipeline();
  for (let i = 0; i < 1000; i++) p.set(`user:${i}`, String(i));
  for (let i = 0; i < 50; i++) p.sadd(`group:${i}`, 'x');
  await p.exec();
  const users = await collect(r.scanStream({ match: 'user:*', count: 100 }));
  assert.equal(users.length, 1000, 'every user key exactly once');
  assert.equal(new Set(users).size, 1000);
  const sets = await collect(r.scanStream({ type: 'set' }));
  assert.deepEqual(sets.sort(), Array.from({ length: 50 }, (_, i) => `group:${i}`).sort());
  assert.deepEqual(await collect(r.scanStream({ match: 'none*' })), []);
});

test('expiry', async (t) => {
  const r = await fresh(t);
  assert.equal(await r.set('session', 'data', 'EX', 100), 'OK');
  const ttl = await r.ttl('session');
  assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
  assert.equal(await r.persist('session'), 1);
  assert.equal(await r.ttl('session'), -1);
  assert.equal(await r.ttl('missing'), -2);
  assert.equal(await r.expire('session', 30), 1);
  assert.equal(await r.expire('missing', 30), 0);
  const pttl = await r.pttl('session');
  assert.ok(pttl > 0 && pttl <= 30000, `pttl ${pttl}`);
  await r.set('short', 'v', 'PX', 50);
  let gone = false;
  for (let i = 0; i < 250 && !gone; i++) {
    // bounded: 250 x 20 ms
    gone = (await r.get('short')) === null;
    if (!gone) await new Promise((res) => setTimeout(res, 20));
  }
  assert.ok(gone, 'a key with PX 50 was still there after 5 s');
});
