/**
 * The environment, read and validated in one place. Scripts, the server and tests call
 * `env()`; a bad value stops start-up with a message naming the variable.
 */
import { z } from 'zod';
import path from 'node:path';

const schema = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  /** A PostgreSQL database (postgres://user:pass@host/db) instead of SQLite under DATA_DIR. */
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
  ),
  /** PostgreSQL connections per process. */
  DATABASE_POOL: z.coerce.number().int().min(1).max(500).default(10),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Public base URL handsets use to reach /dm (RespURI, package URLs). */
  PUBLIC_URL: z.string().url().optional(),
  /** Server identity in DM accounts (./DMAcc/x/ServerID). */
  DM_SERVER_ID: z.string().min(1).default('rewind'),
  /** Operator SMS/WAP-push gateway that delivers Package #0 to real handsets. */
  PUSH_WEBHOOK_URL: z.string().url().optional(),
  /** Version field written in Package #0 (some clients read it differently). */
  NOTIFICATION_VERSION: z.coerce.number().int().min(0).max(1023).default(12),
  /** What a MB costs the subscriber, quoted in restore prompts: home network, roaming, currency. */
  COST_PER_MB_HOME: z.coerce.number().min(0).max(1000).default(0.01),
  COST_PER_MB_ROAMING: z.coerce.number().min(0).max(1000).default(2),
  COST_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
    .default('EUR'),
  /**
   * 1: a reverse proxy in front sets X-Forwarded-For, and the client is the last address in
   * it. 0 (the default): the socket's peer is the client, and X-Forwarded-For is ignored
   * (anyone can send one).
   */
  TRUST_PROXY: z
    .enum(['0', '1'])
    .default('0')
    .transform((v) => v === '1'),
  /** Failed authentications (sign-in, DM, DS, API token) one client address may make per window; 0: no limit. */
  AUTH_RATE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(20),
  /** The window of AUTH_RATE_LIMIT, in seconds. */
  AUTH_RATE_WINDOW: z.coerce.number().int().min(1).max(86_400).default(600),
  /** Failures per window for one identity at an address (DevId, DS client, email, token); unset: a quarter of AUTH_RATE_LIMIT. */
  AUTH_IDENTITY_LIMIT: z.coerce.number().int().min(0).max(1_000_000).optional(),
  /** Messages per window from DevIds nobody provisioned, per address (their own budget); unset: AUTH_RATE_LIMIT. */
  AUTH_UNKNOWN_LIMIT: z.coerce.number().int().min(0).max(1_000_000).optional(),
  /** Seconds before a Package #0 whose session did not come is sent again (then twice as long each time, at most an hour). */
  WAKE_RETRY_AFTER: z.coerce.number().int().min(1).max(86_400).default(120),
  /** Seconds after a job is created during which its Package #0 is sent again: the job's deadline for waking. */
  WAKE_DEADLINE: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(86_400),
  /**
   * Package #0 every server process together sends per minute, until an admin sets it in the
   * console (the `wakeBudgetPerMinute` setting); 0: no limit. The rest wait for the next minute.
   */
  WAKE_BUDGET_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  /** Where content goes: `s3://bucket/prefix` for an S3-compatible object store; else files under DATA_DIR/blobs. */
  BLOB_STORE: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 's3://bucket or s3://bucket/prefix')
    .optional(),
  /** The object store's endpoint (MinIO, Ceph, a local server); without it, AWS S3 of S3_REGION. */
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** Without these, the AWS SDK's usual chain (AWS_ACCESS_KEY_ID…, profiles, instance roles). */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: z.enum(['0', '1', 'true', 'false']).optional(),
  /** Encryption at rest: the master key (base64 of 32 bytes), or a file holding it; else DATA_DIR/master.key. */
  REWIND_MASTER_KEY: z.string().optional(),
  REWIND_MASTER_KEY_FILE: z.string().optional(),
  /** DM messages worked on at once per process; more wait their turn (memory grows with this, not with connections). */
  DM_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(32),
  /**
   * A new DM session is turned away (HTTP and SyncML 503, Retry-After) when a message arriving
   * now would wait longer than this for its turn, ms; messages of running sessions always wait.
   */
  DM_ADMIT_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  /**
   * The weakest scheme the server authenticates to handsets with (basic < md5 < hmac): an
   * account's own below it is raised to it, and a handset that asks for less (its Chal) is
   * refused and its session ended. basic, the default, follows every account and handset.
   */
  DM_MIN_SERVER_AUTH: z.enum(['basic', 'md5', 'hmac']).default('basic'),
  /**
   * Seconds after which a server process that stopped renewing its heartbeat is taken for
   * dead: its DM sessions are ended and their jobs queued again, for another process to finish.
   */
  PROCESS_HEARTBEAT_TIMEOUT: z.coerce.number().int().min(2).max(3600).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Staff single sign-on through OpenID Connect (lib/auth/oidc.ts): the issuer, this
   * deployment's client at it, where the provider sends the browser back, and which claim
   * values make an admin or an agent (`rewind-admins:admin,rewind-agents:agent`).
   */
  OIDC_ISSUER: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_REDIRECT_URL: z.string().url().optional(),
  OIDC_ROLE_CLAIM: z.string().min(1).default('groups'),
  OIDC_ROLES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const out: Record<string, 'admin' | 'agent'> = {};
      for (const pair of (v ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)) {
        const at = pair.lastIndexOf(':');
        const role = pair.slice(at + 1);
        if (at <= 0 || (role !== 'admin' && role !== 'agent')) {
          ctx.addIssue({ code: 'custom', message: `"${pair}" is not VALUE:admin or VALUE:agent` });
          return z.NEVER;
        }
        out[pair.slice(0, at)] = role;
      }
      return out;
    }),
  OIDC_SCOPES: z.string().min(1).default('openid email profile'),
  /** The name on the sign-in button: "Sign in with <name>". */
  OIDC_NAME: z.string().min(1).max(60).default('single sign-on'),
});

export type Env = z.infer<typeof schema> & { dataDir: string };

let cached: Env | undefined;

export function env(): Env {
  if (cached) return cached;
  const parsed = schema
    .superRefine((e, ctx) => {
      if (!e.OIDC_ISSUER) return;
      // Single sign-on needs all of these, and a role for someone, or nobody could sign in through it.
      if (!e.OIDC_CLIENT_ID)
        ctx.addIssue({ code: 'custom', path: ['OIDC_CLIENT_ID'], message: 'needed with OIDC_ISSUER' });
      if (!e.OIDC_REDIRECT_URL && !e.PUBLIC_URL)
        ctx.addIssue({
          code: 'custom',
          path: ['OIDC_REDIRECT_URL'],
          message: 'needed with OIDC_ISSUER (or PUBLIC_URL)',
        });
      if (!Object.keys(e.OIDC_ROLES).length)
        ctx.addIssue({
          code: 'custom',
          path: ['OIDC_ROLES'],
          message: 'needed with OIDC_ISSUER, e.g. rewind-admins:admin,rewind-agents:agent',
        });
    })
    .safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  cached = { ...parsed.data, dataDir: path.resolve(parsed.data.DATA_DIR) };
  return cached;
}

/** Tests change the environment between cases. */
export function resetEnvCache(): void {
  cached = undefined;
}
