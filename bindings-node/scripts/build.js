#!/usr/bin/env node
// Builds the addon from source with cargo and puts it beside index.js as
// spread-toolkit.node. This is all `npm install` runs: no download, no
// prebuilt binary. `--debug` builds without optimisation (faster to build).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const release = !process.argv.includes('--debug');
const args = ['build', '--manifest-path', path.join(root, 'Cargo.toml'), '--lib',
  '--message-format=json-render-diagnostics'];
if (release) args.push('--release');

const cargo = process.env.CARGO || 'cargo';
const run = spawnSync(cargo, args, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 256 * 1024 * 1024,
});
if (run.error) {
  console.error(`spread-toolkit: could not run ${cargo} (${run.error.message}); ` +
    'building from source needs Rust (https://rustup.rs)');
  process.exit(1);
}
if (run.status !== 0) {
  console.error(`spread-toolkit: cargo build failed (exit ${run.status})`);
  process.exit(run.status || 1);
}

// Cargo names the artifact it built; asking it is the only way that also
// works with a shared workspace target directory or CARGO_TARGET_DIR.
let library = null;
for (const line of run.stdout.toString().split('\n')) {
  if (!line.startsWith('{')) continue;
  const msg = JSON.parse(line);
  if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'spread_node' &&
      msg.target.kind.includes('cdylib')) {
    library = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
  }
}
if (!library) {
  console.error('spread-toolkit: cargo built no spread_node library');
  process.exit(1);
}
const dest = path.join(root, 'spread-toolkit.node');
// Copy through a temporary name: a running process may have the old file
// mapped, and overwriting it in place would corrupt that process.
const tmp = `${dest}.${process.pid}.tmp`;
fs.copyFileSync(library, tmp);
fs.renameSync(tmp, dest);
console.log(`spread-toolkit: built ${path.relative(root, dest)} (${release ? 'release' : 'debug'})`);
