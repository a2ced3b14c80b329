// TLS to a daemon's TlsAddress from Node (`tls`), with a client
// certificate the daemon requires; certificates made by
// scripts/test-certs.sh (openssl). The TLS is the Rust client's.
'use strict';

const test = require('node:test');

const { describe, before, after } = test;
const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { connect, connectFlush, SpreadError } = require('..');
const { TestDaemon, skipReason, REPO } = require('../testkit/daemons.js');

const hasOpenssl = childProcess.spawnSync('openssl', ['version']).status === 0;
const skip = skipReason() || (!hasOpenssl && 'no openssl command to make certificates') || false;
const it = (name, fn) => test.it(name, { skip }, fn);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
}

describe('tls', { skip }, () => {
  let d;
  let files;
  let tlsName;
  before(async () => {
    files = fs.mkdtempSync(path.join(os.tmpdir(), 'spread-node-tls-'));
    childProcess.execFileSync(path.join(REPO, 'scripts', 'test-certs.sh'), [files, 'alice']);
    const port = await freePort();
    tlsName = `${port}@127.0.0.1`;
    d = await TestDaemon.start(
      `TlsAddress = 127.0.0.1:${port}\nTlsCertificateFile = ${files}/server.crt\n` +
      `TlsKeyFile = ${files}/server.key\nTlsClientCAFile = ${files}/ca.pem`);
  });
  after(async () => {
    if (d) await d.stop();
    if (files) fs.rmSync(files, { recursive: true, force: true });
  });

  it('a session over TLS shares a group with a plain one', async () => {
    const tls = { caFile: `${files}/ca.pem`, certFile: `${files}/alice.crt`, keyFile: `${files}/alice.key` };
    const a = await connect({ daemon: tlsName, name: 'tlsa', tls });
    const b = await connect({ daemon: d.name, name: 'plainb', membership: false });
    try {
      await a.join('tlsg');
      await b.join('tlsg');
      // Both in the group before the message: it reaches both.
      for (;;) {
        const v = await a.receive({ timeoutMs: 5000 });
        assert.ok(v);
        if (v.kind === 'membership' && v.members.length === 2) break;
      }
      await b.multicast('tlsg', 'hello');
      for (const m of [a, b]) {
        const msg = await m.receive({ timeoutMs: 5000 });
        assert.equal(msg.kind, 'data');
        assert.deepEqual(msg.data, Buffer.from('hello'));
      }
    } finally {
      await a.close();
      await b.close();
    }
    const fl = await connectFlush({ daemon: tlsName, name: 'tlsfl', tls });
    await fl.close();
  });

  it('refuses a client without a certificate and bad options', async () => {
    await assert.rejects(connect({ daemon: tlsName, name: 'anon', tls: { caFile: `${files}/ca.pem` } }),
      (e) => e instanceof SpreadError && e.code === -2 && /CertificateRequired/.test(e.message));
    await assert.rejects(connect({ daemon: tlsName, tls: { caFile: `${files}/missing.pem` } }),
      (e) => e instanceof SpreadError && /missing\.pem/.test(e.message));
    await assert.rejects(connect({ daemon: tlsName, tls: 'yes' }), TypeError);
  });
});
