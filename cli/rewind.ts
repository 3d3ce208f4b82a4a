/**
 * The `rewind` command line: `npm run rewind -- <command> [options]`. Each command is a
 * thin wrapper over the same domain code the console and the API use. Bad arguments get
 * a one-line error and exit code 2; a failed operation exit code 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
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
  if (!cmd || argv.includes('--help') && !name) {
    printHelp();
    return name || argv.includes('--help') ? (cmd ? 0 : 2) : 2;
  }
  if (argv.includes('--help')) {
    console.log(`rewind ${name} ${cmd.usage}\n  ${cmd.summary}`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: cmd.options as ParseArgsConfig['options'], allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`rewind ${name}: ${(err as Error).message}\nusage: rewind ${name} ${cmd.usage}`);
    return 2;
  }
  try {
    return (await cmd.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`rewind ${name}: ${err.message}\nusage: rewind ${name} ${cmd.usage}`);
      return 2;
    }
    console.error(`rewind ${name}: ${(err as Error).message}`);
    return 1;
  }
}

function printHelp(): void {
  console.log('usage: npm run rewind -- <command> [options]\n\ncommands:');
  for (const [name, c] of Object.entries(commands)) console.log(`  ${name.padEnd(16)} ${c.summary}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => { console.error(err); process.exit(1); },
);
