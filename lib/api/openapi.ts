/**
 * The REST API's contract: one row per operation (method, path, what it takes, what it
 * answers, which errors), naming the areas' zod schemas, and the OpenAPI 3.1 document
 * generated from them with zod's own JSON Schema conversion. The schemas that parse the
 * requests are the ones documented, and the API tests check every body they receive
 * against the response schema of its operation, so the document cannot drift from the code.
 * Served at /api/v1/openapi.json and rendered at /admin/api.
 */
import { z } from 'zod';
import {
  authSchemeSchema,
  deviceSchema,
  firmwareRunHitSchema,
  firmwareRunsSchema,
  firmwareSearchSchema,
  provisionDeviceSchema,
} from '../devices/schemas';
import { FIRMWARE_SEARCH_MAX } from '../devices/firmware-search';
import { deviceListEntrySchema, deviceListRequestSchema } from '../devices/list-schemas';
import { subscriberMatchSchema, subscriberSchema, subscriberSearchSchema } from '../subscribers/schemas';
import {
  backupProgressSchema,
  categorySchema,
  createJobSchema,
  diffSchema,
  jobSchema,
  manifestEntrySchema,
  modelProfileSchema,
  modelSchema,
  profilePathsSchema,
  snapshotSchema,
} from '../backup/schemas';
import {
  appPackageSchema,
  appUploadSchema,
  consentSchema,
  executeRequestSchema,
  firmwarePackageSchema,
  firmwareUploadSchema,
  jobDetailSchema,
  planRequestSchema,
  planStepSchema,
  restoreItemSchema,
  restorePlanSchema,
  storedPlanSchema,
} from '../restore/schemas';
import {
  dsAccountBodySchema,
  dsAccountViewSchema,
  dsDiffSchema,
  dsManifestEntrySchema,
  dsSnapshotSchema,
} from '../ds/schemas';
import {
  ALERT_KINDS,
  alertListQuerySchema,
  alertListSchema,
  alertRuleInputSchema,
  alertRuleListSchema,
  alertRuleSchema,
  alertSchema,
  deliveryListQuerySchema,
  deliveryListSchema,
  deliverySchema,
  webhookCreatedSchema,
  webhookInputSchema,
  webhookListSchema,
  webhookSchema,
} from '../alerts/schemas';
import { MAX_PACKAGE_BYTES } from '../catalog/catalog';
import { PROVISION_MAX_DEVICES } from '../devices/devices';
import {
  createGroupSchema,
  deleteGroupResultSchema,
  groupViewSchema,
  importMembersSchema,
  importResultSchema,
  updateGroupSchema,
} from '../groups/schemas';
import { policyDeletionSchema, policySchema } from '../policies/schemas';
import { pageFieldsSchema, pageQuerySchema } from '../core/paging';
import { bulkOrderSchema, bulkPreviewSchema, bulkProgressSchema } from '../bulk/schemas';

/** Every error the API answers: `{ error: { code, message, fieldErrors? } }` (lib/server/api.ts apiError). */
export const apiErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fieldErrors: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe("messages by field ('paths.2'; for imports 'ROW.column')"),
  }),
});

/** A CSV import refused: every bad row (code invalid-rows). */
const importErrorSchema = z.object({
  error: apiErrorSchema.shape.error.extend({
    rows: z.array(
      z.object({ row: z.int().describe('0: the file as a whole'), column: z.string().optional(), message: z.string() }),
    ),
  }),
});

/** Schemas the document names under components/schemas, so operations and the reference page can point at them. */
const COMPONENTS: Record<string, z.ZodType> = {
  Device: deviceSchema,
  ProvisionDevice: provisionDeviceSchema,
  Error: apiErrorSchema,
  Category: categorySchema,
  AuthScheme: authSchemeSchema,
  Subscriber: subscriberSchema,
  FirmwareRun: firmwareRunHitSchema,
  Snapshot: snapshotSchema,
  ManifestEntry: manifestEntrySchema,
  BackupProgress: backupProgressSchema,
  Job: jobSchema,
  CreateJob: createJobSchema,
  Model: modelSchema,
  ModelProfile: modelProfileSchema,
  Diff: diffSchema,
  PlanRequest: planRequestSchema,
  PlanStep: planStepSchema,
  RestorePlan: restorePlanSchema,
  StoredPlan: storedPlanSchema,
  RestoreItem: restoreItemSchema,
  Consent: consentSchema,
  JobDetail: jobDetailSchema,
  FirmwarePackage: firmwarePackageSchema,
  AppPackage: appPackageSchema,
  DsSnapshot: dsSnapshotSchema,
  DsManifestEntry: dsManifestEntrySchema,
  DsDiff: dsDiffSchema,
  DsAccount: dsAccountViewSchema,
  Alert: alertSchema,
  AlertRule: alertRuleSchema,
  Webhook: webhookSchema,
  WebhookDelivery: deliverySchema,
  Group: groupViewSchema,
  GroupImport: importResultSchema,
  Policy: policySchema,
  BulkOrder: bulkOrderSchema,
  BulkPreview: bulkPreviewSchema,
  BulkProgress: bulkProgressSchema,
};

type Method = 'get' | 'post' | 'put' | 'delete';

export interface PathParam {
  name: string;
  description?: string;
  example?: string;
  schema?: z.ZodType;
}

/** An answer with a JSON body (`schema`), or with another media type described as it is (`content`). */
export interface ApiAnswer {
  description: string;
  schema?: z.ZodType;
  content?: Record<string, unknown>;
  headers?: Record<string, unknown>;
}

export interface ApiOperation {
  method: Method;
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: PathParam[];
  /** The query, as the handler parses it: each field one query parameter. */
  query?: z.ZodObject;
  /** A JSON body, or another media type as it is. */
  body?: z.ZodType | { description?: string; content: Record<string, unknown> };
  /** Successful answers by status. */
  responses: Record<number, ApiAnswer>;
  /** Refusals by status, each an `Error` body unless a schema is given. */
  errors: Record<number, string | ApiAnswer>;
}

const devIdParam: PathParam = {
  name: 'devId',
  description: 'The DM DevId (percent-encoded in the URL)',
  example: 'IMEI:356938035643809',
};
const idParam = (description: string): PathParam => ({ name: 'id', description });

/** Every operation answers these: a missing or bad token, too many bad tokens from one address, a fault of ours. */
const COMMON_ERRORS: Record<number, string | ApiAnswer> = {
  401: 'No token, not a valid one, or one past its expiry (code token-expired)',
  500: 'Something went wrong on our side (code internal); nothing about it is shown',
  429: {
    description:
      "A bad or unknown token failed too often from this address (code rate-limited): that token again, or any bad token once the address failed too often. A valid token is never refused for other tokens' failures",
    schema: apiErrorSchema,
    headers: {
      'Retry-After': {
        description: 'Seconds until a bad token from this address is looked at again',
        schema: { type: 'integer', minimum: 1 },
      },
    },
  },
};
const ADMIN_ONLY = { 403: 'Needs the admin role' };
const READ_ONLY = 'The token is read-only (code read-only-token): it may only read';

/** An operation's refusals: the common ones, its own, and on a write the read-only token's 403. */
function errorsOf(o: ApiOperation): Record<number, string | ApiAnswer> {
  if (o.method === 'get') return { ...COMMON_ERRORS, ...o.errors };
  const own = o.errors[403];
  const forbidden = own === undefined ? READ_ONLY : typeof own === 'string' ? `${own}; or ${READ_ONLY}` : own;
  return { ...COMMON_ERRORS, ...o.errors, 403: forbidden };
}
const INVALID = 'Invalid input (fieldErrors names each field)';
const notFound = (what: string) => `No such ${what}`;
const SNAPSHOT_ERRORS = {
  404: notFound('snapshot'),
  409: 'The snapshot is not complete (incomplete or failed): it has no manifest',
  500: 'Content the snapshot needs is missing from the backup store (code content-missing)',
};

const packageBody = {
  description: `The package itself, up to ${MAX_PACKAGE_BYTES / 1024 / 1024} MB`,
  content: {
    'application/octet-stream': { schema: { type: 'string', format: 'binary', maxLength: MAX_PACKAGE_BYTES } },
  },
};

/** A page of a list: its items under the member it always had, and where the next page starts (lib/core/paging.ts). */
const list = <K extends string>(key: K, item: z.ZodType) =>
  z.object({ [key]: z.array(item) } as Record<K, z.ZodArray<z.ZodType>>).extend(pageFieldsSchema.shape);

const groupParam: PathParam = {
  name: 'name',
  description: 'The group name (percent-encoded in the URL)',
  example: 'old-n1',
};

export const API_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/groups',
    summary: 'Device groups',
    tags: ['groups'],
    description:
      'Every group in priority order (lower first: a handset in several groups with policies follows the first one with a policy), with how many handsets it holds now (a rule is evaluated when read) and the policy assigned to it.',
    responses: { 200: { description: 'The groups', schema: z.object({ groups: z.array(groupViewSchema) }) } },
    errors: {},
  },
  {
    method: 'post',
    path: '/groups',
    summary: 'Create a device group',
    tags: ['groups'],
    description:
      'A rule group (`kind: "rule"`, `rule`: model, firmware range, MSISDN prefix, last seen, coverage; every condition given must hold) or a static list (`kind: "static"`, `members`: CSV of DevIds or IMEIs, one a line or a `devId` column). Audited (group.created).',
    body: createGroupSchema,
    responses: {
      201: {
        description: 'Created',
        schema: z.object({ group: groupViewSchema, import: importResultSchema.optional() }),
      },
    },
    errors: { 400: `${INVALID}; or the name is taken`, ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/groups/{name}',
    summary: 'A device group',
    tags: ['groups'],
    params: [groupParam],
    responses: { 200: { description: 'The group', schema: z.object({ group: groupViewSchema }) } },
    errors: { 404: notFound('group') },
  },
  {
    method: 'put',
    path: '/groups/{name}',
    summary: 'Change a device group',
    tags: ['groups'],
    description:
      "A new name (its policy assignment follows), a rule group's new rule, a new priority. Audited (group.updated).",
    params: [groupParam],
    body: updateGroupSchema,
    responses: { 200: { description: 'Changed', schema: z.object({ group: groupViewSchema }) } },
    errors: {
      400: `${INVALID}; or the name is taken, or a rule for a static list`,
      404: notFound('group'),
      ...ADMIN_ONLY,
    },
  },
  {
    method: 'delete',
    path: '/groups/{name}',
    summary: 'Delete a device group',
    tags: ['groups'],
    description:
      "Its list of members goes (the handsets stay), and so does its policy assignment: its handsets follow their next group's, their model's or the default policy. Audited (group.deleted).",
    params: [groupParam],
    responses: { 200: { description: 'Deleted', schema: deleteGroupResultSchema } },
    errors: { 404: notFound('group'), ...ADMIN_ONLY },
  },
  {
    method: 'post',
    path: '/groups/{name}/members',
    summary: "Import a static group's members",
    tags: ['groups'],
    description:
      'CSV of DevIds or IMEIs (one a line, or a `devId` column), added to the members or (`replace: true`) replacing them. Identifiers that name no handset are answered in `unknown`. Audited (group.members-imported).',
    params: [groupParam],
    body: importMembersSchema,
    responses: { 200: { description: 'Imported', schema: importResultSchema } },
    errors: { 400: `${INVALID}; or the group is a rule group`, 404: notFound('group'), ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/policies',
    summary: 'Backup policies',
    tags: ['policies'],
    description:
      "Every policy with how many handsets it applies to now: a handset follows its own policy, else that of its first group (by priority) with one, else its model's, else the default.",
    responses: { 200: { description: 'The policies', schema: z.object({ policies: z.array(policySchema) }) } },
    errors: {},
  },
  {
    method: 'delete',
    path: '/policies/{id}',
    summary: 'Delete a policy',
    tags: ['policies'],
    description:
      "By id or name. Its assignments (to models and groups) are removed, and handsets that had it as their own fall back to their group's, their model's or the default policy. The default policy cannot be deleted. Audited (policy.deleted).",
    params: [{ name: 'id', description: 'Policy id or name', example: 'Standard' }],
    responses: { 200: { description: 'Deleted', schema: z.object({ deleted: policyDeletionSchema }) } },
    errors: { 404: notFound('policy'), 409: 'It is the default policy', ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/subscribers',
    summary: 'Search subscribers',
    tags: ['subscribers'],
    description:
      'By name, surname or email prefix (case and accents ignored), by MSISDN: digits in any usual form (+44 7700 900123, 447700900123, or the national 07700 900123) match the stored international number by its start or its end, or by IMEI prefix. Exact matches first, then numbers before names, then by name; each says what matched (`match`) and, for an IMEI or DevId, which handset (`device`).',
    query: subscriberSearchSchema,
    // A search ranked by how well each matches: `limit` only, no cursor.
    responses: {
      200: { description: 'Matches, best first', schema: z.object({ subscribers: z.array(subscriberMatchSchema) }) },
    },
    errors: { 400: INVALID },
  },
  {
    method: 'get',
    path: '/firmware/runs',
    summary: 'Handsets that ran a firmware version between two days',
    tags: ['devices'],
    description: `Fault and recall tracing, as the console's fleet firmware search and \`rewind firmware search\`: every handset whose inventories reported \`firmware\` on a day from \`from\` to \`to\` (UTC, both included), each with its whole run on the version, its subscriber and its last good backup (the one a restore would start from); the runs seen last first, at most ${FIRMWARE_SEARCH_MAX} (\`more\` says whether more matched).`,
    query: firmwareSearchSchema,
    responses: { 200: { description: 'The handsets found', schema: firmwareRunsSchema } },
    errors: { 400: INVALID },
  },
  {
    method: 'get',
    path: '/subscribers/{id}',
    summary: 'A subscriber and their devices',
    tags: ['subscribers'],
    params: [idParam('Subscriber id')],
    responses: {
      200: {
        description: 'The subscriber',
        schema: z.object({ subscriber: subscriberSchema, devices: z.array(deviceSchema) }),
      },
    },
    errors: { 404: notFound('subscriber') },
  },
  {
    method: 'delete',
    path: '/subscribers/{id}',
    summary: "Erase a subscriber: their handsets' records, every backup and their encryption keys",
    tags: ['subscribers'],
    description:
      'Refused (400) while a backup or restore of one of their handsets is under way, or while one of their snapshots is under legal hold. Content only they had can no longer be decrypted by anyone once this returns.',
    params: [idParam('Subscriber id')],
    responses: {
      200: {
        description: 'Erased',
        schema: z.object({ erased: z.object({ devices: z.int(), snapshots: z.int(), keys: z.int() }) }),
      },
    },
    errors: { 400: INVALID, 404: notFound('subscriber'), ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/devices',
    summary: 'List devices, filtered and sorted',
    tags: ['devices'],
    description:
      "The console's device list (/devices) with the same filters and sort, a page at a time; follow nextCursor for the rest (a cursor belongs to its filters and sort). Every filter given must hold. Times take a date (2026-11-30), a date-time or milliseconds since 1970; `lastBackupBefore` and `noBackupForDays` include handsets never backed up, `notSeenForDays` those never seen; `policy` is the policy that applies (own, group's, model's or the default). Handsets without a value of the sort column count as the oldest. With `Accept: text/csv` or `format=csv`: every matching device as CSV in the list's order (columns devId, manufacturer, model, firmware, subscriberId, subscriber, policyId, lastGoodBackup, coverage, lastSeen, openAlerts), audited as devices.exported.",
    query: deviceListRequestSchema,
    responses: {
      200: {
        description: 'A page of devices (JSON), or with format=csv every matching device (text/csv)',
        schema: list('devices', deviceListEntrySchema),
        content: { 'text/csv': { schema: { type: 'string' } } },
      },
    },
    errors: { 400: 'A parameter is not valid (fieldErrors names it), or a cursor of other filters or sort' },
  },
  {
    method: 'post',
    path: '/devices',
    summary: 'Provision a device, or several (array body)',
    tags: ['devices'],
    body: z.union([provisionDeviceSchema, z.array(provisionDeviceSchema)]),
    description: `All or none: one device refused (its fieldErrors under its index, '3.devId') provisions none. Each device is audited. At most ${PROVISION_MAX_DEVICES} per request.`,
    responses: {
      201: { description: 'Provisioned', schema: z.object({ devices: z.array(deviceSchema) }) },
    },
    errors: {
      400: INVALID,
      413: `More than ${PROVISION_MAX_DEVICES} devices in one request (code too-many-devices); nothing was provisioned`,
      ...ADMIN_ONLY,
    },
  },
  {
    method: 'post',
    path: '/devices/import',
    summary: 'Provision devices from a CSV file, all or none',
    tags: ['devices'],
    description:
      'A header row, then one row per device. Columns (any order): devId, manufacturer, model, msisdn, subscriber, serverId, auth, clientUser, clientPass, serverPass, and optionally firmware, pushAddress, email, clientAuth, serverAuth: auth sets the scheme of the DM account both ways, clientAuth (how the handset proves itself) and serverAuth (how it checks the server) each win for their own, and clientAuth may stand in for auth. msisdn and subscriber may be empty. Every row is validated first; any error refuses the whole file, naming each row (its line number; the header is row 1). Devices already known (by devId) are updated.',
    body: {
      content: {
        'text/csv': {
          schema: { type: 'string' },
          example:
            'devId,manufacturer,model,msisdn,subscriber,serverId,auth,clientUser,clientPass,serverPass\nIMEI:356938035643809,Nimbus,N1,+44 7700 900123,Ada Lovelace,rewind,md5,ada,s3cret,srvs3cret\n',
        },
      },
    },
    responses: {
      201: {
        description: 'Every row provisioned',
        schema: z.object({ devices: z.int(), created: z.int(), updated: z.int(), subscribersCreated: z.int() }),
      },
    },
    errors: {
      400: {
        description: 'Bad rows; nothing was imported (code invalid-rows), or a body that is not UTF-8 or too large',
        schema: z.union([importErrorSchema, apiErrorSchema]),
      },
      415: 'Not a CSV body (multipart or JSON)',
      ...ADMIN_ONLY,
    },
  },
  {
    method: 'get',
    path: '/devices/{devId}',
    summary: 'A device, its latest snapshots and its pending jobs',
    tags: ['devices'],
    params: [devIdParam],
    responses: {
      200: {
        description: 'The device',
        schema: z.object({
          device: deviceSchema,
          lastSnapshot: snapshotSchema.nullable().describe('the newest, whatever its status'),
          lastCompleteSnapshot: snapshotSchema.nullable().describe('the newest restorable one'),
          pendingJobs: z.array(jobSchema).describe('queued or running'),
        }),
      },
    },
    errors: { 404: notFound('device') },
  },
  {
    method: 'post',
    path: '/devices/{devId}/wake',
    summary: 'Send Package #0 so the handset opens a DM session now',
    tags: ['devices'],
    params: [devIdParam],
    responses: {
      202: { description: 'Sent; the session id the handset will use', schema: z.object({ sessionId: z.string() }) },
    },
    errors: {
      404: notFound('device'),
      409: 'The device has no push address',
      502: 'The push gateway refused or is unreachable',
    },
  },
  {
    method: 'get',
    path: '/devices/{devId}/snapshots',
    summary: "A device's snapshots, newest first",
    tags: ['snapshots'],
    params: [devIdParam],
    query: pageQuerySchema,
    responses: { 200: { description: 'Snapshots of every status', schema: list('snapshots', snapshotSchema) } },
    errors: { 400: INVALID, 404: notFound('device') },
  },
  {
    method: 'get',
    path: '/devices/{devId}/jobs',
    summary: "A device's jobs, newest first",
    tags: ['jobs'],
    params: [devIdParam],
    query: pageQuerySchema,
    responses: { 200: { description: 'Jobs', schema: list('jobs', jobSchema) } },
    errors: { 400: INVALID, 404: notFound('device') },
  },
  {
    method: 'get',
    path: '/devices/{devId}/ds-snapshots',
    summary: "A device's DS backups (contacts and calendar), newest first",
    tags: ['data sync'],
    params: [devIdParam],
    query: pageQuerySchema,
    responses: { 200: { description: 'DS backups', schema: list('dsSnapshots', dsSnapshotSchema) } },
    errors: { 400: INVALID, 404: notFound('device') },
  },
  {
    method: 'get',
    path: '/devices/{devId}/ds-accounts',
    summary: "A device's DS accounts and each store's last sync",
    tags: ['data sync'],
    params: [devIdParam],
    query: pageQuerySchema,
    responses: { 200: { description: 'Accounts, by user name', schema: list('dsAccounts', dsAccountViewSchema) } },
    errors: { 400: INVALID, 404: notFound('device') },
  },
  {
    method: 'post',
    path: '/devices/{devId}/ds-accounts',
    summary: 'Create a DS account for the device, or reset the password of its account of that user name',
    tags: ['data sync'],
    description:
      'User names are unique across the server (MD5 credentials name the account only by it): one that belongs to another handset is refused.',
    params: [devIdParam],
    body: dsAccountBodySchema,
    responses: {
      201: { description: 'Created', schema: z.object({ dsAccount: dsAccountViewSchema, created: z.literal(true) }) },
      200: {
        description: "The existing account's password (and auth) reset",
        schema: z.object({ dsAccount: dsAccountViewSchema, created: z.literal(false) }),
      },
    },
    errors: { 400: 'Invalid input, or a user name another handset has', 404: notFound('device'), ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/ds-snapshots/{id}',
    summary: 'A DS backup and its manifest: every contact and event',
    tags: ['data sync'],
    params: [idParam('DS snapshot id')],
    responses: {
      200: {
        description: 'The backup and its items',
        schema: z.object({ dsSnapshot: dsSnapshotSchema, entries: z.array(dsManifestEntrySchema) }),
      },
    },
    errors: { 404: notFound('DS snapshot') },
  },
  {
    method: 'get',
    path: '/ds-snapshots/{id}/diff/{other}',
    summary: 'Contacts and events added, removed and changed from DS snapshot {id} (older) to {other} (newer)',
    tags: ['data sync'],
    params: [idParam('The older DS snapshot'), { name: 'other', description: 'The newer DS snapshot' }],
    responses: { 200: { description: 'The diff', schema: dsDiffSchema } },
    errors: { 404: notFound('DS snapshot') },
  },
  {
    method: 'get',
    path: '/models',
    summary: 'Known models and their profile paths',
    tags: ['profiles'],
    query: pageQuerySchema,
    responses: { 200: { description: 'Models by manufacturer and name', schema: list('models', modelSchema) } },
    errors: { 400: INVALID },
  },
  {
    method: 'get',
    path: '/models/{manufacturer}/{model}/profile',
    summary: 'The effective backup profile of a model (generic plus its own paths)',
    tags: ['profiles'],
    params: [
      { name: 'manufacturer', description: 'As the handset reports it in DevInfo/Man', example: 'Nimbus' },
      { name: 'model', description: 'As in DevInfo/Mod', example: 'N1' },
    ],
    responses: {
      200: {
        description: 'The profile (a model nobody described gets the generic one, known: false)',
        schema: modelProfileSchema,
      },
    },
    errors: { 400: INVALID },
  },
  {
    method: 'put',
    path: '/models/{manufacturer}/{model}/profiles/{category}',
    summary: 'Set the DM subtrees one category covers for a model',
    tags: ['profiles'],
    description:
      'Replaces the model\'s paths for the category (an empty list clears them; the generic profile always applies). Each path is normalised: ./-rooted, no trailing slash, no query, no "..". The model is created when new.',
    params: [
      { name: 'manufacturer', description: 'DevInfo/Man', example: 'Nimbus' },
      { name: 'model', description: 'DevInfo/Mod', example: 'N1' },
      { name: 'category', schema: categorySchema },
    ],
    body: profilePathsSchema,
    responses: {
      200: {
        description: "Set; the model's profile now",
        schema: modelProfileSchema.extend({
          updated: z.object({ category: categorySchema, paths: z.array(z.string()) }),
        }),
      },
    },
    errors: { 400: INVALID, ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/snapshots/{id}',
    summary: 'A complete snapshot and its manifest',
    tags: ['snapshots'],
    params: [idParam('Snapshot id')],
    responses: {
      200: {
        description: 'The snapshot and every node it holds, by path',
        schema: z.object({ snapshot: snapshotSchema, entries: z.array(manifestEntrySchema) }),
      },
    },
    errors: SNAPSHOT_ERRORS,
  },
  {
    method: 'get',
    path: '/snapshots/{id}/content',
    summary: "One node's value, as the handset gave it",
    tags: ['snapshots'],
    params: [idParam('Snapshot id')],
    query: z.object({ path: z.string().meta({ example: './DevDetail/FwV' }) }),
    responses: {
      200: {
        description:
          "The raw bytes, with the node's MIME type (application/octet-stream when it has none); served as an attachment",
        headers: {
          'Content-Length': {
            schema: { type: 'integer' },
            description: 'set by the handler; a Next.js front may send the answer chunked instead',
          },
          'X-Content-Length': { schema: { type: 'integer' }, description: "the value's size in bytes, always present" },
          ETag: { schema: { type: 'string' }, description: "the value's SHA-256" },
        },
        content: {
          'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          '*/*': { schema: { type: 'string', format: 'binary' } },
        },
      },
    },
    errors: {
      400: 'No path given, or an interior node (code interior-node)',
      404: 'No such snapshot, or no such node in it (code no-such-node)',
      409: SNAPSHOT_ERRORS[409],
      500: SNAPSHOT_ERRORS[500],
    },
  },
  {
    method: 'get',
    path: '/snapshots/{id}/diff/{other}',
    summary: 'What changed from snapshot {id} (older) to {other} (newer)',
    tags: ['snapshots'],
    params: [
      idParam('The older snapshot'),
      { name: 'other', description: 'The newer snapshot (of the same device or another)' },
    ],
    responses: { 200: { description: 'The diff', schema: diffSchema } },
    errors: SNAPSHOT_ERRORS,
  },
  {
    method: 'post',
    path: '/jobs',
    summary: 'Queue a backup, a local backup, a local restore, a DS backup or a DS restore',
    tags: ['jobs'],
    description:
      'A running server sends Package #0 within a second; the job runs in the DM session that follows. A backup asked for while another is queued or running joins it (created: false). Agents may queue every kind.',
    body: createJobSchema,
    responses: { 202: { description: 'Queued', schema: z.object({ job: jobSchema, created: z.boolean() }) } },
    errors: {
      400: INVALID,
      403: "(ds-restore) the handset is not one of the snapshot's subscriber (code forbidden-target)",
      404: 'No such device, or (local-restore) no such local backup (code no-local-backup), or (ds-restore) no such DS snapshot (code no-ds-snapshot)',
      409: 'The local backup is no longer on the handset (code local-backup-gone)',
    },
  },
  {
    method: 'get',
    path: '/jobs/{id}',
    summary: 'A job and where it stands',
    tags: ['jobs'],
    description:
      "For a restore, also every item's outcome (seq, kind, path, op, status, code, detail), counts by status, and the consent entries of the job.",
    params: [idParam('Job id')],
    responses: { 200: { description: 'The job', schema: jobDetailSchema } },
    errors: { 404: notFound('job') },
  },
  {
    method: 'post',
    path: '/jobs/{id}/retry',
    summary: "Send a finished restore's failed items again, and only those",
    tags: ['restores'],
    description:
      'Failed and mismatched items go back to pending; the job is queued, the handset woken and its user asked again.',
    params: [idParam('A restore job id')],
    responses: { 202: { description: 'Queued again', schema: jobDetailSchema } },
    errors: {
      404: 'No such restore job',
      409: 'The restore is still queued or running, or no item failed (code invalid)',
    },
  },
  {
    method: 'post',
    path: '/restores/plan',
    summary: 'Plan a restore (the dry run)',
    tags: ['restores'],
    description:
      "Every step (firmware through FUMO, apps through SCOMO at their recorded versions, then nodes), the bytes, the cost on the target's network, the exact prompt and choices its user will see, and what will not be carried and why. The plan is stored: execute it with POST /plans/{id}/execute. Agents and admins; only admins may pass allowFirmwareDowngrade.",
    body: planRequestSchema,
    responses: {
      201: {
        description: 'Planned and stored',
        schema: z.object({ planId: z.string(), planHash: z.string(), plan: restorePlanSchema }),
      },
    },
    errors: {
      400: 'Invalid input (fieldErrors), or nothing in the selection can be restored (code empty)',
      403: "allowFirmwareDowngrade from an agent, or a target that is not a handset of the snapshot's subscriber",
      404: 'No such snapshot or target device',
      409: 'The snapshot is not complete (code not-complete)',
    },
  },
  {
    method: 'get',
    path: '/plans/{id}',
    summary: 'A stored restore plan',
    tags: ['restores'],
    params: [idParam('Plan id')],
    responses: {
      200: { description: 'The plan as it was shown, and its job once executed', schema: storedPlanSchema },
    },
    errors: { 404: notFound('plan') },
  },
  {
    method: 'post',
    path: '/plans/{id}/execute',
    summary: 'Execute a stored plan',
    tags: ['restores'],
    description:
      'Queues a safety backup of the target and the restore behind it (none when the target\'s policy turns "safety backup before updates" off: `safetyBackup` is null, the restore starts at once and cannot be undone); a running server sends Package #0 within a second. When the writes begin the plan is checked again against that safety backup: only what differs then is sent. Follow the restore with GET /jobs/{id}. A plan runs once. The reason (or ticket reference) goes on the job, in the audit log and in the consent ledger.',
    params: [idParam('Plan id')],
    body: executeRequestSchema,
    responses: {
      202: {
        description: 'Queued',
        schema: z.object({
          job: jobSchema,
          safetyBackup: jobSchema
            .nullable()
            .describe(
              "null when the target's policy takes no safety backup before updates: the restore cannot be undone",
            ),
        }),
      },
    },
    errors: {
      404: 'No such plan, or its target device is gone',
      400: 'No reason given (fieldErrors.reason)',
      409: 'The plan was executed already (code already-run): make a new one',
    },
  },
  {
    method: 'post',
    path: '/jobs/{id}/undo',
    summary: 'Plan putting a handset back as it was before a restore',
    tags: ['restores'],
    description:
      "A plan (the dry run, stored) restoring a finished restore's safety backup onto the same handset, over the same selection, deleting what the restore added; execute it with POST /plans/{id}/execute.",
    params: [idParam('A restore job id')],
    responses: {
      201: {
        description: 'Planned and stored',
        schema: z.object({ planId: z.string(), planHash: z.string(), plan: restorePlanSchema }),
      },
    },
    errors: {
      404: 'No such restore job',
      409: 'The restore is still running, or has no safety backup (code invalid)',
    },
  },
  {
    method: 'get',
    path: '/subscribers/{id}/consents',
    summary: "The consent ledger of a subscriber's handsets, newest first",
    tags: ['restores', 'subscribers'],
    params: [idParam('Subscriber id')],
    query: pageQuerySchema,
    responses: { 200: { description: 'Every prompt shown and its answer', schema: list('consents', consentSchema) } },
    errors: { 400: INVALID, 404: notFound('subscriber') },
  },
  {
    method: 'get',
    path: '/catalog/firmware',
    summary: 'The firmware catalog',
    tags: ['catalog'],
    responses: {
      200: { description: 'By manufacturer, model and version', schema: list('firmware', firmwarePackageSchema) },
    },
    query: pageQuerySchema,
    errors: { 400: INVALID },
  },
  {
    method: 'post',
    path: '/catalog/firmware',
    summary: 'Publish a firmware image',
    tags: ['catalog'],
    description: 'The image is the body; the same manufacturer, model and version uploaded again replaces it.',
    query: firmwareUploadSchema,
    body: packageBody,
    responses: { 201: { description: 'Published', schema: z.object({ package: firmwarePackageSchema }) } },
    errors: {
      400: 'Invalid query, an empty body, a bad version or a body over 256 MB',
      415: 'Not application/octet-stream',
      ...ADMIN_ONLY,
    },
  },
  {
    method: 'get',
    path: '/catalog/apps',
    summary: 'The app catalog',
    tags: ['catalog'],
    query: pageQuerySchema,
    responses: { 200: { description: 'By application id and version', schema: list('apps', appPackageSchema) } },
    errors: { 400: INVALID },
  },
  {
    method: 'post',
    path: '/catalog/apps',
    summary: 'Publish an app package',
    tags: ['catalog'],
    description: 'The package is the body; the same application id and version uploaded again replaces it.',
    query: appUploadSchema,
    body: packageBody,
    responses: { 201: { description: 'Published', schema: z.object({ package: appPackageSchema }) } },
    errors: {
      400: 'Invalid query, an empty body, a bad version or id, or a body over 256 MB',
      415: 'Not application/octet-stream',
      ...ADMIN_ONLY,
    },
  },
  {
    method: 'get',
    path: '/alerts',
    summary: 'Alerts',
    tags: ['alerts'],
    description:
      'Newest first. Each alert is about one handset and one condition (a rule of GET /alert-rules); a condition raises one alert, and the system resolves it when the condition clears.',
    query: alertListQuerySchema,
    responses: { 200: { description: 'Alerts, and how many are unresolved', schema: alertListSchema } },
    errors: { 400: INVALID },
  },
  {
    method: 'post',
    path: '/alerts/{id}/acknowledge',
    summary: 'Acknowledge an alert',
    tags: ['alerts'],
    description:
      'Someone is on it: the alert stays unresolved. Audited; webhooks asking for alert.acknowledged get it.',
    params: [idParam('Alert id')],
    responses: { 200: { description: 'The alert, acknowledged', schema: z.object({ alert: alertSchema }) } },
    errors: { 404: notFound('alert'), 409: 'The alert is acknowledged or resolved already (code already-…)' },
  },
  {
    method: 'post',
    path: '/alerts/{id}/resolve',
    summary: 'Resolve an alert',
    tags: ['alerts'],
    description:
      'Dealt with. Audited; webhooks asking for alert.resolved get it. The same condition does not raise it again.',
    params: [idParam('Alert id')],
    responses: { 200: { description: 'The alert, resolved', schema: z.object({ alert: alertSchema }) } },
    errors: { 404: notFound('alert'), 409: 'The alert is resolved already (code already-resolved)' },
  },
  {
    method: 'get',
    path: '/alert-rules',
    summary: 'Alert rules',
    tags: ['alerts'],
    responses: { 200: { description: 'One rule per kind', schema: alertRuleListSchema } },
    errors: {},
  },
  {
    method: 'put',
    path: '/alert-rules/{kind}',
    summary: "Change a rule's threshold or turn it on or off",
    tags: ['alerts'],
    params: [{ name: 'kind', description: 'The rule', schema: z.enum(ALERT_KINDS) }],
    body: alertRuleInputSchema,
    responses: { 200: { description: 'The rule as it is now', schema: z.object({ rule: alertRuleSchema }) } },
    errors: { 400: INVALID, 404: notFound('rule kind'), ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/webhooks',
    summary: 'Webhooks',
    tags: ['webhooks'],
    responses: { 200: { description: 'Every webhook (never its secret)', schema: webhookListSchema } },
    errors: ADMIN_ONLY,
  },
  {
    method: 'post',
    path: '/webhooks',
    summary: 'Add a webhook',
    tags: ['webhooks'],
    description:
      'Events go to the URL as JSON POSTs signed with the secret answered here (once): `X-Rewind-Signature: sha256=<hex HMAC-SHA256 of the body>`. A delivery that does not get a 2xx is retried with backoff (30 s, then four times longer each time, at most 6 h; 8 attempts). `events` is an array or a comma-separated list.',
    body: webhookInputSchema,
    responses: { 201: { description: 'Added', schema: webhookCreatedSchema } },
    errors: { 400: INVALID, ...ADMIN_ONLY },
  },
  {
    method: 'delete',
    path: '/webhooks/{id}',
    summary: 'Remove a webhook',
    tags: ['webhooks'],
    description: 'Its pending deliveries go with it.',
    params: [idParam('Webhook id')],
    responses: { 200: { description: 'Removed', schema: z.object({ webhook: webhookSchema }) } },
    errors: { 404: notFound('webhook'), ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    summary: "A webhook's delivery log",
    tags: ['webhooks'],
    params: [idParam('Webhook id')],
    query: deliveryListQuerySchema,
    responses: { 200: { description: 'Newest first: status, attempts, the last answer', schema: deliveryListSchema } },
    errors: { 400: INVALID, 404: notFound('webhook'), ...ADMIN_ONLY },
  },
  {
    method: 'post',
    path: '/webhooks/{id}/test',
    summary: 'Send a test event',
    tags: ['webhooks'],
    description: 'A webhook.test event to this webhook, sent at once; retried like any other if it fails.',
    params: [idParam('Webhook id')],
    responses: {
      200: { description: 'The delivery after its first attempt', schema: z.object({ delivery: deliverySchema }) },
    },
    errors: { 404: notFound('webhook'), ...ADMIN_ONLY },
  },
  {
    method: 'post',
    path: '/bulk',
    summary: 'Order a bulk action, or count it first',
    tags: ['bulk'],
    description:
      "Back up now (`backup`), DS backup now (`ds-backup`) or assign a policy (`assign-policy`, `params.policyId`) on every handset of a device-list `filter` (as GET /devices takes it; `{}` is the whole fleet) or on `deviceIds` (ids or DevIds, at most 5,000). `dryRun: true` answers the count only: the handsets it covers and those it would skip (a backup already queued or running, the policy already theirs). Otherwise the operation is kept and worked through by the server a page at a time; a relative filter (`noBackupForDays`) is read at the time of the order. Each job's Package #0 goes out within the wake budget (per minute, all server processes together). Audited (bulk.ordered), and each job or assignment as its own kind.",
    body: bulkOrderSchema,
    responses: {
      200: { description: 'The dry run', schema: z.object({ preview: bulkPreviewSchema }) },
      202: { description: 'Ordered; follow it with GET /bulk/{id}', schema: z.object({ bulk: bulkProgressSchema }) },
    },
    errors: { 400: `${INVALID}; or no handset matches, or the policy does not exist`, ...ADMIN_ONLY },
  },
  {
    method: 'get',
    path: '/bulk/{id}',
    summary: "A bulk operation's progress",
    tags: ['bulk'],
    description:
      'Handsets worked through, skipped and no longer matching; its jobs succeeded, failed, still waiting; `waiting` says when the wake budget holds them back.',
    params: [idParam('Bulk operation id')],
    responses: { 200: { description: 'Its progress', schema: z.object({ bulk: bulkProgressSchema }) } },
    errors: { 404: notFound('bulk operation'), ...ADMIN_ONLY },
  },
  {
    method: 'post',
    path: '/bulk/{id}/cancel',
    summary: 'Cancel a bulk operation',
    tags: ['bulk'],
    description:
      'Its walk stops and its jobs not yet started are cancelled; running ones finish. Audited (bulk.cancelled).',
    params: [idParam('Bulk operation id')],
    responses: { 200: { description: 'Cancelled', schema: z.object({ bulk: bulkProgressSchema }) } },
    errors: { 404: notFound('bulk operation'), 409: 'It is over already (code bulk-over)', ...ADMIN_ONLY },
  },
];

/** The operation a method and path template name. */
export function apiOperation(method: string, path: string): ApiOperation | undefined {
  return API_OPERATIONS.find((o) => o.method === method.toLowerCase() && o.path === path);
}

/**
 * What an operation answers with this status: its own schema or the error body; null for a
 * documented answer that is not JSON (a snapshot's raw content); undefined for a status the
 * document does not list.
 */
export function answerSchema(op: ApiOperation, status: number): z.ZodType | null | undefined {
  const ok = op.responses[status];
  if (ok) return ok.schema ?? null;
  const e = errorsOf(op)[status];
  if (e === undefined) return undefined;
  return typeof e === 'string' ? apiErrorSchema : (e.schema ?? apiErrorSchema);
}

// The generator ---------------------------------------------------------------------------

const REF = '#/components/schemas/';
type Json = Record<string, unknown>;

/** zod's output is a standalone JSON Schema; inside the document each part drops its own $schema and $id, and integers their "safe integer" bounds. */
function tidy(node: unknown, output: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => tidy(n, output));
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === '$schema' || k === '$id') continue;
    if ((k === 'minimum' || k === 'maximum') && Math.abs(v as number) === Number.MAX_SAFE_INTEGER) continue;
    // An answer may gain members: clients should ignore what they do not know.
    if (output && k === 'additionalProperties' && v === false) continue;
    out[k] = tidy(v, output);
  }
  return out;
}

/**
 * Every schema in JSON Schema form, the components and the operations' own in one pass per
 * direction (requests as they are sent, `input`; answers as they are produced, `output`),
 * so a component appears once and the rest point at it.
 */
function convert(
  io: 'input' | 'output',
  own: z.ZodType[],
): { components: Record<string, unknown>; of: (s: z.ZodType) => unknown } {
  const registry = z.registry<{ id: string }>();
  const ids = new Map<z.ZodType, string>();
  for (const [id, s] of Object.entries(COMPONENTS)) {
    registry.add(s, { id });
    ids.set(s, id);
  }
  own.forEach((s, i) => {
    if (!ids.has(s)) {
      registry.add(s, { id: `op${i}` });
      ids.set(s, `op${i}`);
    }
  });
  const { schemas } = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: (id) => `${REF}${id}` });
  const components = Object.fromEntries(Object.keys(COMPONENTS).map((id) => [id, tidy(schemas[id], io === 'output')]));
  return {
    components,
    of: (s) => {
      const id = ids.get(s)!;
      return id in COMPONENTS ? { $ref: `${REF}${id}` } : tidy(schemas[id], io === 'output');
    },
  };
}

const isZod = (b: ApiOperation['body']): b is z.ZodType => b instanceof z.ZodType;

function buildDocument() {
  const requests = API_OPERATIONS.flatMap((o) => [
    ...(isZod(o.body) ? [o.body] : []),
    ...(o.query ? (Object.values(o.query.shape) as z.ZodType[]) : []),
    ...(o.params ?? []).flatMap((p) => (p.schema ? [p.schema] : [])),
  ]);
  const answers = API_OPERATIONS.flatMap((o) =>
    [...Object.values(o.responses), ...Object.values(errorsOf(o))].flatMap((a) =>
      typeof a === 'object' && a.schema ? [a.schema] : [],
    ),
  );
  const req = convert('input', requests);
  const res = convert('output', [...answers, apiErrorSchema]);
  const answer = (a: string | ApiAnswer) => {
    const { description, schema, content, headers } =
      typeof a === 'string' ? ({ description: a, schema: apiErrorSchema } as ApiAnswer) : a;
    return {
      description,
      ...(headers ? { headers } : {}),
      // A schema is the JSON answer; content beside it adds other media types (a list's CSV).
      ...(schema
        ? { content: { 'application/json': { schema: res.of(schema) }, ...content } }
        : content
          ? { content }
          : {}),
    };
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const o of API_OPERATIONS) {
    const parameters = [
      ...(o.params ?? []).map((p) => ({
        name: p.name,
        in: 'path',
        required: true,
        ...(p.description ? { description: p.description } : {}),
        schema: p.schema ? req.of(p.schema) : { type: 'string' },
        ...(p.example ? { example: p.example } : {}),
      })),
      ...Object.entries(o.query?.shape ?? {}).map(([name, s]) => {
        const { description, example, ...schema } = req.of(s as z.ZodType) as Json;
        return {
          name,
          in: 'query',
          required: !(s as z.ZodType).safeParse(undefined).success,
          ...(description ? { description } : {}),
          schema,
          ...(example ? { example } : {}),
        };
      }),
    ];
    const requestBody =
      o.body === undefined
        ? undefined
        : isZod(o.body)
          ? { required: true, content: { 'application/json': { schema: req.of(o.body) } } }
          : {
              required: true,
              ...(o.body.description ? { description: o.body.description } : {}),
              content: o.body.content,
            };
    const responses = Object.fromEntries(
      // An operation's own description of a status (a snapshot's 500) over the common one.
      Object.entries({ ...errorsOf(o), ...o.responses }).map(([status, a]) => [status, answer(a)]),
    );
    (paths[o.path] ??= {})[o.method] = {
      operationId: operationId(o),
      summary: o.summary,
      ...(o.description ? { description: o.description } : {}),
      tags: o.tags,
      ...(parameters.length ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Rewind API',
      version: '1',
      description:
        'Backup and restore for handsets managed over OMA-DM. Roles: admin may do everything; agent may read, queue jobs, and plan, execute and retry restores (admins alone publish packages and allow firmware downgrades). Errors are `{ error: { code, message, fieldErrors? } }`.',
    },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Create one with `npm run rewind -- token create --role admin`.',
        },
      },
      // Requests as they are sent, answers as they are produced; a schema used both ways (Category) is the same either way.
      schemas: {
        ...res.components,
        ...Object.fromEntries(['ProvisionDevice', 'CreateJob', 'PlanRequest'].map((id) => [id, req.components[id]])),
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

/** A name for each operation, from its method and path ('GET /devices/{devId}/jobs': getDevicesByDevIdJobs), unique as they are. */
export function operationId(o: Pick<ApiOperation, 'method' | 'path'>): string {
  const words = o.path
    .split('/')
    .filter(Boolean)
    .map((seg) => (seg.startsWith('{') ? `By-${seg.slice(1, -1)}` : seg))
    .flatMap((seg) => seg.split(/[^A-Za-z0-9]+/).filter(Boolean));
  return o.method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** The OpenAPI 3.1 document, built once when first imported. */
export const openapi = buildDocument();
