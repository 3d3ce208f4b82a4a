import { z } from 'zod';
import { normaliseMsisdn } from './device';

/** Looks like a phone number: digits with the usual separators, nothing else. */
const PHONE_LIKE = /^\+?[\d\s().-]+$/;
/** Fewer digits than this match too many numbers to be useful. */
export const MIN_MSISDN_DIGITS = 4;

/**
 * `?q=`: a name or email prefix, or an MSISDN in any usual form. Parsed into what to
 * match: `text` (always) and `digits` when the query looks like a phone number.
 */
export const subscriberSearchSchema = z.object({
  q: z.string().trim().min(1, 'give a name, email or MSISDN to search for').max(128),
  limit: z.coerce.number().int().min(1).max(200).default(50),
}).transform(({ q, limit }) => {
  const digits = PHONE_LIKE.test(q) ? normaliseMsisdn(q) : '';
  return { q, limit, text: q, ...(digits.length >= MIN_MSISDN_DIGITS ? { digits } : {}) };
});
