#!/usr/bin/env node
// `npm test`: node:test over test/*.test.js, one file at a time where this
// Node can be told so (--test-concurrency: Node 20.10 and later), since the
// files start daemons of their own and the ring's fast timeouts want the CPU.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const files = fs.readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join('test', f));
const [major, minor] = process.versions.node.split('.').map(Number);
const args = ['--test'];
if (major > 20 || (major === 20 && minor >= 10)) args.push('--test-concurrency=1');
const r = spawnSync(process.execPath, [...args, ...process.argv.slice(2), ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
