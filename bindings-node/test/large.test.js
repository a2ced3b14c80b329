// Messages above 5.0.1's limit, through a daemon whose MaxMessageSize
// allows them (the binding sets no limit of its own).
'use strict';

const test = require('node:test');

const { describe, before, after } = test;
const assert = require('node:assert/strict');
const { connect, SpreadError } = require('..');
const { TestDaemon, skipReason } = require('../testkit/daemons.js');
const { viewOf } = require('../testkit/util.js');

const skip = skipReason() || false;
const it = (name, fn) => test.it(name, { skip }, fn);

describe('a daemon with MaxMessageSize = 2 MiB', () => {
  let daemon;
  before(async () => {
    if (!skip) daemon = await TestDaemon.start('MaxMessageSize = 2097152');
  });
  after(async () => {
    if (daemon) await daemon.stop();
  });

  it('carries a 1 MiB message intact and refuses one above 2 MiB', async () => {
    const a = await connect({ daemon: daemon.name, name: 'la' });
    const b = await connect({ daemon: daemon.name, name: 'lb', membership: false });
    try {
      await a.join('large');
      await viewOf(a, 'large', 1);
      const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
      assert.equal(await b.multicast('large', big), big.length);
      const m = await a.receive({ timeoutMs: 20000 });
      assert.equal(m.sender, '#lb#localhost');
      assert.ok(m.data.equals(big));
      await assert.rejects(b.multicast('large', Buffer.alloc((2 << 20) + 1)), (e) => {
        assert.ok(e instanceof SpreadError);
        assert.equal(e.name, 'MESSAGE_TOO_LONG');
        return true;
      });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
