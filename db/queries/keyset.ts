/**
 * Keyset paging: a page continues after the last row of the one before, by a stable key (a time
 * and the row's id to break ties), never by an offset, so rows added or removed meanwhile
 * neither repeat nor go missing and a deep page costs what the first one does.
 */
import { and, desc, eq, gt, lt, or, type Column, type SQL } from 'drizzle-orm';

/** Where a newest-first page stopped: the last row's time and id. */
export interface TimeKey {
  at: number;
  id: string;
}

/** Rows after `key` in the order (at desc, id desc); undefined (every row) without a key. */
export function olderThan(at: Column, id: Column, key: TimeKey | undefined): SQL | undefined {
  return key ? or(lt(at, key.at), and(eq(at, key.at), lt(id, key.id))) : undefined;
}

/** The order olderThan pages through. */
export function newestFirst(at: Column, id: Column): SQL[] {
  return [desc(at), desc(id)];
}

/** Rows after `afterId` in id order; every row without it. */
export function idAfter(id: Column, afterId: string | undefined): SQL | undefined {
  return afterId === undefined ? undefined : gt(id, afterId);
}
