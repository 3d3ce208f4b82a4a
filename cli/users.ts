/** `rewind user add`: console and portal users. */
import { getContext } from '../lib/core/context';
import { createUserAs } from '../lib/auth/user-admin';
import { AppError } from '../lib/core/errors';
import { USER_ROLES } from '../lib/auth/schemas';
import { required, UsageError, type Command } from './usage';

/** The first line of standard input (a password piped in, so it stays out of the shell history and `ps`). */
async function firstLineOfStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  let buf = '';
  for await (const chunk of process.stdin) {
    buf += String(chunk);
    const nl = buf.search(/\r?\n/);
    if (nl >= 0) {
      buf = buf.slice(0, nl);
      break;
    }
    if (buf.length > 4096) break;
  }
  process.stdin.destroy();
  return buf;
}

export const userAdd: Command = {
  summary: 'create a console or portal user (password from stdin when --password is absent)',
  usage: '--email E [--password P] --role admin|agent|subscriber [--subscriber SUBSCRIBER_ID]',
  options: {
    email: { type: 'string' },
    password: { type: 'string' },
    role: { type: 'string' },
    subscriber: { type: 'string' },
  },
  async run(v) {
    const email = required(v, 'email');
    const role = required(v, 'role');
    if (!(USER_ROLES as readonly string[]).includes(role))
      throw new UsageError(`--role must be ${USER_ROLES.join(', ')}`);
    const password = typeof v.password === 'string' ? v.password : await firstLineOfStdin();
    try {
      const u = await createUserAs(
        getContext().db,
        {
          email,
          password,
          role: role as (typeof USER_ROLES)[number],
          subscriberId: v.subscriber as string | undefined,
        },
        'cli',
      );
      console.log(`user ${u.email} created (${u.role}, id ${u.id})`);
    } catch (err) {
      if (err instanceof AppError) throw new UsageError(err.message);
      throw err;
    }
  },
};
