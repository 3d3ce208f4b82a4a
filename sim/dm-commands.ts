/**
 * The DM commands a server sends, carried out on the handset's tree: Get, Add, Replace,
 * Delete, Copy, Atomic and Exec. The tree answers the plain ones; a managed object with
 * behaviour (FUMO, SCOMO, Rewind's B&R MO) hears of the Adds and Deletes under it and runs
 * the Execs on its operation nodes.
 */
import { DecodeError } from '../lib/omadm/errors';
import type { Item } from '../lib/omadm/message';
import type { CommandOutcome } from '../lib/omadm/session/client-handler';
import { utf8Decode } from '../lib/omadm/util/bytes';
import { itemValue } from '../lib/omadm/value';
import { canonicalPath, type DmTree, type TreeSnapshot } from './tree';
import type { WorkQueue } from './work-queue';

/** What a managed object adds to the plain tree. */
export interface ManagedObject {
  /** After an Add the tree accepted (`path` canonical, undefined when it is not one). */
  added?(path: string | undefined): void;
  /** After a Delete the tree accepted. */
  deleted?(path: string | undefined): void;
  /** An Exec on a node the tree allows to be executed: the outcome, or undefined when the node is not this object's. */
  exec?(path: string, item: Item, correlator: string | undefined): CommandOutcome | undefined;
}

export class TreeCommands {
  /** Fault injection: writes to these paths are answered 200 and not stored. */
  ignoreWrites: ((path: string) => boolean) | undefined;
  private atomic: { snap: TreeSnapshot; jobs: number } | undefined;

  constructor(
    private readonly tree: DmTree,
    private readonly work: WorkQueue,
    private readonly objects: readonly ManagedObject[],
  ) {}

  async get(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const r = this.tree.get(uri);
    if (r.status !== 200 || !r.entries) return { status: r.status };
    const single = !uri.includes('?');
    const results = r.entries.map((e): Item => {
      const out: Item = {
        source: { locURI: single ? uri.trim() : e.path },
        meta: { format: e.format, ...(e.type !== undefined ? { type: e.type } : {}) },
      };
      if (e.value !== undefined) out.data = e.format === 'node' ? utf8Decode(e.value, false) : e.value;
      return out;
    });
    return { status: 200, results };
  }

  private valueOf(item: Item): Uint8Array | number {
    try {
      return itemValue(item);
    } catch (e) {
      if (e instanceof DecodeError) return 400;
      throw e;
    }
  }

  async add(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const format = item.meta?.format?.trim() || 'chr';
    if (format !== 'node' && this.ignoreWrites?.(canonicalPath(uri) ?? uri)) return { status: 200 };
    const value = format === 'node' ? new Uint8Array(0) : this.valueOf(item);
    if (typeof value === 'number') return { status: value };
    const type = item.meta?.type;
    const status = this.tree.add(uri, { format, value, ...(type !== undefined ? { type } : {}) });
    if (status === 200) {
      const path = canonicalPath(uri);
      for (const mo of this.objects) mo.added?.(path);
    }
    return { status };
  }

  async replace(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const value = this.valueOf(item);
    if (typeof value === 'number') return { status: value };
    // Fault: a handset that says 200 and keeps the old value (only a read-back shows it).
    if (this.ignoreWrites?.(canonicalPath(uri) ?? uri)) return { status: this.tree.has(uri) ? 200 : 404 };
    const format = item.meta?.format?.trim();
    const type = item.meta?.type;
    return {
      status: this.tree.replace(uri, { value, ...(format ? { format } : {}), ...(type !== undefined ? { type } : {}) }),
    };
  }

  async delete(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const status = this.tree.delete(uri);
    if (status === 200) {
      const path = canonicalPath(uri);
      for (const mo of this.objects) mo.deleted?.(path);
    }
    return { status };
  }

  async copy(item: Item): Promise<CommandOutcome> {
    const from = item.source?.locURI;
    const to = item.target?.locURI;
    if (!from || !to) return { status: 400 };
    return { status: this.tree.copy(from, to) };
  }

  beginAtomic(): void {
    this.atomic = { snap: this.tree.snapshot(), jobs: this.work.deferredCount };
  }

  commitAtomic(): void {
    this.atomic = undefined;
  }

  rollbackAtomic(): void {
    if (!this.atomic) return;
    this.tree.restore(this.atomic.snap);
    // Operations an Exec inside the Atomic scheduled are undone with it.
    this.work.dropDeferredAfter(this.atomic.jobs);
    this.atomic = undefined;
  }

  async exec(item: Item, correlator: string | undefined): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const check = this.tree.checkExec(uri);
    if (check !== 200) return { status: check };
    const path = canonicalPath(uri)!;
    try {
      for (const mo of this.objects) {
        const out = mo.exec?.(path, item, correlator);
        if (out) return out;
      }
    } catch (e) {
      // Parameters that do not parse: refused at once rather than accepted and failed later.
      if (e instanceof DecodeError) return { status: 400 };
      throw e;
    }
    // An executable node with no behaviour behind it: nothing to do, and nothing failed.
    return { status: 200 };
  }
}
