/** The REST API's OpenAPI 3.1 document, served at /api/v1/openapi.json. */
import { CATEGORIES, LOCAL_TARGETS } from '../omadm/mo/backup-restore';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const nullable = (type: string) => ({ type: [type, 'null'] });

const device = {
  type: 'object',
  properties: {
    id: { type: 'string' }, devId: { type: 'string' }, manufacturer: { type: 'string' }, model: { type: 'string' },
    firmware: nullable('string'), subscriberId: nullable('string'), serverId: { type: 'string' },
    clientAuth: { enum: ['basic', 'md5', 'hmac'] }, serverAuth: { enum: ['basic', 'md5', 'hmac'] },
    pushAddress: nullable('string'), lastSeenAt: { ...nullable('integer'), description: 'ms since the epoch' },
    networkState: { type: ['object', 'null'], description: 'bearer, roaming, operator as last read from the handset' },
  },
};
const provision = {
  type: 'object',
  required: ['devId', 'manufacturer', 'model', 'serverId', 'clientAuth', 'clientUser', 'clientPass', 'serverPass'],
  properties: {
    devId: { type: 'string', example: 'IMEI:356938035643809' }, manufacturer: { type: 'string' }, model: { type: 'string' },
    firmware: { type: 'string' }, msisdn: { type: 'string', example: '+44 7700 900123' }, subscriber: { type: 'string' }, email: { type: 'string', format: 'email' },
    serverId: { type: 'string' }, clientAuth: { enum: ['basic', 'md5', 'hmac'] }, clientUser: { type: 'string' },
    clientPass: { type: 'string', writeOnly: true }, serverAuth: { enum: ['basic', 'md5', 'hmac'] },
    serverPass: { type: 'string', writeOnly: true }, pushAddress: { type: 'string' },
    clientNonce: { type: 'string', description: 'base64; the nonce the handset uses first' }, serverNonce: { type: 'string', description: 'base64' },
  },
};
const error = {
  type: 'object',
  properties: {
    error: {
      type: 'object', required: ['code', 'message'],
      properties: {
        code: { type: 'string' }, message: { type: 'string' },
        fieldErrors: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: "messages by field ('paths.2'; for imports 'ROW.column')" },
      },
    },
  },
};
const category = { enum: [...CATEGORIES] };
const categories = { type: 'array', items: ref('Category'), minItems: 1, uniqueItems: true };
const subscriber = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, email: nullable('string'), createdAt: { type: 'integer' },
    msisdns: { type: 'array', items: { type: 'string', example: '447700900123' }, description: 'digits only, international form' },
    devices: { type: 'integer', description: 'how many devices the subscriber has' },
  },
};
const snapshot = {
  type: 'object',
  properties: {
    id: { type: 'string' }, deviceId: { type: 'string' }, jobId: nullable('string'),
    trigger: { enum: ['on-demand', 'scheduled', 'safety', 'device', 'connect'] },
    status: { enum: ['incomplete', 'complete', 'failed'] }, categories,
    rootHash: { ...nullable('string'), description: 'SHA-256 (hex) of the manifest, set when complete' },
    entries: { type: 'integer' }, bytes: { type: 'integer', description: 'logical size: every value\'s bytes' },
    newBytes: { type: 'integer', description: 'content this snapshot added to the store' },
    legalHold: { type: 'boolean' }, error: nullable('string'), startedAt: { type: 'integer' }, completedAt: nullable('integer'),
  },
};
const manifestEntry = {
  type: 'object', required: ['path', 'category', 'format', 'size'],
  properties: {
    path: { type: 'string', example: './DevDetail/FwV' }, category: ref('Category'),
    format: { type: 'string', description: 'DM format (chr, int, bool, bin, xml, …; node for interior nodes)' },
    type: { type: 'string', description: 'MIME type, when the handset gave one' }, size: { type: 'integer' },
    hash: { type: 'string', description: 'SHA-256 (hex) of the value; absent for interior nodes' },
  },
};
const backupProgress = {
  type: 'object', description: 'A backup\'s progress (other kinds show their phase, e.g. {"phase":"awaiting-result"})',
  properties: {
    snapshotId: { type: 'string' }, nodes: { type: 'integer', description: 'nodes fetched' },
    openBatches: { type: 'integer', description: 'Get batches sent and not yet answered' }, newBytes: { type: 'integer' },
    missing: { type: 'integer' }, unreadable: { type: 'integer' }, errors: { type: 'integer' },
  },
};
const job = {
  type: 'object',
  properties: {
    id: { type: 'string' }, deviceId: { type: 'string' }, kind: { enum: ['backup', 'local-backup', 'local-restore', 'restore', 'ds-backup', 'ds-restore'] },
    status: { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'rejected'], description: 'rejected: the handset\'s user said no to a restore' },
    request: { type: 'object', description: 'what was asked for: trigger, categories, target, localId, planId, actor' },
    error: { ...nullable('string'), description: 'why it failed, or why the last attempt did (a queued job retries)' },
    attempts: { type: 'integer' }, progress: { oneOf: [ref('BackupProgress'), { type: 'object' }, { type: 'null' }] },
    result: { type: ['object', 'null'], description: 'for a backup: snapshotId, rootHash, entries, bytes, newBytes; for a restore: items, verified, failed, mismatched' },
    dependsOn: { ...nullable('string'), description: 'a job that must succeed first (a restore\'s safety backup)' }, notBefore: { ...nullable('integer'), description: 'retry not before (ms since the epoch)' },
    createdAt: { type: 'integer' }, updatedAt: { type: 'integer' },
  },
};
const createJob = {
  oneOf: [
    { type: 'object', required: ['devId', 'kind'], additionalProperties: false, properties: { devId: { type: 'string' }, kind: { const: 'backup' }, categories: { ...categories, description: 'default: the device policy\'s categories' } } },
    { type: 'object', required: ['devId', 'kind', 'target'], additionalProperties: false, properties: { devId: { type: 'string' }, kind: { const: 'local-backup' }, target: { enum: [...LOCAL_TARGETS] }, categories } },
    { type: 'object', required: ['devId', 'kind', 'localId'], additionalProperties: false, properties: { devId: { type: 'string' }, kind: { const: 'local-restore' }, localId: { type: 'string', description: 'a local backup the handset reported' }, categories } },
    { type: 'object', required: ['devId', 'kind'], additionalProperties: false, description: 'contacts and calendar through Data Sync (Exec DataSync, then the handset\'s DS session on /ds)', properties: { devId: { type: 'string' }, kind: { const: 'ds-backup' } } },
    { type: 'object', required: ['devId', 'kind', 'snapshotId'], additionalProperties: false, description: 'a DS snapshot onto devId (its own handset, or another of the same subscriber\'s) by refresh-from-server', properties: { devId: { type: 'string' }, kind: { const: 'ds-restore' }, snapshotId: { type: 'string', description: 'a DS snapshot' } } },
  ],
  discriminator: { propertyName: 'kind' },
  example: { devId: 'IMEI:356938035643809', kind: 'backup', categories: ['settings', 'applications'] },
};
const profileMap = { type: 'object', properties: Object.fromEntries(CATEGORIES.map((c) => [c, { type: 'array', items: { type: 'string' } }])) };
const model = {
  type: 'object',
  properties: {
    id: { type: 'string' }, manufacturer: { type: 'string' }, model: { type: 'string' }, createdAt: { type: 'integer' },
    profiles: { ...profileMap, description: 'the paths the model adds to the generic profile, by category' },
  },
};
const modelProfile = {
  type: 'object',
  properties: {
    manufacturer: { type: 'string' }, model: { type: 'string' },
    known: { type: 'boolean', description: 'false: nobody described this model; its handsets get the generic profile' },
    profile: { ...profileMap, description: 'effective: generic plus the model\'s paths' },
    own: { ...profileMap, description: 'the model\'s paths alone' }, generic: profileMap,
  },
};
const counts = { type: 'object', properties: { added: { type: 'integer' }, removed: { type: 'integer' }, changed: { type: 'integer' } } };
const diff = {
  type: 'object',
  properties: {
    a: ref('Snapshot'), b: ref('Snapshot'),
    summary: { type: 'string', example: '3 added, 1 removed, 2 changed; firmware 1.0.3 → 1.1.0; ShieldAV 3.2.1 → 4.0.2' },
    byCategory: { type: 'object', properties: Object.fromEntries(CATEGORIES.map((c) => [c, counts])) },
    firmware: { type: 'array', items: { type: 'object', properties: { field: { enum: ['FwV', 'SwV', 'HwV'] }, before: { type: 'string' }, after: { type: 'string' } } } },
    apps: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, change: { enum: ['installed', 'removed', 'upgraded', 'downgraded', 'changed'] }, before: { type: 'string' }, after: { type: 'string' } } } },
    added: { type: 'array', items: ref('ManifestEntry') }, removed: { type: 'array', items: ref('ManifestEntry') },
    changed: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, category: ref('Category'), before: ref('ManifestEntry'), after: ref('ManifestEntry') } } },
    unchanged: { type: 'integer' },
  },
};

const dsStoreCounts = {
  type: 'object', description: 'what the session did to one store',
  properties: Object.fromEntries(['received', 'added', 'replaced', 'deleted', 'failed', 'sent'].map((k) => [k, { type: 'integer' }])),
};
const dsSnapshot = {
  type: 'object', description: 'A DS backup: the handset\'s contacts and calendar as one Data Sync session left them',
  properties: {
    id: { type: 'string' }, deviceId: { type: 'string' }, accountId: { type: 'string' }, jobId: nullable('string'),
    syncType: { type: 'string', example: 'two-way', description: 'per store, joined with + when they differ' },
    rootHash: { type: 'string', description: 'SHA-256 (hex) of the manifest' }, contacts: { type: 'integer' }, events: { type: 'integer' },
    bytes: { type: 'integer' }, newBytes: { type: 'integer', description: 'content this backup added to the store' },
    changes: { type: 'object', properties: { contacts: dsStoreCounts, calendar: dsStoreCounts } }, createdAt: { type: 'integer' },
  },
};
const dsStore = { enum: ['contacts', 'calendar'] };
const dsEntry = {
  type: 'object', required: ['store', 'id', 'type', 'size', 'hash', 'summary'],
  properties: {
    store: dsStore, id: { type: 'string', description: 'the server\'s id of the item' }, uid: { type: 'string', description: 'the vCard/iCalendar UID, when it has one' },
    type: { type: 'string', example: 'text/vcard' }, size: { type: 'integer' }, hash: { type: 'string', description: 'SHA-256 (hex) of the item' },
    summary: { type: 'string', description: 'a contact\'s name, an event\'s title', example: 'Ada Lovelace' },
  },
};
const dsChange = { type: 'object', properties: { store: dsStore, key: { type: 'string' }, summary: { type: 'string' }, before: ref('DsManifestEntry'), after: ref('DsManifestEntry') } };
const dsDiff = {
  type: 'object', description: 'Items match by UID, else by the server\'s id',
  properties: {
    a: ref('DsSnapshot'), b: ref('DsSnapshot'),
    added: { type: 'array', items: dsChange }, removed: { type: 'array', items: dsChange }, changed: { type: 'array', items: dsChange },
    unchanged: { type: 'integer' }, byStore: { type: 'object', properties: { contacts: counts, calendar: counts } },
  },
};
const dsAccount = {
  type: 'object', description: 'What a handset\'s DS client signs in to /ds with (the password is never shown)',
  properties: {
    id: { type: 'string' }, deviceId: { type: 'string' }, username: { type: 'string' }, auth: { enum: ['basic', 'md5'], description: 'md5 challenges a basic client for MD5' },
    createdAt: { type: 'integer' },
    stores: { type: 'array', items: { type: 'object', properties: { store: dsStore, syncedAt: nullable('integer'), lastSyncType: nullable('string'), clientUri: nullable('string') } } },
  },
};

const dmPath = { type: 'string', example: './Settings/Email' };
const planRequest = {
  type: 'object', required: ['snapshotId'], additionalProperties: false,
  properties: {
    snapshotId: { type: 'string', description: 'a complete snapshot' },
    targetDevId: { type: 'string', description: 'default: the snapshot\'s own handset; otherwise another handset of the same subscriber (a migration)' },
    categories: { ...categories, description: 'default: every category the snapshot holds (only applications when apps is given)' },
    paths: { type: 'array', items: dmPath, minItems: 1, maxItems: 256, description: 'only nodes at or under these paths (normalised like profile paths)' },
    apps: { type: 'array', items: { type: 'string', example: 'com.shield.av' }, minItems: 1, maxItems: 256, description: 'only these apps: SCOMO ids or Deployed node names' },
    allowFirmwareDowngrade: { type: 'boolean', description: 'admins only (403 for anyone else): restore firmware older than the handset\'s' },
  },
  example: { snapshotId: '0b6f8f57-0c1b-4a43-9d1b-2f8a1c7e5d10', categories: ['settings', 'applications'] },
};
const planStep = {
  type: 'object', required: ['seq', 'kind', 'path', 'bytes'],
  description: 'kind firmware: FUMO to `to` from `from`; app: SCOMO install of appId at version; node op ensure: an interior node Added when missing; node op write: a value (Replace, or Add when the node is gone), `group` tying a record\'s leaves into one Atomic',
  properties: {
    seq: { type: 'integer' }, kind: { enum: ['firmware', 'app', 'node'] }, path: dmPath, bytes: { type: 'integer', description: 'what the step sends' },
    from: nullable('string'), to: { type: 'string' }, packageId: { type: 'string' },
    appId: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' },
    op: { enum: ['ensure', 'write'] }, category: ref('Category'), format: { type: 'string' }, type: { type: 'string' },
    size: { type: 'integer' }, hash: { type: 'string' }, group: { type: 'string' },
  },
};
const restorePlan = {
  type: 'object',
  properties: {
    v: { const: 1 }, snapshotId: { type: 'string' }, snapshotTakenAt: { type: 'integer' },
    sourceDevId: { type: 'string' }, targetDevId: { type: 'string' }, migration: { type: 'boolean', description: 'the target is another handset than the snapshot\'s' },
    selection: { type: 'object', properties: { categories, paths: { type: 'array', items: { type: 'string' } }, apps: { type: 'array', items: { type: 'string' } } } },
    steps: { type: 'array', items: ref('PlanStep'), description: 'firmware first, then apps, then interior nodes (parents first), then values' },
    notCarried: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, reason: { type: 'string', example: 'ShieldAV 3.2.1 is not in the app catalog' } } }, description: 'what will not be carried, and why' },
    reissue: { type: 'array', items: { type: 'string' }, description: 'certificates bound to the old handset: to be issued anew, not copied' },
    bytes: { type: 'integer' },
    cost: {
      type: 'object', description: 'on the target\'s network as last read',
      properties: { network: { enum: ['wifi', 'home', 'roaming', 'unknown'] }, megabytes: { type: 'number' }, perMb: { type: 'number' }, amount: { type: 'number' }, currency: { type: 'string' }, text: { type: 'string', example: 'about EUR 0.04 on your home network' } },
    },
    prompt: {
      type: 'object', description: 'exactly what the handset\'s user is asked (UI alert 1103; 1101 where single choice is refused)',
      properties: {
        code: { const: '1103' }, text: { type: 'string' }, choices: { type: 'array', items: { type: 'string' }, example: ['Now', 'Later on Wi-Fi', 'Reject'] },
        fallback: { type: 'object', properties: { code: { const: '1101' }, text: { type: 'string' } } }, version: { type: 'string', example: 'restore-consent/1' },
      },
    },
    firmwareDowngradeAllowed: { type: 'boolean' },
  },
};
const storedPlan = {
  type: 'object',
  properties: {
    planId: { type: 'string' }, planHash: { type: 'string', description: 'SHA-256 (hex) of the plan as stored: what was shown' },
    snapshotId: { type: 'string' }, createdBy: { type: 'string', description: 'token:<id>, cli, …' }, createdAt: { type: 'integer' },
    jobId: { ...nullable('string'), description: 'the restore job, once executed' }, plan: ref('RestorePlan'),
  },
};
const restoreItem = {
  type: 'object',
  properties: {
    seq: { type: 'integer', description: 'the plan step' }, kind: { enum: ['firmware', 'app', 'node'] }, path: { type: 'string' },
    op: { enum: ['add', 'replace', 'install', 'update'] },
    status: { enum: ['pending', 'sent', 'written', 'failed', 'verified', 'mismatch', 'skipped'], description: 'verified: read back as written; mismatch: read back different' },
    code: { ...nullable('integer'), description: 'the DM status or FUMO/SCOMO result code the handset answered' },
    detail: nullable('string'), updatedAt: { type: 'integer' },
  },
};
const consent = {
  type: 'object',
  properties: {
    id: { type: 'string' }, deviceId: { type: 'string' }, devId: { type: 'string' }, subscriberId: nullable('string'), jobId: nullable('string'),
    code: { enum: ['1101', '1103'], description: 'the UI alert: 1101 confirm, 1103 single choice' },
    prompt: { type: 'string', description: 'the exact text shown' }, promptVersion: { type: 'string', example: 'restore-consent/1' },
    answer: { enum: ['accepted', 'deferred', 'rejected', 'timeout', 'unsupported', 'unanswered'], description: 'unsupported: the handset refused the single-choice prompt and was asked with 1101' },
    network: { type: ['object', 'null'], description: 'the network state the prompt was shown on' },
    cost: { ...nullable('string'), description: 'the cost quoted' }, at: { type: 'integer', description: 'ms since the epoch' },
  },
};
const itemCounts = {
  type: 'object', description: 'items by status',
  properties: Object.fromEntries(['total', 'pending', 'sent', 'written', 'verified', 'failed', 'mismatch', 'skipped'].map((k) => [k, { type: 'integer' }])),
};
const jobDetail = {
  allOf: [ref('Job'), {
    type: 'object', description: 'for a restore job, also:',
    properties: {
      planId: { type: 'string' }, planHash: { type: 'string' }, counts: itemCounts,
      items: { type: 'array', items: ref('RestoreItem'), description: 'in plan order' },
      consents: { type: 'array', items: ref('Consent'), description: 'oldest first' },
    },
  }],
};
const firmwarePackage = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'handsets download it from /packages/{id}' }, manufacturer: { type: 'string' }, model: { type: 'string' },
    version: { type: 'string' }, name: nullable('string'), size: { type: 'integer' }, sha256: { type: 'string' }, createdAt: { type: 'integer' },
  },
};
const appPackage = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'handsets download it from /packages/{id}' }, appId: { type: 'string', example: 'com.shield.av' }, name: { type: 'string' },
    version: { type: 'string' }, models: { type: ['array', 'null'], items: { type: 'string', example: 'Nimbus/N1' }, description: 'null: installs on any model' },
    size: { type: 'integer' }, sha256: { type: 'string' }, createdAt: { type: 'integer' },
  },
};
const packageBody = {
  required: true,
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary', maxLength: 256 * 1024 * 1024 } } },
  description: 'The package itself, up to 256 MB',
};
const queryParam = (name: string, description: string, required: boolean, example?: string) => ({
  name, in: 'query', required, description, schema: { type: 'string' }, ...(example ? { example } : {}),
});

const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const common = {
  '401': errorResponse('No token, or not a valid one'),
  '429': {
    ...errorResponse('Too many requests with a bad or unknown token from this address (code rate-limited); refused before the token is looked at'),
    headers: { 'Retry-After': { description: 'Seconds until this address may try again', schema: { type: 'integer', minimum: 1 } } },
  },
};
const adminOnly = { ...common, '403': errorResponse('Needs the admin role') };
const invalid = errorResponse('Invalid input (fieldErrors names each field)');
const notFound = (what: string) => errorResponse(`No such ${what}`);
const pathParam = (name: string, description: string, example?: string) => ({
  name, in: 'path', required: true, description, schema: { type: 'string' }, ...(example ? { example } : {}),
});
const devIdParam = pathParam('devId', 'The DM DevId (percent-encoded in the URL)', 'IMEI:356938035643809');
const snapshotErrors = {
  '404': notFound('snapshot'),
  '409': errorResponse('The snapshot is not complete (incomplete or failed): it has no manifest'),
  '500': errorResponse('Content the snapshot needs is missing from the backup store (code content-missing)'),
};

export const openapi = {
  openapi: '3.1.0',
  info: {
    title: 'Rewind API', version: '1',
    description: 'Backup and restore for handsets managed over OMA-DM. Roles: admin may do everything; agent may read, queue jobs, and plan, execute and retry restores (admins alone publish packages and allow firmware downgrades). Errors are `{ error: { code, message, fieldErrors? } }`.',
  },
  servers: [{ url: '/api/v1' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Create one with `npm run rewind -- token create --role admin`.' } },
    schemas: {
      Device: device, ProvisionDevice: provision, Error: error, Category: category, Subscriber: subscriber, Snapshot: snapshot,
      ManifestEntry: manifestEntry, BackupProgress: backupProgress, Job: job, CreateJob: createJob, Model: model,
      ModelProfile: modelProfile, Diff: diff, PlanRequest: planRequest, PlanStep: planStep, RestorePlan: restorePlan, StoredPlan: storedPlan,
      RestoreItem: restoreItem, Consent: consent, JobDetail: jobDetail, FirmwarePackage: firmwarePackage, AppPackage: appPackage,
      DsSnapshot: dsSnapshot, DsManifestEntry: dsEntry, DsDiff: dsDiff, DsAccount: dsAccount,
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/subscribers': {
      get: {
        summary: 'Search subscribers', tags: ['subscribers'],
        description: 'By name, surname or email prefix (case and accents ignored), by MSISDN: digits in any usual form (+44 7700 900123, 447700900123, or the national 07700 900123) match the stored international number by its start or its end, or by IMEI prefix. Exact matches first, then numbers before names, then by name; each says what matched (`match`) and, for an IMEI or DevId, which handset (`device`).',
        parameters: [
          { name: 'q', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 128 }, example: 'Ada' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        ],
        responses: { '200': { description: 'Matches, best first', content: json({ type: 'object', properties: { subscribers: { type: 'array', items: { allOf: [ref('Subscriber'), {
          type: 'object',
          properties: {
            match: { type: 'object', properties: { kind: { type: 'string', enum: ['name', 'email', 'msisdn', 'imei', 'devId'] }, value: { type: 'string' } } },
            device: { type: 'object', properties: { id: { type: 'string' }, devId: { type: 'string' }, manufacturer: nullable('string'), model: nullable('string') } },
          },
        }] } } } }) }, '400': invalid, ...common },
      },
    },
    '/subscribers/{id}': {
      get: {
        summary: 'A subscriber and their devices', tags: ['subscribers'],
        parameters: [pathParam('id', 'Subscriber id')],
        responses: { '200': { description: 'The subscriber', content: json({ type: 'object', properties: { subscriber: ref('Subscriber'), devices: { type: 'array', items: ref('Device') } } }) }, '404': notFound('subscriber'), ...common },
      },
      delete: {
        summary: 'Erase a subscriber: their handsets\' records, every backup and their encryption keys', tags: ['subscribers'],
        description: 'Refused (400) while a backup or restore of one of their handsets is under way, or while one of their snapshots is under legal hold. Content only they had can no longer be decrypted by anyone once this returns.',
        parameters: [pathParam('id', 'Subscriber id')],
        responses: { '200': { description: 'Erased', content: json({ type: 'object', properties: { erased: { type: 'object', properties: { devices: { type: 'integer' }, snapshots: { type: 'integer' }, keys: { type: 'integer' } } } } }) }, '400': invalid, '404': notFound('subscriber'), ...adminOnly },
      },
    },
    '/devices': {
      get: {
        summary: 'List devices', tags: ['devices'],
        responses: { '200': { description: 'Devices', content: json({ type: 'object', properties: { devices: { type: 'array', items: ref('Device') } } }) }, ...common },
      },
      post: {
        summary: 'Provision a device, or several (array body)', tags: ['devices'],
        requestBody: { required: true, content: json({ oneOf: [ref('ProvisionDevice'), { type: 'array', items: ref('ProvisionDevice') }] }) },
        responses: { '201': { description: 'Provisioned', content: json({ type: 'object', properties: { devices: { type: 'array', items: ref('Device') } } }) }, '400': invalid, ...adminOnly },
      },
    },
    '/devices/import': {
      post: {
        summary: 'Provision devices from a CSV file, all or none', tags: ['devices'],
        description: 'A header row, then one row per device. Columns (any order): devId, manufacturer, model, msisdn, subscriber, serverId, auth, clientUser, clientPass, serverPass, and optionally firmware, pushAddress, serverAuth. msisdn and subscriber may be empty. Every row is validated first; any error refuses the whole file, naming each row (its line number; the header is row 1). Devices already known (by devId) are updated.',
        requestBody: {
          required: true,
          content: { 'text/csv': { schema: { type: 'string' }, example: 'devId,manufacturer,model,msisdn,subscriber,serverId,auth,clientUser,clientPass,serverPass\nIMEI:356938035643809,Nimbus,N1,+44 7700 900123,Ada Lovelace,rewind,md5,ada,s3cret,srvs3cret\n' } },
        },
        responses: {
          '201': { description: 'Every row provisioned', content: json({ type: 'object', properties: { devices: { type: 'integer' }, created: { type: 'integer' }, updated: { type: 'integer' }, subscribersCreated: { type: 'integer' } } }) },
          '400': {
            description: 'Bad rows; nothing was imported (code invalid-rows)',
            content: json({ allOf: [ref('Error'), { type: 'object', properties: { error: { type: 'object', properties: { rows: { type: 'array', items: { type: 'object', properties: { row: { type: 'integer', description: '0: the file as a whole' }, column: { type: 'string' }, message: { type: 'string' } } } } } } } }] }),
          },
          '415': errorResponse('Not a CSV body (multipart or JSON)'),
          ...adminOnly,
        },
      },
    },
    '/devices/{devId}': {
      get: {
        summary: 'A device, its latest snapshots and its pending jobs', tags: ['devices'],
        parameters: [devIdParam],
        responses: {
          '200': {
            description: 'The device',
            content: json({
              type: 'object',
              properties: {
                device: ref('Device'),
                lastSnapshot: { oneOf: [ref('Snapshot'), { type: 'null' }], description: 'the newest, whatever its status' },
                lastCompleteSnapshot: { oneOf: [ref('Snapshot'), { type: 'null' }], description: 'the newest restorable one' },
                pendingJobs: { type: 'array', items: ref('Job'), description: 'queued or running' },
              },
            }),
          },
          '404': notFound('device'), ...common,
        },
      },
    },
    '/devices/{devId}/wake': {
      post: {
        summary: 'Send Package #0 so the handset opens a DM session now', tags: ['devices'],
        parameters: [devIdParam],
        responses: {
          '202': { description: 'Sent; the session id the handset will use', content: json({ type: 'object', properties: { sessionId: { type: 'string' } } }) },
          '404': notFound('device'), '409': errorResponse('The device has no push address'), '502': errorResponse('The push gateway refused or is unreachable'), ...common,
        },
      },
    },
    '/devices/{devId}/snapshots': {
      get: {
        summary: "A device's snapshots, newest first", tags: ['snapshots'],
        parameters: [devIdParam],
        responses: { '200': { description: 'Snapshots of every status', content: json({ type: 'object', properties: { snapshots: { type: 'array', items: ref('Snapshot') } } }) }, '404': notFound('device'), ...common },
      },
    },
    '/devices/{devId}/jobs': {
      get: {
        summary: "A device's jobs, newest first (the last 200)", tags: ['jobs'],
        parameters: [devIdParam],
        responses: { '200': { description: 'Jobs', content: json({ type: 'object', properties: { jobs: { type: 'array', items: ref('Job') } } }) }, '404': notFound('device'), ...common },
      },
    },
    '/devices/{devId}/ds-snapshots': {
      get: {
        summary: "A device's DS backups (contacts and calendar), newest first", tags: ['data sync'],
        parameters: [devIdParam],
        responses: { '200': { description: 'The last 500', content: json({ type: 'object', properties: { dsSnapshots: { type: 'array', items: ref('DsSnapshot') } } }) }, '404': notFound('device'), ...common },
      },
    },
    '/devices/{devId}/ds-accounts': {
      get: {
        summary: "A device's DS accounts and each store's last sync", tags: ['data sync'],
        parameters: [devIdParam],
        responses: { '200': { description: 'Accounts', content: json({ type: 'object', properties: { dsAccounts: { type: 'array', items: ref('DsAccount') } } }) }, '404': notFound('device'), ...common },
      },
      post: {
        summary: 'Create a DS account for the device, or reset the password of its account of that user name', tags: ['data sync'],
        description: 'User names are unique across the server (MD5 credentials name the account only by it): one that belongs to another handset is refused.',
        parameters: [devIdParam],
        requestBody: {
          required: true,
          content: json({
            type: 'object', required: ['user', 'pass'], additionalProperties: false,
            properties: {
              user: { type: 'string', maxLength: 64, description: 'printable ASCII without spaces', example: 'ada-phone' },
              pass: { type: 'string', minLength: 4, maxLength: 128, writeOnly: true }, auth: { enum: ['basic', 'md5'], default: 'basic' },
            },
          }),
        },
        responses: {
          '201': { description: 'Created', content: json({ type: 'object', properties: { dsAccount: ref('DsAccount'), created: { const: true } } }) },
          '200': { description: 'The existing account\'s password (and auth) reset', content: json({ type: 'object', properties: { dsAccount: ref('DsAccount'), created: { const: false } } }) },
          '400': errorResponse('Invalid input, or a user name another handset has'), '404': notFound('device'), ...adminOnly,
        },
      },
    },
    '/ds-snapshots/{id}': {
      get: {
        summary: 'A DS backup and its manifest: every contact and event', tags: ['data sync'],
        parameters: [pathParam('id', 'DS snapshot id')],
        responses: { '200': { description: 'The backup and its items', content: json({ type: 'object', properties: { dsSnapshot: ref('DsSnapshot'), entries: { type: 'array', items: ref('DsManifestEntry') } } }) }, '404': notFound('DS snapshot'), ...common },
      },
    },
    '/ds-snapshots/{id}/diff/{other}': {
      get: {
        summary: 'Contacts and events added, removed and changed from DS snapshot {id} (older) to {other} (newer)', tags: ['data sync'],
        parameters: [pathParam('id', 'The older DS snapshot'), pathParam('other', 'The newer DS snapshot')],
        responses: { '200': { description: 'The diff', content: json(ref('DsDiff')) }, '404': notFound('DS snapshot'), ...common },
      },
    },
    '/models': {
      get: {
        summary: 'Known models and their profile paths', tags: ['profiles'],
        responses: { '200': { description: 'Models by manufacturer and name', content: json({ type: 'object', properties: { models: { type: 'array', items: ref('Model') } } }) }, ...common },
      },
    },
    '/models/{manufacturer}/{model}/profile': {
      get: {
        summary: 'The effective backup profile of a model (generic plus its own paths)', tags: ['profiles'],
        parameters: [pathParam('manufacturer', 'As the handset reports it in DevInfo/Man', 'Nimbus'), pathParam('model', 'As in DevInfo/Mod', 'N1')],
        responses: { '200': { description: 'The profile (a model nobody described gets the generic one, known: false)', content: json(ref('ModelProfile')) }, '400': invalid, ...common },
      },
    },
    '/models/{manufacturer}/{model}/profiles/{category}': {
      put: {
        summary: 'Set the DM subtrees one category covers for a model', tags: ['profiles'],
        description: 'Replaces the model\'s paths for the category (an empty list clears them; the generic profile always applies). Each path is normalised: ./-rooted, no trailing slash, no query, no "..". The model is created when new.',
        parameters: [pathParam('manufacturer', 'DevInfo/Man', 'Nimbus'), pathParam('model', 'DevInfo/Mod', 'N1'), { name: 'category', in: 'path', required: true, schema: ref('Category') }],
        requestBody: { required: true, content: json({ type: 'object', required: ['paths'], additionalProperties: false, properties: { paths: { type: 'array', maxItems: 64, items: { type: 'string' }, example: ['./Settings', './Ext/Vendor/Sound'] } } }) },
        responses: {
          '200': { description: 'Set; the model\'s profile now', content: json({ allOf: [ref('ModelProfile'), { type: 'object', properties: { updated: { type: 'object', properties: { category: ref('Category'), paths: { type: 'array', items: { type: 'string' } } } } } }] }) },
          '400': invalid, ...adminOnly,
        },
      },
    },
    '/snapshots/{id}': {
      get: {
        summary: 'A complete snapshot and its manifest', tags: ['snapshots'],
        parameters: [pathParam('id', 'Snapshot id')],
        responses: { '200': { description: 'The snapshot and every node it holds, by path', content: json({ type: 'object', properties: { snapshot: ref('Snapshot'), entries: { type: 'array', items: ref('ManifestEntry') } } }) }, ...snapshotErrors, ...common },
      },
    },
    '/snapshots/{id}/content': {
      get: {
        summary: "One node's value, as the handset gave it", tags: ['snapshots'],
        parameters: [pathParam('id', 'Snapshot id'), { name: 'path', in: 'query', required: true, schema: { type: 'string' }, example: './DevDetail/FwV' }],
        responses: {
          '200': {
            description: 'The raw bytes, with the node\'s MIME type (application/octet-stream when it has none); served as an attachment',
            headers: {
              'Content-Length': { schema: { type: 'integer' }, description: 'set by the handler; a Next.js front may send the answer chunked instead' },
              'X-Content-Length': { schema: { type: 'integer' }, description: 'the value\'s size in bytes, always present' },
              ETag: { schema: { type: 'string' }, description: 'the value\'s SHA-256' },
            },
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } }, '*/*': { schema: { type: 'string', format: 'binary' } } },
          },
          '400': errorResponse('No path given, or an interior node (code interior-node)'),
          '404': errorResponse('No such snapshot, or no such node in it (code no-such-node)'),
          '409': snapshotErrors['409'], '500': snapshotErrors['500'], ...common,
        },
      },
    },
    '/snapshots/{id}/diff/{other}': {
      get: {
        summary: 'What changed from snapshot {id} (older) to {other} (newer)', tags: ['snapshots'],
        parameters: [pathParam('id', 'The older snapshot'), pathParam('other', 'The newer snapshot (of the same device or another)')],
        responses: { '200': { description: 'The diff', content: json(ref('Diff')) }, ...snapshotErrors, ...common },
      },
    },
    '/jobs': {
      post: {
        summary: 'Queue a backup, a local backup, a local restore, a DS backup or a DS restore', tags: ['jobs'],
        description: 'A running server sends Package #0 within a second; the job runs in the DM session that follows. A backup asked for while another is queued or running joins it (created: false). Agents may queue every kind.',
        requestBody: { required: true, content: json(ref('CreateJob')) },
        responses: {
          '202': { description: 'Queued', content: json({ type: 'object', properties: { job: ref('Job'), created: { type: 'boolean' } } }) },
          '400': invalid, '403': errorResponse('(ds-restore) the handset is not one of the snapshot\'s subscriber (code forbidden-target)'),
          '404': errorResponse('No such device, or (local-restore) no such local backup (code no-local-backup), or (ds-restore) no such DS snapshot (code no-ds-snapshot)'),
          '409': errorResponse('The local backup is no longer on the handset (code local-backup-gone)'), ...common,
        },
      },
    },
    '/jobs/{id}': {
      get: {
        summary: 'A job and where it stands', tags: ['jobs'],
        description: 'For a restore, also every item\'s outcome (seq, kind, path, op, status, code, detail), counts by status, and the consent entries of the job.',
        parameters: [pathParam('id', 'Job id')],
        responses: { '200': { description: 'The job', content: json(ref('JobDetail')) }, '404': notFound('job'), ...common },
      },
    },
    '/jobs/{id}/retry': {
      post: {
        summary: 'Send a finished restore\'s failed items again, and only those', tags: ['restores'],
        description: 'Failed and mismatched items go back to pending; the job is queued, the handset woken and its user asked again.',
        parameters: [pathParam('id', 'A restore job id')],
        responses: {
          '202': { description: 'Queued again', content: json(ref('JobDetail')) },
          '404': errorResponse('No such restore job'),
          '409': errorResponse('The restore is still queued or running, or no item failed (code invalid)'), ...common,
        },
      },
    },
    '/restores/plan': {
      post: {
        summary: 'Plan a restore (the dry run)', tags: ['restores'],
        description: 'Every step (firmware through FUMO, apps through SCOMO at their recorded versions, then nodes), the bytes, the cost on the target\'s network, the exact prompt and choices its user will see, and what will not be carried and why. The plan is stored: execute it with POST /plans/{id}/execute. Agents and admins; only admins may pass allowFirmwareDowngrade.',
        requestBody: { required: true, content: json(ref('PlanRequest')) },
        responses: {
          '201': { description: 'Planned and stored', content: json({ type: 'object', properties: { planId: { type: 'string' }, planHash: { type: 'string' }, plan: ref('RestorePlan') } }) },
          '400': errorResponse('Invalid input (fieldErrors), or nothing in the selection can be restored (code empty)'),
          '403': errorResponse('allowFirmwareDowngrade from an agent, or a target that is not a handset of the snapshot\'s subscriber'),
          '404': errorResponse('No such snapshot or target device'),
          '409': errorResponse('The snapshot is not complete (code not-complete)'), ...common,
        },
      },
    },
    '/plans/{id}': {
      get: {
        summary: 'A stored restore plan', tags: ['restores'],
        parameters: [pathParam('id', 'Plan id')],
        responses: { '200': { description: 'The plan as it was shown, and its job once executed', content: json(ref('StoredPlan')) }, '404': notFound('plan'), ...common },
      },
    },
    '/plans/{id}/execute': {
      post: {
        summary: 'Execute a stored plan', tags: ['restores'],
        description: 'Queues a safety backup of the target and the restore behind it; a running server sends Package #0 within a second. Follow the restore with GET /jobs/{id}. A plan runs once.',
        parameters: [pathParam('id', 'Plan id')],
        responses: {
          '202': { description: 'Queued', content: json({ type: 'object', properties: { job: ref('Job'), safetyBackup: ref('Job') } }) },
          '404': errorResponse('No such plan, or its target device is gone'),
          '409': errorResponse('The plan was executed already (code already-run): make a new one'), ...common,
        },
      },
    },
    '/subscribers/{id}/consents': {
      get: {
        summary: 'The consent ledger of a subscriber\'s handsets, newest first', tags: ['restores', 'subscribers'],
        parameters: [pathParam('id', 'Subscriber id'), { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } }],
        responses: { '200': { description: 'Every prompt shown and its answer', content: json({ type: 'object', properties: { consents: { type: 'array', items: ref('Consent') } } }) }, '400': invalid, '404': notFound('subscriber'), ...common },
      },
    },
    '/catalog/firmware': {
      get: {
        summary: 'The firmware catalog', tags: ['catalog'],
        responses: { '200': { description: 'By manufacturer, model and version', content: json({ type: 'object', properties: { firmware: { type: 'array', items: ref('FirmwarePackage') } } }) }, ...common },
      },
      post: {
        summary: 'Publish a firmware image', tags: ['catalog'],
        description: 'The image is the body; the same manufacturer, model and version uploaded again replaces it.',
        parameters: [
          queryParam('manufacturer', 'DevInfo/Man', true, 'Nimbus'), queryParam('model', 'DevInfo/Mod', true, 'N1'),
          queryParam('version', 'as in DevDetail/FwV: letters, digits, . _ + - (up to 32)', true, '1.1.0'), queryParam('name', 'for people', false),
        ],
        requestBody: packageBody,
        responses: {
          '201': { description: 'Published', content: json({ type: 'object', properties: { package: ref('FirmwarePackage') } }) },
          '400': errorResponse('Invalid query, an empty body, a bad version or a body over 256 MB'), '415': errorResponse('Not application/octet-stream'), ...adminOnly,
        },
      },
    },
    '/catalog/apps': {
      get: {
        summary: 'The app catalog', tags: ['catalog'],
        responses: { '200': { description: 'By application id and version', content: json({ type: 'object', properties: { apps: { type: 'array', items: ref('AppPackage') } } }) }, ...common },
      },
      post: {
        summary: 'Publish an app package', tags: ['catalog'],
        description: 'The package is the body; the same application id and version uploaded again replaces it.',
        parameters: [
          queryParam('appId', 'the SCOMO id (./SCOMO/Inventory/Deployed/x/ID)', true, 'com.shield.av'), queryParam('name', 'for people', true, 'ShieldAV'),
          queryParam('version', 'letters, digits, . _ + - (up to 32)', true, '3.2.1'),
          queryParam('models', 'comma-separated "Manufacturer/Model" it installs on; default any', false, 'Nimbus/N1,Nimbus/N2'),
        ],
        requestBody: packageBody,
        responses: {
          '201': { description: 'Published', content: json({ type: 'object', properties: { package: ref('AppPackage') } }) },
          '400': errorResponse('Invalid query, an empty body, a bad version or id, or a body over 256 MB'), '415': errorResponse('Not application/octet-stream'), ...adminOnly,
        },
      },
    },
  },
} as const;
