// The typed layer: tsc --strict over an example that uses every type, and
// an example that must not compile, so the check can fail.
'use strict';

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PKG = path.resolve(__dirname, '..');
const TSC = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc');
const skip = fs.existsSync(TSC) ? false : 'typescript is not installed (npm install installs it)';

function tsc(args) {
  return spawnSync(process.execPath, [TSC, ...args], { cwd: PKG, encoding: 'utf8' });
}

it('tsc --strict --noEmit accepts the TypeScript examples', { skip }, () => {
  const r = tsc(['-p', 'test/types/tsconfig.json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

it('tsc rejects a program that misuses the message union', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spread-tsc-'));
  try {
    const file = path.join(dir, 'bad.ts');
    fs.writeFileSync(file, `
      import { connect } from ${JSON.stringify(PKG)};
      async function f(): Promise<void> {
        const m = await connect();
        const msg = await m.receive();
        if (msg.kind === 'membership') console.log(msg.data);
      }
      void f();
    `);
    const r = tsc(['--strict', '--noEmit', '--types', 'node', '--typeRoots', path.join(PKG, 'node_modules', '@types'), file]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /Property 'data' does not exist/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('tsc rejects a program that misuses the Flush message union', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spread-tsc-'));
  try {
    const file = path.join(dir, 'bad.ts');
    fs.writeFileSync(file, `
      import { connectFlush } from ${JSON.stringify(PKG)};
      async function f(): Promise<void> {
        const fl = await connectFlush();
        const msg = await fl.receive();
        if (msg.kind === 'flushRequest') console.log(msg.members);
      }
      void f();
    `);
    const r = tsc(['--strict', '--noEmit', '--types', 'node', '--typeRoots', path.join(PKG, 'node_modules', '@types'), file]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /Property 'members' does not exist/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
