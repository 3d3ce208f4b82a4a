/**
 * The authentication schemes of a DM account, as the CLI takes them: a DMAcc's AppAuth holds
 * one for how the handset proves itself to the server (`--client-auth`) and one for how it
 * checks the server (`--server-auth`); `--auth` sets both, and either of the others wins
 * over it for its own direction.
 */
import type { AuthScheme } from '../lib/omadm/auth';
import { authSchemeSchema } from '../lib/devices/schemas';
import { UsageError, type Command } from './usage';

export const AUTH_OPTIONS = {
  auth: { type: 'string' },
  'client-auth': { type: 'string' },
  'server-auth': { type: 'string' },
} as const satisfies Command['options'];

export const AUTH_USAGE = '--auth basic|md5|hmac | --client-auth basic|md5|hmac [--server-auth basic|md5|hmac]';

function scheme(values: Record<string, string | boolean | undefined>, name: string): AuthScheme | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const parsed = authSchemeSchema.safeParse(v);
  if (!parsed.success) throw new UsageError(`--${name} must be basic, md5 or hmac`);
  return parsed.data;
}

/** Both directions' schemes; without any flag, `fallback` (or a usage error when there is none). */
export function authSchemes(
  values: Record<string, string | boolean | undefined>,
  fallback?: AuthScheme,
): { client: AuthScheme; server: AuthScheme } {
  const both = scheme(values, 'auth');
  const client = scheme(values, 'client-auth') ?? both ?? fallback;
  if (client === undefined) throw new UsageError('--auth or --client-auth is required');
  return { client, server: scheme(values, 'server-auth') ?? both ?? client };
}
