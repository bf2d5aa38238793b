// ioredis transactions: multi/exec, errors inside a transaction, WATCH conflicts, DISCARD.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Redis, client, fresh } = require('./common');

const { ReplyError } = Redis;

test('multi/exec', async (t) => {
  const r = await fresh(t);
  const res = await r.multi().set('a', '100').decrby('a', 30).incr('b').mget('a', 'b').exec();
  assert.deepEqual(res, [
    [null, 'OK'],
    [null, 70],
    [null, 1],
    [null, ['70', '1']],
  ]);
});

test('an error at run time fails only its command', async (t) => {
  const r = await fresh(t);
  await r.set('str', 'v');
  const res = await r.multi().set('t1', '1').lpush('str', 'x').set('t2', '2').exec();
  assert.deepEqual(res[0], [null, 'OK']);
  assert.ok(res[1][0] instanceof ReplyError);
  assert.match(res[1][0].message, /^WRONGTYPE/);
  assert.deepEqual(res[2], [null, 'OK']);
  assert.deepEqual(await r.mget('t1', 't2'), ['1', '2']);
});

test('an error at queue time aborts with EXECABORT', async (t) => {
  const r = await fresh(t);
  await assert.rejects(r.multi().set('never', '1').call('NOSUCHCOMMAND').exec(), (e) => {
    assert.ok(e instanceof ReplyError, `${e}`);
    assert.equal(e.message, 'EXECABORT Transaction discarded because of previous errors.');
    assert.ok(Array.isArray(e.previousErrors) && e.previousErrors.length === 1);
    assert.match(e.previousErrors[0].message, /unknown command 'NOSUCHCOMMAND'/);
    return true;
  });
  assert.equal(await r.get('never'), null);
});

test('watch: a conflicting write makes exec return null', async (t) => {
  const r = await fresh(t);
  const other = client();
  t.after(() => other.disconnect());
  await r.set('stock', '5');
  assert.equal(await r.watch('stock'), 'OK');
  assert.equal(await r.get('stock'), '5');
  await other.set('stock', '4');
  assert.equal(await r.multi().set('stock', '100').exec(), null);
  assert.equal(await r.get('stock'), '4');
  // Without a conflict the same sequence goes through.
  await r.watch('stock');
  const v = Number(await r.get('stock'));
  assert.deepEqual(await r.multi().set('stock', String(v - 1)).exec(), [[null, 'OK']]);
  assert.equal(await r.get('stock'), '3');
  assert.equal(await r.unwatch(), 'OK');
});

test('discard', async (t) => {
  const r = await fresh(t);
  // multi({ pipeline: false }) sends MULTI at once; commands answer QUEUED one by one.
  assert.equal(await r.multi({ pipeline: false }), 'OK');
  assert.equal(await r.set('k', 'v'), 'QUEUED');
  assert.equal(await r.discard(), 'OK');
  assert.equal(await r.get('k'), null);
  await assert.rejects(r.exec(), /^ReplyError: ERR EXEC without MULTI$/);
  await assert.rejects(r.discard(), /^ReplyError: ERR DISCARD without MULTI$/);
});

test('pipeline containing a multi block', async (t) => {
  const r = await fresh(t);
  const res = await r.pipeline().set('x', '1').multi().incr('x').incr('x').exec().get('x').exec();
  // pipeline results: set, multi, queued, queued, exec, get
  assert.deepEqual(res[0], [null, 'OK']);
  assert.deepEqual(res[1], [null, 'OK']);
  assert.deepEqual(res[2], [null, 'QUEUED']);
  assert.deepEqual(res[3], [null, 'QUEUED']);
  assert.deepEqual(res[4], [null, [2, 3]]);
  assert.deepEqual(res[5], [null, '3']);
});
