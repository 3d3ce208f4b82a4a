/**
 * The device list's vocabulary, shared by the console's /devices page, `GET /api/v1/devices`,
 * saved views, group rules and bulk actions: what a filter may say, how a list is sorted, and
 * the rule a group keeps. The SQL each compiles to is db/queries/device-list.ts.
 *
 * Pure (zod only).
 */
import { z } from 'zod';
import { ALERT_KINDS } from '../alerts/schemas';

const DAY_MS = 86_400_000;

/** A handset's backup coverage, from the age of its newest complete backup. */
export const COVERAGE_STATES = ['day', 'week', 'older', 'never'] as const;
export type CoverageState = (typeof COVERAGE_STATES)[number];

export const COVERAGE_WORDS: Record<CoverageState, string> = {
  day: 'Backed up in the last day',
  week: 'Last backup 1–7 days ago',
  older: 'Last backup over 7 days ago',
  never: 'Never backed up',
};

export function coverageOf(lastGoodBackupAt: number | null, now: number): CoverageState {
  if (lastGoodBackupAt === null) return 'never';
  if (lastGoodBackupAt >= now - DAY_MS) return 'day';
  if (lastGoodBackupAt >= now - 7 * DAY_MS) return 'week';
  return 'older';
}

/**
 * A firmware version in a form whose byte order is the versions' order: each run of digits
 * is padded to 10 digits, so "1.10.2" sorts after "1.9.7" and "V2.0" after "V10.0" does not.
 * Letters and separators stay as they are, lower-cased.
 */
export function firmwareKey(version: string | null | undefined): string | null {
  if (version === null || version === undefined || version.trim() === '') return null;
  return version
    .trim()
    .toLowerCase()
    .replace(/\d+/g, (d) => d.replace(/^0+(?=\d)/, '').padStart(10, '0'));
}

/** A time in a query string: milliseconds since the epoch, or an ISO date or date-time. */
const instant = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'a date (2026-11-30), a date-time, or milliseconds since 1970' });
    return z.NEVER;
  }
  return n;
});

const name = z.string().trim().min(1).max(200);
const days = z.coerce.number().int().min(0).max(3650);

/**
 * The rule of a rule group, evaluated live: every field given must hold. Times are relative
 * (days before now), so "not seen for 14 days" stays true to its words as days pass.
 */
export const groupRuleSchema = z
  .strictObject({
    manufacturer: name.optional(),
    model: name.optional(),
    /** Firmware versions from this one (inclusive), compared as versions (firmwareKey). */
    firmwareFrom: name.optional(),
    /** Firmware versions up to this one (inclusive). */
    firmwareTo: name.optional(),
    /** Digits an MSISDN of the handset's subscriber starts with (international form, no '+'). */
    msisdnPrefix: z
      .string()
      .trim()
      .regex(/^\d{1,15}$/, 'digits only, without +')
      .optional(),
    /** Connected within this many days. */
    seenWithinDays: days.optional(),
    /** Not connected for at least this many days (or never). */
    notSeenForDays: days.optional(),
    coverage: z.enum(COVERAGE_STATES).optional(),
  })
  .refine((r) => Object.values(r).some((v) => v !== undefined), 'a rule needs at least one condition');
export type GroupRule = z.output<typeof groupRuleSchema>;

/**
 * What the device list filters on. Every field given must hold; none given is the whole fleet.
 * `lastBackupBefore` includes handsets never backed up ("no backup since"); `lastBackupAfter`
 * does not.
 */
export const deviceFilterSchema = z.strictObject({
  /** A DevId or IMEI, or the start of one. */
  q: z.string().trim().max(100).optional(),
  manufacturer: name.optional(),
  model: name.optional(),
  /** One firmware version exactly. */
  firmware: name.optional(),
  firmwareFrom: name.optional(),
  firmwareTo: name.optional(),
  msisdnPrefix: z
    .string()
    .trim()
    .regex(/^\d{1,15}$/, 'digits only, without +')
    .optional(),
  /** A subscriber's id. */
  subscriber: name.optional(),
  /** A group's name: its static members, or the handsets its rule matches now. */
  group: name.optional(),
  /** A policy's id: the handsets it applies to (their own, their group's, their model's or the default). */
  policy: name.optional(),
  lastBackupBefore: instant.optional(),
  lastBackupAfter: instant.optional(),
  /** No good backup for this many days (or never): relative, for saved views and rules. */
  noBackupForDays: days.optional(),
  lastSeenBefore: instant.optional(),
  lastSeenAfter: instant.optional(),
  seenWithinDays: days.optional(),
  notSeenForDays: days.optional(),
  coverage: z.enum(COVERAGE_STATES).optional(),
  /** Handsets with an open (unresolved) alert: of any kind, or of this kind. */
  alert: z.enum(['any', ...ALERT_KINDS]).optional(),
});
export type DeviceFilter = z.output<typeof deviceFilterSchema>;

/** The filter a group's rule is, now. */
export function ruleFilter(rule: GroupRule): DeviceFilter {
  return { ...rule };
}

export const DEVICE_SORTS = ['devId', 'model', 'firmware', 'lastBackup', 'lastSeen'] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];

/** A list's sort; handsets without a value (never backed up, never seen) count as the oldest. */
export const deviceSortSchema = z.object({
  sort: z.enum(DEVICE_SORTS).default('devId'),
  dir: z.enum(['asc', 'desc']).default('asc'),
});
export type DeviceSortQuery = z.output<typeof deviceSortSchema>;

/** A list query: its filter and sort, as saved views keep it and URLs carry it. */
export const deviceListQuerySchema = deviceFilterSchema.extend(deviceSortSchema.shape);
export type DeviceListQuery = z.output<typeof deviceListQuerySchema>;

/** Where a page of the list stopped: the sort value of its last row (null: none) and the row's id. */
export const deviceListKeySchema = z.strictObject({ v: z.union([z.string(), z.number(), z.null()]), id: z.string() });
export type DeviceListKey = z.output<typeof deviceListKeySchema>;

/** A list query from URL search parameters (empty values are absent); a bad one is a zod error. */
export function parseDeviceListQuery(sp: URLSearchParams) {
  const raw: Record<string, string> = {};
  for (const [k, v] of sp) if (v !== '' && k !== 'cursor' && k !== 'limit') raw[k] = v;
  return deviceListQuerySchema.safeParse(raw);
}
