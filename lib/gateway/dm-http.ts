/**
 * POST /dm: the HTTP side of the DM endpoint. Everything here is about bytes on the wire
 * (content types, limits, error answers); what a message means is dm-session.ts's job.
 */
import type http from 'node:http';
import { MIME } from '../omadm/message';
import { getContext, type AppContext } from '../core/context';
import { authGate, type RefusalReason } from '../auth/limits';
import { UNKNOWN_CLIENT } from '../core/client-address';
import { decodeSyncMl, readSyncMlBody, send, sendTooManyRequests, type SyncMlRequest } from './http-body';
import { processDmMessage, replyType } from './dm-session';
import { InFlight } from './in-flight';
import { Admission, busyAnswer, busyRetryAfterSeconds, dmFailed, dmRefusal, opensSession } from './dm-admission';

/** What a 429 says was failing too often, by the count that refused it. */
const REFUSED: Record<RefusalReason, string> = {
  identity: 'DM authentications for this device from this address',
  address: 'DM authentications from this address (this device among them)',
  unknown: 'DM messages from unknown devices at this address',
  slowed: 'DM authentications from this address',
};

/** Largest message we accept; our MaxMsgSize tells clients to stay well below it. */
export const DM_MAX_BODY = 4 * 1024 * 1024;
export const DM_DECODE_LIMITS = { maxBytes: DM_MAX_BODY, maxDepth: 32, maxElements: 100_000 };
/**
 * Under overload, bodies up to this size are decoded before waiting for a slot, to see
 * whether they open a session (a Package 1 is a few KB: an Alert, DevInfo, credentials);
 * a larger one waits its turn like any message, undecoded.
 */
const OPENING_MAX_BYTES = 64 * 1024;

/**
 * Failed authentications (an unknown DevId, wrong credentials, a bad or replayed HMAC) are
 * counted per address and DevId, unknown DevIds in a budget of their own per address, and
 * every failure for the address (lib/auth/limits.ts says why, and why never per DevId
 * alone). Nothing is refused before the body is read: the credentials are in it, and a
 * handset with valid ones passes whatever others at its address did. Right after decoding,
 * a message the counts would refuse is answered 429 with Retry-After unless its DevId is
 * known and its credentials hold (dm-admission.ts), before the session's state is touched.
 * A handset that authenticates resets its own count.
 */
let limiter: { slots: InFlight; admission: Admission; patienceMs: number } | undefined;
/**
 * Messages worked on at once (DM_CONCURRENCY), the rest wait, read and decoded, for a slot;
 * and the admission of new sessions (DM_ADMIT_WAIT_MS), which goes by the same slots.
 */
function working(max: number, patienceMs: number): { slots: InFlight; admission: Admission } {
  if (limiter?.slots.max !== max || limiter.patienceMs !== patienceMs) {
    const slots = new InFlight(max);
    limiter = { slots, admission: new Admission(slots, patienceMs), patienceMs };
  }
  return limiter;
}

export async function handleDm(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  client = UNKNOWN_CLIENT,
): Promise<void> {
  const raw = await readSyncMlBody(req, res, {
    name: 'DM',
    types: `${MIME.dmXml} or ${MIME.dmWbxml}`,
    maxBytes: DM_MAX_BODY,
  });
  if (!raw) return;
  const ctx = getContext();
  const { slots, admission } = working(ctx.env.DM_CONCURRENCY, ctx.env.DM_ADMIT_WAIT_MS);
  const waitMs = admission.busy();
  if (waitMs !== undefined && raw.body.length <= OPENING_MAX_BYTES) {
    // Overloaded: a new session is turned away at once (dm-admission.ts), before it waits.
    const got = decodeSyncMl(res, raw, { name: 'DM', limits: DM_DECODE_LIMITS });
    if (!got) return;
    if (opensSession(got.message)) return sendBusy(res, got, waitMs);
    return slots.run(() => answerDm(ctx, req, res, client, got, admission));
  }
  // Bytes are read outside the slot (a slow upload holds none), decoded and worked on inside
  // it: the decoded message and the session are what take the memory.
  await slots.run(async () => {
    const got = decodeSyncMl(res, raw, { name: 'DM', limits: DM_DECODE_LIMITS });
    if (got) await answerDm(ctx, req, res, client, got, admission);
  });
}

function sendBusy(res: http.ServerResponse, got: SyncMlRequest, waitMs: number): void {
  send(res, 503, busyAnswer(got.message, got.encoding), {
    'content-type': replyType(got.encoding, got.contentType),
    'retry-after': String(busyRetryAfterSeconds(waitMs)),
  });
}

async function answerDm(
  ctx: AppContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  client: string,
  got: SyncMlRequest,
  admission: Admission,
): Promise<void> {
  const gate = authGate('dm');
  const devId = got.message.hdr.source.locURI;
  const hmac = req.headers['x-syncml-hmac'];
  const input = {
    message: got.message,
    rawBody: got.body,
    encoding: got.encoding,
    hmacHeader: Array.isArray(hmac) ? hmac[0] : hmac,
    // Answer in the family the client used: some real DM clients only speak the DS types.
    contentType: got.contentType,
    requestUrl: req.url ?? '/dm',
    ...(typeof req.headers.host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host)
      ? { host: req.headers.host }
      : {}),
  };
  const refusal = await dmRefusal(ctx, gate, client, input);
  if (refusal) {
    gate.refused(refusal, client, devId);
    return sendTooManyRequests(req, res, refusal.retryAfterSeconds, REFUSED[refusal.reason]);
  }
  const answer = await processDmMessage(ctx, input);
  // A session that failed to authenticate is not counted open: bad credentials cannot crowd others out.
  admission.answered(
    devId,
    got.message.hdr.sessionId,
    answer.goesOn === true && answer.auth !== 'failed',
    // Its first message, or the one that proved the handset after a challenge.
    opensSession(got.message) || answer.auth === 'ok',
  );
  if (answer.auth === 'failed') await dmFailed(ctx, gate, client, devId);
  else if (answer.auth === 'ok') gate.succeeded(client, devId);
  send(res, answer.status, answer.body, answer.headers);
}
