/**
 * Rewind's data model. SQLite by default; the same shapes are kept portable (text ids,
 * integer millisecond timestamps, JSON as text) so a PostgreSQL schema can mirror them.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const id = () =>
  text('id')
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID());
const createdAt = () =>
  integer('created_at')
    .notNull()
    .$defaultFn(() => Date.now());

export const subscribers = sqliteTable(
  'subscribers',
  {
    id: id(),
    name: text('name').notNull(),
    email: text('email'),
    createdAt: createdAt(),
  },
  (t) => [index('subscribers_name_idx').on(t.name), index('subscribers_email_idx').on(t.email)],
);

export const msisdns = sqliteTable(
  'msisdns',
  {
    /** Digits only, international form without '+', e.g. 447700900123. */
    msisdn: text('msisdn').primaryKey(),
    subscriberId: text('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
  },
  (t) => [index('msisdns_subscriber_idx').on(t.subscriberId)],
);

export type AuthSchemeColumn = 'basic' | 'md5' | 'hmac';

export const devices = sqliteTable(
  'devices',
  {
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
    /** Backup policy set on this handset alone; null = its group's, its model's, or the default policy. */
    policyId: text('policy_id'),
    /**
     * When its newest complete backup finished (ms), kept here as snapshots complete and are
     * pruned, so the device list filters and sorts a million handsets by backup age on an index.
     */
    lastGoodBackupAt: integer('last_good_backup_at'),
    /** The firmware version in a form that sorts as versions do (lib/devices/filter.ts), for range rules. */
    firmwareKey: text('firmware_key'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('devices_dev_id_idx').on(t.devId),
    index('devices_subscriber_idx').on(t.subscriberId),
    index('devices_model_idx').on(t.manufacturer, t.model, t.id),
    // The list sorted by model pages on this one.
    index('devices_model_sort_idx').on(t.model, t.id),
    index('devices_firmware_key_idx').on(t.firmwareKey, t.id),
    index('devices_last_good_backup_idx').on(t.lastGoodBackupAt, t.id),
    index('devices_last_seen_idx').on(t.lastSeenAt, t.id),
    index('devices_policy_idx').on(t.policyId),
  ],
);

/**
 * A device group: a rule over the fleet evaluated live (model, firmware range, MSISDN prefix,
 * last seen, coverage), or a static list of handsets imported from CSV. Policies are assigned
 * to groups by name (policy_assignments kind 'group').
 */
export const deviceGroups = sqliteTable(
  'device_groups',
  {
    id: id(),
    name: text('name').notNull(),
    kind: text('kind').$type<'rule' | 'static'>().notNull(),
    /** JSON: the rule of a 'rule' group (lib/devices/filter.ts); null for a static list. */
    rule: text('rule'),
    /** Lower first: a handset in several groups with policies gets the first group's policy. */
    priority: integer('priority').notNull().default(100),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('device_groups_name_idx').on(t.name)],
);

/** The handsets of a static group. */
export const deviceGroupMembers = sqliteTable(
  'device_group_members',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => deviceGroups.id, { onDelete: 'cascade' }),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.deviceId] }), index('device_group_members_device_idx').on(t.deviceId)],
);

/**
 * The console's search index: one row per searchable term of a subscriber (words of the name,
 * the email, each MSISDN, each MSISDN reversed, each handset's IMEI digits), lower-cased. Every
 * search is then a prefix range on the primary key, fast with millions of rows on either database.
 */
export const searchTerms = sqliteTable(
  'search_terms',
  {
    term: text('term').notNull(),
    subscriberId: text('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.term, t.subscriberId] }), index('search_terms_subscriber_idx').on(t.subscriberId)],
);

/** One DM session; its engine state is JSON so any server process can take the next message. */
export const dmSessions = sqliteTable(
  'dm_sessions',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    sessionId: text('session_id').notNull(),
    status: text('status').$type<'active' | 'complete' | 'failed'>().notNull().default('active'),
    state: text('state').notNull(),
    messages: integer('messages').notNull().default(0),
    bytesIn: integer('bytes_in').notNull().default(0),
    bytesOut: integer('bytes_out').notNull().default(0),
    error: text('error'),
    /**
     * How authentication changed in this session, in plain words: the server switched to the
     * scheme the handset checks it with (its DMAcc AppAuth) and kept it on the account.
     */
    authChange: text('auth_change'),
    /** When this session's inventory (firmware, network state) came back, and jobs could start. */
    readyAt: integer('ready_at'),
    /**
     * The server process that handled its last message (its heartbeat is the lease
     * `process:<id>`): a session whose process stopped is ended and its jobs queued again.
     */
    processId: text('process_id'),
    /** What opened it: 'client' (Alert 1201, the handset by itself) or 'server' (Alert 1200, after a Package #0). */
    initiator: text('initiator').$type<'client' | 'server'>(),
    /**
     * How it ended when not plainly (the engine's SessionEndReason: auth-failed, client-abort,
     * server-abort, server-auth-refused, limit); worded for people by lib/devices/history-words.ts.
     */
    endReason: text('end_reason'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at')
      .notNull()
      .$defaultFn(() => Date.now()),
  },
  (t) => [
    index('dm_sessions_device_idx').on(t.deviceId, t.sessionId),
    index('dm_sessions_status_idx').on(t.status, t.updatedAt),
  ],
);

/**
 * A known handset's messages that opened no session anyone will read again: failed
 * authentications (wrong or missing credentials; their unauthenticated session rows are
 * reaped) and messages refused by the rate limits. The same reason within a while is one row
 * with a count, and a handset keeps only its newest rows (db/queries/device-attempts.ts), so
 * a flood of them cannot grow the table.
 */
export const deviceAttempts = sqliteTable(
  'device_attempts',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    /** dm | ds */
    channel: text('channel').$type<'dm' | 'ds'>().notNull(),
    /** A reason code (wrong-credentials, no-credentials, rate-limited), worded by lib/devices/history-words.ts. */
    reason: text('reason').notNull(),
    count: integer('count').notNull().default(1),
    firstAt: integer('first_at').notNull(),
    lastAt: integer('last_at').notNull(),
  },
  (t) => [index('device_attempts_device_idx').on(t.deviceId, t.lastAt)],
);

/**
 * Which firmware a handset ran when, as its inventory reported it (./DevDetail/FwV) at the
 * start of each session: one row per run of one version, from when it was first reported to
 * when it was last. A fault or recall is traced by version and dates over these.
 */
export const firmwareRuns = sqliteTable(
  'firmware_runs',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    firmware: text('firmware').notNull(),
    firstSeenAt: integer('first_seen_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
  },
  (t) => [
    index('firmware_runs_device_idx').on(t.deviceId, t.lastSeenAt),
    index('firmware_runs_firmware_idx').on(t.firmware, t.firstSeenAt),
  ],
);

/**
 * Large values of a session's state (Large Object data, queued values), kept apart by
 * SHA-256 so the state row written with every message stays small: a value is written
 * once however many messages it stays in the state.
 */
export const dmSessionValues = sqliteTable(
  'dm_session_values',
  {
    sessionRowId: text('session_row_id')
      .notNull()
      .references(() => dmSessions.id, { onDelete: 'cascade' }),
    hash: text('hash').notNull(),
    data: text('data').notNull(),
  },
  (t) => [uniqueIndex('dm_session_values_pk').on(t.sessionRowId, t.hash)],
);

/**
 * Work for a handset. `kind` names the domain operation; `payload` and `result` are JSON.
 * The kinds and each one's payload schema are lib/jobs/kinds.ts (db/queries/jobs.ts parses
 * the payload as it reads a row). A job runs in the next DM session the handset opens.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** 'rejected': the handset's user said no (a restore's consent prompt). */
    status: text('status')
      .$type<'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'rejected'>()
      .notNull()
      .default('queued'),
    payload: text('payload').notNull().default('{}'),
    result: text('result'),
    error: text('error'),
    /** DM session (dm_sessions.id) currently running the job. */
    sessionRef: text('session_ref'),
    /** JSON: where a running job is (e.g. a backup's pending paths), so another process can carry on. */
    progress: text('progress'),
    /** A job that must succeed first (a safety backup before a restore or firmware update). */
    dependsOn: text('depends_on'),
    /** The bulk operation that queued it (bulk_operations.id), for its progress. */
    bulkId: text('bulk_id'),
    /** Package #0 requested and not yet sent (the server process that sees it sends it). */
    wakePending: integer('wake_pending', { mode: 'boolean' }).notNull().default(false),
    /** The pending Package #0 not before this (ms): a resend waits its backoff. */
    wakeAt: integer('wake_at'),
    /** JSON: each Package #0 sent for the job, [{ at, delivered, error? }] (lib/jobs/wakes.ts). */
    wakeAttempts: text('wake_attempts'),
    /** Until when a Package #0 whose session did not come is sent again (ms); set by the first one. */
    deadline: integer('deadline'),
    attempts: integer('attempts').notNull().default(0),
    notBefore: integer('not_before'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at')
      .notNull()
      .$defaultFn(() => Date.now()),
  },
  (t) => [
    index('jobs_device_status_idx').on(t.deviceId, t.status),
    index('jobs_status_idx').on(t.status, t.notBefore),
    index('jobs_wake_idx').on(t.wakePending),
    index('jobs_bulk_idx').on(t.bulkId, t.status),
  ],
);

/**
 * An action an admin ordered on many handsets at once (a selection or a whole filter of the
 * device list): back up now, DS backup now, assign a group or a policy. It is worked through
 * in pages from `cursor`, so it resumes after a restart; the jobs it queues carry its id.
 */
export const bulkOperations = sqliteTable(
  'bulk_operations',
  {
    id: id(),
    action: text('action').$type<'backup' | 'ds-backup' | 'assign-group' | 'assign-policy'>().notNull(),
    /** JSON: the filter or the device ids it was ordered on, and the action's parameters. */
    request: text('request').notNull(),
    actor: text('actor').notNull(),
    status: text('status')
      .$type<'queued' | 'running' | 'complete' | 'failed' | 'cancelled'>()
      .notNull()
      .default('queued'),
    /** Handsets it covers (the dry run's count when ordered). */
    total: integer('total').notNull().default(0),
    /** Handsets handled so far: a job queued or an assignment made. */
    done: integer('done').notNull().default(0),
    /** Handsets it could not act on (e.g. a backup already queued), with the reasons in `error`. */
    skipped: integer('skipped').notNull().default(0),
    /** The last device id handled, where the next page starts. */
    cursor: text('cursor'),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at'),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('bulk_operations_created_idx').on(t.createdAt)],
);

/** A manufacturer's model, as the handset reports it in DevInfo Man/Mod. */
export const deviceModels = sqliteTable(
  'device_models',
  {
    id: id(),
    manufacturer: text('manufacturer').notNull(),
    model: text('model').notNull(),
    /**
     * How a backup finds what changed on this model, learned from its handsets: 'digest' (the
     * B&R MO's digests), 'verno' or 'tstamp' (the DM tree's node properties VerNo or TStamp),
     * 'none' (a full fetch every time); null until a backup has tried.
     */
    changeDetection: text('change_detection').$type<'digest' | 'verno' | 'tstamp' | 'none'>(),
    changeDetectionAt: integer('change_detection_at'),
    /** Verification walks that found a digest claiming "unchanged" over a change: a handset defect. */
    digestDefects: integer('digest_defects').notNull().default(0),
    lastDigestDefect: text('last_digest_defect'),
    lastDigestDefectAt: integer('last_digest_defect_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('device_models_man_mod_idx').on(t.manufacturer, t.model)],
);

/** Which DM subtrees make up a category for a model (added to the generic profile). */
export const backupProfiles = sqliteTable(
  'backup_profiles',
  {
    id: id(),
    modelId: text('model_id')
      .notNull()
      .references(() => deviceModels.id, { onDelete: 'cascade' }),
    category: text('category').notNull(),
    /** JSON array of DM paths, e.g. ["./Settings", "./Ext/Vendor/Sound"]. */
    paths: text('paths').notNull(),
    updatedAt: integer('updated_at')
      .notNull()
      .$defaultFn(() => Date.now()),
  },
  (t) => [uniqueIndex('backup_profiles_model_category_idx').on(t.modelId, t.category)],
);

/** How often and what to back up, and how long to keep it. */
export const policies = sqliteTable(
  'policies',
  {
    id: id(),
    name: text('name').notNull(),
    /** JSON array of categories. */
    categories: text('categories').notNull(),
    /** Minutes between scheduled backups; 0 = never scheduled. */
    intervalMinutes: integer('interval_minutes').notNull(),
    /** Spread of scheduled wake-ups, so a million handsets do not all connect at once. */
    jitterMinutes: integer('jitter_minutes').notNull().default(0),
    wifiOnly: integer('wifi_only', { mode: 'boolean' }).notNull().default(false),
    roamingAllowed: integer('roaming_allowed', { mode: 'boolean' }).notNull().default(false),
    /** JSON: { keepLast?, daily?, weekly?, monthly? } (counts of snapshots to keep). */
    retention: text('retention').notNull().default('{}'),
    /**
     * A full verification walk every this many backups of a handset whose backups move only
     * what changed (0 = never by count), and at least every this many days (0 = never by age).
     */
    verifyEveryBackups: integer('verify_every_backups').notNull().default(10),
    verifyEveryDays: integer('verify_every_days').notNull().default(7),
    /** A safety backup of the handset before anything is written to it (a restore, a firmware or app update). */
    safetyBackupBeforeUpdates: integer('safety_backup_before_updates', { mode: 'boolean' }).notNull().default(true),
    isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('policies_name_idx').on(t.name)],
);

/**
 * One backup of one device. Its entries are a content-addressed manifest blob whose
 * SHA-256 is the snapshot's root hash; only a 'complete' snapshot may be restored.
 */
export const snapshots = sqliteTable(
  'snapshots',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    jobId: text('job_id'),
    /** on-demand | scheduled | safety | device | connect */
    trigger: text('trigger').notNull(),
    status: text('status').$type<'incomplete' | 'complete' | 'failed'>().notNull().default('incomplete'),
    /** JSON array of categories. */
    categories: text('categories').notNull(),
    /** SHA-256 (hex) of the manifest, set when complete. */
    rootHash: text('root_hash'),
    entries: integer('entries').notNull().default(0),
    /** Logical size: the sum of every value's bytes. */
    bytes: integer('bytes').notNull().default(0),
    /** Content this snapshot added to the store (0 for an unchanged handset). */
    newBytes: integer('new_bytes').notNull().default(0),
    /**
     * How it found what changed: 'full' (fetched everything), 'digest' (the B&R MO's digests),
     * 'verno' / 'tstamp' (the node properties), 'verify' (a full walk checking what they claimed).
     */
    changeDetection: text('change_detection').$type<'full' | 'digest' | 'verno' | 'tstamp' | 'verify'>(),
    /**
     * The node property values (VerNo or TStamp) the handset reported for this snapshot's
     * nodes, read before their content: JSON {"prop":"VerNo","marks":{"<path>":"<value>"}}.
     * The next backup of a model with node properties compares with them.
     */
    changeMarks: text('change_marks'),
    /** The DM session that took it (its row is pruned in time; the figures below are copied). */
    sessionRef: text('session_ref'),
    /** Over the air in that session: bytes from the handset, to it, and round trips; null for a local backup. */
    airBytesUp: integer('air_bytes_up'),
    airBytesDown: integer('air_bytes_down'),
    airRoundTrips: integer('air_round_trips'),
    /** A verification walk found the handset's digests wrong: what differed (the full result was kept). */
    digestDefect: text('digest_defect'),
    legalHold: integer('legal_hold', { mode: 'boolean' }).notNull().default(false),
    error: text('error'),
    startedAt: integer('started_at')
      .notNull()
      .$defaultFn(() => Date.now()),
    completedAt: integer('completed_at'),
  },
  (t) => [
    index('snapshots_device_idx').on(t.deviceId, t.startedAt),
    index('snapshots_root_idx').on(t.rootHash),
    // A session's end copies its airtime onto the snapshots it took: without it, a scan of every snapshot per session.
    index('snapshots_session_idx').on(t.sessionRef),
  ],
);

/** Entries of a snapshot still being taken; folded into its manifest when it completes. */
export const snapshotStaging = sqliteTable(
  'snapshot_staging',
  {
    snapshotId: text('snapshot_id')
      .notNull()
      .references(() => snapshots.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    category: text('category').notNull(),
    format: text('format').notNull(),
    type: text('type'),
    size: integer('size').notNull(),
    /** SHA-256 hex of the value; null for interior nodes. */
    hash: text('hash'),
  },
  (t) => [uniqueIndex('snapshot_staging_pk').on(t.snapshotId, t.path)],
);

/** Content in the blob store, by SHA-256: what garbage collection and storage figures read. */
export const blobs = sqliteTable('blobs', {
  hash: text('hash').primaryKey(),
  size: integer('size').notNull(),
  createdAt: createdAt(),
});

/** A backup the handset keeps itself (device storage or smart card), as it reported it. */
export const localBackups = sqliteTable(
  'local_backups',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    /** The handset's name for it (BR/Local/<id>). */
    localId: text('local_id').notNull(),
    target: text('target').$type<'device' | 'smartcard'>().notNull(),
    takenAt: text('taken_at').notNull(),
    categories: text('categories').notNull(),
    entries: integer('entries').notNull(),
    size: integer('size').notNull(),
    rootHash: text('root_hash').notNull(),
    jobId: text('job_id'),
    reportedAt: integer('reported_at')
      .notNull()
      .$defaultFn(() => Date.now()),
    /** Set when a later session found it gone from the handset. */
    goneAt: integer('gone_at'),
  },
  (t) => [uniqueIndex('local_backups_device_local_idx').on(t.deviceId, t.localId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: id(),
    name: text('name').notNull(),
    /** SHA-256 of the token, hex; the token itself is shown once. */
    tokenHash: text('token_hash').notNull(),
    role: text('role').$type<'admin' | 'agent'>().notNull(),
    /** 'read': GET and HEAD only; 'full': whatever the role may do. */
    scope: text('scope').$type<'read' | 'full'>().notNull().default('full'),
    createdAt: createdAt(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    /** After this (ms) the token is refused; null: it does not expire. */
    expiresAt: integer('expires_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash)],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: id(),
    at: integer('at')
      .notNull()
      .$defaultFn(() => Date.now()),
    /** Who: a user's email, `token:<name>`, `handset:<devId>` (a consent answer), or `system`. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    deviceId: text('device_id'),
    details: text('details'),
  },
  (t) => [
    index('audit_at_idx').on(t.at),
    index('audit_device_idx').on(t.deviceId, t.at),
    index('audit_actor_idx').on(t.actor, t.at),
    index('audit_action_idx').on(t.action, t.at),
  ],
);

/** A policy for every handset of a model or of a device group. A device's own policy wins, then its group's, then its model's, then the default. */
export const policyAssignments = sqliteTable(
  'policy_assignments',
  {
    id: id(),
    /** 'model' (key = "manufacturer/model") or 'group' (key = the group name). */
    kind: text('kind').$type<'model' | 'group'>().notNull(),
    key: text('key').notNull(),
    policyId: text('policy_id')
      .notNull()
      .references(() => policies.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('policy_assignments_kind_key_idx').on(t.kind, t.key),
    index('policy_assignments_policy_idx').on(t.policyId),
  ],
);

/** Firmware images admins publish, per model and version; the bytes are in the blob store. */
export const firmwarePackages = sqliteTable(
  'firmware_packages',
  {
    id: id(),
    manufacturer: text('manufacturer').notNull(),
    model: text('model').notNull(),
    version: text('version').notNull(),
    name: text('name'),
    blobHash: text('blob_hash').notNull(),
    size: integer('size').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('firmware_packages_model_version_idx').on(t.manufacturer, t.model, t.version)],
);

/** Application packages, one per app and version, so a reinstall puts back exactly the version recorded. */
export const appPackages = sqliteTable(
  'app_packages',
  {
    id: id(),
    appId: text('app_id').notNull(),
    name: text('name').notNull(),
    version: text('version').notNull(),
    /** JSON array of "manufacturer/model" it installs on; null = any. */
    models: text('models'),
    /** The maker whose preinstalled system app this is: never installed on another maker's handset. */
    systemOf: text('system_of'),
    blobHash: text('blob_hash').notNull(),
    size: integer('size').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('app_packages_app_version_idx').on(t.appId, t.version)],
);

/** A restore as computed and shown (the dry run); executing it runs exactly this plan. */
export const restorePlans = sqliteTable(
  'restore_plans',
  {
    id: id(),
    snapshotId: text('snapshot_id')
      .notNull()
      .references(() => snapshots.id, { onDelete: 'cascade' }),
    sourceDeviceId: text('source_device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    targetDeviceId: text('target_device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    /** JSON: the plan (steps, bytes, cost, prompt, compatibility report). */
    plan: text('plan').notNull(),
    /** SHA-256 of `plan`: what the person confirmed. */
    planHash: text('plan_hash').notNull(),
    createdBy: text('created_by').notNull(),
    jobId: text('job_id'),
    createdAt: createdAt(),
  },
  (t) => [index('restore_plans_target_idx').on(t.targetDeviceId)],
);

/** One thing a restore writes or installs, with its outcome and its read-back. */
export const restoreItems = sqliteTable(
  'restore_items',
  {
    id: id(),
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    /** node | app | firmware */
    kind: text('kind').notNull(),
    path: text('path').notNull(),
    /** add | replace | delete | install | update */
    op: text('op').notNull(),
    status: text('status')
      .$type<'pending' | 'sent' | 'written' | 'failed' | 'verified' | 'mismatch' | 'skipped' | 'unchanged'>()
      .notNull()
      .default('pending'),
    /** The DM status or result code the handset answered. */
    code: integer('code'),
    detail: text('detail'),
    updatedAt: integer('updated_at')
      .notNull()
      .$defaultFn(() => Date.now()),
  },
  (t) => [
    uniqueIndex('restore_items_job_seq_idx').on(t.jobId, t.seq),
    index('restore_items_job_status_idx').on(t.jobId, t.status),
  ],
);

/** Every prompt shown to a handset's user and the answer: the consent ledger. */
export const consents = sqliteTable(
  'consents',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    subscriberId: text('subscriber_id'),
    jobId: text('job_id'),
    /** UI alert code: 1101 (confirm) or 1103 (single choice). */
    code: text('code').notNull(),
    prompt: text('prompt').notNull(),
    promptVersion: text('prompt_version').notNull(),
    /** accepted | deferred | rejected | timeout | unanswered */
    answer: text('answer').notNull(),
    /** JSON: the network state the prompt was shown on. */
    network: text('network'),
    /** The cost quoted, e.g. "about EUR 12.40 while roaming". */
    cost: text('cost'),
    /** Why the restore asked for was started: a reason or a ticket reference. */
    reason: text('reason'),
    at: integer('at')
      .notNull()
      .$defaultFn(() => Date.now()),
  },
  (t) => [index('consents_device_idx').on(t.deviceId, t.at), index('consents_subscriber_idx').on(t.subscriberId, t.at)],
);

/** A subscriber's old handset and the new one its backup was carried to. */
export const deviceLinks = sqliteTable(
  'device_links',
  {
    id: id(),
    fromDeviceId: text('from_device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    toDeviceId: text('to_device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    reason: text('reason').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('device_links_pair_idx').on(t.fromDeviceId, t.toDeviceId)],
);

export type UserRole = 'admin' | 'agent' | 'subscriber';

/** People who sign in to the console (admins, agents) or the portal (subscribers). */
export const users = sqliteTable(
  'users',
  {
    id: id(),
    /** Lower-case; unique. */
    email: text('email').notNull(),
    /** `scrypt$N$r$p$salt$hash` (lib/auth/password.ts). */
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<UserRole>().notNull(),
    /** The subscriber a 'subscriber' user is; null for staff. */
    subscriberId: text('subscriber_id').references(() => subscribers.id, { onDelete: 'cascade' }),
    /** Consecutive failed sign-ins since the last success. */
    failedAttempts: integer('failed_attempts').notNull().default(0),
    lockedUntil: integer('locked_until'),
    /** `<issuer> <sub>` of a staff member who signs in through OpenID Connect; null for local users. */
    ssoSubject: text('sso_subject'),
    createdAt: createdAt(),
    lastSignInAt: integer('last_sign_in_at'),
  },
  (t) => [
    uniqueIndex('users_email_idx').on(t.email),
    index('users_subscriber_idx').on(t.subscriberId),
    uniqueIndex('users_sso_subject_idx').on(t.ssoSubject),
  ],
);

/** A device-list query a user saved under a name: its filters and sort (lib/devices/filter.ts). */
export const savedViews = sqliteTable(
  'saved_views',
  {
    id: id(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** JSON: the list query (filters and sort). */
    query: text('query').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('saved_views_user_name_idx').on(t.userId, t.name)],
);

/** A signed-in browser. The id is the SHA-256 (hex) of the cookie's token; the token itself is never stored. */
export const webSessions = sqliteTable(
  'web_sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('web_sessions_user_idx').on(t.userId), index('web_sessions_expires_idx').on(t.expiresAt)],
);

// ---------------------------------------------------------------------------------------
// Data Sync (OMA DS 1.2): contacts and calendar backed up through /ds.

export type DsStoreName = 'contacts' | 'calendar';

/** A handset's DS account: what its DS client signs in with. Only B64(MD5(user:pass)) is kept; it checks basic and MD5 credentials alike. */
export const dsAccounts = sqliteTable(
  'ds_accounts',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    /** Unique across the server: MD5 credentials name the account only by it. */
    username: text('username').notNull(),
    derived: text('derived').notNull(),
    /** 'basic' accepts basic or MD5; 'md5' challenges a basic client for MD5. */
    auth: text('auth').$type<'basic' | 'md5'>().notNull().default('basic'),
    /** NextNonce we gave this account for its next MD5 credentials (base64). */
    nonce: text('nonce').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('ds_accounts_username_idx').on(t.username), index('ds_accounts_device_idx').on(t.deviceId)],
);

/** One datastore of an account as last synced: the anchors that let the next two-way sync send only changes. */
export const dsStores = sqliteTable(
  'ds_stores',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => dsAccounts.id, { onDelete: 'cascade' }),
    store: text('store').$type<DsStoreName>().notNull(),
    /** The client's Next anchor of the last sync that completed; its next Last must equal it. */
    clientAnchor: text('client_anchor'),
    serverAnchor: text('server_anchor'),
    /** The client's datastore URI, e.g. ./contacts. */
    clientUri: text('client_uri'),
    syncedAt: integer('synced_at'),
    lastSyncType: text('last_sync_type'),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.store] })],
);

/** The server's copy of one contact or event. Content is in the blob store by SHA-256. */
export const dsItems = sqliteTable(
  'ds_items',
  {
    id: id(),
    accountId: text('account_id')
      .notNull()
      .references(() => dsAccounts.id, { onDelete: 'cascade' }),
    store: text('store').$type<DsStoreName>().notNull(),
    /** The client's LUID for it, once known (from its Add, or its Map after ours). */
    luid: text('luid'),
    contentType: text('content_type').notNull(),
    hash: text('hash').notNull(),
    size: integer('size').notNull(),
    /** For people: the contact's name or the event's summary. */
    summary: text('summary').notNull().default(''),
    /** The vCard/iCalendar UID when it has one: how snapshots match an item across versions. */
    uid: text('uid'),
    /** Set when the server has a change the client has not received yet (a restore loaded it). */
    pending: text('pending').$type<'add' | 'replace' | 'delete'>(),
    updatedAt: integer('updated_at')
      .notNull()
      .$defaultFn(() => Date.now()),
  },
  (t) => [
    index('ds_items_account_store_idx').on(t.accountId, t.store),
    uniqueIndex('ds_items_luid_idx').on(t.accountId, t.store, t.luid),
  ],
);

/** One DS session; its state is JSON so any server process can take the next message. */
export const dsSessions = sqliteTable(
  'ds_sessions',
  {
    id: id(),
    /** The client's SyncHdr Source and SessionID: how its next message finds this row. */
    source: text('source').notNull(),
    sessionId: text('session_id').notNull(),
    accountId: text('account_id'),
    status: text('status').$type<'active' | 'complete' | 'failed'>().notNull().default('active'),
    state: text('state').notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at')
      .notNull()
      .$defaultFn(() => Date.now()),
  },
  (t) => [index('ds_sessions_lookup_idx').on(t.source, t.sessionId, t.status)],
);

/** A DS backup: the account's stores as one session left them, versioned like DM snapshots (a manifest blob whose hash is the root). */
export const dsSnapshots = sqliteTable(
  'ds_snapshots',
  {
    id: id(),
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    accountId: text('account_id').notNull(),
    jobId: text('job_id'),
    syncType: text('sync_type').notNull(),
    rootHash: text('root_hash').notNull(),
    contacts: integer('contacts').notNull(),
    events: integer('events').notNull(),
    bytes: integer('bytes').notNull(),
    newBytes: integer('new_bytes').notNull(),
    /** JSON: per store, what the session changed ({ added, replaced, deleted }). */
    changes: text('changes').notNull().default('{}'),
    createdAt: createdAt(),
  },
  (t) => [index('ds_snapshots_device_idx').on(t.deviceId, t.createdAt)],
);

/**
 * Encryption at rest: one data key per key owner (a subscriber, or a handset that has none),
 * wrapped (AES-256-GCM) by the master key from the environment. Deleting the row is what
 * makes the owner's content unreadable: nothing else can unwrap their content keys.
 */
export const contentKeys = sqliteTable('content_keys', {
  owner: text('owner').primaryKey(),
  /** base64 of IV, ciphertext and tag of the 32-byte data key. */
  wrapped: text('wrapped').notNull(),
  createdAt: createdAt(),
});

/**
 * Each blob is sealed with a key of its own; here that key is wrapped by the data key of
 * every owner whose content it is. Identical content of one owner is stored once; content
 * two owners share stays readable by the other when one is erased.
 */
export const blobKeys = sqliteTable(
  'blob_keys',
  {
    hash: text('hash').notNull(),
    owner: text('owner').notNull(),
    wrapped: text('wrapped').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hash, t.owner] }), index('blob_keys_owner_idx').on(t.owner)],
);

/**
 * Pack files (lib/backup/packs.ts): an owner's sealed values back to back in one file or
 * object, so storing a DM message's values costs one append and one fsync, not a file each.
 * `size` is the bytes written so far; garbage collection compares it with the live bytes.
 */
export const packs = sqliteTable(
  'packs',
  {
    id: text('id').primaryKey(),
    owner: text('owner').notNull(),
    size: integer('size').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('packs_owner_idx').on(t.owner)],
);

/**
 * Where each owner's packed value is: its pack and byte range. Dedup is per owner (a pack
 * holds one owner's values, so erasing them is deleting their packs and these rows).
 */
export const packValues = sqliteTable(
  'pack_values',
  {
    owner: text('owner').notNull(),
    hash: text('hash').notNull(),
    packId: text('pack_id').notNull(),
    offset: integer('offset').notNull(),
    length: integer('length').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.owner, t.hash] }),
    index('pack_values_pack_idx').on(t.packId),
    index('pack_values_hash_idx').on(t.hash),
  ],
);

/**
 * Work only one server process may do at a time (the scheduler's pass, the hourly garbage
 * collection): the holder renews its lease; another process takes over once it expires.
 */
export const leases = sqliteTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/**
 * The deployment's identity: what every server process and command must share, written by
 * the first one to start (lib/core/deployment.ts). One row. The blob store (`s3` with its
 * bucket and prefix, or `file` with its directory) and a fingerprint of the master key
 * (an HMAC under the key, never the key): a process configured otherwise refuses to start.
 */
export const deployment = sqliteTable('deployment', {
  id: integer('id').primaryKey(),
  blobStore: text('blob_store').$type<'s3' | 'file'>().notNull(),
  blobBucket: text('blob_bucket'),
  blobPrefix: text('blob_prefix'),
  blobDir: text('blob_dir'),
  keyFingerprint: text('key_fingerprint').notNull(),
  createdAt: createdAt(),
  updatedAt: integer('updated_at').notNull(),
});

/** Settings an admin changes at run time, one row per key (e.g. `wakeBudgetPerMinute`); the value is JSON. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedBy: text('updated_by'),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Package #0 sent per minute by every server process together, so the wake budget holds for
 * the deployment: a process takes its share of a minute's budget before it sends.
 */
export const wakeMinutes = sqliteTable('wake_minutes', {
  /** The minute, as ms since the epoch divided by 60,000. */
  minute: integer('minute').primaryKey(),
  sent: integer('sent').notNull().default(0),
});

/**
 * What raises an alert, one row per kind (lib/alerts/rules.ts): `threshold` is the count of
 * failures in a row or the days, as the kind reads it; a disabled rule raises nothing.
 */
export const alertRules = sqliteTable('alert_rules', {
  kind: text('kind').primaryKey(),
  threshold: integer('threshold').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * An alert about one handset. `conditionKey` names the condition it was raised for (the
 * rule, the handset and what anchors it: the first failure of a streak, the last good
 * snapshot, the failed job), unique, so a condition raises one alert however often it is
 * evaluated, and a new occurrence (a new streak) raises a new one.
 */
export const alerts = sqliteTable(
  'alerts',
  {
    id: id(),
    kind: text('kind').notNull(),
    conditionKey: text('condition_key').notNull(),
    deviceId: text('device_id').references(() => devices.id, { onDelete: 'cascade' }),
    status: text('status').$type<'open' | 'acknowledged' | 'resolved'>().notNull().default('open'),
    /** What happened, in plain words. */
    message: text('message').notNull(),
    /** JSON: what the condition saw (the job, snapshot, category, days). */
    details: text('details').notNull().default('{}'),
    raisedAt: integer('raised_at').notNull(),
    acknowledgedAt: integer('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: integer('resolved_at'),
    /** A person, or `system` when the condition cleared. */
    resolvedBy: text('resolved_by'),
  },
  (t) => [
    uniqueIndex('alerts_condition_idx').on(t.conditionKey),
    index('alerts_status_idx').on(t.status, t.raisedAt),
    index('alerts_device_idx').on(t.deviceId, t.kind, t.status),
  ],
);

/** Where events go: a URL, the secret their HMAC-SHA256 signature is made with, and which events. */
export const webhooks = sqliteTable('webhooks', {
  id: id(),
  url: text('url').notNull(),
  secret: text('secret').notNull(),
  /** JSON array of event names (lib/alerts/events.ts). */
  events: text('events').notNull(),
  createdAt: createdAt(),
});

/**
 * One event for one webhook, kept until delivered or given up: a process that stops
 * mid-retry leaves the row for the next pass. `eventKey` makes an event once per webhook.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: id(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    eventKey: text('event_key').notNull(),
    /** The exact JSON sent (and signed). */
    body: text('body').notNull(),
    status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    /** The receiver's HTTP status, or null when it could not be reached. */
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_idx').on(t.webhookId, t.eventKey),
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt),
  ],
);
