/**
 * Package #0, the DM Notification (OMA-TS-DM_Notification-V1_2 §6): the small binary
 * message, pushed by SMS or WAP Push, that asks a handset to open a DM session.
 *
 *   digest (16 bytes)
 *   trigger-hdr:  version (10 bits) | ui-mode (2) | initiator (1) | future-use (27)
 *                 session-id (16) | server-id length (8) | server-id (UTF-8)
 *   trigger-body: vendor specific, to the end of the package
 *
 *   digest = MD5( B64(MD5(server-id ":" password)) ":" nonce ":" B64(MD5(trigger)) )
 *
 * trigger is trigger-hdr + trigger-body, the password is the server password the
 * handset knows for this server, and the nonce is the one the handset gave the server.
 * The digest is the same construction as the HMAC header, kept raw (16 bytes) here.
 */
import { md5 } from '@noble/hashes/legacy.js';
import { constantTimeEqual, derivedOf, type Secret } from './auth';
import { DecodeError } from './errors';
import { base64Encode, concatBytes, utf8Decode, utf8Encode } from './util/bytes';

export interface NotificationFields {
  /** The 10-bit version field; default 12 (DM 1.2 as version*10). Some clients read it differently. */
  version?: number;
  /** 0 not specified, 1 background, 2 informative, 3 user interaction. */
  uiMode: 0 | 1 | 2 | 3;
  initiator: 'user' | 'server';
  /** 16-bit; the DM session it starts uses the same id (see notificationSessionId). */
  sessionId: number;
  serverId: string;
  vendor?: Uint8Array;
}

export const NOTIFICATION_DEFAULT_VERSION = 12;
/** Largest Package #0 we build or parse. An SMS carries ~140 bytes; WAP Push a few KiB. */
export const NOTIFICATION_MAX_BYTES = 64 * 1024;

const DIGEST_LEN = 16;
const FIXED_HDR_LEN = 8; // 40 bits of flags + 16-bit session id + 8-bit server-id length
const MIN_LEN = DIGEST_LEN + FIXED_HDR_LEN;

/**
 * The SessionID text of the DM session a Package #0 starts: the handset MUST use the
 * notification's session-id, written in hexadecimal (uppercase, no padding — what
 * libdmclient-style clients print with %X). Compare case-insensitively when matching.
 */
export function notificationSessionId(sessionId: number): string {
  return sessionId.toString(16).toUpperCase();
}

function digestOf(secret: Secret, nonce: Uint8Array, trigger: Uint8Array): Uint8Array {
  const derived = derivedOf(secret);
  if (derived === undefined) throw new Error(`no password or derived secret for server ${secret.user}`);
  const colon = new Uint8Array([0x3a]);
  return md5(concatBytes([utf8Encode(derived), colon, nonce, colon, utf8Encode(base64Encode(md5(trigger)))]));
}

/**
 * Builds Package #0. `secret.user` must be the server id (the handset derives the key
 * from the server id it knows and its copy of the server password). Throws RangeError for
 * fields that do not fit their bit widths — a caller bug, not a protocol event.
 */
export function buildNotification(f: NotificationFields, secret: Secret, nonce: Uint8Array): Uint8Array {
  const version = f.version ?? NOTIFICATION_DEFAULT_VERSION;
  if (!Number.isInteger(version) || version < 0 || version > 0x3ff)
    throw new RangeError(`version ${version} does not fit 10 bits`);
  if (![0, 1, 2, 3].includes(f.uiMode)) throw new RangeError(`uiMode ${String(f.uiMode)} is not 0..3`);
  if (!Number.isInteger(f.sessionId) || f.sessionId < 0 || f.sessionId > 0xffff)
    throw new RangeError(`sessionId ${f.sessionId} does not fit 16 bits`);
  const serverId = utf8Encode(f.serverId);
  if (serverId.length > 0xff) throw new RangeError('serverId is longer than 255 bytes');
  const vendor = f.vendor ?? new Uint8Array(0);
  if (MIN_LEN + serverId.length + vendor.length > NOTIFICATION_MAX_BYTES)
    throw new RangeError('notification larger than 64 KiB');

  const hdr = new Uint8Array(FIXED_HDR_LEN + serverId.length);
  const initiator = f.initiator === 'server' ? 1 : 0;
  hdr[0] = version >> 2;
  hdr[1] = ((version & 0x3) << 6) | (f.uiMode << 4) | (initiator << 3); // low 3 bits: future use
  // hdr[2..4]: the remaining 24 future-use bits, zero.
  hdr[5] = f.sessionId >> 8;
  hdr[6] = f.sessionId & 0xff;
  hdr[7] = serverId.length;
  hdr.set(serverId, FIXED_HDR_LEN);
  const trigger = concatBytes([hdr, vendor]);
  return concatBytes([digestOf(secret, nonce, trigger), trigger]);
}

/** Decodes Package #0 without checking the digest. Throws DecodeError on bad or short input. */
export function parseNotification(bytes: Uint8Array): NotificationFields & { digest: Uint8Array; trigger: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('invalid', 'notification must be bytes');
  if (bytes.length > NOTIFICATION_MAX_BYTES)
    throw new DecodeError('too-large', `notification of ${bytes.length} bytes exceeds 64 KiB`);
  if (bytes.length < MIN_LEN)
    throw new DecodeError('malformed', `notification truncated: ${bytes.length} bytes`, bytes.length);
  const h = DIGEST_LEN;
  const b0 = bytes[h]!;
  const b1 = bytes[h + 1]!;
  const version = (b0 << 2) | (b1 >> 6);
  const uiMode = ((b1 >> 4) & 0x3) as 0 | 1 | 2 | 3;
  const initiator = (b1 >> 3) & 1 ? 'server' : 'user';
  // Future-use bits are ignored rather than refused: a later version may set them.
  const sessionId = (bytes[h + 5]! << 8) | bytes[h + 6]!;
  const idLen = bytes[h + 7]!;
  const idStart = h + FIXED_HDR_LEN;
  if (idStart + idLen > bytes.length)
    throw new DecodeError('malformed', 'notification truncated inside server-id', bytes.length);
  let serverId: string;
  try {
    serverId = utf8Decode(bytes.subarray(idStart, idStart + idLen));
  } catch {
    throw new DecodeError('malformed', 'server-id is not UTF-8', idStart);
  }
  if (serverId === '') throw new DecodeError('invalid', 'empty server-id', h + 7);
  const vendor = bytes.slice(idStart + idLen);
  return {
    version,
    uiMode,
    initiator,
    sessionId,
    serverId,
    ...(vendor.length > 0 ? { vendor } : {}),
    digest: bytes.slice(0, DIGEST_LEN),
    trigger: bytes.slice(DIGEST_LEN),
  };
}

/** True if `pkg` is a well-formed Package #0 whose digest matches the secret and nonce. */
export function verifyNotification(pkg: Uint8Array, secret: Secret, nonce: Uint8Array): boolean {
  let parsed: ReturnType<typeof parseNotification>;
  try {
    parsed = parseNotification(pkg);
  } catch (e) {
    if (e instanceof DecodeError) return false;
    throw e;
  }
  if (derivedOf(secret) === undefined) return false;
  // The key is chosen by the package's server-id; a package naming another server is not ours.
  if (parsed.serverId !== secret.user) return false;
  return constantTimeEqual(parsed.digest, digestOf(secret, nonce, parsed.trigger));
}
