/**
 * POST /ds: the HTTP side of the DS endpoint, as /dm's: content types, size limits and
 * error answers here; what a message means is ds-session.ts's job (over lib/ds/session.ts).
 */
import type http from 'node:http';
import { encodeMessage } from '../omadm/codec/index';
import { MIME } from '../omadm/message';
import { getContext } from '../core/context';
import { log } from '../core/log';
import { DS_MAX_MSG_SIZE } from '../ds/session';
import { dsCredentialsHold, handleDsMessage, recordDsRefusal } from './ds-session';
import { authGate } from '../auth/limits';
import { UNKNOWN_CLIENT } from '../core/client-address';
import { readSyncMl, send, sendTooManyRequests } from './http-body';

/** Largest message we accept: what our MaxMsgSize tells clients, and a little room. */
export const DS_MAX_BODY = DS_MAX_MSG_SIZE + 64 * 1024;
export const DS_DECODE_LIMITS = { maxBytes: DS_MAX_BODY, maxDepth: 32, maxElements: 200_000 };

/**
 * Refused credentials are counted per address and DS client (its Source LocURI) and for the
 * address, as on /dm (lib/auth/limits.ts says why): nothing is refused before the body is
 * read, since the credentials are in it; right after decoding, a message the counts would
 * refuse is answered 429 unless it belongs to a session already signed in or its
 * credentials hold (checked against the account, writing nothing); accepted credentials
 * reset the client's count.
 */
export async function handleDs(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  client = UNKNOWN_CLIENT,
): Promise<void> {
  const gate = authGate('ds');
  const got = await readSyncMl(req, res, {
    name: 'DS',
    types: `${MIME.dsXml} or ${MIME.dsWbxml}`,
    maxBytes: DS_MAX_BODY,
    limits: DS_DECODE_LIMITS,
  });
  if (!got) return;
  const { message, encoding } = got;
  const source = message.hdr.source.locURI;
  const refusal = gate.refusal(client, source);
  if (refusal && !(await dsCredentialsHold(getContext(), message))) {
    gate.refused(refusal, client, source);
    await recordDsRefusal(getContext(), message);
    const what =
      refusal.reason === 'identity'
        ? 'DS authentications for this client from this address'
        : 'DS authentications from this address (this client among them)';
    return sendTooManyRequests(req, res, refusal.retryAfterSeconds, what);
  }
  if (!/^SyncML\/1\.[12]$/.test(message.hdr.verProto)) {
    send(res, 400, `unsupported protocol ${message.hdr.verProto.slice(0, 40)}; this endpoint speaks SyncML/1.2 (DS)`);
    return;
  }
  const answer = await handleDsMessage(getContext(), message, encoding);
  if (answer.auth === 'failed') gate.failed(client, source);
  else if (answer.auth === 'ok') gate.succeeded(client, source);
  if (answer.ended)
    log.info(
      { source: message.hdr.source.locURI, ok: answer.ended.ok, snapshot: answer.ended.snapshotId },
      'DS session ended',
    );
  send(res, 200, encodeMessage(answer.message, encoding), {
    'content-type': encoding === 'wbxml' ? MIME.dsWbxml : MIME.dsXml,
  });
}
