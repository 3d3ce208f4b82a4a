/**
 * The codec facade: SyncML messages to and from XML or WBXML bytes, and the sizes the
 * outbox needs to pack commands under a peer's MaxMsgSize.
 */
import type { DecodeLimits } from './element';
import type { Command, Encoding, SyncHdr, SyncMLMessage } from '../message';
import { parseXml, serializeXml, serializedXmlSize } from './xml';
import { decodeWbxml, encodeWbxml, encodedWbxmlSize } from './wbxml';
import { commandToElement, elementToMessage, messageToElement } from './syncml';
import { utf8Encode } from '../util/bytes';

export type { Encoding } from '../message';

export function encodeMessage(msg: SyncMLMessage, encoding: Encoding): Uint8Array {
  const root = messageToElement(msg);
  return encoding === 'xml' ? utf8Encode(serializeXml(root, { declaration: true })) : encodeWbxml(root);
}

/** Decodes a message body; every failure is a DecodeError. */
export function decodeMessage(body: Uint8Array, encoding: Encoding, limits?: Partial<DecodeLimits>): SyncMLMessage {
  const root = encoding === 'xml' ? parseXml(body, limits) : decodeWbxml(body, limits);
  return elementToMessage(root);
}

/**
 * Alone, a command encodes as a WBXML document of its own: the header (version, public id,
 * charset, string table length) is counted there but not in the message, which covers the
 * SWITCH_PAGE the message may need before the command. The margin covers the rest.
 */
const WBXML_COMMAND_MARGIN = 4;
/** The message's string table length may need more bytes than the envelope's. */
const WBXML_ENVELOPE_MARGIN = 8;

/** Bytes one command adds to an encoded message: exact for XML, a safe over-estimate for WBXML. */
export function encodedCommandSize(cmd: Command, encoding: Encoding): number {
  const el = commandToElement(cmd);
  if (encoding === 'xml') return serializedXmlSize(el);
  return encodedWbxmlSize(el, { stringTable: false }) + WBXML_COMMAND_MARGIN;
}

/** Bytes of the message with an empty SyncBody (header, envelope, Final). */
export function encodedEnvelopeSize(hdr: SyncHdr, encoding: Encoding): number {
  const root = messageToElement({ hdr, body: { commands: [], final: true } });
  if (encoding === 'xml') return serializedXmlSize(root, { declaration: true });
  return encodedWbxmlSize(root, { stringTable: false }) + WBXML_ENVELOPE_MARGIN;
}
