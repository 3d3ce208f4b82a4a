/**
 * Keys of encryption at rest. Three levels, each AES-256-GCM:
 *  - the master key, from REWIND_MASTER_KEY (base64 of 32 bytes), REWIND_MASTER_KEY_FILE,
 *    or else a key file DATA_DIR/master.key made on first start (mode 0600);
 *  - a data key per key owner (a subscriber, or a handset without one), random, stored
 *    wrapped by the master key (content_keys);
 *  - a key per blob, random, stored wrapped by each owner's data key (blob_keys).
 * Destroying an owner's data key (and their wraps) leaves their content unreadable to anyone,
 * master key included: that is what erasing a subscriber does.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '@/db/client';
import { deleteContentKeys, getContentKey, insertContentKey } from '@/db/queries/content-keys';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

/**
 * IVs are drawn from the CSPRNG a pool at a time: one call per value cost more than the
 * sealing of a small value. Each IV is a fresh slice of the pool, never handed out twice,
 * and the pool is refilled only once it is used up, so IVs stay random and unique.
 */
const IV_POOL = Buffer.alloc(IV_BYTES * 1024);
let ivAt = IV_POOL.length;

function nextIv(): Buffer {
  if (ivAt + IV_BYTES > IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivAt = 0;
  }
  const iv = IV_POOL.subarray(ivAt, ivAt + IV_BYTES);
  ivAt += IV_BYTES;
  return iv;
}

/** AES-256-GCM: IV ‖ ciphertext ‖ tag, bound to `aad`. */
export function seal(key: Uint8Array, plain: Uint8Array, aad: string): Uint8Array {
  const iv = nextIv();
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = c.update(plain);
  const tail = c.final();
  const out = new Uint8Array(IV_BYTES + body.length + tail.length + TAG_BYTES);
  out.set(iv, 0);
  out.set(body, IV_BYTES);
  out.set(tail, IV_BYTES + body.length);
  out.set(c.getAuthTag(), out.length - TAG_BYTES);
  return out;
}

/** The plaintext, or undefined when the key, the AAD or the bytes are not the ones sealed. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: string): Uint8Array | undefined {
  if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    const head = d.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES));
    const tail = d.final();
    return tail.length
      ? new Uint8Array(Buffer.concat([head, tail]))
      : new Uint8Array(head.buffer, head.byteOffset, head.length);
  } catch {
    return undefined;
  }
}

export function newKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

function decodeKey(text: string, from: string): Uint8Array {
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== KEY_BYTES)
    throw new KeyError(`${from} must hold a base64-encoded 32-byte key (openssl rand -base64 32)`);
  return new Uint8Array(bytes);
}

type MasterKeyVars = { REWIND_MASTER_KEY?: string | undefined; REWIND_MASTER_KEY_FILE?: string | undefined };

/** Where this process's master key comes from, and the key if it is there (nothing is written). */
export interface MasterKeySource {
  /** The setting that names it, for messages: `REWIND_MASTER_KEY`, `REWIND_MASTER_KEY_FILE (/path)` or `DATA_DIR/master.key (/path)`. */
  setting: string;
  /** The default key file, which loadMasterKey makes when it is missing. */
  file?: string;
  key?: Uint8Array;
}

/** The master key as configured, read without making anything: a missing DATA_DIR/master.key is reported, not made. */
export function readMasterKey(vars: MasterKeyVars, dataDir: string): MasterKeySource {
  if (vars.REWIND_MASTER_KEY)
    return { setting: 'REWIND_MASTER_KEY', key: decodeKey(vars.REWIND_MASTER_KEY, 'REWIND_MASTER_KEY') };
  if (vars.REWIND_MASTER_KEY_FILE) {
    const setting = `REWIND_MASTER_KEY_FILE (${vars.REWIND_MASTER_KEY_FILE})`;
    let text: string;
    try {
      text = fs.readFileSync(vars.REWIND_MASTER_KEY_FILE, 'utf8');
    } catch (err) {
      throw new KeyError(
        `REWIND_MASTER_KEY_FILE ${vars.REWIND_MASTER_KEY_FILE} cannot be read: ${(err as Error).message}`,
      );
    }
    return { setting, key: decodeKey(text, `REWIND_MASTER_KEY_FILE ${vars.REWIND_MASTER_KEY_FILE}`) };
  }
  const file = path.join(dataDir, 'master.key');
  const setting = `DATA_DIR/master.key (${file})`;
  if (!fs.existsSync(file)) return { setting, file };
  return { setting, file, key: decodeKey(fs.readFileSync(file, 'utf8'), file) };
}

/** The master key: from the environment, a named key file, or DATA_DIR/master.key (made if missing). */
export function loadMasterKey(vars: MasterKeyVars, dataDir: string): Uint8Array {
  const found = readMasterKey(vars, dataDir);
  if (found.key) return found.key;
  const file = found.file!;
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx': two processes starting at once on a new DATA_DIR both end up with the first's key.
    fs.writeFileSync(file, Buffer.from(newKey()).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return decodeKey(fs.readFileSync(file, 'utf8'), file);
}

/**
 * What identifies a master key without revealing it: an HMAC under the key of a fixed text,
 * 16 hex digits. The deployment's identity keeps it, so a process with another key is
 * refused before it writes anything.
 */
export function keyFingerprint(key: Uint8Array): string {
  return createHmac('sha256', key).update('rewind master key fingerprint').digest('hex').slice(0, 16);
}

/** Whether `master` opens a data key as stored (content_keys.wrapped) for `owner`. */
export function opensDataKey(master: Uint8Array, owner: string, wrapped: string): boolean {
  return open(master, Buffer.from(wrapped, 'base64'), dekAad(owner)) !== undefined;
}

/** Data keys, unwrapped on first use and kept (bounded) for the process's life. */
export class Keyring {
  private readonly cache = new Map<string, Uint8Array>();
  private static readonly CACHE_MAX = 10_000;

  constructor(
    private readonly db: Db,
    private readonly master: Uint8Array,
  ) {}

  /** The owner's data key, made when they have none yet. `db`: the transaction to read and write in, if any. */
  async dataKey(owner: string, db: Db = this.db): Promise<Uint8Array> {
    return (await this.find(owner, db)) ?? this.make(owner, db);
  }

  /** The owner's data key, or undefined once it has been destroyed (or was never made). */
  async find(owner: string, db: Db = this.db): Promise<Uint8Array | undefined> {
    const hit = this.cache.get(owner);
    if (hit) return hit;
    const wrapped = await getContentKey(db, owner);
    return wrapped === undefined ? undefined : this.remember(owner, this.unwrap(owner, wrapped));
  }

  /** Destroys the owners' data keys and every blob key they wrap (in `db`, a transaction if the caller is in one). */
  async destroy(owners: readonly string[], db: Db = this.db): Promise<number> {
    for (const o of owners) this.cache.delete(o);
    return deleteContentKeys(db, owners);
  }

  private async make(owner: string, db: Db): Promise<Uint8Array> {
    const wrapped = Buffer.from(seal(this.master, newKey(), dekAad(owner))).toString('base64');
    // Another process may have made one first: use whichever is stored.
    return this.remember(owner, this.unwrap(owner, await insertContentKey(db, owner, wrapped)));
  }

  private unwrap(owner: string, wrapped: string): Uint8Array {
    const key = open(this.master, Buffer.from(wrapped, 'base64'), dekAad(owner));
    if (!key)
      throw new KeyError(
        `the data key of ${owner} does not open with this master key: is REWIND_MASTER_KEY the one the data was written with?`,
      );
    return key;
  }

  private remember(owner: string, key: Uint8Array): Uint8Array {
    if (this.cache.size >= Keyring.CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(owner, key);
    return key;
  }
}

function dekAad(owner: string): string {
  return `rewind data key ${owner}`;
}
