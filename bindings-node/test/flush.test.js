// Flush Spread (FlushMailbox) against one real daemon: views agreed by
// flushing, data in its view, subgroupcast and unicast, leaves, timeouts,
// fl.h's error codes.
'use strict';

const test = require('node:test');

const { describe, before, after } = test;
const assert = require('node:assert/strict');
const { connectFlush, FlushMailbox, Service, SpreadError, FL_MIN_LEGAL_MESS_TYPE } = require('..');
const { TestDaemon, skipReason } = require('../testkit/daemons.js');
const { sleep } = require('../testkit/util.js');

const skip = skipReason() || false;
const it = (name, fn) => test.it(name, { skip }, fn);

const pg = (name) => `#${name}#localhost`;

/** Receives on every mailbox at once, flushing each flush request of
 * `group`, until each has a view of `group` with `n` members; resolves
 * with what each received, that view last. */
function settle(boxes, group, n, timeoutMs = 10000) {
  return Promise.all(boxes.map(async (fl) => {
    const seen = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      assert.ok(left > 0, `no view of ${n} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`);
      const m = await fl.receive({ timeoutMs: left });
      assert.ok(m !== null, `no view of ${n} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`);
      seen.push(m);
      if (m.kind === 'flushRequest' && m.group === group) await fl.flush(group);
      if (m.kind === 'view' && m.group === group && m.members.length === n) return seen;
    }
  }));
}

async function data(fl, timeoutMs = 5000) {
  const m = await fl.receive({ timeoutMs });
  assert.ok(m !== null && m.kind === 'data', `expected data, got ${JSON.stringify(m)}`);
  return m;
}

/** A group of `names.length` Flush mailboxes, joined one after the other. */
async function members(daemon, group, names) {
  const boxes = [];
  for (const name of names) {
    const fl = await connectFlush({ daemon: daemon.name, name });
    boxes.push(fl);
    await fl.join(group);
    await settle(boxes, group, boxes.length);
  }
  return boxes;
}

async function rejectsWith(promise, name, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof SpreadError, String(e));
    assert.equal(e.name, name);
    assert.equal(e.code, code);
    return true;
  });
}

describe('Flush Spread', () => {
  let daemon;
  let n = 0;
  const group = () => `fg${process.pid}x${++n}`;
  before(async () => {
    if (!skip) daemon = await TestDaemon.start();
  });
  after(async () => {
    if (daemon) await daemon.stop();
  });

  it('join: a flush request, FL_flush, then the view on both members; data in the view', async () => {
    const g = group();
    const a = await connectFlush({ daemon: daemon.name, name: 'fa' });
    const b = await connectFlush({ daemon: daemon.name, name: 'fb' });
    try {
      assert.ok(a instanceof FlushMailbox);
      assert.equal(a.privateGroup, pg('fa'));
      assert.ok(Number.isInteger(a.fd) && a.fd > 2);
      await a.join(g);
      const [alone] = await settle([a], g, 1);
      assert.deepEqual(alone.map((m) => m.kind), ['view']);
      const v1 = alone[0];
      assert.deepEqual([v1.members, v1.myIndex, v1.cause, v1.vsSet], [[pg('fa')], 0, 'join', [pg('fa')]]);
      await b.join(g);
      const req = await a.receive({ timeoutMs: 5000 });
      assert.deepEqual(req, { kind: 'flushRequest', group: g, more: 0 });
      assert.equal(await b.receive({ timeoutMs: 300 }), null, 'b had a view before a flushed');
      await a.flush(g);
      await rejectsWith(a.flush(g), 'ILLEGAL_STATE', -27);
      const [sa, sb] = await settle([a, b], g, 2);
      const [va, vb] = [sa.at(-1), sb.at(-1)];
      assert.deepEqual(va.members, [pg('fa'), pg('fb')]);
      assert.deepEqual(vb.members, va.members);
      assert.deepEqual([va.myIndex, vb.myIndex], [0, 1]);
      assert.deepEqual(va.groupId, vb.groupId);
      assert.notDeepEqual(va.groupId, v1.groupId);
      assert.deepEqual([va.cause, vb.cause, va.vsSet, vb.vsSet], ['join', 'join', [pg('fb')], [pg('fb')]]);
      assert.equal(await a.multicast(g, 'hello', { type: 3 }), 5);
      assert.equal(await b.multicast(g, Buffer.from('text'), { service: Service.Fifo }), 4);
      for (const fl of [a, b]) {
        // Two senders: the daemon may take either first.
        const got = [await data(fl), await data(fl)].sort((x, y) => x.sender.localeCompare(y.sender));
        assert.deepEqual(got.map((m) => [m.sender, m.groups, m.data.toString(), m.type, m.service]), [
          [pg('fa'), [g], 'hello', 3, 'agreed'],
          [pg('fb'), [g], 'text', 0, 'fifo'],
        ]);
        assert.equal(got[0].endianMismatch, false);
        assert.equal(fl.moreMsgs(), 0);
      }
      // Pieces are sent as one message (FL_scat_multicast).
      assert.equal(await a.multicast(g, ['scat', Buffer.from('te'), new Uint8Array([114, 101, 100])],
        { service: 'safe' }), 9);
      assert.equal((await data(b)).data.toString(), 'scattered');
      assert.equal((await data(a)).data.toString(), 'scattered');
    } finally {
      await a.close();
      await b.close();
    }
    assert.equal(a.closed, true);
  });

  it('subgroupcast and unicast reach only their receivers', async () => {
    const g = group();
    const [a, b, c] = await members(daemon, g, ['sa', 'sb', 'sc']);
    try {
      assert.equal(await a.unicast(g, pg('sb'), 'just b', { type: 4, service: 'fifo' }), 6);
      assert.equal(await a.subgroupcast(g, [pg('sb'), pg('sc')], 'b and c', { type: 5 }), 7);
      assert.equal(await c.unicast(g, pg('sa'), ['scat', 'tered'], { service: Service.Reliable }), 9);
      let m = await data(b);
      assert.deepEqual([m.sender, m.groups, m.data.toString(), m.type], [pg('sa'), [pg('sb'), g], 'just b', 4]);
      m = await data(b);
      assert.deepEqual([m.groups, m.data.toString(), m.type], [[pg('sb'), pg('sc'), g], 'b and c', 5]);
      // c's first message is the subgroupcast: the unicast to b never came.
      m = await data(c);
      assert.deepEqual([m.groups, m.data.toString()], [[pg('sb'), pg('sc'), g], 'b and c']);
      m = await data(a);
      assert.deepEqual([m.sender, m.groups, m.data.toString(), m.service], [pg('sc'), [pg('sa'), g], 'scattered',
        'reliable']);
      for (const fl of [a, b, c]) assert.equal(await fl.receive({ timeoutMs: 200 }), null);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('a leave: the others get a flush request, then a view without the leaver; it gets a self-leave', async () => {
    const g = group();
    const [a, b, c] = await members(daemon, g, ['la', 'lb', 'lc']);
    try {
      await c.leave(g);
      await rejectsWith(c.leave(g), 'ILLEGAL_GROUP', -14);
      assert.deepEqual(await c.receive({ timeoutMs: 5000 }), { kind: 'selfLeave', group: g, more: 0 });
      const seen = await settle([a, b], g, 2);
      for (const [i, got] of seen.entries()) {
        // The transitional signal comes right behind the request (its `more`).
        assert.deepEqual(got.map((m) => [m.kind, m.more]), [['flushRequest', 1], ['transition', 0], ['view', 0]]);
        const v = got.at(-1);
        assert.deepEqual([v.members, v.myIndex, v.cause, v.vsSet], [[pg('la'), pg('lb')], i, 'leave', [pg('lc')]]);
      }
      await rejectsWith(c.multicast(g, 'gone'), 'ILLEGAL_GROUP', -14);
      await a.multicast(g, 'after');
      assert.equal((await data(b)).data.toString(), 'after');
      assert.equal((await data(a)).data.toString(), 'after');
      assert.equal(await c.receive({ timeoutMs: 200 }), null);
      // b disconnects: a's view of one, caused by the disconnect.
      await b.close();
      const [got] = await settle([a], g, 1);
      const v = got.at(-1);
      assert.deepEqual([v.members, v.cause, v.vsSet], [[pg('la')], 'disconnect', [pg('lb')]]);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('receive times out with null; timeoutMs 0 does not wait; moreMsgs and poll', async () => {
    const g = group();
    const a = await connectFlush({ daemon: daemon.name, name: 'ta' });
    try {
      const t0 = Date.now();
      assert.equal(await a.receive({ timeoutMs: 200 }), null);
      assert.ok(Date.now() - t0 >= 190, `timed out after ${Date.now() - t0} ms`);
      assert.equal(await a.receive({ timeoutMs: 0 }), null);
      assert.equal(a.moreMsgs(), 0);
      assert.equal(a.poll(), 0);
      await a.join(g);
      // Non-blocking receives until the view (the protocol's own messages
      // go back and forth meanwhile, inside those receives).
      const withoutWaiting = async () => {
        const deadline = Date.now() + 5000;
        for (;;) {
          const t = Date.now();
          const m = await a.receive({ timeoutMs: 0 });
          assert.ok(Date.now() - t < 100, 'a receive with timeoutMs 0 waited');
          if (m !== null) return m;
          assert.ok(Date.now() < deadline, 'nothing within 5 s');
          await sleep(5);
        }
      };
      const v = await withoutWaiting();
      assert.equal(v.kind, 'view');
      assert.deepEqual(v.members, [pg('ta')]);
      await a.multicast(g, 'to self');
      const m = await withoutWaiting();
      assert.equal(m.kind, 'data');
      assert.equal(m.data.toString(), 'to self');
      // Concurrent receives are served in the order they were asked for.
      const r1 = a.receive();
      const r2 = a.receive({ timeoutMs: 5000 });
      await a.multicast(g, 'one');
      await a.multicast(g, 'two');
      assert.deepEqual((await Promise.all([r1, r2])).map((x) => x.data.toString()), ['one', 'two']);
    } finally {
      await a.close();
    }
  });

  it("fl.h's error codes, and ILLEGAL_SESSION after close", async () => {
    const g = group();
    const a = await connectFlush({ daemon: daemon.name, name: 'ea' });
    const b = await connectFlush({ daemon: daemon.name, name: 'eb' });
    const c = await connectFlush({ daemon: daemon.name, name: 'ec' });
    try {
      // Not joined: sends, flush and leave are refused with ILLEGAL_GROUP.
      await rejectsWith(a.multicast(g, 'x'), 'ILLEGAL_GROUP', -14);
      await rejectsWith(a.flush(g), 'ILLEGAL_GROUP', -14);
      await rejectsWith(a.leave(g), 'ILLEGAL_GROUP', -14);
      await rejectsWith(a.join('bad name'), 'ILLEGAL_GROUP', -14);
      await a.join(g);
      await settle([a], g, 1);
      await rejectsWith(a.join(g), 'ILLEGAL_GROUP', -14);
      // A flush with no flush request pending.
      await rejectsWith(a.flush(g), 'ILLEGAL_STATE', -27);
      // Receivers outside the view.
      await rejectsWith(a.unicast(g, pg('nobody'), 'x'), 'ILLEGAL_RECEIVERS', -28);
      await rejectsWith(a.subgroupcast(g, [pg('ea'), pg('eb')], 'x'), 'ILLEGAL_RECEIVERS', -28);
      // Message types below FL_MIN_LEGAL_MESS_TYPE are Flush's own.
      assert.equal(FL_MIN_LEGAL_MESS_TYPE, -32765);
      await rejectsWith(a.multicast(g, 'x', { type: FL_MIN_LEGAL_MESS_TYPE - 1 }), 'ILLEGAL_MESSAGE_TYPE', -26);
      assert.equal(await a.multicast(g, 'ok', { type: FL_MIN_LEGAL_MESS_TYPE }), 2);
      assert.equal((await data(a)).type, FL_MIN_LEGAL_MESS_TYPE);
      await assert.rejects(a.multicast(g, 42), TypeError);
      await assert.rejects(a.multicast(7, 'x'), TypeError);
      await assert.rejects(a.subgroupcast(g, pg('ea'), 'x'), TypeError);
      await assert.rejects(a.unicast(g, [pg('ea')], 'x'), TypeError);
      await assert.rejects(a.multicast(g, 'x', { type: 40000 }), TypeError);
      await assert.rejects(a.flush(null), TypeError);
      // Between its flush and the view it agreed to, a member may not send.
      await b.join(g);
      await settle([a, b], g, 2);
      await c.join(g);
      assert.deepEqual(await a.receive({ timeoutMs: 5000 }), { kind: 'flushRequest', group: g, more: 0 });
      await a.flush(g);
      await rejectsWith(a.multicast(g, 'too early'), 'ILLEGAL_STATE', -27);
      await settle([a, b, c], g, 3);
      assert.equal(await a.multicast(g, 'in the view'), 11);
      assert.equal((await data(a)).data.toString(), 'in the view');
      // Closing rejects a pending receive, and everything after.
      const pending = rejectsWith(a.receive(), 'ILLEGAL_SESSION', -11);
      await sleep(50);
      await a.close();
      await pending;
      await a.close(); // closing again is fine
      assert.equal(a.closed, true);
      for (const call of [() => a.join(g), () => a.leave(g), () => a.flush(g), () => a.multicast(g, 'x'),
        () => a.unicast(g, pg('eb'), 'x'), () => a.receive({ timeoutMs: 0 })]) {
        await rejectsWith(call(), 'ILLEGAL_SESSION', -11);
      }
      assert.throws(() => a.moreMsgs(), { name: 'ILLEGAL_SESSION' });
      assert.throws(() => a.poll(), { name: 'ILLEGAL_SESSION' });
      await rejectsWith(connectFlush('1@127.0.0.1'), 'COULD_NOT_CONNECT', -2);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('async iteration ends when the mailbox closes', async () => {
    const g = group();
    const a = await connectFlush({ daemon: daemon.name, name: 'it' });
    await a.join(g);
    const seen = [];
    const loop = (async () => {
      for await (const m of a) seen.push(m);
    })();
    await sleep(300);
    await a.close();
    await loop;
    assert.deepEqual(seen.map((m) => m.kind), ['view']);
  });
});
