/**
 * The download packages virtual handsets understand: firmware for FUMO and applications
 * for SCOMO. A package is one JSON manifest line followed by the payload bytes:
 *
 *   {"format":"rewind-fw/1","model":"nimbus-n1","version":"2.0.1","size":1234,"sha256":"…"}\n<payload>
 *   {"format":"rewind-app/1","id":"com.shieldsec.shieldav","name":"ShieldAV","version":"4.0.2","size":…,"sha256":…}\n<payload>
 *
 * so a test server can serve a real file, the handset can check it was not corrupted in
 * transit (size, sha256) and that it fits the model, and the version installed is what
 * the package says. A body that is not such a package falls back to the URL's query
 * (`?version=2.0.1&model=…`, `?id=…&name=…&version=…`), for servers that serve opaque files.
 */
import { createHash } from 'node:crypto';
import { utf8Decode, utf8Encode } from '../lib/omadm/util/bytes';

export const FW_FORMAT = 'rewind-fw/1';
export const APP_FORMAT = 'rewind-app/1';

const MAX_MANIFEST = 4096;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,31}$/;

function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function build(manifest: Record<string, unknown>, payload: Uint8Array): Uint8Array {
  const head = utf8Encode(`${JSON.stringify({ ...manifest, size: payload.length, sha256: sha256Hex(payload) })}\n`);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export function buildFirmwarePackage(p: {
  model: string;
  version: string;
  name?: string;
  payload?: Uint8Array;
}): Uint8Array {
  return build(
    { format: FW_FORMAT, model: p.model, version: p.version, ...(p.name ? { name: p.name } : {}) },
    p.payload ?? new Uint8Array(0),
  );
}

export function buildAppPackage(p: { id: string; name: string; version: string; payload?: Uint8Array }): Uint8Array {
  return build({ format: APP_FORMAT, id: p.id, name: p.name, version: p.version }, p.payload ?? new Uint8Array(0));
}

type Parsed = { kind: 'ok'; manifest: Record<string, unknown> } | { kind: 'corrupt' } | { kind: 'none' };

/** Reads the manifest line and checks the payload against it. */
function parse(bytes: Uint8Array, format: string): Parsed {
  if (bytes[0] !== 0x7b /* { */) return { kind: 'none' };
  const nl = bytes.subarray(0, MAX_MANIFEST).indexOf(0x0a);
  if (nl < 0) return { kind: 'none' };
  let m: unknown;
  try {
    m = JSON.parse(utf8Decode(bytes.subarray(0, nl)));
  } catch {
    return { kind: 'none' };
  }
  if (typeof m !== 'object' || m === null || (m as Record<string, unknown>).format !== format) return { kind: 'none' };
  const o = m as Record<string, unknown>;
  const payload = bytes.subarray(nl + 1);
  if (o.size !== payload.length || o.sha256 !== sha256Hex(payload)) return { kind: 'corrupt' };
  return { kind: 'ok', manifest: o };
}

function query(url: string): URLSearchParams {
  try {
    return new URL(url).searchParams;
  } catch {
    return new URLSearchParams();
  }
}

export type FirmwareCheck =
  | { ok: true; version: string; model?: string; name?: string }
  /** FUMO result codes: 402 corrupted package, 403 device mismatch, 404 failed validation. */
  | { ok: false; code: 402 | 403 | 404; reason: string };

export function checkFirmwarePackage(bytes: Uint8Array, url: string, model: string): FirmwareCheck {
  const p = parse(bytes, FW_FORMAT);
  if (p.kind === 'corrupt') return { ok: false, code: 402, reason: 'size or sha256 does not match the manifest' };
  let version: unknown;
  let pkgModel: unknown;
  let name: unknown;
  if (p.kind === 'ok') {
    ({ version, model: pkgModel, name } = p.manifest);
  } else {
    const q = query(url);
    version = q.get('version') ?? undefined;
    pkgModel = q.get('model') ?? undefined;
  }
  if (typeof version !== 'string' || !VERSION.test(version))
    return { ok: false, code: 404, reason: 'package names no valid version' };
  if (pkgModel !== undefined && pkgModel !== model)
    return { ok: false, code: 403, reason: `package is for ${String(pkgModel)}, not ${model}` };
  return {
    ok: true,
    version,
    ...(typeof pkgModel === 'string' ? { model: pkgModel } : {}),
    ...(typeof name === 'string' ? { name } : {}),
  };
}

export type AppCheck =
  | { ok: true; id: string; name: string; version: string }
  /** SCOMO result codes: 1407 failed package validation. */
  | { ok: false; code: 1407; reason: string };

/** `fallback` is what the Download node says (PkgID, Name) when the package says nothing. */
export function checkAppPackage(bytes: Uint8Array, url: string, fallback: { id?: string; name?: string }): AppCheck {
  const p = parse(bytes, APP_FORMAT);
  if (p.kind === 'corrupt') return { ok: false, code: 1407, reason: 'size or sha256 does not match the manifest' };
  const q = query(url);
  const m = p.kind === 'ok' ? p.manifest : {};
  const id = typeof m.id === 'string' ? m.id : (q.get('id') ?? fallback.id);
  const name = typeof m.name === 'string' ? m.name : (q.get('name') ?? fallback.name ?? id);
  const version = typeof m.version === 'string' ? m.version : (q.get('version') ?? '1.0');
  if (!id || id.length > 256) return { ok: false, code: 1407, reason: 'package names no application id' };
  if (!VERSION.test(version)) return { ok: false, code: 1407, reason: 'package names no valid version' };
  return { ok: true, id, name: name ?? id, version };
}
