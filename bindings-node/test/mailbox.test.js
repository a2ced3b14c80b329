// Every method of a mailbox against one real daemon.
'use strict';

const path = require('node:path');
const { spawn } = require('node:child_process');

const test = require('node:test');

const { describe, before, after } = test;
const assert = require('node:assert/strict');
const { connect, Service, SpreadError, strerror, Mailbox, MAX_MESSAGE_LEN } = require('..');
const { TestDaemon, skipReason } = require('../testkit/daemons.js');
const { receiveUntil, viewOf, sleep } = require('../testkit/util.js');

const skip = skipReason() || false;
// Skipped test by test (not the whole suite) so node:test counts each one
// as skipped, with the reason.
const it = (name, fn) => test.it(name, { skip }, fn);

describe('one daemon', () => {
  let daemon;
  let n = 0;
  const group = () => `g${process.pid}x${++n}`;
  before(async () => {
    if (!skip) daemon = await TestDaemon.start();
  });
  after(async () => {
    if (daemon) await daemon.stop();
  });

  it('connects with a name and reports its private group, descriptor and poll', async () => {
    const m = await connect({ daemon: daemon.name, name: 'alice' });
    try {
      assert.equal(m.privateGroup, '#alice#localhost');
      assert.ok(Number.isInteger(m.fd) && m.fd > 2);
      assert.equal(m.poll(), 0);
      assert.equal(m.closed, false);
      assert.ok(m instanceof Mailbox);
    } finally {
      await m.close();
    }
    assert.equal(m.closed, true);
    const anon = await connect(daemon.name);
    assert.match(anon.privateGroup, /^#[^#]+#localhost$/);
    await anon.close();
  });

  it('joins: a membership message with cause, members, vs-set and group id', async () => {
    const g = group();
    const a = await connect({ daemon: daemon.name, name: 'ja' });
    const b = await connect({ daemon: daemon.name, name: 'jb' });
    try {
      await a.join(g);
      const first = await viewOf(a, g, 1);
      assert.equal(first.cause, 'join');
      assert.deepEqual(first.members, ['#ja#localhost']);
      assert.equal(first.changedMember, '#ja#localhost');
      await b.join(g);
      const both = await viewOf(a, g, 2);
      assert.equal(both.kind, 'membership');
      assert.equal(both.cause, 'join');
      assert.equal(both.changedMember, '#jb#localhost');
      assert.deepEqual([...both.members].sort(), ['#ja#localhost', '#jb#localhost']);
      assert.deepEqual(both.vsSets[both.localVsSet], ['#jb#localhost']);
      assert.equal(typeof both.groupId.procId, 'number');
      assert.ok(both.groupId.index > first.groupId.index ||
        both.groupId.time !== first.groupId.time || both.groupId.procId !== first.groupId.procId);
      const bView = await viewOf(b, g, 2);
      assert.deepEqual(bView.groupId, both.groupId);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('leaves: a self-leave for the leaver, a leave view for the others', async () => {
    const g = group();
    const a = await connect({ daemon: daemon.name, name: 'la' });
    const b = await connect({ daemon: daemon.name, name: 'lb' });
    try {
      await a.join(g);
      await b.join(g);
      await viewOf(a, g, 2);
      await viewOf(b, g, 2);
      await b.leave(g);
      const self = await receiveUntil(b, (m) => m.kind === 'selfLeave');
      assert.deepEqual(self.match, { kind: 'selfLeave', group: g });
      const view = await viewOf(a, g, 1);
      assert.equal(view.cause, 'leave');
      assert.equal(view.changedMember, '#lb#localhost');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('sends strings, Buffers, Uint8Arrays and ArrayBuffers, with type and service', async () => {
    const g = group();
    const a = await connect({ daemon: daemon.name, name: 'sa', membership: false });
    try {
      await a.join(g);
      const cases = [
        ['héllo', Buffer.from('héllo'), Service.Agreed, 'agreed', 1],
        [Buffer.from([0, 1, 2, 255]), Buffer.from([0, 1, 2, 255]), Service.Reliable, 'reliable', -2],
        [new Uint8Array([9, 8, 7]), Buffer.from([9, 8, 7]), Service.Fifo, 'fifo', 32767],
        [new Uint8Array([5, 6]).buffer, Buffer.from([5, 6]), Service.Causal, 'causal', -32768],
        ['', Buffer.alloc(0), Service.Safe, 'safe', 0],
        ['u', Buffer.from('u'), 'unreliable', 'unreliable', 3],
      ];
      for (const [data, bytes, service, name, type] of cases) {
        const sent = await a.multicast(g, data, { service, type });
        assert.equal(sent, bytes.length);
        const m = await a.receive({ timeoutMs: 5000 });
        assert.equal(m.kind, 'data');
        assert.deepEqual(m.data, bytes);
        assert.equal(m.service, name);
        assert.equal(m.type, type);
        assert.equal(m.sender, '#sa#localhost');
        assert.deepEqual(m.groups, [g]);
        assert.equal(m.endianMismatch, false);
      }
      // selfDiscard: nothing comes back.
      await a.multicast(g, 'not for me', { selfDiscard: true });
      assert.equal(await a.receive({ timeoutMs: 300 }), null);
    } finally {
      await a.close();
    }
  });

  it('sends one message to several groups', async () => {
    const [g1, g2] = [group(), group()];
    const a = await connect({ daemon: daemon.name, name: 'ma', membership: false });
    const b = await connect({ daemon: daemon.name, name: 'mb', membership: false });
    const c = await connect({ daemon: daemon.name, name: 'mc', membership: false });
    try {
      await a.join(g1);
      await b.join(g2);
      await sleep(100);
      await c.multicast([g1, g2], 'both');
      for (const m of [a, b]) {
        const got = await m.receive({ timeoutMs: 5000 });
        assert.equal(got.kind, 'data');
        assert.deepEqual(got.groups, [g1, g2]);
        assert.equal(got.data.toString(), 'both');
        assert.equal(got.sender, '#mc#localhost');
      }
      assert.equal(await c.receive({ timeoutMs: 200 }), null, 'the sender is in neither group');
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('connects over the Unix socket too (a daemon name that is a path)', async () => {
    const g = group();
    const a = await connect({ daemon: `${daemon.dir}/${daemon.port}`, name: 'unix' });
    const b = await connect({ daemon: daemon.name, name: 'tcp', membership: false });
    try {
      assert.equal(a.privateGroup, '#unix#localhost');
      await a.join(g);
      await viewOf(a, g, 1);
      await b.multicast(g, 'over tcp');
      await a.multicast(g, 'over unix');
      const got = [await a.receive({ timeoutMs: 5000 }), await a.receive({ timeoutMs: 5000 })];
      // Two sessions: the daemon may read either first.
      assert.deepEqual(got.map((m) => m.data.toString()).sort(), ['over tcp', 'over unix']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a burst sent in one turn arrives whole and in order (frames held for the turn leave at its end)', async () => {
    const g = group();
    const tx = await connect({ daemon: daemon.name, name: 'burst', membership: false });
    const rx = await connect({ daemon: daemon.name, name: 'brx', membership: false });
    try {
      await rx.join(g);
      await sleep(100);
      // No await between the sends: all but the first are held back on TCP.
      const sends = [];
      for (let i = 0; i < 50; i++) sends.push(tx.multicast(g, `b${i}`));
      const got = [];
      for (let i = 0; i < 50; i++) got.push((await rx.receive({ timeoutMs: 5000 })).data.toString());
      assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `b${i}`));
      await Promise.all(sends);
      // And a lone send after the burst is not held.
      await tx.multicast(g, 'lone');
      assert.equal((await rx.receive({ timeoutMs: 5000 })).data.toString(), 'lone');
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  it('keeps data and membership messages of one read in their order', async () => {
    const [g1, g2] = [group(), group()];
    const a = await connect({ daemon: daemon.name, name: 'mix' });
    try {
      await a.join(g1);
      await a.multicast(g1, 'x');
      await a.join(g2);
      await a.multicast(g2, 'y', { type: -7 });
      await a.multicast(g2, Buffer.alloc(20000, 1));
      await a.leave(g1);
      await a.multicast(g2, 'z');
      // Let all of it arrive, so one read takes everything together.
      await sleep(300);
      const got = [];
      for await (const m of a) {
        got.push(m.kind === 'data' ? `data:${m.groups[0] === g1 ? 1 : 2}:${m.data.length}:${m.type}` :
          `${m.kind}:${m.group === g1 ? 1 : 2}`);
        if (got.length === 7) break;
      }
      assert.deepEqual(got, ['membership:1', 'data:1:1:0', 'membership:2', 'data:2:1:-7', 'data:2:20000:0',
        'selfLeave:1', 'data:2:1:0']);
    } finally {
      await a.close();
    }
  });

  it('carries a 100 KB message intact and refuses one over the limit', async () => {
    const g = group();
    const a = await connect({ daemon: daemon.name, name: 'big', membership: false });
    try {
      await a.join(g);
      const big = Buffer.alloc(100 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
      assert.equal(await a.multicast(g, big), big.length);
      const m = await a.receive({ timeoutMs: 5000 });
      assert.equal(m.data.length, big.length);
      assert.ok(m.data.equals(big));
      await assert.rejects(a.multicast(g, Buffer.alloc(MAX_MESSAGE_LEN)), (e) => {
        assert.ok(e instanceof SpreadError);
        assert.equal(e.name, 'MESSAGE_TOO_LONG');
        assert.equal(e.code, -17);
        return true;
      });
      // The mailbox still works after a refused send.
      await a.multicast(g, 'after');
      assert.equal((await a.receive({ timeoutMs: 5000 })).data.toString(), 'after');
    } finally {
      await a.close();
    }
  });

  it('delivers 10,000 messages in order through the async iterator', async () => {
    const g = group();
    const tx = await connect({ daemon: daemon.name, name: 'tx', membership: false });
    const rx = await connect({ daemon: daemon.name, name: 'rx', membership: false });
    try {
      await rx.join(g);
      await sleep(100);
      const N = 10000;
      const sends = [];
      for (let i = 0; i < N; i++) {
        const body = Buffer.alloc(16);
        body.writeUInt32BE(i, 0);
        sends.push(tx.multicast(g, body, { service: Service.Agreed, type: i % 1000 }));
      }
      let next = 0;
      for await (const m of rx) {
        assert.equal(m.kind, 'data');
        assert.equal(m.data.readUInt32BE(0), next, `message ${next} out of order`);
        assert.equal(m.type, next % 1000);
        if (++next === N) break;
      }
      const sizes = await Promise.all(sends);
      assert.ok(sizes.every((s) => s === 16));
      assert.equal(await rx.receive({ timeoutMs: 200 }), null, 'no duplicates');
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  it('times out a receive with null, and keeps the order of concurrent receives', async () => {
    const g = group();
    const a = await connect({ daemon: daemon.name, name: 'to', membership: false });
    try {
      await a.join(g);
      const t0 = Date.now();
      assert.equal(await a.receive({ timeoutMs: 250 }), null);
      assert.ok(Date.now() - t0 >= 240, `timed out after ${Date.now() - t0} ms`);
      const r1 = a.receive();
      const r2 = a.receive();
      const r3 = a.receive({ timeoutMs: 5000 });
      await a.multicast(g, 'one');
      await a.multicast(g, 'two');
      await a.multicast(g, 'three');
      assert.deepEqual((await Promise.all([r1, r2, r3])).map((m) => m.data.toString()), ['one', 'two', 'three']);
    } finally {
      await a.close();
    }
  });

  it("emits 'message' and 'membership' events, and stops reading when the listeners go", async () => {
    const g = group();
    const a = await connect({ daemon: daemon.name, name: 'ev' });
    try {
      const views = [];
      const datas = [];
      const gotTwo = new Promise((resolve) => {
        a.on('membership', (m) => views.push(m));
        a.on('message', (m) => {
          datas.push(m.data.toString());
          if (datas.length === 2) resolve();
        });
      });
      await a.join(g);
      await a.multicast(g, 'e1');
      await a.multicast(g, 'e2');
      await gotTwo;
      assert.deepEqual(datas, ['e1', 'e2']);
      assert.equal(views.length, 1);
      assert.equal(views[0].kind, 'membership');
      assert.equal(views[0].group, g);
      a.removeAllListeners('message');
      a.removeAllListeners('membership');
      await sleep(50);
      await a.multicast(g, 'e3');
      const m = await a.receive({ timeoutMs: 5000 });
      assert.equal(m.data.toString(), 'e3', 'with no listener the message waits for receive()');
    } finally {
      await a.close();
    }
  });

  it('reads no faster than the consumer takes: unread messages stay with the daemon', async () => {
    const g = group();
    const tx = await connect({ daemon: daemon.name, name: 'bp', membership: false });
    const rx = await connect({ daemon: daemon.name, name: 'bq', membership: false });
    try {
      await rx.join(g);
      await sleep(100);
      const sends = [];
      for (let i = 0; i < 500; i++) sends.push(tx.multicast(g, Buffer.alloc(100, i & 0xff)));
      await Promise.all(sends);
      await sleep(200);
      const reader = rx[Symbol.asyncIterator]();
      const first = await reader.next();
      assert.equal(first.value.data[0], 0);
      // At most one batch (64) left the socket; the other ~430 messages
      // (over 60 KB) are still there.
      assert.ok(rx.poll() > 400 * 148, `only ${rx.poll()} bytes still waiting`);
      let count = 1;
      while (count < 500) {
        const { value } = await reader.next();
        assert.equal(value.data[0], count & 0xff);
        count++;
      }
      assert.equal(rx.poll(), 0);
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  const stalls = [['tcp', 1000, 20000], ['unix', 1000, 20000], ['unix', 20000, 100]];
  for (const [k, [via, count, size]] of stalls.entries()) {
    it(`sends the daemon cannot take yet wait off the event loop (${via}, ${count} x ${size} B)`, async () => {
      const where = via === 'tcp' ? daemon.name : path.join(daemon.dir, String(daemon.port));
      // A name of its own: the previous case's session may still be ending
      // (its daemon has megabytes to read first), and its name with it.
      const a = await connect({ daemon: where, name: `stall${k}`, membership: false });
      const sends = [];
      let maxGap = 0;
      daemon.child.kill('SIGSTOP');
      // Should a send block this thread, nothing here could resume the
      // daemon: a process of its own does, so the test fails, not hangs.
      const watchdog = spawn('sh', ['-c', `sleep 3; kill -CONT ${daemon.child.pid}`], { stdio: 'ignore' });
      try {
        let last = Date.now();
        const timer = setInterval(() => {
          const now = Date.now();
          maxGap = Math.max(maxGap, now - last);
          last = now;
        }, 5);
        // Far more than the socket buffers hold while the daemon is
        // stopped, so most of it waits for the writer; small messages cost
        // the kernel more per byte (a Unix socket's per-write bookkeeping).
        const body = Buffer.alloc(size, 7);
        let settled = 0;
        for (let i = 0; i < count; i++) sends.push(a.multicast('nobody-here', body).finally(() => { settled++; }));
        await sleep(500);
        clearInterval(timer);
        assert.ok(settled < count, 'the stopped daemon took everything?');
        assert.ok(maxGap < 250, `the event loop stalled for ${maxGap} ms`);
      } finally {
        daemon.child.kill('SIGCONT');
        watchdog.kill();
      }
      const sizes = await Promise.all(sends);
      assert.ok(sizes.every((n) => n === size));
      await a.close();
    });
  }

  it('a timeout too long to wait out means no timeout, not a crash', async () => {
    const a = await connect({ daemon: daemon.name, name: 'longwait', membership: false });
    const first = a.receive({ timeoutMs: 1e23 }).then(() => 'resolved', (e) => e);
    const second = a.receive({ timeoutMs: Number.MAX_VALUE }).then(() => 'resolved', (e) => e);
    await sleep(100);
    await a.close();
    for (const r of [await first, await second]) {
      assert.ok(r instanceof SpreadError, String(r));
      assert.equal(r.name, 'ILLEGAL_SESSION');
    }
  });

  it('a timed receive after the listeners are gone keeps its timeout', async () => {
    const a = await connect({ daemon: daemon.name, name: 'unlisten', membership: false });
    const listener = () => {};
    a.on('message', listener);
    await sleep(50);
    a.off('message', listener);
    const t0 = Date.now();
    assert.equal(await a.receive({ timeoutMs: 200 }), null);
    const took = Date.now() - t0;
    assert.ok(took < 1000, `receive({ timeoutMs: 200 }) took ${took} ms`);
    await a.close();
  });

  it('a daemon that dies: readers hear of it and the mailboxes close', async () => {
    const own = await TestDaemon.start();
    let stopped = false;
    try {
      const heard = await connect({ daemon: own.name, name: 'heard' });
      const quiet = await connect({ daemon: own.name, name: 'quiet' });
      const errors = [];
      heard.on('error', (e) => errors.push(e));
      const closes = [heard, quiet].map((m) => new Promise((resolve) => m.once('close', resolve)));
      heard.on('message', () => {});
      quiet.on('message', () => {});
      const waiting = quiet.receive().then(() => 'resolved', (e) => e);
      await sleep(100);
      await own.stop();
      stopped = true;
      await Promise.all(closes);
      assert.equal(heard.closed, true);
      assert.equal(quiet.closed, true);
      assert.ok(errors.length >= 1 && errors[0] instanceof SpreadError, `errors: ${errors}`);
      assert.ok(['CONNECTION_CLOSED', 'NET_ERROR_ON_SESSION'].includes(errors[0].name), errors[0].name);
      const w = await waiting;
      assert.ok(w instanceof SpreadError, `a pending receive gave ${w}`);
      await assert.rejects(quiet.multicast('g', 'x'), { name: 'ILLEGAL_SESSION' });
      await heard.close();
    } finally {
      if (!stopped) await own.stop();
    }
  });

  it('kill() drops the session; the others see a disconnect', async () => {
    const g = group();
    const a = await connect({ daemon: daemon.name, name: 'ka' });
    const b = await connect({ daemon: daemon.name, name: 'kb' });
    try {
      await a.join(g);
      await b.join(g);
      await viewOf(a, g, 2);
      b.kill();
      assert.equal(b.closed, true);
      const v = await viewOf(a, g, 1);
      assert.equal(v.cause, 'disconnect');
      assert.equal(v.changedMember, '#kb#localhost');
      await assert.rejects(b.join(g), { name: 'ILLEGAL_SESSION' });
    } finally {
      await a.close();
    }
  });

  it('closing while a receive is pending rejects it with a SpreadError', async () => {
    const a = await connect({ daemon: daemon.name, name: 'cw' });
    const pending = assert.rejects(a.receive(), (e) => {
      assert.ok(e instanceof SpreadError);
      assert.equal(e.code, -11);
      assert.equal(e.name, 'ILLEGAL_SESSION');
      return true;
    });
    const iter = a[Symbol.asyncIterator]().next();
    await sleep(50);
    await a.close();
    await pending;
    assert.deepEqual(await iter, { done: true, value: undefined }, 'an iterator ends when its mailbox closes');
    await a.close(); // closing again is fine
    await assert.rejects(a.receive(), { name: 'ILLEGAL_SESSION', code: -11 });
    await assert.rejects(a.multicast('x', 'y'), { name: 'ILLEGAL_SESSION' });
    await assert.rejects(a.join('x'), { name: 'ILLEGAL_SESSION' });
    assert.throws(() => a.poll(), { name: 'ILLEGAL_SESSION' });
  });

  it('rejects bad input with TypeError or a clear SpreadError, and stays usable', async () => {
    const a = await connect({ daemon: daemon.name, name: 'bad' });
    try {
      await assert.rejects(a.join(42), TypeError);
      await assert.rejects(a.leave(null), TypeError);
      await assert.rejects(a.multicast('g', 42), TypeError);
      await assert.rejects(a.multicast(7, 'x'), TypeError);
      await assert.rejects(a.multicast([], 'x'), TypeError);
      await assert.rejects(a.multicast(['ok', 5], 'x'), TypeError);
      await assert.rejects(a.multicast('g', 'x', { type: 40000 }), TypeError);
      await assert.rejects(a.multicast('g', 'x', { service: 'bogus' }), TypeError);
      await assert.rejects(a.multicast('g', 'x', null), TypeError);
      await assert.rejects(a.receive({ timeoutMs: -1 }), TypeError);
      await assert.rejects(a.receive({ timeoutMs: 'soon' }), TypeError);
      await assert.rejects(a.join('#not#legal'), (e) => e instanceof SpreadError && e.name === 'ILLEGAL_GROUP' &&
        e.code === -14 && /illegal group name/.test(e.message));
      await assert.rejects(a.join('x'.repeat(40)), { name: 'ILLEGAL_GROUP' });
      await assert.rejects(a.join(''), { name: 'ILLEGAL_GROUP' });
      await assert.rejects(a.multicast('g', 'x', { service: Service.Agreed | Service.Safe }),
        { name: 'ILLEGAL_SERVICE', code: -12 });
      await assert.rejects(a.multicast(Array.from({ length: 101 }, (_, i) => `g${i}`), 'x'),
        { name: 'ILLEGAL_GROUP' });
      // Still a working session.
      const g = group();
      await a.join(g);
      const v = await viewOf(a, g, 1);
      assert.equal(v.group, g);
    } finally {
      await a.close();
    }
  });

  it('refuses connections it cannot make with a SpreadError', async () => {
    await assert.rejects(connect({ daemon: '1@127.0.0.1' }), (e) => e instanceof SpreadError &&
      e.name === 'COULD_NOT_CONNECT' && e.code === -2);
    await assert.rejects(connect({ daemon: 'not a daemon name@@' }), { name: 'ILLEGAL_SPREAD', code: -1 });
    await assert.rejects(connect({ daemon: daemon.name, name: 'far too long a name' }), SpreadError);
    await assert.rejects(connect({ daemon: 4803 }), TypeError);
    await assert.rejects(connect(null), TypeError);
    await assert.rejects(connect({ daemon: daemon.name, membership: 'yes' }), TypeError);
    const a = await connect({ daemon: daemon.name, name: 'uniq' });
    try {
      await assert.rejects(connect({ daemon: daemon.name, name: 'uniq' }), { name: 'REJECT_NOT_UNIQUE', code: -6 });
    } finally {
      await a.close();
    }
    assert.equal(strerror(-14), 'Illegal group.');
    assert.throws(() => new Mailbox(), TypeError);
  });

  it('holds 200 mailboxes in one process, all delivering', async () => {
    const g = group();
    const N = 200;
    const boxes = await Promise.all(Array.from({ length: N }, (_, i) =>
      connect({ daemon: daemon.name, name: `m${i}`, membership: false })));
    try {
      await Promise.all(boxes.map((b) => b.join(g)));
      await sleep(300);
      await boxes[0].multicast(g, 'to all two hundred');
      const got = await Promise.all(boxes.map((b) => b.receive({ timeoutMs: 10000 })));
      for (const [i, m] of got.entries()) {
        assert.ok(m !== null, `mailbox ${i} got nothing`);
        assert.equal(m.data.toString(), 'to all two hundred');
      }
      // 200 receives pending at once while five of them send: all 200 see
      // the five messages in one and the same (agreed) order.
      const waits = boxes.map((b) => b.receive({ timeoutMs: 10000 }));
      await Promise.all(boxes.slice(0, 5).map((b, i) => b.multicast(g, `from ${i}`)));
      const firsts = await Promise.all(waits);
      const orders = await Promise.all(boxes.map(async (b, i) => {
        const seq = [firsts[i]];
        for (let k = 1; k < 5; k++) seq.push(await b.receive({ timeoutMs: 10000 }));
        return seq.map((m) => (m ? m.data.toString() : 'nothing')).join(',');
      }));
      assert.deepEqual([...orders[0].split(',')].sort(), ['from 0', 'from 1', 'from 2', 'from 3', 'from 4']);
      assert.ok(orders.every((o) => o === orders[0]), `orders differ: ${[...new Set(orders)].join(' | ')}`);
    } finally {
      await Promise.all(boxes.map((b) => b.close()));
    }
  });
});
