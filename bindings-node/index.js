// spread-toolkit: the idiomatic layer over the native addon (native.d.ts).
//
// Every call returns a promise; every failure is a rejected promise with a
// SpreadError (or a TypeError for arguments of the wrong type). Results come
// from the addon through one callback per mailbox; that callback holds only
// the table of pending promises, never the mailbox, so a mailbox dropped
// without close() can be garbage-collected (and its session then ends).
'use strict';

const { EventEmitter } = require('node:events');
const native = require('./native.js');

const Service = Object.freeze({
  Unreliable: native.UNRELIABLE_MESS,
  Reliable: native.RELIABLE_MESS,
  Fifo: native.FIFO_MESS,
  Causal: native.CAUSAL_MESS,
  Agreed: native.AGREED_MESS,
  Safe: native.SAFE_MESS,
});

const Priority = Object.freeze({
  Low: native.LOW_PRIORITY,
  Medium: native.MEDIUM_PRIORITY,
  High: native.HIGH_PRIORITY,
});

const SERVICE_BY_NAME = {
  unreliable: Service.Unreliable,
  reliable: Service.Reliable,
  fifo: Service.Fifo,
  causal: Service.Causal,
  agreed: Service.Agreed,
  safe: Service.Safe,
};

const { ILLEGAL_SESSION, CONNECTION_CLOSED, NET_ERROR_ON_SESSION } = native;

/** How many messages one read from the addon may bring (async iteration and
 * events only; receive() takes one). Small, so the daemon's per-session
 * limit still throttles a sender when the consumer is slow. */
const BATCH = 64;
// How long the event pump waits in one read before it looks again whether
// anybody still listens.
const PUMP_SLICE_MS = 100;

/** A Spread error: `code` is Spread's number (sp.h), `name` its name. */
class SpreadError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
    this.name = native.errorName(code);
  }

  /** The same as `name`, e.g. 'ILLEGAL_GROUP'. */
  get codeName() {
    return this.name;
  }
}

function spreadError(e) {
  return new SpreadError(e.code, e.message);
}

function closedError() {
  return new SpreadError(ILLEGAL_SESSION, 'the mailbox is closed');
}

function isSessionLost(err) {
  return err instanceof SpreadError &&
    (err.code === CONNECTION_CLOSED || err.code === NET_ERROR_ON_SESSION);
}

function toBytes(data) {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`data must be a string, Buffer, Uint8Array or ArrayBuffer, not ${describe(data)}`);
}

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `a ${v.constructor ? v.constructor.name : 'object'}` : `a ${typeof v}`;
}

function checkGroup(group, what = 'group') {
  if (typeof group !== 'string') throw new TypeError(`${what} must be a string, not ${describe(group)}`);
  return group;
}

function checkGroups(groups) {
  if (typeof groups === 'string') return [groups];
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new TypeError(`groups must be a group name or a non-empty array of them, not ${describe(groups)}`);
  }
  groups.forEach((g, i) => checkGroup(g, `groups[${i}]`));
  return groups;
}

function checkTimeout(timeoutMs) {
  if (timeoutMs === undefined || timeoutMs === null) return undefined;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new TypeError(`timeoutMs must be a finite number >= 0, not ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

function serviceOf(options) {
  let service = options.service === undefined ? Service.Agreed : options.service;
  if (typeof service === 'string') {
    const named = SERVICE_BY_NAME[service.toLowerCase()];
    if (named === undefined) throw new TypeError(`unknown service '${service}'`);
    service = named;
  }
  if (!Number.isInteger(service) || service < 0 || service > 0xffffffff) {
    throw new TypeError(`service must be one of Service's values, not ${String(service)}`);
  }
  if (options.selfDiscard) service |= native.SELF_DISCARD;
  return service >>> 0;
}

function typeOf(options) {
  const type = options.type === undefined ? 0 : options.type;
  if (!Number.isInteger(type) || type < -32768 || type > 32767) {
    throw new TypeError(`type must be an integer in -32768..32767, not ${String(type)}`);
  }
  return type;
}

const SERVICE_NAMES = new Map([
  [Service.Unreliable, 'unreliable'],
  [Service.Reliable, 'reliable'],
  [Service.Fifo, 'fifo'],
  [Service.Causal, 'causal'],
  [Service.Agreed, 'agreed'],
  [Service.Safe, 'safe'],
]);

/**
 * The messages of a native Batch, in order: data messages unpacked from
 * its buffer (layout in src/message.rs, `Batch`), others taken as they
 * are. Small bodies are views of the batch's buffer, as Node's own pooled
 * Buffers share memory.
 */
function unpack(batch) {
  const buf = batch.packed;
  const out = [];
  let next = 0;
  let o = 0;
  while (o < buf.length) {
    if (buf[o] === 1) {
      out.push(batch.others[next++]);
      o += 1;
      continue;
    }
    const serviceType = buf.readUInt32LE(o + 1);
    const type = buf.readInt16LE(o + 5);
    const endianMismatch = buf[o + 7] === 1;
    let n = buf[o + 8];
    o += 9;
    const sender = buf.toString('utf8', o, o + n);
    o += n;
    const count = buf[o++];
    const groups = new Array(count);
    for (let g = 0; g < count; g++) {
      n = buf[o++];
      groups[g] = buf.toString('utf8', o, o + n);
      o += n;
    }
    const len = buf.readUInt32LE(o);
    o += 4;
    const data = buf.subarray(o, o + len);
    o += len;
    out.push({
      kind: 'data',
      sender,
      groups,
      type,
      service: SERVICE_NAMES.get(serviceType & 0x3f) || 'unknown',
      serviceType,
      endianMismatch,
      data,
    });
  }
  return out;
}

/** The pending promises of one mailbox, settled by the addon's callback. */
function newPending() {
  return { nextId: 1, requests: new Map(), receives: new Map() };
}

function settle(pending, ev) {
  if (ev.op === 'done') {
    for (const o of ev.outcomes) {
      const p = pending.requests.get(o.id);
      if (!p) continue;
      pending.requests.delete(o.id);
      if (o.error) p.reject(spreadError(o.error));
      else p.resolve(o.bytes);
    }
    return;
  }
  const p = pending.receives.get(ev.seq);
  if (!p) return;
  pending.receives.delete(ev.seq);
  if (ev.op === 'received') p.resolve(unpack(ev.batch));
  else p.reject(spreadError(ev.error));
}

function nextId(pending) {
  const id = pending.nextId;
  pending.nextId = id >= 0xfffffffe ? 1 : id + 1;
  return id;
}

const EVENT_OF_KIND = {
  data: 'message',
  membership: 'membership',
  transition: 'membership',
  selfLeave: 'membership',
  reject: 'reject',
};
const MESSAGE_EVENTS = new Set(['message', 'membership', 'reject']);

/**
 * A connection to a Spread daemon. Make one with `connect()`.
 *
 * Events: 'message' (data), 'membership' (membership, transition and
 * self-leave messages), 'reject', 'error' (receiving failed; with no
 * 'error' listener the mailbox closes instead), 'close'. Listening to a
 * message event starts reading.
 */
class Mailbox extends EventEmitter {
  #native;
  #pending;
  #closed = false;
  #closing = null;
  /** Messages read from the addon but not yet handed out. */
  #buffered = [];
  /** The read in progress: reads are one at a time, in call order. */
  #readTail = Promise.resolve();
  #pumping = false;
  #flushQueued = false;

  constructor(handle, pending) {
    super();
    if (!(handle instanceof native.NativeMailbox)) {
      throw new TypeError('use connect() to make a Mailbox');
    }
    this.#native = handle;
    this.#pending = pending;
    this.on('newListener', (event) => {
      if (MESSAGE_EVENTS.has(event)) queueMicrotask(() => this.#pump());
    });
  }

  /** This session's private group, `#name#daemon`: the sender of its messages. */
  get privateGroup() {
    return this.#native.privateGroup;
  }

  /** The socket descriptor (readable when a message is arriving). */
  get fd() {
    return this.#native.fd;
  }

  get closed() {
    return this.#closed;
  }

  #request(call) {
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      const id = nextId(this.#pending);
      this.#pending.requests.set(id, { resolve, reject });
      try {
        call(id);
      } catch (e) {
        this.#pending.requests.delete(id);
        reject(e);
      }
    });
  }

  /** Joins `group`; resolves once the request is sent (the membership
   * message that follows says it took effect). */
  join(group) {
    try {
      checkGroup(group);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#request((id) => this.#native.join(id, group)).then(() => undefined);
  }

  leave(group) {
    try {
      checkGroup(group);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#request((id) => this.#native.leave(id, group)).then(() => undefined);
  }

  /**
   * Sends `data` to one group or several (one message, one order).
   * Resolves with the number of body bytes sent.
   */
  multicast(groups, data, options = {}) {
    let service;
    let names;
    let type;
    let bytes;
    try {
      if (options === null || typeof options !== 'object') {
        throw new TypeError(`options must be an object, not ${describe(options)}`);
      }
      service = serviceOf(options);
      names = checkGroups(groups);
      type = typeOf(options);
      bytes = toBytes(data);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#closed) return Promise.reject(closedError());
    const id = nextId(this.#pending);
    let now;
    try {
      now = this.#native.multicast(id, service, names, type, bytes, this.#flushQueued);
    } catch (e) {
      return Promise.reject(e);
    }
    // Written at once (a number or an error), or queued behind other sends.
    if (typeof now === 'number') {
      this.#flushSoon();
      return Promise.resolve(now);
    }
    if (now) return Promise.reject(spreadError(now));
    return new Promise((resolve, reject) => {
      this.#pending.requests.set(id, { resolve, reject });
    });
  }

  /** After the first send of a turn of the event loop, the others of the
   * turn are held back (on TCP) and leave together at its end: one segment
   * and one wake-up of the daemon for a burst instead of one each. */
  #flushSoon() {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(this.#flushNow);
  }

  #flushNow = () => {
    this.#flushQueued = false;
    this.#native.flush();
  };

  #readNative(max, timeoutMs) {
    return new Promise((resolve, reject) => {
      const seq = nextId(this.#pending);
      this.#pending.receives.set(seq, { resolve, reject });
      try {
        this.#native.receive(seq, timeoutMs, max);
      } catch (e) {
        this.#pending.receives.delete(seq);
        reject(this.#closed ? closedError() : e);
      }
    });
  }

  /** Up to `max` messages (from the buffer first); [] on timeout. */
  #read(max, timeoutMs) {
    const run = async () => {
      if (this.#buffered.length > 0) return this.#buffered.splice(0, max);
      if (this.#closed) throw closedError();
      try {
        const ready = this.#native.tryReceive(max);
        if (!ready.packed) throw spreadError(ready);
        if (ready.packed.length > 0) return unpack(ready);
        return await this.#readNative(max, timeoutMs);
      } catch (e) {
        if (isSessionLost(e)) this.#lost();
        throw e;
      }
    };
    const result = this.#readTail.then(run, run);
    this.#readTail = result.then(() => undefined, () => undefined);
    return result;
  }

  #lost() {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.kill();
    this.emit('close');
  }

  /**
   * The next message, waiting for it; with `timeoutMs`, null if none starts
   * arriving in time. Closing the mailbox rejects a pending receive.
   */
  async receive(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object, not ${describe(options)}`);
    }
    const timeoutMs = checkTimeout(options.timeoutMs);
    const got = await this.#read(1, timeoutMs);
    if (got.length === 0) return null;
    if (got.length > 1) this.#buffered.unshift(...got.slice(1));
    return got[0];
  }

  /** Data and membership messages until the mailbox closes. */
  [Symbol.asyncIterator]() {
    const next = async () => {
      if (this.#buffered.length === 0) {
        if (this.#closed) return { done: true, value: undefined };
        try {
          const got = await this.#read(BATCH, undefined);
          this.#buffered.push(...got);
        } catch (e) {
          if (this.#closed && e instanceof SpreadError && e.code === ILLEGAL_SESSION) {
            return { done: true, value: undefined };
          }
          throw e;
        }
      }
      if (this.#buffered.length === 0) return next();
      return { done: false, value: this.#buffered.shift() };
    };
    return {
      next,
      return: async () => ({ done: true, value: undefined }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #listening() {
    for (const e of MESSAGE_EVENTS) if (this.listenerCount(e) > 0) return true;
    return false;
  }

  async #pump() {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#listening()) {
        let got;
        try {
          // In slices, so that a receive() asked for after the listeners
          // are gone is not left queued behind an endless read.
          got = await this.#read(BATCH, PUMP_SLICE_MS);
        } catch (e) {
          if (this.#closed && e.code === ILLEGAL_SESSION) return;
          if (this.listenerCount('error') > 0) {
            this.emit('error', e);
          } else if (!this.#closed) {
            // Nobody to tell, and a session whose reads fail is of no more
            // use: it closes, which its 'close' listeners hear.
            this.#lost();
          }
          if (!this.#closed) await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        for (let i = 0; i < got.length; i++) {
          // A listener removed halfway leaves the rest for the next reader.
          if (!this.#listening()) {
            this.#buffered.unshift(...got.slice(i));
            return;
          }
          this.emit(EVENT_OF_KIND[got[i].kind], got[i]);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Bytes waiting on the socket (SP_poll); 0 when nothing is there. */
  poll() {
    if (this.#closed) throw closedError();
    const r = this.#native.poll();
    if (typeof r === 'number') return r + 0;
    throw spreadError(r);
  }

  /**
   * Says goodbye to the daemon after the sends already made, and closes.
   * A receive still waiting rejects with ILLEGAL_SESSION. Closing again
   * resolves at once.
   */
  close() {
    if (this.#closing) return this.#closing;
    if (this.#closed) return Promise.resolve();
    this.#closing = new Promise((resolve) => {
      const id = nextId(this.#pending);
      this.#pending.requests.set(id, { resolve, reject: resolve });
      this.#closed = true;
      this.#buffered = [];
      this.#native.close(id);
    }).then(() => {
      this.emit('close');
    });
    return this.#closing;
  }

  /** Drops the connection at once, without a goodbye (SP_kill). */
  kill() {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffered = [];
    this.#native.kill();
    this.emit('close');
  }

  /** Lets the process exit while this mailbox is open; returns this. */
  unref() {
    this.#native.unref();
    return this;
  }

  /** Undoes unref(); returns this. */
  ref() {
    this.#native.ref();
    return this;
  }
}

/**
 * The `auth` option: absent (NULL), or an array of methods run in order,
 * each `{ method: 'NULL' | 'IP' | 'PEERCRED' }` or `{ method: 'SECRET',
 * identity, secret }` / `{ method: 'SECRET', identity, secretFile }`. The
 * exchanges are the Rust client's.
 */
function checkAuth(auth) {
  if (auth === undefined) return undefined;
  if (!Array.isArray(auth) || auth.length === 0) {
    throw new TypeError(`auth must be a non-empty array of methods, not ${describe(auth)}`);
  }
  return auth.map((a, i) => {
    if (a === null || typeof a !== 'object' || typeof a.method !== 'string') {
      throw new TypeError(`auth[${i}] must be an object with a method name, not ${describe(a)}`);
    }
    for (const key of ['identity', 'secretFile']) {
      if (a[key] !== undefined && typeof a[key] !== 'string') {
        throw new TypeError(`auth[${i}].${key} must be a string, not ${describe(a[key])}`);
      }
    }
    return {
      method: a.method,
      identity: a.identity,
      secret: a.secret === undefined ? undefined : toBytes(a.secret),
      secretFile: a.secretFile,
    };
  });
}

/**
 * The `tls` option: absent (plain), or `{ caFile, certFile?, keyFile?,
 * serverName? }` for a daemon's TlsAddress. The TLS is the Rust client's.
 */
function checkTls(tls) {
  if (tls === undefined) return undefined;
  if (tls === null || typeof tls !== 'object' || typeof tls.caFile !== 'string') {
    throw new TypeError(`tls must be an object with a caFile, not ${describe(tls)}`);
  }
  for (const key of ['certFile', 'keyFile', 'serverName']) {
    if (tls[key] !== undefined && typeof tls[key] !== 'string') {
      throw new TypeError(`tls.${key} must be a string, not ${describe(tls[key])}`);
    }
  }
  return { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, serverName: tls.serverName };
}

/**
 * Connects to a daemon. `daemon` is Spread's name for it: "4803" (local,
 * port 4803), "4803@host", or a Unix socket path; default "4803".
 */
async function connect(options = {}) {
  if (typeof options === 'string') options = { daemon: options };
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object or a daemon name, not ${describe(options)}`);
  }
  const daemon = options.daemon === undefined ? String(native.DEFAULT_SPREAD_PORT) : options.daemon;
  if (typeof daemon !== 'string') throw new TypeError(`daemon must be a string, not ${describe(daemon)}`);
  for (const [key, type] of [['name', 'string'], ['membership', 'boolean'], ['priority', 'number'],
    ['timeoutMs', 'number']]) {
    if (options[key] !== undefined && typeof options[key] !== type) {
      throw new TypeError(`${key} must be a ${type}, not ${describe(options[key])}`);
    }
  }
  if (options.timeoutMs !== undefined &&
      !(Number.isInteger(options.timeoutMs) && options.timeoutMs >= 0 && options.timeoutMs <= 0xffffffff)) {
    throw new TypeError(`timeoutMs must be a whole number of milliseconds, not ${options.timeoutMs}`);
  }
  const pending = newPending();
  const r = await native.connect(daemon, {
    name: options.name,
    membership: options.membership,
    priority: options.priority,
    timeoutMs: options.timeoutMs,
    auth: checkAuth(options.auth),
    tls: checkTls(options.tls),
  }, (ev) => settle(pending, ev));
  if (!(r instanceof native.NativeMailbox)) throw spreadError(r);
  return new Mailbox(r, pending);
}

function checkReceivers(receivers) {
  if (!Array.isArray(receivers)) {
    throw new TypeError(`receivers must be an array of names, not ${describe(receivers)}`);
  }
  receivers.forEach((r, i) => checkGroup(r, `receivers[${i}]`));
  return receivers;
}

/** Message data as the native send takes it: one piece, or the pieces of
 * an array (sent as one message, as FL_scat_multicast sends its elements). */
function toParts(data) {
  return Array.isArray(data) ? data.map(toBytes) : [toBytes(data)];
}

/**
 * A Flush Spread connection (5.0.1's fl.h): closed groups whose members
 * agree on each view before it is installed. Make one with
 * `connectFlush()`. Every call answers with a promise; requests go out in
 * the order they are made; receives are served in the order they are asked
 * for.
 */
class FlushMailbox {
  #native;
  #closed = false;
  #closing = null;
  /** The receive in progress: one at a time, in call order. */
  #readTail = Promise.resolve();

  constructor(handle) {
    if (!(handle instanceof native.NativeFlushMailbox)) {
      throw new TypeError('use connectFlush() to make a FlushMailbox');
    }
    this.#native = handle;
  }

  /** This session's private group, `#name#daemon`: the sender of its messages. */
  get privateGroup() {
    return this.#native.privateGroup;
  }

  /** The socket descriptor; check moreMsgs() before waiting on it. */
  get fd() {
    return this.#native.fd;
  }

  get closed() {
    return this.#closed;
  }

  async #answer(call) {
    if (this.#closed) throw closedError();
    const r = await call();
    if (typeof r === 'number') return r;
    const e = spreadError(r);
    if (isSessionLost(e)) this.#lost();
    throw e;
  }

  /** Joins `group` (FL_join); the view that includes this mailbox comes
   * once every member has flushed. */
  join(group) {
    try {
      checkGroup(group);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#answer(() => this.#native.join(group)).then(() => undefined);
  }

  /** Leaves `group` (FL_leave); a 'selfLeave' message follows. */
  leave(group) {
    try {
      checkGroup(group);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#answer(() => this.#native.leave(group)).then(() => undefined);
  }

  /** Consents to the next view of `group` (FL_flush), once per flush
   * request; no sends to the group until that view arrives. */
  flush(group) {
    try {
      checkGroup(group);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#answer(() => this.#native.flush(group)).then(() => undefined);
  }

  #send(group, receivers, data, options) {
    let service;
    let type;
    let parts;
    try {
      if (options === null || typeof options !== 'object') {
        throw new TypeError(`options must be an object, not ${describe(options)}`);
      }
      checkGroup(group);
      if (receivers !== null) checkReceivers(receivers);
      service = serviceOf(options);
      type = typeOf(options);
      parts = toParts(data);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#answer(() => this.#native.send(service, group, receivers, type, parts));
  }

  /** Sends `data` to every member of the view of `group`
   * (FL_multicast). Resolves with the bytes sent. */
  multicast(group, data, options = {}) {
    return this.#send(group, null, data, options);
  }

  /** Sends `data` to `receivers`, members of the view of `group`
   * (FL_subgroupcast). */
  subgroupcast(group, receivers, data, options = {}) {
    if (!Array.isArray(receivers)) {
      return Promise.reject(new TypeError(`receivers must be an array of names, not ${describe(receivers)}`));
    }
    return this.#send(group, receivers, data, options);
  }

  /** Sends `data` to one member of the view of `group` (FL_unicast). */
  unicast(group, receiver, data, options = {}) {
    try {
      checkGroup(receiver, 'receiver');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#send(group, [receiver], data, options);
  }

  /**
   * The next message, waiting for it; with `timeoutMs`, null if none comes
   * in time (0: only what is there already). Closing the mailbox rejects a
   * pending receive.
   */
  async receive(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object, not ${describe(options)}`);
    }
    const timeoutMs = checkTimeout(options.timeoutMs);
    const run = async () => {
      if (this.#closed) throw closedError();
      const r = await this.#native.receive(timeoutMs);
      if (r === null || r.kind !== undefined) return r;
      const e = this.#closed ? closedError() : spreadError(r);
      if (isSessionLost(e)) this.#lost();
      throw e;
    };
    const result = this.#readTail.then(run, run);
    this.#readTail = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Every message until the mailbox closes. */
  [Symbol.asyncIterator]() {
    const next = async () => {
      if (this.#closed) return { done: true, value: undefined };
      try {
        return { done: false, value: await this.receive() };
      } catch (e) {
        if (this.#closed && e instanceof SpreadError && e.code === ILLEGAL_SESSION) {
          return { done: true, value: undefined };
        }
        throw e;
      }
    };
    return {
      next,
      return: async () => ({ done: true, value: undefined }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Messages already queued for this mailbox (FL_more_msgs). */
  moreMsgs() {
    if (this.#closed) throw closedError();
    return this.#native.moreMsgs();
  }

  /** Bytes ready to be received (FL_poll); 0 when a receive would wait. */
  poll() {
    if (this.#closed) throw closedError();
    const r = this.#native.poll();
    if (typeof r === 'number') return r;
    throw spreadError(r);
  }

  #lost() {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }

  /**
   * Disconnects (FL_disconnect) after the requests already made. A receive
   * still waiting rejects with ILLEGAL_SESSION. Closing again resolves at
   * once.
   */
  close() {
    if (this.#closing) return this.#closing;
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#closing = this.#native.close().then(() => undefined);
    return this.#closing;
  }
}

/**
 * Connects a Flush mailbox (FL_connect; membership messages are always
 * on). The same options as connect(), but `membership`.
 */
async function connectFlush(options = {}) {
  if (typeof options === 'string') options = { daemon: options };
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object or a daemon name, not ${describe(options)}`);
  }
  const daemon = options.daemon === undefined ? String(native.DEFAULT_SPREAD_PORT) : options.daemon;
  if (typeof daemon !== 'string') throw new TypeError(`daemon must be a string, not ${describe(daemon)}`);
  for (const [key, type] of [['name', 'string'], ['priority', 'number'], ['timeoutMs', 'number']]) {
    if (options[key] !== undefined && typeof options[key] !== type) {
      throw new TypeError(`${key} must be a ${type}, not ${describe(options[key])}`);
    }
  }
  if (options.timeoutMs !== undefined &&
      !(Number.isInteger(options.timeoutMs) && options.timeoutMs >= 0 && options.timeoutMs <= 0xffffffff)) {
    throw new TypeError(`timeoutMs must be a whole number of milliseconds, not ${options.timeoutMs}`);
  }
  const r = await native.connectFlush(daemon, {
    name: options.name,
    priority: options.priority,
    timeoutMs: options.timeoutMs,
    auth: checkAuth(options.auth),
    tls: checkTls(options.tls),
  });
  if (!(r instanceof native.NativeFlushMailbox)) throw spreadError(r);
  return new FlushMailbox(r);
}

module.exports = {
  connect,
  connectFlush,
  Mailbox,
  FlushMailbox,
  Service,
  Priority,
  SpreadError,
  strerror: native.strerror,
  MAX_GROUPS_PER_MESSAGE: native.MAX_GROUPS_PER_MESSAGE,
  MAX_MESSAGE_LEN: native.MAX_MESSAGE_LEN,
  FL_MIN_LEGAL_MESS_TYPE: native.FL_MIN_LEGAL_MESS_TYPE,
};
