/**
 * The `rewind` command line: `npm run rewind -- <command> [options]`. Each command is a
 * thin wrapper over the same domain code the console and the API use. Bad arguments get
 * a one-line error and exit code 2; a failed operation exit code 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { auditMark, countAuditSince, insertAudit } from '../db/queries/audit';
import { getContext, openAppContext, setContext } from '../lib/core/context';
import { env } from '../lib/core/env';
import { commands } from './commands';
import { UsageError } from './usage';

async function main(argv: string[]): Promise<number> {
  const words: string[] = [];
  while (argv.length && !argv[0]!.startsWith('-') && words.length < 2) {
    const candidate = [...words, argv[0]!].join(' ');
    if (!Object.keys(commands).some((k) => k === candidate || k.startsWith(candidate + ' '))) break;
    words.push(argv.shift()!);
  }
  const name = words.join(' ');
  const cmd = commands[name];
  if (!cmd || (argv.includes('--help') && !name)) {
    printHelp();
    return name || argv.includes('--help') ? (cmd ? 0 : 2) : 2;
  }
  if (argv.includes('--help')) {
    console.log(`rewind ${name} ${cmd.usage}\n  ${cmd.summary}`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: cmd.options as ParseArgsConfig['options'],
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    console.error(`rewind ${name}: ${(err as Error).message}\nusage: rewind ${name} ${cmd.usage}`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  try {
    if (usesDatabase(name, values)) await openContext();
    const mark = changesData(name, values) ? await auditMark(getContext().db) : undefined;
    const code = (await cmd.run(values, parsed.positionals)) ?? 0;
    if (mark !== undefined && code === 0) await ensureAudited(name, mark, parsed.positionals);
    return code;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`rewind ${name}: ${err.message}\nusage: rewind ${name} ${cmd.usage}`);
      return 2;
    }
    console.error(`rewind ${name}: ${(err as Error).message}`);
    return 1;
  }
}

/** Commands that only read: what they print is all they do. */
const READ_ONLY = new Set([
  'config check',
  'profile show',
  'local-backups',
  'jobs',
  'job',
  'snapshots',
  'snapshot',
  'diff',
  'catalog',
  'verify',
  'ds-snapshots',
  'ds-diff',
]);
/** What the CLI's own entries are written under (sim's jobs name it). */
const CLI_ACTORS = ['cli', 'cli:sim'];

/** sim with a token registers its handsets through the API: that process opens no database. */
function usesDatabase(name: string, values: Record<string, string | boolean | undefined>): boolean {
  // config check opens the database itself, read only: it must run where the check refuses.
  if (name === 'config check') return false;
  return !(name === 'sim' && (values.token || process.env.REWIND_TOKEN));
}

/**
 * The database the environment names (PostgreSQL when DATABASE_URL is set, else
 * DATA_DIR/rewind.db), made ready (migrations, search index) before the command runs.
 */
async function openContext(): Promise<void> {
  // A command configured otherwise than the deployment (another blob store, another master
  // key) stops here, before it writes anything, with the setting that differs.
  setContext(await openAppContext(env()));
}

function changesData(name: string, values: Record<string, string | boolean | undefined>): boolean {
  if (READ_ONLY.has(name) || values['dry-run'] === true) return false;
  // sim with a token registers its handsets through the API, which audits the token's requests; this process touches no database.
  if (name === 'sim' && (values.token || process.env.REWIND_TOKEN)) return false;
  return true;
}

/**
 * Every command that changes data leaves an audit entry: the domain code or the command
 * writes it with the details; when a command succeeded without one (gc with nothing to
 * sweep, seed, search reindex, a joined backup), this records that it ran, with its
 * positional arguments (ids and file names; credentials only ever come as options).
 */
async function ensureAudited(name: string, mark: number, positionals: string[]): Promise<void> {
  const { db } = getContext();
  if ((await countAuditSince(db, CLI_ACTORS, mark)) > 0) return;
  await insertAudit(db, {
    actor: 'cli',
    action: `cli.${name.replace(/ /g, '-')}`,
    details: positionals.length ? { args: positionals } : undefined,
  });
}

function printHelp(): void {
  console.log('usage: npm run rewind -- <command> [options]\n\ncommands:');
  for (const [name, c] of Object.entries(commands)) console.log(`  ${name.padEnd(16)} ${c.summary}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
