/**
 * POST /ds: the HTTP side of the DS endpoint, as /dm's: content types, size limits and
 * error answers here; what a message means is lib/ds/server.ts's job.
 */
import type http from 'node:http';
import { encodeMessage } from '../omadm/codec/index';
import { MIME } from '../omadm/message';
import { getContext } from '../app-context';
import { log } from '../log';
import { handleDsMessage, DS_MAX_MSG_SIZE } from '../ds/server';
import { readSyncMl, send } from './http-body';

/** Largest message we accept: what our MaxMsgSize tells clients, and a little room. */
export const DS_MAX_BODY = DS_MAX_MSG_SIZE + 64 * 1024;
export const DS_DECODE_LIMITS = { maxBytes: DS_MAX_BODY, maxDepth: 32, maxElements: 200_000 };

export async function handleDs(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const got = await readSyncMl(req, res, { name: 'DS', types: `${MIME.dsXml} or ${MIME.dsWbxml}`, maxBytes: DS_MAX_BODY, limits: DS_DECODE_LIMITS });
  if (!got) return;
  const { message, encoding } = got;
  if (!/^SyncML\/1\.[12]$/.test(message.hdr.verProto)) {
    send(res, 400, `unsupported protocol ${message.hdr.verProto.slice(0, 40)}; this endpoint speaks SyncML/1.2 (DS)`);
    return;
  }
  const answer = await handleDsMessage(getContext(), message, encoding);
  if (answer.ended) log.info({ source: message.hdr.source.locURI, ok: answer.ended.ok, snapshot: answer.ended.snapshotId }, 'DS session ended');
  send(res, 200, encodeMessage(answer.message, encoding), { 'content-type': encoding === 'wbxml' ? MIME.dsWbxml : MIME.dsXml });
}
