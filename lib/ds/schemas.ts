/**
 * The Data Sync part of the REST API's contract: what POST /devices/{devId}/ds-accounts
 * takes, and the DS accounts, backups and diffs the API answers (lib/ds/views.ts).
 */
import { z } from 'zod';

/** The body of POST /devices/{devId}/ds-accounts; the full rules are addDsAccount's (lib/ds/accounts.ts), which names each field. */
export const dsAccountBodySchema = z
  .object({
    user: z.string().describe('printable ASCII without spaces, up to 64').meta({ example: 'ada-phone' }),
    pass: z.string().describe('4 to 128 characters').meta({ writeOnly: true }),
    auth: z.enum(['basic', 'md5']).optional().describe('default basic; md5 challenges a basic client for MD5'),
  })
  .strict();

const dsStoreSchema = z.enum(['contacts', 'calendar']);

const dsStoreCountsSchema = z
  .object(
    Object.fromEntries(
      ['received', 'added', 'replaced', 'deleted', 'failed', 'sent'].map((k) => [k, z.int().optional()]),
    ),
  )
  .describe('what the session did to one store');

export const dsSnapshotSchema = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    accountId: z.string(),
    jobId: z.string().nullable(),
    syncType: z.string().describe('per store, joined with + when they differ').meta({ example: 'two-way' }),
    rootHash: z.string().describe('SHA-256 (hex) of the manifest'),
    contacts: z.int(),
    events: z.int(),
    bytes: z.int(),
    newBytes: z.int().describe('content this backup added to the store'),
    changes: z.object({ contacts: dsStoreCountsSchema.optional(), calendar: dsStoreCountsSchema.optional() }),
    createdAt: z.int(),
  })
  .describe("A DS backup: the handset's contacts and calendar as one Data Sync session left them");

export const dsManifestEntrySchema = z.object({
  store: dsStoreSchema,
  id: z.string().describe("the server's id of the item"),
  uid: z.string().optional().describe('the vCard/iCalendar UID, when it has one'),
  type: z.string().meta({ example: 'text/vcard' }),
  size: z.int(),
  hash: z.string().describe('SHA-256 (hex) of the item'),
  summary: z.string().describe("a contact's name, an event's title").meta({ example: 'Ada Lovelace' }),
});

const dsChangeSchema = z.object({
  store: dsStoreSchema,
  key: z.string(),
  summary: z.string(),
  before: dsManifestEntrySchema.optional(),
  after: dsManifestEntrySchema.optional(),
});
const countsSchema = z.object({ added: z.int(), removed: z.int(), changed: z.int() });

export const dsDiffSchema = z
  .object({
    a: dsSnapshotSchema,
    b: dsSnapshotSchema,
    added: z.array(dsChangeSchema),
    removed: z.array(dsChangeSchema),
    changed: z.array(dsChangeSchema),
    unchanged: z.int(),
    byStore: z.object({ contacts: countsSchema, calendar: countsSchema }),
  })
  .describe("Items match by UID, else by the server's id");

export const dsAccountViewSchema = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    username: z.string(),
    auth: z.enum(['basic', 'md5']).describe('md5 challenges a basic client for MD5'),
    createdAt: z.int(),
    stores: z.array(
      z.object({
        store: dsStoreSchema,
        syncedAt: z.int().nullable(),
        lastSyncType: z.string().nullable(),
        clientUri: z.string().nullable(),
      }),
    ),
  })
  .describe("What a handset's DS client signs in to /ds with (the password is never shown)");
