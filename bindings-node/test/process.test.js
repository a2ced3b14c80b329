// What only a process of its own can show: exit with an unref'd mailbox,
// the session ending when a mailbox is garbage-collected, the ESM entry.
'use strict';

const test = require('node:test');

const { describe, before, after } = test;
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { connect } = require('..');
const { TestDaemon, skipReason } = require('../testkit/daemons.js');
const { viewOf } = require('../testkit/util.js');

const skip = skipReason() || false;
// Skipped test by test (not the whole suite) so node:test counts each one
// as skipped, with the reason.
const it = (name, fn) => test.it(name, { skip }, fn);
const PKG = path.resolve(__dirname, '..');

/** Runs `code` in a new node; resolves with its exit code and output, or
 * 'timeout' if it is still running after `ms` (then it is killed). */
function runNode(code, { args = [], ms = 5000, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...args, '-e', code], {
      cwd: PKG,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'timeout', out });
    }, ms);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve({ code: c, out });
    });
  });
}

describe('process lifetime', () => {
  let daemon;
  before(async () => {
    if (!skip) daemon = await TestDaemon.start();
  });
  after(async () => {
    if (daemon) await daemon.stop();
  });

  const waiting = (unref) => `
    const { connect } = require('.');
    connect(process.env.DAEMON).then(async (m) => {
      await m.join('idle');
      ${unref ? 'm.unref();' : ''}
      m.receive().then(() => console.log('got a message?'), (e) => console.log('rejected', e.name));
      console.log('waiting');
    });`;

  it('an unref()ed mailbox with a receive pending lets the process exit', async () => {
    const r = await runNode(waiting(true), { env: { DAEMON: daemon.name } });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /waiting/);
  });

  it('without unref() the same process keeps running', async () => {
    const r = await runNode(waiting(false), { env: { DAEMON: daemon.name }, ms: 1500 });
    assert.equal(r.code, 'timeout', r.out);
    assert.match(r.out, /waiting/);
  });

  it('a closed mailbox lets the process exit', async () => {
    const r = await runNode(`
      const { connect } = require('.');
      connect(process.env.DAEMON).then(async (m) => { await m.join('c'); await m.close(); console.log('closed'); });`,
    { env: { DAEMON: daemon.name } });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /closed/);
  });

  it('a mailbox garbage-collected without close() ends its session', async () => {
    const watcher = await connect({ daemon: daemon.name, name: 'gcwatch' });
    try {
      await watcher.join('gcgroup');
      await viewOf(watcher, 'gcgroup', 1);
      const r = await runNode(`
        const { connect } = require('.');
        (async () => {
          let m = await connect({ daemon: process.env.DAEMON, name: 'gcd' });
          await m.join('gcgroup');
          m = null;
          await new Promise((r) => setTimeout(r, 300));
          for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
          console.log('collected');
          // Kept alive on purpose: the session must end by collection, not exit.
          setTimeout(() => {}, 3000);
        })();`, { args: ['--expose-gc'], env: { DAEMON: daemon.name }, ms: 8000 });
      assert.match(r.out, /collected/);
      await viewOf(watcher, 'gcgroup', 2);
      const gone = await viewOf(watcher, 'gcgroup', 1, 2500);
      assert.equal(gone.cause, 'disconnect');
      assert.equal(gone.changedMember, '#gcd#localhost');
      // Once collected, nothing holds the loop: the process exits when its
      // own timer ends rather than hanging.
      assert.equal(r.code, 0, r.out);
    } finally {
      await watcher.close();
    }
  });

  it('the ESM entry point gives the same API', async () => {
    const r = await runNode(`
      import('spread-toolkit').then(async (esm) => {
        const cjs = require('spread-toolkit');
        if (esm.connect !== cjs.connect || esm.SpreadError !== cjs.SpreadError ||
            esm.connectFlush !== cjs.connectFlush || esm.FlushMailbox !== cjs.FlushMailbox) {
          throw new Error('different objects');
        }
        const m = await esm.connect(process.env.DAEMON);
        await m.multicast('esm', 'x', { service: esm.Service.Reliable });
        await m.close();
        console.log('esm ok', typeof esm.default.connect);
      });`, { env: { DAEMON: daemon.name, NODE_PATH: path.dirname(PKG) } });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /esm ok function/);
  });
});
