// Membership from a ring of three daemons when one is killed with -9.
'use strict';

const test = require('node:test');

const { describe, before, after } = test;
const assert = require('node:assert/strict');
const { connect, Service } = require('..');
const { TestRing, skipReason } = require('../testkit/daemons.js');
const { receiveUntil, viewOf } = require('../testkit/util.js');

const skip = skipReason() || false;
// Skipped test by test (not the whole suite) so node:test counts each one
// as skipped, with the reason.
const it = (name, fn) => test.it(name, { skip }, fn);

describe('three daemons', () => {
  let ring;
  before(async () => {
    if (!skip) ring = await TestRing.start(3);
  });
  after(async () => {
    if (ring) await ring.stop();
  });

  it('a kill -9 gives a transitional signal, then a network view without the dead daemon', async () => {
    const g = 'ringchat';
    const boxes = [];
    for (let i = 0; i < 3; i++) {
      boxes.push(await connect({ daemon: ring.name(i), name: `r${i + 1}` }));
    }
    const [a, b, c] = boxes;
    try {
      for (const m of boxes) await m.join(g);
      const full = await viewOf(a, g, 3, 15000);
      assert.deepEqual([...full.members].sort(), ['#r1#d1', '#r2#d2', '#r3#d3']);
      await viewOf(b, g, 3, 15000);
      // Traffic before the crash arrives in one order at the survivors.
      await a.multicast(g, 'before', { service: Service.Agreed });
      assert.equal((await receiveUntil(b, (m) => m.kind === 'data')).match.data.toString(), 'before');
      assert.equal((await receiveUntil(a, (m) => m.kind === 'data')).match.data.toString(), 'before');

      await ring.kill(2);
      c.kill();
      for (const m of [a, b]) {
        const t = await receiveUntil(m, (x) => x.kind === 'transition', 10000);
        assert.equal(t.match.group, g);
        assert.deepEqual(t.match.groupId, full.groupId, 'the signal names the view that ends');
        const { match: view, before } = await receiveUntil(m, (x) => x.kind === 'membership', 10000);
        assert.ok(before.every((x) => x.kind === 'data'), 'only old-view messages between signal and view');
        assert.equal(view.cause, 'network');
        assert.equal(view.changedMember, undefined);
        assert.deepEqual([...view.members].sort(), ['#r1#d1', '#r2#d2']);
        assert.notDeepEqual(view.groupId, full.groupId);
        assert.ok(view.vsSets.length >= 1);
        assert.ok(view.vsSets[view.localVsSet].includes(m.privateGroup));
      }
      // The survivors still talk.
      await b.multicast(g, 'after', { service: Service.Agreed });
      assert.equal((await receiveUntil(a, (m) => m.kind === 'data')).match.data.toString(), 'after');
    } finally {
      await Promise.all(boxes.map((m) => m.close()));
    }
  });
});
