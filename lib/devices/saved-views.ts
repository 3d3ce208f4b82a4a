/**
 * Saved views of the device list: a user keeps a list query (filters and sort) under a name and
 * opens it again as a link. Each user's own; saving and deleting are audited.
 */
import { z } from 'zod';
import type { Db } from '@/db/client';
import { deleteSavedView, putSavedView, savedViewsOf } from '@/db/queries/saved-views';
import { insertAudit } from '@/db/queries/audit';
import { AppError } from '../core/errors';
import { parseDeviceListQuery } from './filter';
import { deviceListSearch, savedQueryOf } from './list';

/** What the page's "Save this view" form sends: a name, and the list's URL query as it stands. */
export const saveDeviceViewSchema = z.object({
  name: z.string().trim().min(1, 'Give the view a name.').max(80, 'At most 80 characters.'),
  search: z.string().max(2000).default(''),
});
export const deleteDeviceViewSchema = z.object({ id: z.string().min(1) });

export interface ViewActor {
  userId: string;
  email: string;
}

/** Saves the query under the name (replacing the user's view of that name); a query that is not a list's is refused. */
export async function saveDeviceView(db: Db, input: z.input<typeof saveDeviceViewSchema>, actor: ViewActor) {
  const { name, search } = saveDeviceViewSchema.parse(input);
  const q = parseDeviceListQuery(new URLSearchParams(search));
  if (!q.success) throw AppError.fromZod(q.error, 'This view cannot be saved: a filter needs another look.');
  const view = await putSavedView(db, { userId: actor.userId, name, query: JSON.stringify(q.data) });
  await insertAudit(db, { actor: actor.email, action: 'device-view.saved', details: { name, query: q.data } });
  return { id: view.id, name: view.name };
}

export async function deleteDeviceView(db: Db, id: string, actor: ViewActor): Promise<{ name: string }> {
  const gone = await deleteSavedView(db, actor.userId, id);
  if (!gone) throw new AppError('not-found', 'No such saved view.');
  await insertAudit(db, { actor: actor.email, action: 'device-view.deleted', details: { name: gone.name } });
  return { name: gone.name };
}

/** The user's saved views as links to the list (a view whose query no longer reads is shown unopenable). */
export async function deviceViewsOf(db: Db, userId: string) {
  return (await savedViewsOf(db, userId)).map((v) => {
    const q = savedQueryOf(v.query);
    return { id: v.id, name: v.name, href: q ? `/devices${deviceListSearch(q)}` : null };
  });
}
