/**
 * POST /ds: the HTTP side of the DS endpoint, as /dm's: content types, size limits and
 * error answers here; what a message means is lib/ds/server.ts's job.
 */
import type http from 'node:http';
import { decodeMessage, encodeMessage } from '../omadm/codec/index';
import { DecodeError } from '../omadm/errors';
import { encodingOf, MIME } from '../omadm/message';
import { getContext } from '../app-context';
import { log } from '../log';
import { handleDsMessage, DS_MAX_MSG_SIZE } from '../ds/server';
import { BodyError, readBody, send } from './http-body';

/** Largest message we accept: what our MaxMsgSize tells clients, and a little room. */
export const DS_MAX_BODY = DS_MAX_MSG_SIZE + 64 * 1024;
export const DS_DECODE_LIMITS = { maxBytes: DS_MAX_BODY, maxDepth: 32, maxElements: 200_000 };

export async function handleDs(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 405, 'the DS endpoint accepts POST only', { allow: 'POST' });
    return;
  }
  const encoding = encodingOf(req.headers['content-type']);
  if (!encoding) {
    req.resume();
    send(res, 415, `unsupported content type; send ${MIME.dsXml} or ${MIME.dsWbxml}`);
    return;
  }
  let body: Uint8Array;
  try {
    body = await readBody(req, DS_MAX_BODY);
  } catch (err) {
    if (err instanceof BodyError) {
      send(res, err.status, err.message, { connection: 'close' });
      return;
    }
    throw err;
  }
  let message;
  try {
    message = decodeMessage(body, encoding, DS_DECODE_LIMITS);
  } catch (err) {
    if (err instanceof DecodeError) {
      log.info({ code: err.code, offset: err.offset }, 'undecodable DS message');
      send(res, err.code === 'too-large' ? 413 : 400, `${err.code}: ${err.message}`);
      return;
    }
    throw err;
  }
  if (!/^SyncML\/1\.[12]$/.test(message.hdr.verProto)) {
    send(res, 400, `unsupported protocol ${message.hdr.verProto.slice(0, 40)}; this endpoint speaks SyncML/1.2 (DS)`);
    return;
  }
  const answer = await handleDsMessage(getContext(), message, encoding);
  if (answer.ended) log.info({ source: message.hdr.source.locURI, ok: answer.ended.ok, snapshot: answer.ended.snapshotId }, 'DS session ended');
  send(res, 200, encodeMessage(answer.message, encoding), { 'content-type': encoding === 'wbxml' ? MIME.dsWbxml : MIME.dsXml });
}
