import { z } from 'zod';
import { MAX_QUERY_LENGTH } from '../search/search';

/** `?q=`: a name, email, MSISDN or IMEI, as typed in the search box (lib/search/search.ts reads it). */
export const subscriberSearchSchema = z.object({
  q: z
    .string()
    .trim()
    .min(1, 'give a name, email, MSISDN or IMEI to search for')
    .max(MAX_QUERY_LENGTH)
    .meta({ example: 'Ada' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// What the API answers -------------------------------------------------------------------

export const subscriberSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  createdAt: z.int(),
  msisdns: z.array(z.string().meta({ example: '447700900123' })).describe('digits only, international form'),
  devices: z.int().describe('how many devices the subscriber has'),
});

/** A search hit: the subscriber, what matched, and for an IMEI or DevId which handset. */
export const subscriberMatchSchema = subscriberSchema.extend({
  match: z.object({ kind: z.enum(['name', 'email', 'msisdn', 'imei', 'devId']), value: z.string() }),
  device: z
    .object({ id: z.string(), devId: z.string(), manufacturer: z.string().nullable(), model: z.string().nullable() })
    .optional(),
});
