/**
 * The one error type the engine's decoders throw. `code` is stable and documented; callers
 * map it to an HTTP status (too-large -> 413, everything else -> 400) or a SyncML status.
 */
export type DecodeErrorCode =
  | 'too-large' // input exceeds maxBytes
  | 'too-deep' // nesting exceeds maxDepth
  | 'too-many-elements' // element count exceeds maxElements
  | 'forbidden-dtd' // DOCTYPE, ENTITY or other declarations are refused outright
  | 'malformed' // not well-formed XML / WBXML (truncated, bad token, bad UTF-8...)
  | 'unsupported' // well-formed but a version, code page or encoding we do not speak
  | 'invalid'; // well-formed but not a valid SyncML message (missing SyncHdr, bad number...)

export class DecodeError extends Error {
  readonly code: DecodeErrorCode;
  /** Byte offset in the input where the problem was found, when known. */
  readonly offset?: number;
  constructor(code: DecodeErrorCode, message: string, offset?: number) {
    super(message);
    this.name = 'DecodeError';
    this.code = code;
    if (offset !== undefined) this.offset = offset;
  }
}
