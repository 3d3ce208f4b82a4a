/**
 * The neutral document tree both codecs produce and consume. XML text and WBXML bytes
 * decode to this, and the SyncML mapping (syncml.ts) turns it into typed messages.
 *
 * Children are elements, text, or opaque bytes (WBXML OPAQUE); SyncML has no mixed
 * content except inside <Data>, which may carry text, bytes or nested XML (DevInf,
 * Anchor, MetInf).
 */
export interface XmlElement {
  /** Local name as written in the SyncML DTDs, e.g. "SyncHdr", "LocURI". */
  name: string;
  /** Namespace/DTD the element belongs to when it differs from its parent's, e.g. "syncml:metinf". */
  ns?: string;
  children: XmlNode[];
}

export type XmlNode = XmlElement | string | Uint8Array;

export function isElement(n: XmlNode): n is XmlElement {
  return typeof n === 'object' && !(n instanceof Uint8Array);
}

/** Limits applied by every decoder. A decoder throws DecodeError as soon as one is exceeded. */
export interface DecodeLimits {
  /** Largest input accepted, in bytes. */
  maxBytes: number;
  /** Deepest element nesting accepted. */
  maxDepth: number;
  /** Most elements accepted in one document. */
  maxElements: number;
}

export const DEFAULT_LIMITS: DecodeLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxElements: 200_000,
};
