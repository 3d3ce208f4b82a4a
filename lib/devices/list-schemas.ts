/**
 * What `GET /api/v1/devices` takes and answers (lib/devices/list.ts), for the OpenAPI document:
 * the list query of the console's /devices page with the API's paging, and each device as the
 * API always showed it plus what the list adds.
 */
import { z } from 'zod';
import { pageQuerySchema } from '../core/paging';
import { COVERAGE_STATES, deviceListQuerySchema } from './filter';
import { deviceSchema } from './schemas';

export const deviceListRequestSchema = deviceListQuerySchema.extend(pageQuerySchema.shape).extend({
  format: z
    .enum(['json', 'csv'])
    .optional()
    .describe('csv: every matching device as CSV (as `Accept: text/csv`), not a page; audited'),
});

export const deviceListEntrySchema = deviceSchema.extend({
  subscriber: z.object({ id: z.string(), name: z.string() }).nullable(),
  policyId: z
    .string()
    .nullable()
    .describe("The handset's own policy; null when it takes its group's, model's or the default"),
  lastGoodBackupAt: z
    .int()
    .nullable()
    .describe('When its newest complete backup finished (ms since the epoch); null: never'),
  coverage: z.enum(COVERAGE_STATES).describe('day: backed up in the last day; week: 1–7 days ago; older; never'),
  openAlerts: z.int().describe('Alerts about it not yet resolved'),
});
