#!/usr/bin/env node
// The Node flooder against the Rust spflooder, on the same daemon in the
// same run: each floods a group with 1,000-byte AGREED messages and reads
// its own messages back, keeping at most `window` in flight, as spflooder
// does. Rounds alternate between the two; the table shows each round and
// the medians.
//
//   node bench/flooder.js [-m 100000] [-b 1000] [-w 200] [-r 3] [-s 4803@127.0.0.1]
//
// Without -s it starts its own daemon (target/release/spread if built, else
// SPREAD_DAEMON_BIN or target/debug/spread) and measures both ways in:
// TCP (port@127.0.0.1) and the Unix socket (a path). spflooder is
// target/release/spflooder (cargo build --release -p spread-tools) or
// SPFLOODER_BIN.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { connect, Service } = require('..');
const { TestDaemon, REPO } = require('../testkit/daemons.js');

function parseArgs(argv) {
  const o = { messages: 100000, bytes: 1000, window: 200, rounds: 3, daemon: null };
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log('usage: node bench/flooder.js [-m messages] [-b bytes] [-w window] [-r rounds] [-s daemon]');
    process.exit(0);
  }
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '-m': o.messages = Number(v()); break;
      case '-b': o.bytes = Number(v()); break;
      case '-w': o.window = Number(v()); break;
      case '-r': o.rounds = Number(v()); break;
      case '-s': o.daemon = v(); break;
      default: throw new Error(`unknown flag ${argv[i]}`);
    }
  }
  return o;
}

/** Floods `group`; resolves with the seconds from the first send until
 * the last own message is back. */
async function nodeFlood(daemon, { messages, bytes, window }) {
  const group = `nflood${process.pid}`;
  const mbox = await connect({ daemon, name: 'nflooder' });
  const me = mbox.privateGroup;
  await mbox.join(group);
  // Wait for our own join to take effect, as spflooder does.
  for (;;) {
    const m = await mbox.receive();
    if (m.kind === 'membership' && m.group === group) break;
  }
  const payload = Buffer.alloc(bytes, 0x61);
  const opts = { service: Service.Agreed };
  let failed = null;
  const fail = (e) => { failed = failed || e; };
  const it = mbox[Symbol.asyncIterator]();
  let sent = 0;
  let back = 0;
  const start = process.hrtime.bigint();
  while (back < messages) {
    while (sent < messages && sent - back < window) {
      mbox.multicast(group, payload, opts).catch(fail);
      sent++;
    }
    const { value, done } = await it.next();
    if (done) throw new Error('mailbox closed during the flood');
    if (value.kind === 'data' && value.sender === me) back++;
    else if (value.kind === 'reject') throw new Error('the daemon rejected a message');
    if (failed) throw failed;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await mbox.close();
  return secs;
}

function rustFlood(bin, daemon, { messages, bytes, window }) {
  const r = spawnSync(bin, ['-t', 'agreed', '-m', String(messages), '-b', String(bytes),
    '-w', String(window), '-s', daemon, '-g', `rflood${process.pid}`, '-q'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`spflooder failed (${r.status}): ${r.stderr}`);
  const m = /in ([0-9.]+) s:/.exec(r.stdout);
  if (!m) throw new Error(`no timing in spflooder's output:\n${r.stdout}`);
  return Number(m[1]);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const spflooder = process.env.SPFLOODER_BIN || path.join(REPO, 'target', 'release', 'spflooder');
  if (!fs.existsSync(spflooder)) {
    console.error(`bench: no ${spflooder}; build it with \`cargo build --release -p spread-tools\``);
    process.exit(2);
  }
  let own = null;
  let daemon = o.daemon;
  let daemonBin = 'given with -s';
  if (!daemon) {
    const release = path.join(REPO, 'target', 'release', 'spread');
    if (!process.env.SPREAD_DAEMON_BIN && fs.existsSync(release)) process.env.SPREAD_DAEMON_BIN = release;
    daemonBin = path.relative(REPO, process.env.SPREAD_DAEMON_BIN || path.join(REPO, 'target', 'debug', 'spread'));
    own = await TestDaemon.start();
    daemon = own.name;
  }
  const targets = own ? [['tcp', own.name], ['unix', `${own.dir}/${own.port}`]] : [['given', daemon]];
  try {
    console.log(`flood: ${o.messages} messages of ${o.bytes} bytes, AGREED, window ${o.window}, ` +
      `${o.rounds} rounds, daemon ${daemonBin}\n`);
    const fmt = (x) => x.toFixed(0);
    console.log(`${'via'.padEnd(6)}${'round'.padEnd(8)}${'spflooder msgs/s'.padStart(18)}` +
      `${'node msgs/s'.padStart(14)}${'node/rust'.padStart(11)}`);
    const rate = (s) => o.messages / s;
    const line = (via, r, rust, node) => console.log(`${via.padEnd(6)}${String(r).padEnd(8)}` +
      `${fmt(rust).padStart(18)}${fmt(node).padStart(14)}${(100 * node / rust).toFixed(1).padStart(10)}%`);
    const medians = [];
    for (const [via, name] of targets) {
      const rows = [];
      for (let r = 1; r <= o.rounds; r++) {
        const rust = rate(rustFlood(spflooder, name, o));
        const node = rate(await nodeFlood(name, o));
        rows.push({ rust, node });
        line(via, r, rust, node);
      }
      const mr = median(rows.map((x) => x.rust));
      const mn = median(rows.map((x) => x.node));
      line(via, 'median', mr, mn);
      medians.push([via, mr, mn]);
    }
    console.log('');
    for (const [via, mr, mn] of medians) {
      console.log(`${via}: median spflooder ${fmt(mr)} msgs/s (${(mr * o.bytes / 1e6).toFixed(1)} MB/s), ` +
        `node ${fmt(mn)} msgs/s (${(mn * o.bytes / 1e6).toFixed(1)} MB/s): ${(100 * mn / mr).toFixed(1)}%`);
    }
  } finally {
    if (own) await own.stop();
  }
}

main().catch((e) => {
  console.error(`bench: ${e.stack || e}`);
  process.exit(1);
});
