/**
 * Which DM subtrees make up each backup category for a handset. Every handset gets the
 * generic profile (./DevInfo and ./DevDetail, which every OMA-DM client has), so a client
 * whose tree we know nothing about is still backed up correctly; an admin adds the
 * subtrees a model keeps its settings, certificates, app data and apps under.
 */
import type { Db } from '@/db/client';
import { ensureModel, findModel, profileRows, setProfile, type ModelRow } from '@/db/queries/profiles';
import { insertAudit } from '@/db/queries/audit';
import { AppError } from '../core/errors';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';

export type Profile = Record<Category, string[]>;

export const GENERIC_PROFILE: Readonly<Profile> = {
  settings: ['./DevInfo'],
  certificates: [],
  appdata: [],
  applications: [],
  firmware: ['./DevDetail'],
};

/** A DM path as profiles store it: './'-rooted, no trailing slash, no query, no '..'. */
export function normaliseProfilePath(raw: string): string | undefined {
  const p = raw.trim().replace(/\/+$/, '');
  if (!/^\.\/[^?#]*$/.test(p) && p !== '.') return undefined;
  if (p.split('/').some((s, i) => i > 0 && (s === '' || s === '.' || s === '..'))) return undefined;
  return p;
}

/** `found`: the model's row when the caller has read it already (undefined in it: no such model). */
export async function profileFor(
  db: Db,
  manufacturer: string | null,
  model: string | null,
  found?: { model: ModelRow | undefined },
): Promise<Profile> {
  const profile: Profile = { settings: [], certificates: [], appdata: [], applications: [], firmware: [] };
  for (const c of CATEGORIES) profile[c].push(...GENERIC_PROFILE[c]);
  const m = found ? found.model : manufacturer && model ? await findModel(db, manufacturer, model) : undefined;
  if (m) {
    for (const row of await profileRows(db, m.id)) {
      if (!(CATEGORIES as readonly string[]).includes(row.category)) continue;
      const list = profile[row.category as Category];
      for (const p of JSON.parse(row.paths) as string[]) if (!list.includes(p)) list.push(p);
    }
  }
  return profile;
}

/**
 * The subtrees to back up for these categories, each with its category. A path inside
 * another one chosen is dropped (the outer walk covers it) and keeps the outer's category.
 */
export function backupRoots(
  profile: Profile,
  categories: readonly Category[],
): Array<{ path: string; category: Category }> {
  const roots: Array<{ path: string; category: Category }> = [];
  for (const c of CATEGORIES) {
    if (!categories.includes(c)) continue;
    for (const path of profile[c]) roots.push({ path, category: c });
  }
  const inside = (p: string, q: string) => p === q || p.startsWith(`${q}/`);
  return roots.filter(
    (r, i) => !roots.some((o, j) => j !== i && inside(r.path, o.path) && (r.path !== o.path || j < i)),
  );
}

/** The category a node belongs to: the deepest root it lies under. */
export function categoryOf(
  roots: ReadonlyArray<{ path: string; category: Category }>,
  path: string,
): Category | undefined {
  let best: { path: string; category: Category } | undefined;
  for (const r of roots) {
    if ((path === r.path || path.startsWith(`${r.path}/`)) && (!best || r.path.length > best.path.length)) best = r;
  }
  return best?.category;
}

/** A model's own paths by category, beside the generic ones (none for a model nobody described). */
export async function ownPaths(db: Db, modelId: string | undefined): Promise<Profile> {
  const own = Object.fromEntries(CATEGORIES.map((c) => [c, [] as string[]])) as Profile;
  if (modelId) {
    for (const r of await profileRows(db, modelId))
      if ((CATEGORIES as readonly string[]).includes(r.category))
        own[r.category as Category] = JSON.parse(r.paths) as string[];
  }
  return own;
}

/** Records a model before any handset of it connects (the console's "Add a model"), audited under `actor`. */
export async function addModel(
  db: Db,
  input: { manufacturer: string; model: string },
  actor: string,
): Promise<ModelRow> {
  if (await findModel(db, input.manufacturer, input.model)) {
    throw AppError.invalid(`${input.manufacturer} ${input.model} is already known.`, {
      model: ['This model is already known.'],
    });
  }
  const m = await ensureModel(db, input.manufacturer, input.model);
  await insertAudit(db, {
    actor,
    action: 'model.added',
    details: { id: m.id, manufacturer: m.manufacturer, model: m.model },
  });
  return m;
}

/** Sets the paths one category covers for a model (replacing its earlier ones; [] clears them), audited under `actor`. */
export async function setModelProfile(
  db: Db,
  p: { manufacturer: string; model: string; category: Category; paths: string[] },
  actor: string,
): Promise<void> {
  await setProfile(db, (await ensureModel(db, p.manufacturer, p.model)).id, p.category, p.paths);
  await insertAudit(db, {
    actor,
    action: 'profile.set',
    details: { manufacturer: p.manufacturer, model: p.model, category: p.category, paths: p.paths },
  });
}

/** A model's own paths for every category at once (the console's form): only the categories that changed are written and audited. */
export async function saveModelProfile(
  db: Db,
  ref: { manufacturer: string; model: string },
  paths: Profile,
  actor: string,
): Promise<Category[]> {
  const before = await ownPaths(db, (await findModel(db, ref.manufacturer, ref.model))?.id);
  await ensureModel(db, ref.manufacturer, ref.model); // saving the form records the model even when nothing changed
  const changed: Category[] = [];
  for (const c of CATEGORIES) {
    if (JSON.stringify(paths[c]) === JSON.stringify(before[c])) continue;
    await setModelProfile(db, { ...ref, category: c, paths: paths[c] }, actor);
    changed.push(c);
  }
  return changed;
}
