/**
 * `rewind profile set` and `rewind profile show`: which DM subtrees each backup category
 * covers for a model. The model is named either `--model "Nimbus/N1"` (manufacturer, a
 * slash, model: the first slash splits) or `--manufacturer Nimbus --model N1`.
 */
import { getContext } from '../lib/core/context';
import { setModelProfile } from '../lib/backup/profiles';
import { CATEGORIES } from '../lib/omadm/mo/backup-restore';
import { modelRefSchema, profilePathsSchema, profileRefSchema, splitList } from '../lib/backup/schemas';
import { modelProfile, type ModelProfile } from '../lib/backup/views';
import { positionals, type Values } from './args';
import { printJson, table } from './format';
import { UsageError, type Command } from './usage';

const MODEL_USAGE = '(--model MAN/MOD | --manufacturer MAN --model MOD)';

function modelOf(v: Values): { manufacturer: string; model: string } {
  const model = typeof v.model === 'string' ? v.model : undefined;
  if (!model) throw new UsageError('--model is required ("MAN/MOD", or with --manufacturer)');
  let ref: { manufacturer: string; model: string };
  if (typeof v.manufacturer === 'string') ref = { manufacturer: v.manufacturer, model };
  else {
    const slash = model.indexOf('/');
    if (slash < 0)
      throw new UsageError('--model needs the manufacturer too: --model "MAN/MOD" or --manufacturer MAN --model MOD');
    ref = { manufacturer: model.slice(0, slash), model: model.slice(slash + 1) };
  }
  const r = modelRefSchema.safeParse(ref);
  if (!r.success) throw new UsageError('manufacturer and model are 1 to 64 characters each');
  return r.data;
}

function printProfile(p: ModelProfile): void {
  console.log(
    `${p.manufacturer} ${p.model}: ${p.known ? "generic profile plus the model's own paths" : 'not described yet: the generic profile only'}`,
  );
  const rows: Array<{ category: string; path: string; from: string }> = [];
  for (const c of CATEGORIES) {
    if (!p.profile[c].length) rows.push({ category: c, path: '-', from: '' });
    for (const path of p.profile[c])
      rows.push({ category: c, path, from: p.generic[c].includes(path) ? 'generic' : 'model' });
  }
  console.log(
    table(rows, [
      { header: 'category', value: (r) => r.category },
      { header: 'path', value: (r) => r.path },
      { header: 'from', value: (r) => r.from },
    ]),
  );
}

export const profileSet: Command = {
  summary: 'set the DM subtrees a backup category covers for a model',
  usage: `${MODEL_USAGE} --category ${CATEGORIES.join('|')} (--paths ./A,./B | --clear) [--json]`,
  options: {
    manufacturer: { type: 'string' },
    model: { type: 'string' },
    category: { type: 'string' },
    paths: { type: 'string' },
    clear: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(v, pos) {
    positionals(pos, []);
    const ref = modelOf(v);
    const cat = profileRefSchema.shape.category.safeParse(v.category);
    if (!cat.success) throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
    if (v.clear && v.paths !== undefined) throw new UsageError('--paths and --clear exclude each other');
    if (!v.clear && (typeof v.paths !== 'string' || !splitList(v.paths).length))
      throw new UsageError('--paths is required (comma-separated DM paths such as ./Settings), or --clear');
    const parsed = profilePathsSchema.safeParse({ paths: v.clear ? [] : splitList(String(v.paths)) });
    if (!parsed.success) throw new UsageError(`--paths: ${parsed.error.issues[0]!.message}`);
    const db = getContext().db;
    await setModelProfile(
      db,
      { manufacturer: ref.manufacturer, model: ref.model, category: cat.data, paths: parsed.data.paths },
      'cli',
    );
    const p = await modelProfile(db, ref.manufacturer, ref.model);
    if (v.json) printJson(p);
    else {
      console.log(
        `${cat.data} for ${ref.manufacturer} ${ref.model}: ${parsed.data.paths.length ? parsed.data.paths.join(', ') : 'cleared (generic only)'}`,
      );
      printProfile(p);
    }
  },
};

export const profileShow: Command = {
  summary: "show a model's backup profile (generic plus its own paths)",
  usage: `${MODEL_USAGE} [--json]`,
  options: { manufacturer: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const ref = modelOf(v);
    const p = await modelProfile(getContext().db, ref.manufacturer, ref.model);
    if (v.json) printJson(p);
    else printProfile(p);
  },
};
