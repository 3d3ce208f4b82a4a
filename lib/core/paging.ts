/**
 * Paging of the REST API's lists: `limit` (at most PAGE_MAX) and an opaque `cursor`, the key of
 * the last item of the page before (db/queries/keyset.ts pages by it). Each list answers its
 * items under the member it always had, and `nextCursor` (null on the last page) and `limit`.
 */
import { z } from 'zod';
import { AppError } from './errors';

/** The most items one page of any list holds. */
export const PAGE_MAX = 500;
/** A page's size when `limit` is not given. */
export const PAGE_DEFAULT = 100;

/** The query every list takes. */
export const pageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_MAX)
    .default(PAGE_DEFAULT)
    .describe(`Items per page, 1 to ${PAGE_MAX} (default ${PAGE_DEFAULT})`),
  cursor: z.string().max(400).optional().describe("The previous page's nextCursor; without it, the first page"),
});

export type PageQuery = z.output<typeof pageQuerySchema>;

/** What a page adds beside its items. */
export const pageFieldsSchema = z.object({
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  limit: z.int().describe('The page size applied'),
});

/** A cursor for an item's key (an opaque string to clients). */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor holds, checked against its list's key shape; a cursor that is not one is a 400. */
export function decodeCursor<S extends z.ZodType>(shape: S, cursor: string | undefined): z.output<S> | undefined {
  if (cursor === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    raw = undefined;
  }
  const r = shape.safeParse(raw);
  if (!r.success)
    throw AppError.invalid('cursor: not a cursor this list gave', { cursor: ['not a cursor this list gave'] });
  return r.data;
}

/**
 * A page from rows read with one more than `limit`: the extra row only says there is a next page,
 * whose cursor is the key of this page's last item.
 */
export function pageOf<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => unknown,
): { items: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}

/** The key of a newest-first list (a time and the row's id), as cursors carry it. */
export const timeKeySchema = z.strictObject({ at: z.number(), id: z.string() });
/** The key of a list in id order. */
export const idKeySchema = z.strictObject({ id: z.string() });

/**
 * A page of a list read whole because it stays small (models, the catalogs, a device's DS
 * accounts): in the order of its key, the items after the cursor's key. Still a key, not a
 * position, so the pages stay right when items come and go between requests.
 */
export function pageByKey<T>(
  all: readonly T[],
  keyOf: (item: T) => string[],
  q: PageQuery,
): { items: T[]; nextCursor: string | null } {
  const after = decodeCursor(z.array(z.string()), q.cursor);
  const keyed = all.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => compareKeys(a.key, b.key));
  const rest = after ? keyed.filter((k) => compareKeys(k.key, after) > 0) : keyed;
  const page = pageOf(rest.slice(0, q.limit + 1), q.limit, (k) => k.key);
  return { items: page.items.map((k) => k.item), nextCursor: page.nextCursor };
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A list's `limit` and `cursor` from its URL; a bad one is a 400 naming the parameter. */
export function readPageQuery(url: string): PageQuery {
  const sp = new URL(url).searchParams;
  const r = pageQuerySchema.safeParse({ limit: sp.get('limit') ?? undefined, cursor: sp.get('cursor') ?? undefined });
  if (!r.success) throw AppError.fromZod(r.error);
  return r.data;
}
