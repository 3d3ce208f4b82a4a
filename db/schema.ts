/**
 * Rewind's data model. SQLite by default; the same shapes are kept portable (text ids,
 * integer millisecond timestamps, JSON as text) so a PostgreSQL schema can mirror them.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const id = () => text('id').primaryKey().$defaultFn(() => crypto.randomUUID());
const createdAt = () => integer('created_at').notNull().$defaultFn(() => Date.now());

export const subscribers = sqliteTable('subscribers', {
  id: id(),
  name: text('name').notNull(),
  email: text('email'),
  createdAt: createdAt(),
}, (t) => [index('subscribers_name_idx').on(t.name), index('subscribers_email_idx').on(t.email)]);

export const msisdns = sqliteTable('msisdns', {
  /** Digits only, international form without '+', e.g. 447700900123. */
  msisdn: text('msisdn').primaryKey(),
  subscriberId: text('subscriber_id').notNull().references(() => subscribers.id, { onDelete: 'cascade' }),
}, (t) => [index('msisdns_subscriber_idx').on(t.subscriberId)]);

export type AuthSchemeColumn = 'basic' | 'md5' | 'hmac';

export const devices = sqliteTable('devices', {
  id: id(),
  /** The DM DevId the handset reports in ./DevInfo/DevId and SyncHdr Source, e.g. IMEI:356938035643809. */
  devId: text('dev_id').notNull(),
  manufacturer: text('manufacturer'),
  model: text('model'),
  firmware: text('firmware'),
  subscriberId: text('subscriber_id').references(() => subscribers.id, { onDelete: 'set null' }),
  // DM account. For md5 and hmac only the derived B64(MD5(user:pass)) is kept; basic needs the password itself.
  serverId: text('server_id').notNull(),
  clientAuth: text('client_auth').$type<AuthSchemeColumn>().notNull(),
  clientUser: text('client_user').notNull(),
  clientDerived: text('client_derived').notNull(),
  clientPassword: text('client_password'),
  serverAuth: text('server_auth').$type<AuthSchemeColumn>().notNull(),
  serverDerived: text('server_derived').notNull(),
  serverPassword: text('server_password'),
  /** NextNonce we gave the handset for its next credentials (base64). */
  clientNonce: text('client_nonce').notNull().default(''),
  /** NextNonce the handset gave us for our credentials (base64). */
  serverNonce: text('server_nonce').notNull().default(''),
  pushAddress: text('push_address'),
  encoding: text('encoding').$type<'xml' | 'wbxml'>(),
  lastSeenAt: integer('last_seen_at'),
  /** JSON: { bearer: 'wifi'|'cellular', roaming: boolean, operator?: string } as last read from the handset. */
  networkState: text('network_state'),
  /** JSON: the DevInfo/DevDetail values last reported. */
  deviceInfo: text('device_info'),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('devices_dev_id_idx').on(t.devId), index('devices_subscriber_idx').on(t.subscriberId)]);

/** One DM session; its engine state is JSON so any server process can take the next message. */
export const dmSessions = sqliteTable('dm_sessions', {
  id: id(),
  deviceId: text('device_id').notNull().references(() => devices.id, { onDelete: 'cascade' }),
  sessionId: text('session_id').notNull(),
  status: text('status').$type<'active' | 'complete' | 'failed'>().notNull().default('active'),
  state: text('state').notNull(),
  messages: integer('messages').notNull().default(0),
  bytesIn: integer('bytes_in').notNull().default(0),
  bytesOut: integer('bytes_out').notNull().default(0),
  error: text('error'),
  createdAt: createdAt(),
  updatedAt: integer('updated_at').notNull().$defaultFn(() => Date.now()),
}, (t) => [
  index('dm_sessions_device_idx').on(t.deviceId, t.sessionId),
  index('dm_sessions_status_idx').on(t.status, t.updatedAt),
]);

/**
 * Work for a handset. `kind` names the domain operation; `payload` and `result` are JSON.
 * A job runs in the next DM session the handset opens.
 */
export const jobs = sqliteTable('jobs', {
  id: id(),
  deviceId: text('device_id').notNull().references(() => devices.id, { onDelete: 'cascade' }),
  kind: text('kind').notNull(),
  status: text('status').$type<'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'>().notNull().default('queued'),
  payload: text('payload').notNull().default('{}'),
  result: text('result'),
  error: text('error'),
  /** DM session (dm_sessions.id) currently running the job. */
  sessionRef: text('session_ref'),
  attempts: integer('attempts').notNull().default(0),
  notBefore: integer('not_before'),
  createdAt: createdAt(),
  updatedAt: integer('updated_at').notNull().$defaultFn(() => Date.now()),
}, (t) => [index('jobs_device_status_idx').on(t.deviceId, t.status), index('jobs_status_idx').on(t.status, t.notBefore)]);

export const apiTokens = sqliteTable('api_tokens', {
  id: id(),
  name: text('name').notNull(),
  /** SHA-256 of the token, hex; the token itself is shown once. */
  tokenHash: text('token_hash').notNull(),
  role: text('role').$type<'admin' | 'agent'>().notNull(),
  createdAt: createdAt(),
  lastUsedAt: integer('last_used_at'),
  revokedAt: integer('revoked_at'),
}, (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash)]);

export const auditEvents = sqliteTable('audit_events', {
  id: id(),
  at: integer('at').notNull().$defaultFn(() => Date.now()),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  deviceId: text('device_id'),
  details: text('details'),
}, (t) => [index('audit_at_idx').on(t.at), index('audit_device_idx').on(t.deviceId)]);

