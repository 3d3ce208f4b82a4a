/**
 * Node values <-> Item data. XML carries binary as base64 text and WBXML as opaque bytes,
 * so the same node value travels differently per encoding; these two functions are the
 * only place that knows how.
 */
import { isElement } from './codec/element';
import type { Encoding, Item, ItemData } from './message';
import { DecodeError } from './errors';
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from './util/bytes';
import { serializeXml } from './codec/xml';

const BINARY_FORMATS = new Set(['b64', 'bin']);

/** Whether every byte is a base64 alphabet character, '=' or whitespace. */
function isBase64Text(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f ||
      c === 0x3d ||
      c === 0x20 ||
      c === 0x0a ||
      c === 0x0d ||
      c === 0x09;
    if (!ok) return false;
  }
  return true;
}

function decodeB64(s: string): Uint8Array {
  try {
    return base64Decode(s);
  } catch (err) {
    throw new DecodeError('invalid', `Item Data is not valid base64: ${(err as Error).message}`);
  }
}

/**
 * The node value an Item carries, as bytes. Format b64 is base64-decoded (text, or opaque
 * bytes that are base64 text, which some WBXML clients send); other opaque data is the
 * value itself; text is its UTF-8; nested XML is its serialization. No data is an empty
 * value. Throws DecodeError('invalid') for b64 text that is not base64.
 */
export function itemValue(item: Item): Uint8Array {
  const data = item.data;
  const format = item.meta?.format?.toLowerCase();
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof Uint8Array) {
    if (format === 'b64' && isBase64Text(data)) return decodeB64(utf8Decode(data));
    return data;
  }
  if (typeof data === 'string') return format === 'b64' ? decodeB64(data) : utf8Encode(data);
  return utf8Encode(
    data
      .filter(isElement)
      .map((e) => serializeXml(e))
      .join(''),
  );
}

/**
 * Item format and data for a node value. Binary formats travel as base64 text (format b64)
 * in XML and as opaque bytes (format bin) in WBXML; every other format is text and must be
 * UTF-8 (a RangeError otherwise, since sending it as text would corrupt it).
 */
export function valueData(value: Uint8Array, format: string, encoding: Encoding): { format: string; data: ItemData } {
  if (BINARY_FORMATS.has(format.toLowerCase())) {
    return encoding === 'xml' ? { format: 'b64', data: base64Encode(value) } : { format: 'bin', data: value };
  }
  let text: string;
  try {
    text = utf8Decode(value);
  } catch {
    throw new RangeError(`value for format "${format}" is not UTF-8 text`);
  }
  return { format, data: text };
}
