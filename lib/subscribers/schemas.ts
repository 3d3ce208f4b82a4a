import { z } from 'zod';
import { MAX_QUERY_LENGTH } from '../search/search';

/** `?q=`: a name, email, MSISDN or IMEI, as typed in the search box (lib/search/search.ts reads it). */
export const subscriberSearchSchema = z.object({
  q: z.string().trim().min(1, 'give a name, email, MSISDN or IMEI to search for').max(MAX_QUERY_LENGTH),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
