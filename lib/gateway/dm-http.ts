/**
 * POST /dm: the HTTP side of the DM endpoint. Everything here is about bytes on the wire
 * (content types, limits, error answers); what a message means is dm-session.ts's job.
 */
import type http from 'node:http';
import { decodeMessage } from '../omadm/codec/index';
import { DecodeError } from '../omadm/errors';
import { encodingOf, MIME } from '../omadm/message';
import { getContext } from '../app-context';
import { log } from '../log';
import { BodyError, readBody, send } from './http-body';
import { processDmMessage } from './dm-session';

/** Largest message we accept; our MaxMsgSize tells clients to stay well below it. */
export const DM_MAX_BODY = 4 * 1024 * 1024;
export const DM_DECODE_LIMITS = { maxBytes: DM_MAX_BODY, maxDepth: 32, maxElements: 100_000 };

export async function handleDm(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 405, 'the DM endpoint accepts POST only', { allow: 'POST' });
    return;
  }
  const contentType = req.headers['content-type'];
  const encoding = encodingOf(contentType);
  if (!encoding) {
    req.resume();
    send(res, 415, `unsupported content type; send ${MIME.dmXml} or ${MIME.dmWbxml}`);
    return;
  }
  let body: Uint8Array;
  try {
    body = await readBody(req, DM_MAX_BODY);
  } catch (err) {
    if (err instanceof BodyError) {
      send(res, err.status, err.message, { connection: 'close' });
      return;
    }
    throw err;
  }
  let message;
  try {
    message = decodeMessage(body, encoding, DM_DECODE_LIMITS);
  } catch (err) {
    if (err instanceof DecodeError) {
      log.info({ code: err.code, offset: err.offset }, 'undecodable DM message');
      send(res, err.code === 'too-large' ? 413 : 400, `${err.code}: ${err.message}`);
      return;
    }
    throw err;
  }
  const hmac = req.headers['x-syncml-hmac'];
  const answer = await processDmMessage(getContext(), {
    message,
    rawBody: body,
    encoding,
    hmacHeader: Array.isArray(hmac) ? hmac[0] : hmac,
    // Answer in the family the client used: some real DM clients only speak the DS types.
    contentType: (contentType ?? '').split(';')[0]!.trim().toLowerCase(),
    requestUrl: req.url ?? '/dm',
    ...(typeof req.headers.host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host) ? { host: req.headers.host } : {}),
  });
  send(res, answer.status, answer.body, answer.headers);
}
