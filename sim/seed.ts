/**
 * A large, realistic-looking fleet for load and search testing (`rewind seed`): subscribers
 * with one to three handsets, UK mobile numbers, names from fixed lists, the virtual models'
 * TACs with valid Luhn digits. Deterministic: the same seed and start give the same fleet.
 * Handset k (counting from `start`) always has the same IMEI and MSISDN, unique up to
 * SEED_CAPACITY, so a second run continues where the first stopped without a collision.
 */
import { sqliteClient, type Db } from '../db/client';
import {
  countDevices,
  seedWriter,
  withoutForeignKeys,
  type SeedHandset,
  type SeedSubscriber,
} from '../db/queries/seed';

export type { SeedHandset, SeedSubscriber } from '../db/queries/seed';
import { MODELS } from './catalog';
import { luhnDigit } from './generate';
import { Rng, subSeed } from './random';

const FIRST = [
  'Aaliyah',
  'Adam',
  'Ada',
  'Aisha',
  'Alfie',
  'Amelia',
  'Arjun',
  'Ava',
  'Ben',
  'Bethan',
  'Callum',
  'Charlotte',
  'Chloe',
  'Daniel',
  'Dylan',
  'Eleanor',
  'Elijah',
  'Ella',
  'Emily',
  'Ethan',
  'Evie',
  'Fatima',
  'Finley',
  'Freya',
  'George',
  'Grace',
  'Hannah',
  'Harry',
  'Isla',
  'Jack',
  'Jacob',
  'James',
  'Jessica',
  'Joshua',
  'Kai',
  'Layla',
  'Leo',
  'Lily',
  'Logan',
  'Lucy',
  'Maryam',
  'Mia',
  'Mohammed',
  'Noah',
  'Olivia',
  'Oscar',
  'Poppy',
  'Priya',
  'Rhys',
  'Rosie',
  'Ruby',
  'Samuel',
  'Sienna',
  'Sophie',
  'Theo',
  'Thomas',
  'William',
  'Yusuf',
  'Zara',
  'Zoë',
] as const;
const LAST = [
  'Ahmed',
  'Allen',
  'Bailey',
  'Baker',
  'Bell',
  'Brown',
  'Campbell',
  'Carter',
  'Chapman',
  'Clarke',
  'Cooper',
  'Davies',
  'Edwards',
  'Ellis',
  'Evans',
  'Fisher',
  'Fletcher',
  'Green',
  'Griffiths',
  'Hall',
  'Harris',
  'Hill',
  'Hughes',
  'Hussain',
  'Jackson',
  'James',
  'Jenkins',
  'Johnson',
  'Jones',
  'Kaur',
  'Khan',
  'King',
  'Lee',
  'Lewis',
  'Marshall',
  'Martin',
  'Mason',
  'Mills',
  'Mitchell',
  'Moore',
  'Morgan',
  'Morris',
  'Murphy',
  'O’Brien',
  'Owen',
  'Palmer',
  'Parker',
  'Patel',
  'Phillips',
  'Price',
  'Roberts',
  'Robinson',
  'Rogers',
  'Scott',
  'Shaw',
  'Singh',
  'Smith',
  'Taylor',
  'Thomas',
  'Thompson',
  'Turner',
  'Walker',
  'Ward',
  'Watson',
  'White',
  'Williams',
  'Wilson',
  'Wood',
  'Wright',
  'Young',
  'Ashworth-Reid',
  'Nowak',
  'Kowalski',
  'Ferreira',
  'Rossi',
] as const;
const DOMAINS = ['example.com', 'example.net', 'example.org', 'mail.example', 'post.example'] as const;

/** How many distinct handsets the numbering gives: six serial digits per model's TAC. */
export const SEED_CAPACITY = MODELS.length * 1_000_000;

/** An affine map of [0, 10^digits) onto itself (the multiplier is prime to 10): distinct in, distinct out, scattered. */
function scatter(k: number, digits: number, mul: number, add: number): string {
  const m = 10n ** BigInt(digits);
  return ((BigInt(k) * BigInt(mul) + BigInt(add)) % m).toString().padStart(digits, '0');
}

/** Handset k's IMEI: model k mod the models, a serial scattered from k, the Luhn digit. */
export function seedImei(k: number): { imei: string; model: (typeof MODELS)[number] } {
  const model = MODELS[k % MODELS.length]!;
  const body = model.tac + scatter(Math.floor(k / MODELS.length), 6, 7_919, 104_729);
  return { imei: body + luhnDigit(body), model };
}

/** Handset k's MSISDN: 447 and nine digits scattered from k (a UK mobile number, international form). */
export function seedMsisdn(k: number): string {
  return `447${scatter(k, 9, 387_420_489, 123_456_789)}`;
}

/**
 * A handset's newest complete backup: never for one never seen and for one in twenty of the
 * rest; otherwise mostly within a day of its last session (a daily policy), a fifth of them
 * days to weeks before it (backups failing or deferred).
 */
function lastGoodBackup(rng: Rng, lastSeenAt: number | null): number | null {
  if (lastSeenAt === null || rng.float() < 0.05) return null;
  return lastSeenAt - (rng.float() < 0.8 ? rng.int(0, 86_400_000) : rng.int(86_400_000, 45 * 86_400_000));
}

/**
 * Subscribers owning handsets start … start + devices - 1, in order (the last may own fewer
 * than drawn, so the count is exact).
 */
export function* seedFleet(opts: {
  devices: number;
  seed?: number;
  start?: number;
  now?: number;
}): Generator<SeedSubscriber> {
  const start = opts.start ?? 0;
  const end = start + opts.devices;
  if (end > SEED_CAPACITY) throw new RangeError(`a seeded fleet holds at most ${SEED_CAPACITY} handsets`);
  const rng = new Rng(subSeed(opts.seed ?? 1, `fleet:${start}`));
  // Backups drawn from their own stream, so the names, numbers and models stay those of earlier seeds.
  const backups = new Rng(subSeed(opts.seed ?? 1, `backups:${start}`));
  const now = opts.now ?? Date.now();
  for (let k = start; k < end;) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const n = Math.min(end - k, rng.float() < 0.6 ? 1 : rng.float() < 0.75 ? 2 : 3);
    const local = `${first}.${last}`
      .normalize('NFKD')
      .replace(/[^A-Za-z.]/g, '')
      .toLowerCase();
    const handsets: SeedHandset[] = [];
    for (let i = 0; i < n; i++, k++) {
      const { imei, model } = seedImei(k);
      const lastSeenAt = rng.float() < 0.1 ? null : now - rng.int(0, 30 * 86_400_000);
      handsets.push({
        devId: `IMEI:${imei}`,
        msisdn: seedMsisdn(k),
        manufacturer: model.man,
        model: model.mod,
        firmware: rng.pick(model.firmware),
        lastSeenAt,
        lastGoodBackupAt: lastGoodBackup(backups, lastSeenAt),
      });
    }
    // The email carries the first handset's ordinal, so two Olivia Smiths differ.
    yield {
      name: `${first} ${last}`,
      email: rng.float() < 0.8 ? `${local}${k - n}@${rng.pick(DOMAINS)}` : null,
      handsets,
    };
  }
}

/**
 * Handsets written per transaction. Large on purpose: a commit writes every index page the
 * batch touched to the log, and the terms' pages are touched all over whatever the batch's size.
 */
export const SEED_BATCH_DEVICES = 100_000;

/** Seeds `devices` handsets after those stored; `onProgress` hears the count written so far. */
export async function seedDevices(
  db: Db,
  devices: number,
  opts: { seed?: number; onProgress?: (done: number) => void } = {},
): Promise<{ devices: number; subscribers: number; start: number }> {
  const start = await countDevices(db);
  if (start + devices > SEED_CAPACITY)
    throw new Error(`the database would hold more than ${SEED_CAPACITY.toLocaleString('en-US')} seeded handsets`);
  const writer = await seedWriter(db);
  // SQLite only: its page cache and checkpoints are ours to tune; PostgreSQL's are the server's.
  const c = sqliteClient(db);
  const previous = c && {
    cache: Number(c.pragma('cache_size', { simple: true })),
    checkpoint: Number(c.pragma('wal_autocheckpoint', { simple: true })),
  };
  // While writing: 1 GiB of page cache, so the indexes stay in memory, and the log folded
  // into the database every 64k pages rather than every thousand.
  c?.pragma('cache_size = -1048576');
  c?.pragma('wal_autocheckpoint = 65536');
  let done = 0;
  let subscribers = 0;
  let batch: SeedSubscriber[] = [];
  let inBatch = 0;
  const flush = async () => {
    await writer.write(batch);
    done += inBatch;
    subscribers += batch.length;
    batch = [];
    inBatch = 0;
    opts.onProgress?.(done);
  };
  try {
    await withoutForeignKeys(db, async () => {
      for (const s of seedFleet({ devices, seed: opts.seed, start })) {
        batch.push(s);
        inBatch += s.handsets.length;
        if (inBatch >= SEED_BATCH_DEVICES) await flush();
      }
      if (batch.length) await flush();
    });
  } finally {
    if (c && previous) {
      c.pragma(`cache_size = ${previous.cache}`);
      c.pragma(`wal_autocheckpoint = ${previous.checkpoint}`);
      c.pragma('wal_checkpoint(TRUNCATE)');
    }
  }
  return { devices: done, subscribers, start };
}
