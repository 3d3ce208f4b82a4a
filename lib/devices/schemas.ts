import { z } from 'zod';

export const authSchemeSchema = z.enum(['basic', 'md5', 'hmac']);

/** Digits only, as stored: '+44 7700 900123' and '447700900123' are the same number. */
export function normaliseMsisdn(raw: string): string {
  return raw.replace(/[^\d]/g, '');
}

export const provisionDeviceSchema = z.object({
  devId: z
    .string()
    .trim()
    .min(3)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .meta({ example: 'IMEI:356938035643809' }),
  manufacturer: z.string().trim().min(1).max(64),
  model: z.string().trim().min(1).max(64),
  firmware: z.string().trim().max(64).optional(),
  msisdn: z
    .string()
    .trim()
    .max(32)
    .transform(normaliseMsisdn)
    .refine((s) => s.length >= 5 && s.length <= 15, 'an MSISDN has 5 to 15 digits')
    .optional(),
  subscriber: z.string().trim().min(1).max(128).optional(),
  /** The subscriber's email (for the portal and for lookup). */
  email: z.string().trim().toLowerCase().email().max(254).optional(),
  serverId: z.string().trim().min(1).max(128),
  clientAuth: authSchemeSchema,
  clientUser: z.string().min(1).max(128),
  clientPass: z.string().min(1).max(256).meta({ writeOnly: true }),
  serverAuth: authSchemeSchema.optional(),
  serverPass: z.string().min(1).max(256).meta({ writeOnly: true }),
  pushAddress: z.string().max(512).optional(),
  /** Nonces both sides start from (base64), for handsets provisioned with them at the factory. */
  clientNonce: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9+/=]*$/, 'base64')
    .optional()
    .describe('base64; the nonce the handset uses first'),
  serverNonce: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9+/=]*$/, 'base64')
    .optional(),
});

export type ProvisionDeviceInput = z.input<typeof provisionDeviceSchema>;
export type ProvisionDevice = z.output<typeof provisionDeviceSchema>;

// What the API answers -------------------------------------------------------------------

/** A device as the API shows it (lib/devices/present.ts publicDevice): never secrets, nonces or derived credentials. */
export const deviceSchema = z.object({
  id: z.string(),
  devId: z.string(),
  manufacturer: z.string(),
  model: z.string(),
  firmware: z.string().nullable(),
  subscriberId: z.string().nullable(),
  serverId: z.string(),
  clientAuth: authSchemeSchema,
  serverAuth: authSchemeSchema,
  pushAddress: z.string().nullable(),
  lastSeenAt: z.int().nullable().describe('ms since the epoch'),
  networkState: z.object({}).loose().nullable().describe('bearer, roaming, operator as last read from the handset'),
});

// The fleet's firmware search (fault and recall tracing, lib/devices/firmware-search.ts) ---------

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .meta({ example: '2026-02-01' });

/** A search: the version exactly as handsets report it, and the days (UTC, both included). */
export const firmwareSearchSchema = z
  .object({
    firmware: z
      .string()
      .trim()
      .min(1, 'the firmware version')
      .max(100)
      .describe('The firmware version exactly as handsets report it (./DevDetail/FwV)')
      .meta({ example: '1.0.3' }),
    from: isoDay.describe('The first day (UTC), included'),
    to: isoDay.describe('The last day (UTC), included; not before `from`'),
  })
  .refine((q) => q.from <= q.to, { message: 'the first day must not be after the last', path: ['to'] });
export type FirmwareSearch = z.infer<typeof firmwareSearchSchema>;

/** One handset that ran the version within the days (FirmwareSearchHit). */
export const firmwareRunHitSchema = z.object({
  deviceId: z.string(),
  devId: z.string(),
  model: z.string().describe("manufacturer and model, or 'unknown model'"),
  subscriber: z.object({ id: z.string(), name: z.string() }).nullable(),
  from: z.int().describe('ms since the epoch: when the handset was first seen on the version (its whole run)'),
  to: z.int().describe('ms since the epoch: when it was last seen on it'),
  lastGoodBackup: z
    .object({ id: z.string(), at: z.int().describe('ms since the epoch') })
    .nullable()
    .describe('its newest complete snapshot, the one a restore would start from'),
});

export const firmwareRunsSchema = z.object({
  hits: z.array(firmwareRunHitSchema).describe('the runs seen last first'),
  more: z.boolean().describe('more handsets matched than one search answers'),
});
