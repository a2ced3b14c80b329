// Our daemon's authentication methods from Node (`auth`): PEERCRED on the
// Unix socket, SECRET from bytes and from a file. The exchanges are the
// Rust client's; JavaScript only names the methods.
'use strict';

const test = require('node:test');

const { describe, before, after } = test;
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { connect, connectFlush, SpreadError } = require('..');
const { TestDaemon, skipReason } = require('../testkit/daemons.js');

const skip = skipReason() || false;
const it = (name, fn) => test.it(name, { skip }, fn);
const SECRET = 'the shared secret of the backup service';

describe('auth', { skip }, () => {
  let d;
  let files;
  let unixPath;
  before(async () => {
    files = fs.mkdtempSync(path.join(os.tmpdir(), 'spread-node-auth-'));
    const secrets = path.join(files, 'secrets');
    fs.writeFileSync(secrets, `backup ${SECRET}\n`, { mode: 0o600 });
    d = await TestDaemon.start(
      `AllowedAuthMethods = "NULL PEERCRED SECRET"\nAllowUsers = ${process.getuid()}\nAuthSecretFile = ${secrets}`);
    unixPath = path.join(d.dir, String(d.port));
  });
  after(async () => {
    if (d) await d.stop();
    if (files) fs.rmSync(files, { recursive: true, force: true });
  });

  it('PEERCRED passes on the Unix socket and is refused over TCP', async () => {
    const m = await connect({ daemon: unixPath, name: 'pc', auth: [{ method: 'PEERCRED' }] });
    assert.equal(m.privateGroup, '#pc#localhost');
    await m.close();
    await assert.rejects(connect({ daemon: d.name, name: 'pctcp', auth: [{ method: 'PEERCRED' }] }),
      (e) => e instanceof SpreadError && e.code === -9);
  });

  it('SECRET from a string, a Buffer and a file; a wrong one is refused', async () => {
    for (const secret of [SECRET, Buffer.from(SECRET)]) {
      const m = await connect({ daemon: d.name, name: 'sec', auth: [{ method: 'SECRET', identity: 'backup', secret }] });
      await m.close();
    }
    await assert.rejects(
      connect({ daemon: d.name, name: 'wrong', auth: [{ method: 'SECRET', identity: 'backup', secret: 'not it at all' }] }),
      (e) => e instanceof SpreadError && e.code === -9);
    const key = path.join(files, 'client-secret');
    fs.writeFileSync(key, `${SECRET}\n`, { mode: 0o600 });
    const auth = [{ method: 'NULL' }, { method: 'SECRET', identity: 'backup', secretFile: key }];
    const m = await connect({ daemon: d.name, name: 'file', auth });
    await m.close();
    const fl = await connectFlush({ daemon: d.name, name: 'flush', auth });
    await fl.close();
    await assert.rejects(connect({ daemon: d.name, auth: [{ method: 'SECRET', identity: 'backup' }] }),
      (e) => e instanceof SpreadError && e.code === -9);
    await assert.rejects(connect({ daemon: d.name, auth: 'SECRET' }), TypeError);
  });
});
