/**
 * The DM endpoint's brain: finds the handset's account, loads its session state from the
 * database, runs one step of the engine, hands the events to the domain, and stores the
 * new state before answering. Nothing lives in process memory between messages, so a
 * restart (or another server process) can take the next message.
 */
import type { AppContext } from '../core/context';
import type { Db } from '@/db/client';
import { getDeviceByDevId, updateDevice, updateDeviceAfterMessage, type DeviceRow } from '@/db/queries/devices';
import { recordAuthChange, recordSessionEnd, recordSessionStart } from '@/db/queries/session-history';
import { recordDeviceAttempt } from '@/db/queries/device-attempts';
import { findActiveSession, findSession, insertSession, saveSession } from '@/db/queries/sessions';
import { recordSnapshotAirtime } from '@/db/queries/snapshots';
import { encodeMessage } from '../omadm/codec/index';
import type { Encoding, SyncMLMessage } from '../omadm/message';
import { MIME } from '../omadm/message';
import type { AuthScheme, Secret } from '../omadm/auth';
import { newNonce } from '../omadm/auth';
import {
  abortSession,
  enqueueWork,
  newServerSession,
  receive,
  respond,
  rejectUnknownDevice,
  signResponse,
  type DeviceAuth,
  type ServerSessionState,
  type SessionEvent,
} from '../omadm/session/server';
import { log } from '../core/log';
import { handleSessionEvents, workForNewSession, type SessionOptions } from './dm-work';
import { abandonClosing, atOpen, commitClosing, messageScope } from '../jobs/message-scope';
import { storageFull } from '../jobs/storage';
import { decodeState, encodeState, storeValues } from './session-state';
import { followRequestedScheme, startingServerScheme } from './server-auth';

export interface DmInput {
  message: SyncMLMessage;
  rawBody: Uint8Array;
  encoding: Encoding;
  hmacHeader?: string;
  contentType: string;
  requestUrl: string;
  /** The Host header the handset used (package URLs point back at it without PUBLIC_URL). */
  host?: string;
}

export interface DmAnswer {
  status: number;
  body: Uint8Array | string;
  headers: Record<string, string>;
  /** How the message's authentication went, for the rate limits: failed, or proved just now. */
  auth?: 'failed' | 'ok';
  /** The session goes on after this answer (it is not its last), for the admission of new ones. */
  goesOn?: boolean;
}

/** What we tell clients: stay under this and we never need to refuse a message. */
export const SERVER_MAX_MSG_SIZE = 512 * 1024;
export const SERVER_MAX_OBJ_SIZE = 16 * 1024 * 1024;

/** The account's credentials; with `minServer`, the server's scheme raised to that minimum (DM_MIN_SERVER_AUTH). */
export function deviceAuth(d: DeviceRow, minServer?: AuthScheme): DeviceAuth {
  const client: Secret = {
    user: d.clientUser,
    derived: d.clientDerived,
    ...(d.clientPassword ? { password: d.clientPassword } : {}),
  };
  const server: Secret = {
    user: d.serverId,
    derived: d.serverDerived,
    ...(d.serverPassword ? { password: d.serverPassword } : {}),
  };
  return {
    clientScheme: d.clientAuth,
    client,
    serverScheme: minServer ? startingServerScheme(d.serverAuth, minServer) : d.serverAuth,
    server,
    clientNonce: d.clientNonce,
    serverNonce: d.serverNonce,
  };
}

/** The answer's media type: the request's encoding, in the family (DM or DS types) the client used. */
export function replyType(encoding: Encoding, requestType: string): string {
  const dsFamily = requestType === MIME.dsXml || requestType === MIME.dsWbxml;
  if (encoding === 'wbxml') return dsFamily ? MIME.dsWbxml : MIME.dmWbxml;
  return dsFamily ? MIME.dsXml : MIME.dmXml;
}

export async function processDmMessage(ctx: AppContext, input: DmInput): Promise<DmAnswer> {
  try {
    return await processMessage(ctx, input);
  } catch (err) {
    const full = storageFull(err);
    if (!full) throw err;
    const answer = await storageFullAnswer(ctx, input);
    if (!answer) throw err;
    log.error({ err, devId: input.message.hdr.source.locURI }, `${full}: DM session ended`);
    return answer;
  }
}

/**
 * When the disk under the database or the blob store is full, nothing of this message can
 * be kept, not even the session's state: the handset still gets a proper answer, the
 * statuses for its commands and Alert 1223 ending the session, signed as usual. The jobs
 * it was running stay as they were in the database (a backup's snapshot incomplete, never
 * restorable) and are taken up again by a later session, once there is space.
 */
async function storageFullAnswer(ctx: AppContext, input: DmInput): Promise<DmAnswer | undefined> {
  const contentType = replyType(input.encoding, input.contentType);
  const device = await getDeviceByDevId(ctx.db, input.message.hdr.source.locURI);
  if (!device) return undefined;
  const auth = deviceAuth(device, ctx.env.DM_MIN_SERVER_AUTH);
  const existing = await findActiveSession(ctx.db, device.id, input.message.hdr.sessionId);
  const received = receive(
    await sessionState(ctx, device, input, existing),
    { message: input.message, rawBody: input.rawBody, hmacHeader: input.hmacHeader },
    auth,
    Date.now(),
  );
  if (received.authUpdate?.clientNonce !== undefined) auth.clientNonce = received.authUpdate.clientNonce;
  if (received.authUpdate?.serverNonce !== undefined) auth.serverNonce = received.authUpdate.serverNonce;
  const out = respond(abortSession(received.state), auth);
  const body = out.message ? encodeMessage(out.message, input.encoding) : new Uint8Array(0);
  const headers: Record<string, string> = { 'content-type': contentType };
  if (out.message && auth.serverScheme === 'hmac') headers['x-syncml-hmac'] = signResponse(auth, body);
  return { status: 200, body, headers };
}

/** The session's state as stored, or a new session's. */
async function sessionState(
  ctx: AppContext,
  device: DeviceRow,
  input: DmInput,
  existing: { id: string; state: string } | undefined,
): Promise<ServerSessionState> {
  return existing
    ? await decodeState<ServerSessionState>(ctx.db, existing.id, existing.state)
    : newServerSession(
        {
          serverId: device.serverId,
          maxMsgSize: SERVER_MAX_MSG_SIZE,
          maxObjSize: SERVER_MAX_OBJ_SIZE,
          respURI: respUri(ctx, input),
        },
        { devId: input.message.hdr.source.locURI, sessionId: input.message.hdr.sessionId, encoding: input.encoding },
      );
}

async function processMessage(appCtx: AppContext, input: DmInput): Promise<DmAnswer> {
  // The message's work shares its reads, and leaves writes for its close (message-scope.ts).
  const ctx = messageScope(appCtx);
  try {
    return await runMessage(ctx, input);
  } finally {
    // A message that failed before its close: what waited for it is dropped, as by a crash.
    abandonClosing(ctx);
  }
}

async function runMessage(ctx: AppContext, input: DmInput): Promise<DmAnswer> {
  const { db } = ctx;
  const { message, encoding } = input;
  const contentType = replyType(encoding, input.contentType);
  const devId = message.hdr.source.locURI;
  const device = await getDeviceByDevId(db, devId);
  if (!device) {
    // Same answer as a wrong password, so probing does not reveal which DevIds exist.
    log.info({ devId }, 'DM message from an unknown device');
    const reply = rejectUnknownDevice(message, newNonce());
    return {
      status: 200,
      body: encodeMessage(reply, encoding),
      headers: { 'content-type': contentType },
      auth: 'failed',
    };
  }

  const now = Date.now();
  const auth = deviceAuth(device, ctx.env.DM_MIN_SERVER_AUTH);
  const existing = await findActiveSession(db, device.id, message.hdr.sessionId);
  if (!existing && isLateStatuses(message) && (await findSession(db, device.id, message.hdr.sessionId, 'complete'))) {
    // Statuses for our last message of a session that is already over: nothing to answer.
    return { status: 200, body: new Uint8Array(0), headers: { 'content-type': contentType } };
  }
  let state = await sessionState(ctx, device, input, existing);

  const received = receive(state, { message, rawBody: input.rawBody, hmacHeader: input.hmacHeader }, auth, now);
  state = received.state;
  const nonces = { ...(received.authUpdate ?? {}) };
  if (nonces.clientNonce !== undefined) auth.clientNonce = nonces.clientNonce;
  if (nonces.serverNonce !== undefined) auth.serverNonce = nonces.serverNonce;
  // The handset checks us with another scheme than ours (its Chal said which): follow it,
  // and keep it on the account so the next session starts with it, or end the session.
  const asked = received.authUpdate?.serverScheme;
  const scheme = asked && followRequestedScheme(device, auth.serverScheme, asked, ctx.env.DM_MIN_SERVER_AUTH);
  if (asked && scheme) {
    const fields = { devId, sessionId: message.hdr.sessionId, from: auth.serverScheme, asked };
    if (scheme.follow) {
      log.info(fields, scheme.change);
      auth.serverScheme = asked;
    } else {
      log.warn(fields, scheme.reason);
      state = abortSession(state, 'server-auth-refused');
    }
  }
  const refusal = scheme && !scheme.follow ? scheme.reason : undefined;

  // A new session's row is written with the message's first commit, its close unless the work
  // flushes before (message-scope.ts atOpen): no commit of its own, and nothing that refers to
  // it is ever committed without it.
  const sessionRowId = existing?.id ?? crypto.randomUUID();
  if (!existing) {
    const row = {
      id: sessionRowId,
      deviceId: device.id,
      sessionId: message.hdr.sessionId,
      state: JSON.stringify(state),
      processId: ctx.processId ?? null,
    };
    await atOpen(ctx, async (tx) => void (await insertSession(tx, row)));
  }

  // Work is queued once the handset has proved who it is, never for an unauthenticated peer.
  // ('authenticated' comes once per session, on the message that proved it.)
  if (received.events.some((e: SessionEvent) => e.type === 'authenticated')) {
    state = enqueueWork(state, await workForNewSession(ctx, device, sessionRowId, now));
  }
  const opts: SessionOptions = {
    baseUrl: ctx.env.PUBLIC_URL ?? `http://${input.host ?? `127.0.0.1:${ctx.env.PORT}`}`,
    // The session's row as this message found it (a new session's is not ready).
    ready: !!existing?.readyAt,
  };
  const more = await handleSessionEvents(ctx, device, sessionRowId, received.events, now, opts);
  if (more.length) state = enqueueWork(state, more);

  // Building the answer can finish work (its last command answered, or one that cannot be
  // sent), and the domain may want to follow up in this very message: the answer is then
  // built again from the same state with that work queued. Only when nothing follows is a
  // session end handled, so a job that starts now is not cut off by an end that is not.
  // respond() and enqueueWork() copy the state they are given, so `state` is still the
  // state before the answer: no copy of our own (encoding it twice per message showed).
  let out = respond(state, auth);
  if (out.done && out.state.endReason !== 'complete') {
    // An abort (a refused scheme, too many messages) is an end nothing can follow: its events
    // go to the domain together, so no job starts, to be cut off at once, in a session that
    // is over (one would read the Gets it never got to send as answered by nothing).
    await handleSessionEvents(ctx, device, sessionRowId, out.events, now, opts);
  } else if (out.events.length) {
    const ends = out.events.filter((e) => e.type === 'session-end');
    const first = out.events.filter((e) => e.type !== 'session-end');
    const late = first.length ? await handleSessionEvents(ctx, device, sessionRowId, first, now, opts) : [];
    if (late.length) {
      const seen = new Set(first.map((e) => JSON.stringify(e)));
      out = respond(enqueueWork(state, late), auth);
      const fresh = out.events.filter((e) => !seen.has(JSON.stringify(e)));
      if (fresh.length) {
        const more = await handleSessionEvents(ctx, device, sessionRowId, fresh, now, opts);
        if (more.length) out = { ...out, state: enqueueWork(out.state, more) }; // next message
      }
    } else if (ends.length) {
      await handleSessionEvents(ctx, device, sessionRowId, ends, now, opts);
    }
  }
  state = out.state;
  const body = out.message ? encodeMessage(out.message, encoding) : new Uint8Array(0);
  const headers: Record<string, string> = { 'content-type': contentType };
  if (out.message && auth.serverScheme === 'hmac') headers['x-syncml-hmac'] = signResponse(auth, body);

  const encoded = encodeState(state);
  // One transaction: the state, its large values and the handset's nonces are kept together
  // or not at all, with what the message's work left for it (a job's position, its values' index: message-scope.ts).
  await commitClosing(ctx, async (tx) => {
    // A finished session's values all go, whatever a concurrent message of it may have left;
    // otherwise only what the state before referred to needs looking at (a new session's row
    // was inserted with none).
    if (out.done) await storeValues(tx, sessionRowId, { json: '', values: new Map() });
    else await storeValues(tx, sessionRowId, encoded, existing?.state ?? '');
    await saveSession(tx, sessionRowId, {
      // A finished session's state is never read again, and it holds values read from the
      // handset: only the blob store (encrypted) keeps content at rest.
      state: out.done ? '{}' : encoded.json,
      status: out.done ? (refusal ? 'failed' : 'complete') : 'active',
      bytesIn: input.rawBody.length,
      bytesOut: body.length,
      // This process holds the session now: if it stops, the others' heartbeat check ends it.
      processId: ctx.processId ?? null,
      ...(refusal ? { error: refusal } : {}),
    });
    // The session's final bytes and round trips onto the snapshots it took (its row is pruned in time).
    if (out.done) await recordSnapshotAirtime(tx, sessionRowId);
    await recordHistory(tx, device.id, sessionRowId, received.events, out.done ? state.endReason : undefined, now);
    if (scheme?.follow) {
      await recordAuthChange(tx, sessionRowId, scheme.change);
      await updateDevice(tx, device.id, { serverAuth: auth.serverScheme });
    }
    await updateDeviceAfterMessage(tx, device.id, {
      // Seen: only a handset that has proved who it is in this session.
      ...(state.authenticated ? { lastSeenAt: now, encoding } : {}),
      ...(nonces.clientNonce !== undefined ? { clientNonce: nonces.clientNonce } : {}),
      ...(nonces.serverNonce !== undefined ? { serverNonce: nonces.serverNonce } : {}),
    });
  });
  const failed = received.events.some((e: SessionEvent) => e.type === 'auth-failed');
  return {
    status: 200,
    body,
    headers,
    goesOn: !out.done,
    ...(failed
      ? { auth: 'failed' as const }
      : received.events.some((e: SessionEvent) => e.type === 'authenticated')
        ? { auth: 'ok' as const }
        : {}),
  };
}

/**
 * What the handset's history keeps of this message: what opened the session, how it ended
 * when not plainly, and credentials that failed again after our challenge. A handset whose
 * nonce was stale fails once and then proves itself with the fresh one (no failure of its):
 * the second failure in a row, with a nonce we have just given it, means the credentials are
 * wrong or absent, and is kept once per session (device_attempts bounds a flood of them).
 */
async function recordHistory(
  db: Db,
  deviceId: string,
  sessionRowId: string,
  events: readonly SessionEvent[],
  endReason: string | undefined,
  now: number,
): Promise<void> {
  for (const e of events) {
    if (e.type === 'session-start') await recordSessionStart(db, sessionRowId, e.initiator);
    if (e.type === 'auth-failed' && e.attempts === 2)
      await recordDeviceAttempt(
        db,
        { deviceId, channel: 'dm', reason: e.status === 407 ? 'no-credentials' : 'wrong-credentials' },
        now,
      );
  }
  if (endReason && endReason !== 'complete') await recordSessionEnd(db, sessionRowId, endReason);
}

/** A client's closing message of statuses only, which some clients send after our last message. */
function isLateStatuses(message: SyncMLMessage): boolean {
  return (
    message.body.final && message.body.commands.length > 0 && message.body.commands.every((c) => c.kind === 'Status')
  );
}

function respUri(ctx: AppContext, input: DmInput): string | undefined {
  const base = ctx.env.PUBLIC_URL;
  if (!base) return undefined;
  return new URL('/dm', base).toString() + (input.requestUrl.includes('?') ? '' : '');
}
