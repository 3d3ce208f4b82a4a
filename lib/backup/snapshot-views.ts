/**
 * What the snapshot browser and the diff view show of manifest entries: grouped by
 * category, small text values read back for display, and which values may be previewed.
 *
 * Previews go through one allow-list of image and audio types, shared with the media
 * route (app/media/[snapshotId]): only those are served inline under their own type.
 * Everything else a handset reported (SVG, HTML, a made-up type) is served as a download
 * of plain bytes, so nothing a handset sent is ever rendered or run in the console's origin.
 */
import type { BlobStore } from './blob-store';
import type { ChangedEntry, CategoryCounts, SnapshotDiff } from './diff';
import type { ManifestEntry } from './manifest';
import { CATEGORY_LABEL } from '../devices/views';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';

export type PreviewKind = 'image' | 'audio';

/** Types a browser shows safely in <img> or plays in <audio>. No SVG: it can carry script. No MIDI: browsers cannot play it. */
const INLINE_TYPES: Readonly<Record<string, PreviewKind>> = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'image/bmp': 'image',
  'audio/mpeg': 'audio',
  'audio/mp3': 'audio',
  'audio/wav': 'audio',
  'audio/x-wav': 'audio',
  'audio/wave': 'audio',
  'audio/ogg': 'audio',
  'audio/aac': 'audio',
  'audio/mp4': 'audio',
  'audio/amr': 'audio',
};

/** A MIME type without parameters, lower-cased ("Image/PNG; x=1" → "image/png"). */
export function bareType(type: string | undefined): string | undefined {
  const t = type?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

export function previewKind(entry: Pick<ManifestEntry, 'type' | 'format'>): PreviewKind | undefined {
  if (entry.format === 'node') return undefined;
  const t = bareType(entry.type);
  return t !== undefined && Object.hasOwn(INLINE_TYPES, t) ? INLINE_TYPES[t] : undefined;
}

/** Where the console fetches a node's value from (the media route checks who asks). */
export function mediaUrl(snapshotId: string, path: string): string {
  return `/media/${encodeURIComponent(snapshotId)}?path=${encodeURIComponent(path)}`;
}

/**
 * The media route's answer headers for a node: its own type when allow-listed (shown
 * inline), else plain bytes to download. Never sniffed, never able to run anything.
 */
export function mediaHeaders(
  entry: Pick<ManifestEntry, 'path' | 'type' | 'format' | 'hash'>,
  size: number,
): Record<string, string> {
  const inline = previewKind(entry) !== undefined;
  const name =
    entry.path
      .split('/')
      .pop()!
      .replace(/[^\w.-]/g, '_') || 'content';
  return {
    'content-type': inline ? bareType(entry.type)! : 'application/octet-stream',
    'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${name}"`,
    'content-length': String(size),
    'x-content-length': String(size),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    // Private: it is a subscriber's data. A value under one hash never changes, so the browser may keep it.
    'cache-control': 'private, max-age=3600',
    ...(entry.hash ? { etag: `"${entry.hash}"` } : {}),
  };
}

/** DM formats whose values are text (b64 and bin are bytes, whatever they hold). */
const TEXT_FORMATS = new Set(['chr', 'int', 'bool', 'float', 'date', 'time', 'xml']);
/** Values read back for display; larger ones are described by size and type. */
export const TEXT_READ_MAX = 4096;
/** Values read for one page at most (a snapshot of many thousand nodes still loads quickly). */
const TEXT_READ_COUNT = 3000;

export function isTextEntry(e: Pick<ManifestEntry, 'format' | 'type' | 'size' | 'hash'>): boolean {
  if (!e.hash || e.size > TEXT_READ_MAX) return false;
  const t = bareType(e.type);
  return TEXT_FORMATS.has(e.format) || (t !== undefined && (t.startsWith('text/') || t === 'application/json'));
}

/** The text of each small text value, by hash; values that are not valid UTF-8 are left out. */
export async function readTexts(store: BlobStore, entries: readonly ManifestEntry[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const e of entries) {
    if (out.size >= TEXT_READ_COUNT) break;
    if (!isTextEntry(e) || out.has(e.hash!)) continue;
    const bytes = await store.get(e.hash!);
    if (!bytes) continue;
    try {
      out.set(e.hash!, decoder.decode(bytes));
    } catch {
      // Not text after all: shown by size and type.
    }
  }
  return out;
}

export interface EntryView {
  path: string;
  /** The last segment. */
  name: string;
  /** Segments below the root (./A is 0, ./A/B is 1). */
  depth: number;
  format: string;
  type: string | null;
  size: number;
  hash: string | null;
  interior: boolean;
  /** The value, when it is small text. */
  text: string | null;
  preview: PreviewKind | null;
}

export function entryView(e: ManifestEntry, texts: ReadonlyMap<string, string>): EntryView {
  const segments = e.path.split('/');
  return {
    path: e.path,
    name: segments.at(-1)!,
    depth: Math.max(0, segments.length - 2),
    format: e.format,
    type: e.type ?? null,
    size: e.size,
    hash: e.hash ?? null,
    interior: e.format === 'node',
    text: e.hash ? (texts.get(e.hash) ?? null) : null,
    preview: previewKind(e) ?? null,
  };
}

export interface CategoryGroup {
  category: Category;
  label: string;
  entries: EntryView[];
  /** Bytes of the values in the category. */
  bytes: number;
}

/** The manifest by category, in the categories' own order, each sorted by path; empty categories left out. */
export function groupByCategory(
  entries: readonly ManifestEntry[],
  texts: ReadonlyMap<string, string>,
): CategoryGroup[] {
  const by = new Map<Category, ManifestEntry[]>();
  for (const e of entries) (by.get(e.category) ?? by.set(e.category, []).get(e.category)!).push(e);
  return CATEGORIES.filter((c) => by.has(c)).map((c) => {
    const list = [...by.get(c)!].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      category: c,
      label: CATEGORY_LABEL[c],
      entries: list.map((e) => entryView(e, texts)),
      bytes: list.reduce((n, e) => n + e.size, 0),
    };
  });
}

export interface DiffRow {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before: EntryView | null;
  after: EntryView | null;
}

export interface DiffGroup {
  category: Category;
  label: string;
  counts: CategoryCounts;
  rows: DiffRow[];
  /** Rows left out past the page's limit. */
  more: number;
}

/** Rows per category on one page; the counts stay exact. */
export const DIFF_ROWS_MAX = 400;

/**
 * A diff grouped by category for the side-by-side view: each category with its counts
 * and its rows in path order (added, removed and changed together). Categories without
 * a change are left out.
 */
export function diffGroups(
  diff: Pick<SnapshotDiff, 'added' | 'removed' | 'changed' | 'byCategory'>,
  texts: ReadonlyMap<string, string>,
  maxRows = DIFF_ROWS_MAX,
): DiffGroup[] {
  const rows = new Map<Category, DiffRow[]>();
  const push = (c: Category, r: DiffRow) => (rows.get(c) ?? rows.set(c, []).get(c)!).push(r);
  for (const e of diff.added)
    push(e.category, { path: e.path, change: 'added', before: null, after: entryView(e, texts) });
  for (const e of diff.removed)
    push(e.category, { path: e.path, change: 'removed', before: entryView(e, texts), after: null });
  for (const c of diff.changed as ChangedEntry[])
    push(c.category, {
      path: c.path,
      change: 'changed',
      before: entryView(c.before, texts),
      after: entryView(c.after, texts),
    });
  return CATEGORIES.filter((c) => rows.has(c)).map((c) => {
    const all = rows.get(c)!.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      category: c,
      label: CATEGORY_LABEL[c],
      counts: diff.byCategory[c],
      rows: all.slice(0, maxRows),
      more: Math.max(0, all.length - maxRows),
    };
  });
}

/** Every entry a diff shows, for reading their texts in one go. */
export function diffEntries(diff: Pick<SnapshotDiff, 'added' | 'removed' | 'changed'>): ManifestEntry[] {
  return [...diff.added, ...diff.removed, ...diff.changed.flatMap((c) => [c.before, c.after])];
}
