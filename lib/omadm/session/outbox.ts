/**
 * The outbox: everything one side of a DM session still has to send, and the packer that
 * turns it into messages no larger than the peer's MaxMsgSize. Shared by the server and
 * the client engine.
 *
 * Two queues, in this order of priority:
 *  - replies: Status, Results and protocol Alerts (1222, 1223, 1225). They answer the
 *    peer's previous message, so they always go first (OMA-TS-DM_Protocol §6.1.x: the
 *    Statuses of a message precede new commands in the response).
 *  - queue: new commands (Get, Add, Replace, Delete, Copy, Exec, Alert, Atomic, Sequence).
 *
 * Packing rules:
 *  - CmdIDs are assigned at packing time through the caller's allocCmdId, nested commands
 *    included, so they are unique within the message whatever was queued when.
 *  - A command with several Items that does not fit is split into one command per Item
 *    (same kind, same command Meta): semantically the same outside Atomic/Sequence, and
 *    Results may legitimately come as several Results with the same CmdRef.
 *  - Atomic and Sequence are never split. One that cannot fit even an empty message fails.
 *  - A single Item whose command cannot fit even an empty message goes as a Large Object
 *    (§6.9): the same command repeated with one Item per message, MoreData on all but the
 *    last chunk, Meta Size (total bytes of Data as transmitted) on the first chunk only.
 *    After each non-last chunk the packer stops sending that object until the caller
 *    reports the peer's 213 through noteStatus(). Statuses keep flowing meanwhile; new
 *    commands wait behind the object, so the peer never sees them interleaved with it.
 *  - A Large Object larger than the peer's MaxObjSize is refused before anything is sent.
 *  - `drained` (nothing left, nothing waiting) is what the caller uses for <Final/>.
 *
 * The state is plain JSON (Uint8Array data stored as { $b64 }), so the caller can keep
 * it in the database between messages.
 */
import { encodedCommandSize, encodedEnvelopeSize } from '../codec/index';
import type { Command, CommandKind, Encoding, Item, ItemData, Meta, SyncHdr } from '../message';
import { base64Decode, base64Encode, utf8Decode, utf8Encode, utf8Length } from '../util/bytes';

/** Our message size when the peer announces none (its MaxMsgSize is optional). */
export const DEFAULT_MAX_MSG_SIZE = 64 * 1024;

// ---------------------------------------------------------------------------------------
// JSON-safe command storage

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deep copy of `v` with Uint8Array replaced by { $b64 } and undefined fields dropped. */
export function freeze(v: unknown): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return { $b64: base64Encode(v) };
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : freeze(x)));
  if (typeof v === 'object') {
    // Object.keys, not Object.entries: an array per property was most of what freezing allocated.
    const o = v as Record<string, unknown>;
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x === undefined || typeof x === 'function') continue;
      out[k] = freeze(x);
    }
    return out;
  }
  return null;
}

/** Inverse of freeze. Frozen values only ever come from freeze, so the cast is honest. */
export function thaw<T>(j: Json): T {
  return thawAny(j) as T;
}

function thawAny(j: Json): unknown {
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map(thawAny);
  const keys = Object.keys(j);
  if (keys.length === 1 && keys[0] === '$b64' && typeof j.$b64 === 'string') return base64Decode(j.$b64);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = thawAny(j[k]!);
  return out;
}

// ---------------------------------------------------------------------------------------
// Public types

/** A command to send. cmdId is ignored (assigned when packed). */
export interface PendingCommand {
  cmd: Command;
  /** Opaque caller label, returned in SentRecord/OutboxFailure (e.g. a work id). */
  tag?: string;
}

interface QueuedEntry {
  cmd: Json; // frozen Command
  tag?: string;
}

interface OutgoingLargeObject {
  cmd: Json; // frozen command holding exactly one Item, its Data removed
  tag?: string;
  /**
   * The Data as transmitted: text (chr, b64 text, xml text) or raw bytes (kept as base64),
   * whole, with `at` the index in it where the unsent rest begins. The value itself never
   * changes while chunks go, so a caller that stores the state can store it once (the
   * server keeps big values of its session state apart, by hash); each message handles a
   * chunk's worth of data, not the whole object.
   */
  text?: string;
  bytesB64?: string;
  /** Index into `text` / `bytesB64` of the first unsent unit. */
  at?: number;
  /** Total transmitted bytes (UTF-8 bytes of text). Goes in Meta Size of the first chunk. */
  total: number;
  /** Bytes already sent. */
  offset: number;
  /** The chunk whose 213 we wait for before sending the next one. */
  awaiting?: { msgId: number; cmdId: number };
}

export interface OutboxState {
  replies: QueuedEntry[];
  queue: QueuedEntry[];
  lo?: OutgoingLargeObject;
}

/** One command placed in a message (nested Atomic/Sequence children get their own record). */
export interface SentRecord {
  msgId: number;
  cmdId: number;
  kind: CommandKind;
  tag?: string;
  /** Target LocURIs of the Items (Source for Results/Status-less commands without Target). */
  paths: string[];
  /** Alert code, for Alerts. */
  alert?: string;
  /** CmdID of the enclosing Atomic/Sequence. */
  parent?: number;
  /** Large Object chunk: 'more' waits for 213, 'last' carries the object's real status. */
  chunk?: 'more' | 'last';
}

export interface OutboxFailure {
  tag?: string;
  kind: CommandKind;
  paths: string[];
  /** The status the caller should report, as if the peer had answered it. */
  status: number;
  reason: 'too-large-for-message' | 'exceeds-max-obj-size' | 'large-object-refused';
}

export interface Limits {
  /** Peer's MaxMsgSize (or DEFAULT_MAX_MSG_SIZE). */
  maxMsgSize: number;
  /** Peer's MaxObjSize; undefined = no limit announced. */
  maxObjSize?: number;
}

export interface PackedMessage {
  ob: OutboxState;
  /** Commands for the SyncBody, CmdIDs assigned. */
  commands: Command[];
  /** True when nothing is left to send: the message may carry Final. */
  drained: boolean;
  sent: SentRecord[];
  failed: OutboxFailure[];
  /** What this message took from the queue, to put back if the peer refuses it unexecuted. */
  refusable: Refusable;
}

/**
 * The queued commands one message carried. A peer that refuses our credentials executes
 * nothing of that message and answers none of it (DM Protocol §8.3): requeueRefused puts
 * them back in front, a Large Object started in it from its first byte.
 */
export interface Refusable {
  msgId: number;
  entries: QueuedEntry[];
  /** A Large Object was started in this message (its whole entry is in `entries`). */
  lo: boolean;
}

export function requeueRefused(ob: OutboxState, r: Refusable): OutboxState {
  // A Large Object started in the refused message is among the entries, whole.
  const lo = r.lo ? undefined : ob.lo;
  return { replies: ob.replies, queue: [...r.entries, ...ob.queue], ...(lo ? { lo } : {}) };
}

// ---------------------------------------------------------------------------------------
// Queue operations

export function newOutbox(): OutboxState {
  return { replies: [], queue: [] };
}

/** Appends new commands. */
export function enqueue(ob: OutboxState, cmds: PendingCommand[]): OutboxState {
  return { ...ob, queue: [...ob.queue, ...cmds.map(toEntry)] };
}

/** Appends Status/Results/protocol Alerts; they go before any queued command. */
export function enqueueReplies(ob: OutboxState, cmds: Command[]): OutboxState {
  return { ...ob, replies: [...ob.replies, ...cmds.map((cmd) => toEntry({ cmd }))] };
}

function toEntry(p: PendingCommand): QueuedEntry {
  return p.tag === undefined ? { cmd: freeze(p.cmd) } : { cmd: freeze(p.cmd), tag: p.tag };
}

/** True when something is queued or a Large Object is unfinished. */
export function hasPending(ob: OutboxState): boolean {
  return ob.replies.length > 0 || ob.queue.length > 0 || ob.lo !== undefined;
}

/** True when new commands (not replies) are still queued or being sent. */
export function hasPendingCommands(ob: OutboxState): boolean {
  return ob.queue.length > 0 || ob.lo !== undefined;
}

/** The tags of everything not yet fully sent (queued or in an unfinished Large Object). */
export function pendingTags(ob: OutboxState): string[] {
  const tags: string[] = [];
  for (const e of ob.queue) if (e.tag !== undefined) tags.push(e.tag);
  if (ob.lo?.tag !== undefined) tags.push(ob.lo.tag);
  return tags;
}

/** Is the outbox waiting for the peer's 213 for the chunk (msgRef, cmdRef)? */
export function awaitingChunk(ob: OutboxState): { msgId: number; cmdId: number } | undefined {
  return ob.lo?.awaiting;
}

/**
 * Feeds a peer Status to the Large Object sender. Returns `matched` when it referred to
 * the chunk in flight: 213 (or any 2xx, which some peers send instead) lets the next chunk
 * go; anything else abandons the object and reports it as `failed` with that status.
 */
export function noteStatus(
  ob: OutboxState,
  msgRef: number,
  cmdRef: number,
  code: number,
): { ob: OutboxState; matched: boolean; failed?: OutboxFailure } {
  const lo = ob.lo;
  if (!lo?.awaiting || lo.awaiting.msgId !== msgRef || lo.awaiting.cmdId !== cmdRef) return { ob, matched: false };
  if (code >= 200 && code < 300) {
    const { awaiting: _done, ...rest } = lo;
    void _done;
    return { ob: { ...ob, lo: rest }, matched: true };
  }
  return {
    ob: { replies: ob.replies, queue: ob.queue },
    matched: true,
    failed: loFailure(lo, code, 'large-object-refused'),
  };
}

/**
 * Drops the Large Object being sent, e.g. when the peer sends Alert 1225 or aborts.
 * Returns the failure to report for it, if there was one.
 */
export function abandonLargeObject(ob: OutboxState, status: number): { ob: OutboxState; failed?: OutboxFailure } {
  if (!ob.lo) return { ob };
  const failed = loFailure(ob.lo, status, 'large-object-refused');
  return { ob: { replies: ob.replies, queue: ob.queue }, failed };
}

/** Drops every queued command (not replies), e.g. when the session is aborted. */
export function clearCommands(ob: OutboxState): { ob: OutboxState; dropped: string[] } {
  return { ob: { replies: ob.replies, queue: [] }, dropped: pendingTags(ob) };
}

function loFailure(lo: OutgoingLargeObject, status: number, reason: OutboxFailure['reason']): OutboxFailure {
  const cmd = thaw<Command>(lo.cmd);
  return withTag({ kind: cmd.kind, paths: pathsOf(cmd), status, reason }, lo.tag);
}

function withTag<T extends object>(o: T, tag: string | undefined): T & { tag?: string } {
  return tag === undefined ? o : { ...o, tag };
}

// ---------------------------------------------------------------------------------------
// Packing

/** Kinds whose single Item may be sent as a Large Object. */
const LO_KINDS: ReadonlySet<CommandKind> = new Set<CommandKind>(['Add', 'Replace', 'Results', 'Put', 'Exec', 'Copy']);
/** Kinds whose Items may be split into one command each. */
const SPLITTABLE: ReadonlySet<CommandKind> = new Set<CommandKind>([
  'Add',
  'Replace',
  'Delete',
  'Get',
  'Copy',
  'Results',
  'Put',
  'Status',
]);

/**
 * Builds the next message body. `hdr` is the header the caller will send (its size counts);
 * `replies` are added to the reply queue first. Everything that fits goes, in order.
 */
export function nextMessage(
  ob: OutboxState,
  hdr: SyncHdr,
  replies: Command[],
  limits: Limits,
  encoding: Encoding,
  allocCmdId: () => number,
): PackedMessage {
  const max = Math.max(256, Math.floor(limits.maxMsgSize));
  const envelope = encodedEnvelopeSize(hdr, encoding);
  // Statuses and protocol alerts go before Results: a big Results waiting for its turn as a
  // Large Object must not hold back the SyncHdr status behind it.
  const allReplies = [...ob.replies, ...replies.map((cmd) => toEntry({ cmd }))];
  const state: OutboxState = {
    replies: [...allReplies.filter((e) => !isResults(e)), ...allReplies.filter(isResults)],
    queue: [...ob.queue],
    ...(ob.lo ? { lo: { ...ob.lo } } : {}),
  };
  const p: Packer = {
    max,
    used: envelope,
    envelope,
    commands: [],
    sent: [],
    failed: [],
    encoding,
    allocCmdId,
    msgId: hdr.msgId,
    limits,
    taken: [],
    loStarted: false,
  };

  // Statuses and alerts first; then the next chunk of the object in flight, which must
  // continue in every message until it is done; then Results; then new commands.
  const results = state.replies.filter(isResults);
  state.replies = state.replies.filter((e) => !isResults(e));
  let blocked = packQueue(p, state, 'replies');
  const leftover = state.replies;
  if (!blocked && state.lo) blocked = sendChunk(p, state);
  state.replies = results;
  if (!blocked) blocked = packQueue(p, state, 'replies');
  state.replies = [...leftover, ...state.replies];
  if (!blocked && !state.lo) packQueue(p, state, 'queue');

  return {
    ob: state,
    commands: p.commands,
    drained: !hasPending(state),
    sent: p.sent,
    failed: p.failed,
    refusable: { msgId: hdr.msgId, entries: p.taken, lo: p.loStarted },
  };
}

function isResults(e: QueuedEntry): boolean {
  return (e.cmd as { kind?: unknown } | null)?.kind === 'Results';
}

interface Packer {
  max: number;
  used: number;
  envelope: number;
  commands: Command[];
  sent: SentRecord[];
  failed: OutboxFailure[];
  encoding: Encoding;
  allocCmdId: () => number;
  msgId: number;
  limits: Limits;
  taken: QueuedEntry[];
  loStarted: boolean;
}

/** Packs entries from one queue; returns true when packing must stop (message full/blocked). */
function packQueue(p: Packer, state: OutboxState, which: 'replies' | 'queue'): boolean {
  const q = state[which];
  while (q.length > 0) {
    const entry = q[0]!;
    // A single Item far larger than any message goes straight to the Large Object path,
    // without thawing or encoding megabytes just to learn that they do not fit.
    const big = bigSingleItem(entry.cmd, p.max);
    if (big) {
      // One object at a time. Among replies, stop here without blocking, so the object in
      // flight still gets its chunk (else neither could ever move: a deadlock).
      if (state.lo) return which === 'queue';
      q.shift();
      if (p.limits.maxObjSize !== undefined && big.total > p.limits.maxObjSize) {
        const cmd = thaw<Command>(big.shell);
        p.failed.push(
          withTag(
            { kind: cmd.kind, paths: pathsOf(cmd), status: 413, reason: 'exceeds-max-obj-size' as const },
            entry.tag,
          ),
        );
        continue;
      }
      state.lo = {
        cmd: big.shell,
        ...(entry.tag !== undefined ? { tag: entry.tag } : {}),
        ...big.data,
        total: big.total,
        offset: 0,
      };
      if (which === 'queue') {
        p.loStarted = true;
        p.taken.push(entry);
      }
      if (sendChunk(p, state)) return true;
      continue;
    }
    const cmd = thaw<Command>(entry.cmd);
    // Sizes are measured with provisional ids; real ids are allocated only once it fits,
    // so a command that waits for the next message does not burn CmdIDs.
    const size = commandSize(cmd, p.encoding);
    if (p.used + size <= p.max) {
      q.shift();
      place(p, cmd, size, entry.tag);
      if (which === 'queue') p.taken.push(entry);
      continue;
    }
    const items = itemsOf(cmd);
    if (items && items.length > 1 && SPLITTABLE.has(cmd.kind)) {
      q.splice(0, 1, ...items.map((item) => ({ ...entry, cmd: freeze({ ...cmd, items: [item] }) })));
      continue;
    }
    const fitsEmpty = p.envelope + size <= p.max;
    if (fitsEmpty) return true; // next message
    // Cannot fit any message on its own.
    const item = items?.length === 1 ? items[0]! : undefined;
    const data = item?.data;
    if (item && LO_KINDS.has(cmd.kind) && (typeof data === 'string' || data instanceof Uint8Array)) {
      if (state.lo) return which === 'queue'; // one object at a time, as above
      const total = dataBytes(data);
      q.shift();
      if (p.limits.maxObjSize !== undefined && total > p.limits.maxObjSize) {
        p.failed.push(
          withTag(
            { kind: cmd.kind, paths: pathsOf(cmd), status: 413, reason: 'exceeds-max-obj-size' as const },
            entry.tag,
          ),
        );
        continue;
      }
      state.lo = {
        cmd: freeze({ ...cmd, items: [{ ...item, data: undefined }] }),
        ...(entry.tag !== undefined ? { tag: entry.tag } : {}),
        ...(typeof data === 'string' ? { text: data } : { bytesB64: base64Encode(data) }),
        total,
        offset: 0,
      };
      if (which === 'queue') {
        p.loStarted = true;
        p.taken.push(entry);
      }
      if (sendChunk(p, state)) return true;
      continue;
    }
    q.shift();
    p.failed.push(
      withTag(
        { kind: cmd.kind, paths: pathsOf(cmd), status: 413, reason: 'too-large-for-message' as const },
        entry.tag,
      ),
    );
  }
  return false;
}

/**
 * For a frozen LO-capable command with one Item whose Data alone exceeds `max` bytes: the
 * command without its Data, and the Data in Large Object form. Otherwise undefined.
 */
function bigSingleItem(
  frozen: Json,
  max: number,
): { shell: Json; data: { text: string } | { bytesB64: string }; total: number } | undefined {
  if (frozen === null || typeof frozen !== 'object' || Array.isArray(frozen)) return undefined;
  const kind = frozen.kind;
  const items = frozen.items;
  if (typeof kind !== 'string' || !LO_KINDS.has(kind as CommandKind) || !Array.isArray(items) || items.length !== 1)
    return undefined;
  const item = items[0];
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const d = item.data;
  let data: { text: string } | { bytesB64: string };
  let total: number;
  if (typeof d === 'string') {
    // UTF-16 length is a lower bound of the UTF-8 length: cheap test first.
    if (d.length <= max) return undefined;
    data = { text: d };
    total = utf8Length(d);
  } else if (
    d !== null &&
    typeof d === 'object' &&
    !Array.isArray(d) &&
    typeof d.$b64 === 'string' &&
    Object.keys(d).length === 1
  ) {
    total = b64Length(d.$b64);
    if (total <= max) return undefined;
    data = { bytesB64: d.$b64 };
  } else {
    return undefined;
  }
  const { data: _d, ...rest } = item;
  void _d;
  return { shell: { ...frozen, items: [rest] }, data, total };
}

function b64Length(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

/** Sends the next chunk of state.lo if allowed and room remains; true when packing must stop. */
function sendChunk(p: Packer, state: OutboxState): boolean {
  const lo = state.lo!;
  if (lo.awaiting) return true;
  const base = thaw<Command>(lo.cmd);
  const item = itemsOf(base)![0]!;
  const format = item.meta?.format ?? (base as { meta?: Meta }).meta?.format;
  const remaining = lo.total - lo.offset;
  const first = lo.offset === 0;
  const room = p.max - p.used;
  const isText = lo.text !== undefined;
  const at = lo.at ?? 0;
  // Only the head of the rest can go in this message: decode no more than `room` bytes
  // (a UTF-16 unit is at least one UTF-8 byte; 3 bytes of raw data are 4 base64 chars).
  const b64Room = Math.ceil((room + 3) / 3) * 4;
  const head = isText
    ? utf8Encode(lo.text!.slice(at, at + room + 1))
    : base64Decode((lo.bytesB64 ?? '').slice(at, at + b64Room));
  const headIsAll = isText ? lo.text!.length - at <= room + 1 : (lo.bytesB64 ?? '').length - at <= b64Room;

  const build = (n: number): { cmd: Command; last: boolean; n: number } => {
    const end = cutPoint(head, n, isText, format === 'b64', headIsAll);
    const slice = head.subarray(0, end);
    const last = end >= remaining;
    const chunkData: ItemData = isText ? utf8Decode(slice, false) : slice.slice();
    const meta: Meta | undefined = first ? { ...(item.meta ?? {}), size: lo.total } : withoutSize(item.meta);
    const chunkItem: Item = { ...item, data: chunkData };
    if (meta) chunkItem.meta = meta;
    else delete chunkItem.meta;
    if (last) delete chunkItem.moreData;
    else chunkItem.moreData = true;
    return { cmd: { ...base, items: [chunkItem] } as Command, last, n: end };
  };

  const overhead = commandSize(build(0).cmd, p.encoding);
  let n = Math.min(remaining, room - overhead);
  // Do not start a tiny chunk at the end of an otherwise full message: wait for the next.
  const minChunk = Math.min(remaining, Math.max(64, Math.floor((p.max - p.envelope) / 8)));
  let built: ReturnType<typeof build> | undefined;
  let builtSize = 0;
  for (let tries = 0; tries < 12 && n >= 1; tries++) {
    const b = build(n);
    const size = commandSize(b.cmd, p.encoding);
    if (p.used + size <= p.max && b.n > 0) {
      built = b;
      builtSize = size;
      break;
    }
    // Escaping or base64 inflates the data: shrink in proportion to the overshoot.
    const dataSize = Math.max(1, size - overhead);
    const next = Math.floor((n * (room - overhead)) / dataSize) - 8;
    n = Math.min(n - 1, next);
  }
  if (!built && p.commands.length === 0) {
    // Even an empty message cannot carry a byte of it: give up on this object.
    p.failed.push(loFailure(lo, 413, 'too-large-for-message'));
    delete state.lo;
    return false;
  }
  if (!built || (built.n < minChunk && p.commands.length > 0)) return true;
  const placed = place(p, built.cmd, builtSize, lo.tag, built.last ? 'last' : 'more');
  if (built.last) {
    delete state.lo;
    return false;
  }
  const used = isText ? utf8Decode(head.subarray(0, built.n), false).length : (built.n / 3) * 4;
  state.lo = { ...lo, offset: lo.offset + built.n, at: at + used, awaiting: { msgId: p.msgId, cmdId: placed.cmdId } };
  return true;
}

/**
 * Assigns CmdIDs (nested too), appends the command and its SentRecords. `size`: the
 * command's commandSize (measured with provisional ids); the real ids only change the
 * digits of the CmdIDs, so what it uses is that size corrected by their digits, exactly
 * what measuring it again would give.
 */
function place(p: Packer, cmd: Command, size: number, tag: string | undefined, chunk?: 'more' | 'last'): Command {
  const withIds = assignIds(cmd, p.allocCmdId);
  p.commands.push(withIds);
  p.used += size - idDigitsSaved(withIds);
  record(p, withIds, tag, undefined, chunk);
  return withIds;
}

/** Digits the command's CmdIDs (nested too) take fewer than PROVISIONAL_ID's (negative for longer ones). */
function idDigitsSaved(cmd: Command): number {
  let n = PROVISIONAL_DIGITS - String(cmd.cmdId).length;
  if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence' || cmd.kind === 'Sync') {
    for (const c of cmd.commands) n += idDigitsSaved(c);
  }
  return n;
}

function record(
  p: Packer,
  cmd: Command,
  tag: string | undefined,
  parent: number | undefined,
  chunk?: 'more' | 'last',
): void {
  // Replies are answers, not requests: nothing comes back for them, so no record.
  if (cmd.kind === 'Status' || cmd.kind === 'Results') {
    if (chunk === undefined) return;
  }
  const r: SentRecord = { msgId: p.msgId, cmdId: cmd.cmdId, kind: cmd.kind, paths: pathsOf(cmd) };
  if (tag !== undefined) r.tag = tag;
  if (cmd.kind === 'Alert') r.alert = cmd.data;
  if (parent !== undefined) r.parent = parent;
  if (chunk !== undefined) r.chunk = chunk;
  p.sent.push(r);
  if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence') {
    for (const c of cmd.commands) record(p, c, tag, cmd.cmdId);
  }
}

function assignIds(cmd: Command, alloc: () => number): Command {
  const id = alloc();
  if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence' || cmd.kind === 'Sync') {
    return { ...cmd, cmdId: id, commands: cmd.commands.map((c) => assignIds(c, alloc)) };
  }
  return { ...cmd, cmdId: id };
}

/** Size with realistic ids: large CmdIDs take a few more bytes than 0. */
function commandSize(cmd: Command, encoding: Encoding): number {
  return encodedCommandSize(withProvisionalIds(cmd), encoding);
}

/** A CmdID as long as any a session reaches: sizes are measured with it before real ids are given. */
const PROVISIONAL_ID = 999_999;
const PROVISIONAL_DIGITS = String(PROVISIONAL_ID).length;

function withProvisionalIds(cmd: Command): Command {
  const id = PROVISIONAL_ID;
  if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence' || cmd.kind === 'Sync') {
    return { ...cmd, cmdId: id, commands: cmd.commands.map(withProvisionalIds) };
  }
  return { ...cmd, cmdId: id };
}

function itemsOf(cmd: Command): Item[] | undefined {
  switch (cmd.kind) {
    case 'Status':
      return cmd.items;
    case 'Atomic':
    case 'Sequence':
    case 'Sync':
    case 'Map':
      return undefined;
    default:
      return cmd.items;
  }
}

/** Paths an answer will refer to: Target LocURI, or Source for Results. */
export function pathsOf(cmd: Command): string[] {
  const items = itemsOf(cmd) ?? [];
  const out: string[] = [];
  for (const it of items) {
    const uri =
      cmd.kind === 'Results' ? (it.source?.locURI ?? it.target?.locURI) : (it.target?.locURI ?? it.source?.locURI);
    if (uri !== undefined) out.push(uri);
  }
  return out;
}

/** Bytes of Data as transmitted: UTF-8 bytes of text, length of raw bytes. */
export function dataBytes(d: string | Uint8Array): number {
  return typeof d === 'string' ? utf8Encode(d).length : d.length;
}

function withoutSize(meta: Meta | undefined): Meta | undefined {
  if (!meta) return undefined;
  const { size: _size, ...rest } = meta;
  void _size;
  return Object.keys(rest).length ? rest : undefined;
}

/**
 * Length of the next chunk, at most `n` bytes of `head` (the start of the unsent data).
 * Text is never cut inside a UTF-8 sequence; base64 text is cut on 4-character groups so
 * every chunk decodes alone (some receivers decode chunk by chunk); raw bytes are cut on
 * multiples of 3 so the rest stays aligned in its base64 storage.
 */
function cutPoint(head: Uint8Array, n: number, isText: boolean, isB64: boolean, headIsAll: boolean): number {
  let end = Math.min(head.length, Math.max(0, n));
  if (end >= head.length && headIsAll) return head.length;
  if (isText) {
    while (end > 0 && (head[end]! & 0xc0) === 0x80) end--;
    if (isB64) end = Math.floor(end / 4) * 4;
  } else {
    end = Math.floor(end / 3) * 3;
  }
  return end;
}
