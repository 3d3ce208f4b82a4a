/**
 * A soak run's options: what `runSoak` accepts, the defaults it fills in, and the command
 * line of `npm run soak`.
 */
import { parseArgs } from 'node:util';

export interface SoakOptions {
  devices: number;
  minutes: number;
  /** Share of sessions that lose their connection at a random message (default 0.1). */
  faultRate?: number;
  seed?: number;
  /** Mean pause between a handset's operations, seconds (default 5). */
  thinkS?: number;
  /** Share of operations that are restores (default 0.15) and the user's backup button (default 0.35). */
  restoreShare?: number;
  buttonShare?: number;
  /** How long the run may take to finish after --minutes, seconds (default 120). */
  drainS?: number;
  /** A handset waiting for work it was promised connects by itself after this long, seconds (default 60). */
  stallS?: number;
  /** Live progress line every this many seconds (default 10); 0 for none. */
  progressS?: number;
  /** Media size factor of the virtual handsets (default 0.01: about 40 KB of ringtones and images). */
  mediaScale?: number;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** Keep the data directory (database, blobs, handset state) and print where it is. */
  keep?: boolean;
}

/** The options with every default filled in, as the report repeats them. */
export type SoakSettings = Required<Omit<SoakOptions, 'log' | 'keep'>>;

/** Throws RangeError for a fleet or a run that cannot be. */
export function soakSettings(opts: SoakOptions): SoakSettings {
  const o: SoakSettings = {
    devices: opts.devices,
    minutes: opts.minutes,
    faultRate: opts.faultRate ?? 0.1,
    seed: opts.seed ?? 1,
    thinkS: opts.thinkS ?? 5,
    restoreShare: opts.restoreShare ?? 0.15,
    buttonShare: opts.buttonShare ?? 0.35,
    drainS: opts.drainS ?? 120,
    stallS: opts.stallS ?? 60,
    progressS: opts.progressS ?? 10,
    mediaScale: opts.mediaScale ?? 0.01,
  };
  if (!(Number.isInteger(o.devices) && o.devices > 0)) throw new RangeError('devices must be a positive integer');
  if (!(o.minutes > 0)) throw new RangeError('minutes must be positive');
  if (!(o.faultRate >= 0 && o.faultRate <= 1)) throw new RangeError('fault rate must be between 0 and 1');
  return o;
}

export const USAGE =
  'usage: npm run soak -- --devices N --minutes M [--fault-rate F] [--json out.json] [--seed S] [--think S] [--drain S] [--keep]';

export type CommandLine = { help: true } | { help: false; opts: SoakOptions; json: string | undefined };

/** The arguments (default: the process's); throws with the reason when they are not a run (the caller adds USAGE). */
export function parseCommandLine(args?: string[]): CommandLine {
  const v = parseArgs({
    ...(args ? { args } : {}),
    options: {
      devices: { type: 'string' },
      minutes: { type: 'string' },
      'fault-rate': { type: 'string' },
      json: { type: 'string' },
      seed: { type: 'string' },
      think: { type: 'string' },
      drain: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  }).values;
  if (v.help) return { help: true };
  const num = (
    name: string,
    raw: string | undefined,
    dflt: number | undefined,
    ok: (n: number) => boolean,
  ): number | undefined => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new RangeError(`--${name}: ${JSON.stringify(raw)} is not valid`);
    return n;
  };
  const thinkS = num('think', v.think, undefined, (n) => n >= 0);
  const drainS = num('drain', v.drain, undefined, (n) => n >= 0);
  const seed = num('seed', v.seed, undefined, Number.isInteger);
  const opts: SoakOptions = {
    devices: num('devices', v.devices, 100, (n) => Number.isInteger(n) && n > 0 && n <= 100_000)!,
    minutes: num('minutes', v.minutes, 1, (n) => n > 0 && n <= 24 * 60)!,
    faultRate: num('fault-rate', v['fault-rate'], 0.1, (n) => n >= 0 && n <= 1)!,
    ...(thinkS !== undefined ? { thinkS } : {}),
    ...(drainS !== undefined ? { drainS } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(v.keep ? { keep: true } : {}),
  };
  return { help: false, opts, json: v.json };
}
