/**
 * The snapshot browser's domain views: a backup read as an agent thinks of a handset rather
 * than as a DM tree. Applications with their name, version and state; the firmware; settings
 * grouped by what they configure; certificates with subject, issuer and expiry; pictures and
 * sounds as a gallery; a search through every node's path and value. The raw tree is still
 * there (groupByCategory) for what these views do not cover.
 *
 * Opening a backup's content, and each picture or sound in it, is the reading of a
 * subscriber's personal data: these functions record it (lib/audit/reads.ts).
 */
import { X509Certificate } from 'node:crypto';
import type { Db } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import { listSnapshots, type SnapshotRow } from '@/db/queries/snapshots';
import { auditPersonalRead, type Reader } from '../audit/reads';
import { previousComplete } from '../devices/views';
import { ScomoState } from '../omadm/mo/scomo';
import type { BlobStore } from './blob-store';
import type { ManifestEntry } from './manifest';
import { readManifest, readNode, SnapshotError } from './read';
import {
  entryView,
  groupByCategory,
  mediaUrl,
  previewKind,
  readTexts,
  type CategoryGroup,
  type EntryView,
} from './snapshot-views';

export interface AppView {
  /** The inventory node (./SCOMO/Inventory/Deployed/x). */
  path: string;
  id: string | null;
  name: string;
  version: string | null;
  state: 'active' | 'inactive' | null;
}

export interface CertificateView {
  path: string;
  subject: string;
  issuer: string | null;
  /** Milliseconds; null when the certificate could not be read. */
  validTo: number | null;
  /** Past its validTo when the page was read. */
  expired: boolean;
  deviceBound: boolean | null;
}

export interface SettingGroup {
  /** The interior node the values sit under. */
  path: string;
  /** "Settings › APN › Internet". */
  label: string;
  values: Array<{ name: string; path: string; value: string }>;
}

export interface MediaItem {
  path: string;
  name: string;
  /** The folder it is in ("Ringtones"). */
  folder: string;
  kind: 'image' | 'audio';
  type: string;
  size: number;
  url: string;
}

export interface BrowseView {
  apps: AppView[];
  firmware: Array<{ label: string; value: string; path: string }>;
  settings: SettingGroup[];
  certificates: CertificateView[];
  media: MediaItem[];
  /** Every node by category: the raw DM tree. */
  groups: CategoryGroup[];
}

/** What DevDetail's and DevInfo's node names mean. */
const FIRMWARE_WORDS: Record<string, string> = {
  FwV: 'Firmware version',
  SwV: 'Software version',
  HwV: 'Hardware version',
  Man: 'Manufacturer',
  Mod: 'Model',
  OEM: 'Maker',
  DevTyp: 'Device type',
  DevId: 'Device id',
  Lang: 'Language',
  DmV: 'DM version',
  LrgObj: 'Takes large objects',
  MaxDepth: 'Deepest tree',
  MaxTotLen: 'Longest path',
  MaxSegLen: 'Longest node name',
};

const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/'));
const lastOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const label = (path: string) => path.replace(/^\.\//, '').split('/').join(' › ');

/** A value as a line of text: its text, else its size and type. */
function valueText(e: EntryView): string {
  if (e.text !== null) return e.text;
  if (e.format === 'null' || e.size === 0) return '(empty)';
  return `${e.size.toLocaleString('en-GB')} bytes${e.type ? `, ${e.type}` : ''}`;
}

/** "CN=Example Mail CA, O=Example" or X509's "O=…\nCN=…" → the common name, else the whole. */
function commonName(dn: string): string {
  const cn = /(?:^|[,\n]\s*)CN=([^,\n]+)/.exec(dn);
  return cn ? cn[1]!.trim() : dn.trim();
}

function parseCertificate(bytes: Uint8Array | undefined): { subject: string; issuer: string; validTo: number } | null {
  if (!bytes) return null;
  try {
    const c = new X509Certificate(bytes);
    return { subject: c.subject, issuer: c.issuer, validTo: Date.parse(c.validTo) };
  } catch {
    return null; // not DER X.509 (or damaged): shown from its text nodes
  }
}

/** The domain views of a manifest (texts from readTexts; certificate bytes read from the store). */
export async function browseView(
  store: BlobStore,
  snapshotId: string,
  entries: readonly ManifestEntry[],
  texts: ReadonlyMap<string, string>,
  now = Date.now(),
): Promise<BrowseView> {
  const views = entries.map((e) => ({ e, v: entryView(e, texts) }));
  const byParent = new Map<string, EntryView[]>();
  for (const { v } of views)
    if (!v.interior)
      (byParent.get(parentOf(v.path)) ?? byParent.set(parentOf(v.path), []).get(parentOf(v.path))!).push(v);
  const leaf = (parent: string, name: string) => byParent.get(parent)?.find((v) => v.name === name);

  // Applications: an inventory node is one holding a Name (and usually ID, Version, State).
  const apps: AppView[] = [];
  for (const { e, v } of views) {
    if (e.category !== 'applications' || v.interior || v.name !== 'Name' || v.text === null) continue;
    const base = parentOf(v.path);
    const state = Number(leaf(base, 'State')?.text);
    apps.push({
      path: base,
      id: leaf(base, 'ID')?.text ?? null,
      name: v.text,
      version: leaf(base, 'Version')?.text ?? null,
      state: state === ScomoState.Active ? 'active' : state === ScomoState.Inactive ? 'inactive' : null,
    });
  }
  apps.sort((a, b) => a.name.localeCompare(b.name));

  const firmware = views
    .filter(({ e, v }) => e.category === 'firmware' && !v.interior && v.text !== null)
    .map(({ v }) => ({ label: FIRMWARE_WORDS[v.name] ?? v.name, value: v.text!, path: v.path }));

  // Certificates: a node holding Data (the DER) and perhaps Subject, Issuer, DeviceBound.
  const certificates: CertificateView[] = [];
  for (const { e, v } of views) {
    if (e.category !== 'certificates' || v.name !== 'Data' || !e.hash) continue;
    const base = parentOf(v.path);
    const parsed = parseCertificate(e.size <= 64 * 1024 ? await store.get(e.hash) : undefined);
    const bound = leaf(base, 'DeviceBound')?.text;
    certificates.push({
      path: base,
      subject: commonName(leaf(base, 'Subject')?.text ?? parsed?.subject ?? lastOf(base)),
      issuer: leaf(base, 'Issuer')?.text ?? parsed?.issuer ?? null,
      validTo: parsed?.validTo ?? null,
      expired: parsed ? parsed.validTo < now : false,
      deviceBound: bound === 'true' ? true : bound === 'false' ? false : null,
    });
  }

  const settings: SettingGroup[] = [];
  for (const [parent, values] of byParent) {
    const inSettings = values.filter((v) => entries.find((e) => e.path === v.path)?.category === 'settings');
    if (!inSettings.length) continue;
    settings.push({
      path: parent,
      label: label(parent),
      values: inSettings
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((v) => ({ name: v.name, path: v.path, value: valueText(v) })),
    });
  }
  settings.sort((a, b) => (a.path < b.path ? -1 : 1));

  const media: MediaItem[] = [];
  for (const { e, v } of views) {
    const kind = previewKind(e);
    if (!kind || !e.hash) continue;
    media.push({
      path: v.path,
      name: v.name,
      folder: lastOf(parentOf(v.path)),
      kind,
      type: v.type ?? '',
      size: v.size,
      url: mediaUrl(snapshotId, v.path),
    });
  }

  return { apps, firmware, settings, certificates, media, groups: groupByCategory(entries, texts) };
}

/** Nodes whose path or value holds `q` (any case), in path order; at most `limit`, with how many more. */
export function searchSnapshot(
  groups: readonly CategoryGroup[],
  q: string,
  limit = 200,
): { hits: Array<EntryView & { category: string }>; more: number } {
  const needle = q.trim().toLowerCase();
  if (!needle) return { hits: [], more: 0 };
  const all = groups.flatMap((g) =>
    g.entries
      .filter((e) => e.path.toLowerCase().includes(needle) || (e.text ?? '').toLowerCase().includes(needle))
      .map((e) => ({ ...e, category: g.label })),
  );
  return { hits: all.slice(0, limit), more: Math.max(0, all.length - limit) };
}

/**
 * The snapshot browser's page: the domain views, the raw tree and the search, or why the backup
 * cannot be browsed. Recorded as `snapshot.viewed` when an agent or admin opens it.
 */
export async function snapshotBrowser(
  db: Db,
  store: BlobStore,
  reader: Reader,
  device: Pick<DeviceRow, 'id'>,
  snapshot: Pick<SnapshotRow, 'id' | 'status' | 'error'>,
  opts: { q?: string } = {},
) {
  let manifest: Awaited<ReturnType<typeof readManifest>>;
  try {
    manifest = await readManifest(db, store, snapshot.id);
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    const problem =
      err.code === 'not-complete'
        ? `This backup is ${snapshot.status}${snapshot.error ? ` (${snapshot.error})` : ''}: only complete backups can be browsed or restored.`
        : 'The contents of this backup are missing from the store. Run `rewind verify` to check the others.';
    return { browsable: false as const, problem };
  }
  const q = opts.q?.trim().slice(0, 100) ?? '';
  await auditPersonalRead(db, reader, {
    action: 'snapshot.viewed',
    deviceId: device.id,
    details: { snapshotId: snapshot.id, ...(q ? { search: q } : {}) },
  });
  const view = await browseView(store, snapshot.id, manifest.entries, await readTexts(store, manifest.entries));
  return {
    browsable: true as const,
    previous: previousComplete(await listSnapshots(db, device.id)).get(snapshot.id),
    ...view,
    q,
    search: searchSnapshot(view.groups, q),
  };
}

/** One node's value for a preview or a download, recorded as `snapshot.media-read`. */
export async function readSnapshotMedia(
  db: Db,
  store: BlobStore,
  reader: Reader,
  deviceId: string,
  snapshotId: string,
  path: string,
) {
  const node = await readNode(db, store, snapshotId, path);
  if (node.entry.format !== 'node')
    await auditPersonalRead(db, reader, { action: 'snapshot.media-read', deviceId, details: { snapshotId, path } });
  return node;
}
