/**
 * What the DM endpoint lets in, before a message's session is touched.
 *
 * Overload: when more arrives than the server can work on, a message would wait for a slot
 * (in-flight.ts) until its handset gives up, and the work it started would be lost with it.
 * Instead, a message that opens a session (Package 1) is answered at once when a round trip
 * would take longer than DM_ADMIT_WAIT_MS (`Admission`): HTTP 503 with Retry-After, the
 * SyncHdr's status 503 (Service unavailable) in the handset's own encoding. Nothing of it is kept: its jobs
 * stay queued with their wake pending, so Package #0 is sent again after its backoff
 * (lib/jobs/wakes.ts) if the handset does not come back by itself after Retry-After. A
 * message of a session already running is never refused: what started finishes, and the
 * sessions turned away are what lets the queue drain.
 *
 * Failed authentications: whether the limits refuse a decoded /dm message, and what its
 * failure counts under. The rule (lib/auth/limits.ts): a handset that presents valid
 * credentials is never refused because of what others at its address did. So nothing is
 * refused before the message is read (its credentials are inside it), and a message the
 * counts would refuse from a known DevId has its credentials checked first, against the
 * device's row, without touching anything: no session row, no new nonce.
 */
import type { AppContext } from '../core/context';
import { encodeMessage } from '../omadm/codec/index';
import { AlertCode, StatusCode, type Encoding, type SyncMLMessage } from '../omadm/message';
import type { AuthGate, Refusal } from '../auth/limits';
import { getDeviceByDevId } from '@/db/queries/devices';
import { findActiveSession } from '@/db/queries/sessions';
import { recordDeviceAttempt } from '@/db/queries/device-attempts';
import { headerStatusAnswer, newServerSession, receive } from '../omadm/session/server';
import { deviceAuth, SERVER_MAX_MSG_SIZE, SERVER_MAX_OBJ_SIZE, type DmInput } from './dm-session';
import type { InFlight } from './in-flight';

/**
 * The refusal for this message, or undefined when it may go on. In the common case (no
 * count near its limit) this reads nothing; otherwise it reads the device, and when the
 * device is known, checks its credentials before refusing: valid ones always pass.
 */
export async function dmRefusal(
  ctx: AppContext,
  gate: AuthGate,
  client: string,
  input: DmInput,
): Promise<Refusal | undefined> {
  const devId = input.message.hdr.source.locURI;
  const refusal = gate.refusal(client, devId);
  const unknown = gate.unknownRefusal(client);
  if (!refusal && !unknown) return undefined;
  const device = await getDeviceByDevId(ctx.db, devId);
  // Nobody provisioned this DevId: no credential of it can be valid, and it spends the
  // unknown DevIds' budget, never a provisioned handset's.
  if (!device) return unknown;
  if (!refusal || (await credentialsHold(ctx, device, input))) return undefined;
  // The handset's history says it was refused (one row however many, device-attempts.ts).
  await recordDeviceAttempt(ctx.db, { deviceId: device.id, channel: 'dm', reason: 'rate-limited' });
  return refusal;
}

/** Counts a message whose authentication failed: under its DevId when known, else in the unknown DevIds' budget. */
export async function dmFailed(ctx: AppContext, gate: AuthGate, client: string, devId: string): Promise<void> {
  gate.failed(client, (await getDeviceByDevId(ctx.db, devId)) ? devId : undefined);
}

type Device = NonNullable<Awaited<ReturnType<typeof getDeviceByDevId>>>;

/**
 * Whether the message proves the device: a message of a session that authenticated already
 * (MD5 and basic prove themselves once per session, HMAC every message), or credentials the
 * engine accepts. The engine's own check runs on a throwaway session, so nothing of it is
 * kept and the device's nonce stays as it is.
 */
async function credentialsHold(ctx: AppContext, device: Device, input: DmInput): Promise<boolean> {
  const { hdr } = input.message;
  if (device.clientAuth !== 'hmac') {
    const existing = await findActiveSession(ctx.db, device.id, hdr.sessionId);
    if (existing && (JSON.parse(existing.state) as { authenticated?: unknown }).authenticated === true) return true;
  }
  const probe = newServerSession(
    { serverId: device.serverId, maxMsgSize: SERVER_MAX_MSG_SIZE, maxObjSize: SERVER_MAX_OBJ_SIZE },
    { devId: hdr.source.locURI, sessionId: hdr.sessionId, encoding: input.encoding },
  );
  const r = receive(
    probe,
    { message: input.message, rawBody: input.rawBody, hmacHeader: input.hmacHeader },
    deviceAuth(device),
    Date.now(),
  );
  return r.events.some((e) => e.type === 'authenticated');
}

/**
 * A Package 1: the client's first message of a session, MsgID 1 with the session's Alert
 * (1200 server-initiated, 1201 client-initiated). Any other message belongs to a session
 * that is already running (or to none, and is answered as such by the session).
 */
export function opensSession(message: SyncMLMessage): boolean {
  return (
    message.hdr.msgId === 1 &&
    message.body.commands.some(
      (c) => c.kind === 'Alert' && (c.data === AlertCode.ServerInitiated || c.data === AlertCode.ClientInitiated),
    )
  );
}

/**
 * Seconds a turned-away handset should wait: the expected wait rounded up, spread over twice
 * that, so a crowd turned away together does not come back together.
 */
export function busyRetryAfterSeconds(expectedWaitMs: number, random = Math.random): number {
  const base = Math.max(1, Math.ceil(expectedWaitMs / 1000));
  return base + Math.floor(random() * (base + 1));
}

/** The answer to a Package 1 turned away: the SyncHdr's status 503 and nothing else, final. */
export function busyAnswer(message: SyncMLMessage, encoding: Encoding): Uint8Array {
  return encodeMessage(headerStatusAnswer(message, StatusCode.ServiceUnavailable), encoding);
}

/**
 * Whether a new session may start. The messages waiting for a slot are not enough to go by:
 * a session admitted now sends its next message only after the handset has worked on our
 * answer, so a thousand sessions opened in a few seconds look like a short queue until they
 * all come back. So the sessions this process admitted are counted open, from its first
 * answer until its last or until it has been quiet here for `idleMs` (a handset that
 * vanished, or a session whose later messages, its last among them, went to other processes:
 * the one that admitted a session counts it, not those its messages reach after, so behind a
 * round-robin balancer a session is counted once), and a round trip is taken to cost, at
 * worst, one message of each open session:
 * a new session is turned away when that, or the wait for a slot now, exceeds `patienceMs`.
 * Until a message has been timed, at most as many sessions as there are slots are open.
 */
export class Admission {
  /** Open sessions by DevId and SessionID, the longest quiet first, with when each was last seen. */
  private readonly open = new Map<string, number>();

  constructor(
    private readonly slots: InFlight,
    private readonly patienceMs: number,
    // Far beyond a round trip of an admitted session (about patienceMs), far below the minutes
    // a handset would wait for one: a session quiet this long is not working the server.
    private readonly idleMs = 15_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The expected wait when a new session should be turned away now, ms; undefined to let it in. */
  busy(): number | undefined {
    const perMessage = this.slots.msPerTask;
    const open = this.openSessions();
    const wait = Math.max(this.slots.expectedWaitMs(), open * perMessage);
    if (wait > this.patienceMs) return wait;
    if (perMessage === 0 && open >= this.slots.max) return this.patienceMs;
    return undefined;
  }

  /**
   * A message of the session was answered: it goes on, or it ended or never authenticated.
   * `opening`: the message was the session's first (only then does an unknown session count).
   */
  answered(devId: string, sessionId: string, goesOn: boolean, opening: boolean): void {
    const key = `${devId}\n${sessionId}`;
    const known = this.open.delete(key);
    if (goesOn && (known || opening)) this.open.set(key, this.clock());
  }

  openSessions(): number {
    const quietSince = this.clock() - this.idleMs;
    for (const [key, at] of this.open) {
      if (at >= quietSince) break;
      this.open.delete(key);
    }
    return this.open.size;
  }
}
