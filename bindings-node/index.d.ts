// Types of the idiomatic layer (index.js / index.mjs). The message and
// error shapes come from native.d.ts, which `napi build` generates from the
// Rust definitions (scripts/check-dts.js keeps it in step); this file only
// adds what index.js adds, and `tsc --strict` checks it against
// test/types/example.ts in CI.

/// <reference types="node" />
import { EventEmitter } from 'node:events';
import type { FlushMessage, GroupId, Message } from './native';

export type { FlushMessage, GroupId, Message };
export type DataMessage = Extract<Message, { kind: 'data' }>;
export type MembershipMessage = Extract<Message, { kind: 'membership' }>;
export type TransitionMessage = Extract<Message, { kind: 'transition' }>;
export type SelfLeaveMessage = Extract<Message, { kind: 'selfLeave' }>;
export type RejectMessage = Extract<Message, { kind: 'reject' }>;
/** What the 'membership' event carries. */
export type ViewMessage = MembershipMessage | TransitionMessage | SelfLeaveMessage;

/** Spread's service types (sp.h). */
export declare const Service: Readonly<{
  Unreliable: number;
  Reliable: number;
  Fifo: number;
  Causal: number;
  Agreed: number;
  Safe: number;
}>;
export type ServiceName = 'unreliable' | 'reliable' | 'fifo' | 'causal' | 'agreed' | 'safe';

export declare const Priority: Readonly<{ Low: number; Medium: number; High: number }>;

/** The largest body plus 32 bytes per destination group that is sent. */
export declare const MAX_MESSAGE_LEN: number;
export declare const MAX_GROUPS_PER_MESSAGE: number;

export type SpreadErrorName =
  | 'ILLEGAL_SPREAD' | 'COULD_NOT_CONNECT' | 'REJECT_QUOTA' | 'REJECT_NO_NAME'
  | 'REJECT_ILLEGAL_NAME' | 'REJECT_NOT_UNIQUE' | 'REJECT_VERSION' | 'CONNECTION_CLOSED'
  | 'REJECT_AUTH' | 'ILLEGAL_SESSION' | 'ILLEGAL_SERVICE' | 'ILLEGAL_MESSAGE' | 'ILLEGAL_GROUP'
  | 'BUFFER_TOO_SHORT' | 'GROUPS_TOO_SHORT' | 'MESSAGE_TOO_LONG' | 'NET_ERROR_ON_SESSION'
  | 'SP_BUG' | 'ILLEGAL_TIME'
  // fl.h's (FlushMailbox).
  | 'ILLEGAL_PARAM' | 'WOULD_BLOCK' | 'ILLEGAL_MESSAGE_TYPE' | 'ILLEGAL_STATE' | 'ILLEGAL_RECEIVERS'
  | 'UNKNOWN';

/** A Spread error: `code` is Spread's (negative) number, `name` its name. */
export declare class SpreadError extends Error {
  constructor(code: number, message: string);
  readonly code: number;
  name: SpreadErrorName;
  /** The same as `name`. */
  readonly codeName: SpreadErrorName;
}

/** Spread's text for an error code (SP_strerror). */
export declare function strerror(code: number): string;

export interface ConnectOptions {
  /** Spread's daemon name: "4803", "4803@host" or a Unix socket path (default "4803"). */
  daemon?: string;
  /** Private name, at most 10 characters; absent lets the daemon pick one. */
  name?: string;
  /** Receive membership messages (default true). */
  membership?: boolean;
  priority?: number;
  /** Limit for the connect and handshake. */
  timeoutMs?: number;
  /** Authentication methods, run in order (default NULL). */
  auth?: AuthMethod[];
  /** TLS to the daemon's TlsAddress (a daemon of ours); absent: plain. */
  tls?: TlsOptions;
}

/**
 * TLS to a daemon's TlsAddress ("4813@host"): `caFile` (PEM) holds the
 * CAs trusted to sign the daemon's certificate, which must carry
 * `serverName` (default: the host of the daemon name); `certFile` and
 * `keyFile` (PEM, both or neither) are shown to a daemon that asks for a
 * client certificate.
 */
export interface TlsOptions {
  caFile: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
}

/**
 * An authentication method. PEERCRED and SECRET need a daemon of ours:
 * PEERCRED is checked with the kernel's credentials on the Unix socket;
 * SECRET proves a secret the daemon knows under `identity` without
 * sending it (`secretFile` must be mode 0600).
 */
export type AuthMethod =
  | { method: 'NULL' | 'IP' | 'PEERCRED' }
  | { method: 'SECRET'; identity: string; secret: string | Uint8Array }
  | { method: 'SECRET'; identity: string; secretFile: string };

export type Data = string | Uint8Array | ArrayBufferView | ArrayBuffer;

export interface MulticastOptions {
  /** A value of `Service` or its name (default agreed). */
  service?: number | ServiceName;
  /** The application's message type, -32768..32767 (default 0). */
  type?: number;
  /** Do not deliver the message back to this mailbox. */
  selfDiscard?: boolean;
}

export interface ReceiveOptions {
  /** Resolve with null if no message starts arriving within this time. */
  timeoutMs?: number;
}

export interface MailboxEvents {
  message: [DataMessage];
  membership: [ViewMessage];
  reject: [RejectMessage];
  error: [SpreadError];
  close: [];
}

export declare class Mailbox extends EventEmitter implements AsyncIterable<Message> {
  private constructor();
  /** This session's private group, `#name#daemon`. */
  readonly privateGroup: string;
  /** The socket descriptor (readable when a message is arriving). */
  readonly fd: number;
  readonly closed: boolean;
  join(group: string): Promise<void>;
  leave(group: string): Promise<void>;
  /** Resolves with the number of body bytes sent. */
  multicast(groups: string | readonly string[], data: Data, options?: MulticastOptions): Promise<number>;
  receive(): Promise<Message>;
  receive(options: ReceiveOptions & { timeoutMs: number }): Promise<Message | null>;
  receive(options?: ReceiveOptions): Promise<Message | null>;
  [Symbol.asyncIterator](): AsyncIterator<Message>;
  /** Bytes waiting on the socket (SP_poll). */
  poll(): number;
  close(): Promise<void>;
  kill(): void;
  unref(): this;
  ref(): this;

  on<E extends keyof MailboxEvents>(event: E, listener: (...args: MailboxEvents[E]) => void): this;
  once<E extends keyof MailboxEvents>(event: E, listener: (...args: MailboxEvents[E]) => void): this;
  off<E extends keyof MailboxEvents>(event: E, listener: (...args: MailboxEvents[E]) => void): this;
  addListener<E extends keyof MailboxEvents>(event: E, listener: (...args: MailboxEvents[E]) => void): this;
  removeListener<E extends keyof MailboxEvents>(event: E, listener: (...args: MailboxEvents[E]) => void): this;
  emit<E extends keyof MailboxEvents>(event: E, ...args: MailboxEvents[E]): boolean;
}

/** Connects to a daemon (options or just its name). */
export declare function connect(options?: ConnectOptions | string): Promise<Mailbox>;

// Flush Spread (fl.h): FlushMailbox.

export type FlushDataMessage = Extract<FlushMessage, { kind: 'data' }>;
export type FlushRequestMessage = Extract<FlushMessage, { kind: 'flushRequest' }>;
export type FlushViewMessage = Extract<FlushMessage, { kind: 'view' }>;
export type FlushTransitionMessage = Extract<FlushMessage, { kind: 'transition' }>;
export type FlushSelfLeaveMessage = Extract<FlushMessage, { kind: 'selfLeave' }>;
export type FlushRejectMessage = Extract<FlushMessage, { kind: 'reject' }>;

/** Message types below this are Flush's own (ILLEGAL_MESSAGE_TYPE). */
export declare const FL_MIN_LEGAL_MESS_TYPE: number;

/** connect()'s options but `membership` (a Flush mailbox always has it). */
export type FlushConnectOptions = Omit<ConnectOptions, 'membership'>;

/** Data of a Flush send: one piece, or pieces sent as one message (FL_scat_*). */
export type FlushData = Data | readonly Data[];

export declare class FlushMailbox implements AsyncIterable<FlushMessage> {
  private constructor();
  /** This session's private group, `#name#daemon`. */
  readonly privateGroup: string;
  /** The socket descriptor; check moreMsgs() before waiting on it. */
  readonly fd: number;
  readonly closed: boolean;
  join(group: string): Promise<void>;
  leave(group: string): Promise<void>;
  /** Consents to the next view of `group`, once per flush request. */
  flush(group: string): Promise<void>;
  /** Each resolves with the number of body bytes sent. */
  multicast(group: string, data: FlushData, options?: MulticastOptions): Promise<number>;
  subgroupcast(group: string, receivers: readonly string[], data: FlushData, options?: MulticastOptions): Promise<number>;
  unicast(group: string, receiver: string, data: FlushData, options?: MulticastOptions): Promise<number>;
  receive(): Promise<FlushMessage>;
  receive(options: ReceiveOptions & { timeoutMs: number }): Promise<FlushMessage | null>;
  receive(options?: ReceiveOptions): Promise<FlushMessage | null>;
  [Symbol.asyncIterator](): AsyncIterator<FlushMessage>;
  /** Messages already queued (FL_more_msgs). */
  moreMsgs(): number;
  /** Bytes ready to be received (FL_poll). */
  poll(): number;
  close(): Promise<void>;
}

/** Connects a Flush mailbox (options or just the daemon's name). */
export declare function connectFlush(options?: FlushConnectOptions | string): Promise<FlushMailbox>;
