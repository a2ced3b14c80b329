// Real spread daemons for the tests and the benchmark, started from the
// built binary (target/debug/spread, or SPREAD_DAEMON_BIN) as
// tests/testkit does for the Rust tests. Every daemon started here is
// killed when the process exits, whatever the outcome.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');

/** The daemon binary, or null when it is not built. */
function daemonBinary() {
  const bin = process.env.SPREAD_DAEMON_BIN || path.join(REPO, 'target', 'debug', 'spread');
  return fs.existsSync(bin) ? bin : null;
}

/** Why the daemon tests cannot run, or null when they can. */
function skipReason() {
  if (daemonBinary()) return null;
  return 'no spread daemon binary: build it with `cargo build -p spread-daemon --bins` or set SPREAD_DAEMON_BIN';
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** A free TCP port whose +1 (the token port) is free as well. */
async function freePort(host = '127.0.0.1') {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.on('error', reject);
      srv.listen(0, host, () => {
        const p = srv.address().port;
        srv.close(() => resolve(p));
      });
    });
    if (port < 60000 && await portFree(port + 1, host)) return port;
  }
}

function portFree(port, host) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.on('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

function canConnect(port, host) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function waitAccepting(port, host, child, log, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`spread daemon exited (${child.exitCode}) before accepting:\n${log()}`);
    }
    if (await canConnect(port, host)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`spread daemon not accepting on ${host}:${port} after ${timeoutMs} ms:\n${log()}`);
}

function startProcess(dir, name, conf) {
  const bin = daemonBinary();
  if (!bin) throw new Error(skipReason());
  // The socket in the daemon's own directory, not /tmp/<port>; like /tmp
  // it is sticky and writable by all, so that a daemon started as root
  // (which then becomes DaemonUser) removes it.
  fs.chmodSync(dir, 0o1777);
  const env = { ...process.env, SPREAD_SOCKET_DIR: dir };
  const child = spawn(bin, ['-n', name, '-c', conf], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return { child, log: () => out };
}

async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** One daemon named `localhost` on 127.0.0.1:port; `extra` is appended
 * to its spread.conf. */
class TestDaemon {
  static async start(extra = '') {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spread-node-'));
    const conf = path.join(dir, 'spread.conf');
    fs.writeFileSync(conf, `Spread_Segment 127.0.0.255:${port} {\n\tlocalhost 127.0.0.1\n}\nRuntimeDir = ${dir}\n${extra}\n`);
    const { child, log } = startProcess(dir, 'localhost', conf);
    try {
      await waitAccepting(port, '127.0.0.1', child, log);
    } catch (e) {
      await stopProcess(child);
      throw e;
    }
    const d = new TestDaemon();
    Object.assign(d, { port, dir, child, log, name: `${port}@127.0.0.1` });
    return d;
  }

  async stop() {
    await stopProcess(this.child);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const FAST_TIMEOUTS = 'TokenTimeout = 200\nHurryTimeout = 80\nAliveTimeout = 40\nJoinTimeout = 40\n' +
  'RepTimeout = 120\nSegTimeout = 80\nGatherTimeout = 150\nFormTimeout = 200\nLookupTimeout = 5000\n';

/** A ring of `n` daemons d1..dn on 127.0.S.1..n, with fast timeouts so a
 * kill -9 is noticed in about half a second. */
class TestRing {
  static async start(n = 3) {
    const s = 10 + Math.floor(Math.random() * 240);
    const hosts = Array.from({ length: n }, (_, i) => `127.0.${s}.${i + 1}`);
    const port = await freePort(hosts[0]);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spread-node-ring-'));
    const daemons = hosts.map((h, i) => ` d${i + 1} ${h} {\n  D ${h}\n  C ${h}\n }\n`).join('');
    const ring = new TestRing();
    ring.root = root;
    ring.port = port;
    ring.hosts = hosts;
    ring.procs = [];
    for (let i = 0; i < n; i++) {
      const dir = path.join(root, `d${i + 1}`);
      fs.mkdirSync(dir);
      const conf = `Spread_Segment 127.0.${s}.255:${port} {\n${daemons}}\nRuntimeDir = ${dir}\n${FAST_TIMEOUTS}`;
      fs.writeFileSync(path.join(dir, 'spread.conf'), conf);
    }
    try {
      for (let i = 0; i < n; i++) {
        const dir = path.join(root, `d${i + 1}`);
        ring.procs.push(startProcess(dir, `d${i + 1}`, path.join(dir, 'spread.conf')));
      }
      for (let i = 0; i < n; i++) {
        await waitAccepting(port, hosts[i], ring.procs[i].child, ring.procs[i].log);
      }
    } catch (e) {
      await ring.stop();
      throw e;
    }
    return ring;
  }

  /** Spread's name of daemon i (0-based). */
  name(i) {
    return `${this.port}@${this.hosts[i]}`;
  }

  async kill(i) {
    await stopProcess(this.procs[i].child);
  }

  async stop() {
    for (const p of this.procs) await stopProcess(p.child);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

module.exports = { TestDaemon, TestRing, daemonBinary, skipReason, REPO };
