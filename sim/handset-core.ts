/**
 * What the parts of a virtual handset share: its tree and state, its network and transport,
 * its clock and limits, the work it has queued, and where all of it is kept (the handset
 * store, or memory for a handset that has none).
 */
import type { GenericAlert, GenericAlertItem } from '../lib/omadm/mo/generic-alert';
import { generatedHandsetDs, type HandsetDs } from './ds-store';
import type { HandsetIdentity } from './generate';
import type { HandsetState, HandsetStore, LocalBackupRecord, PendingAlert } from './store';
import type { Transport } from './transport';
import type { DmTree } from './tree';
import { WorkQueue } from './work-queue';

/** Timeouts, sizes and the clock, with the defaults filled in. */
export interface HandsetLimits {
  messageTimeoutMs: number;
  sessionTimeoutMs: number;
  downloadTimeoutMs: number;
  maxDownloadBytes: number;
  maxReplyBytes: number;
  now: () => Date;
}

/** How an operation that finished reports: a Generic Alert for the server. */
export type QueueAlert = (alert: GenericAlert) => void;

export class HandsetCore {
  online = true;
  readonly work = new WorkQueue();
  /** Local backups of a handset without a store. */
  private readonly memLocal = new Map<string, LocalBackupRecord>();

  constructor(
    public state: HandsetState,
    readonly tree: DmTree,
    public transport: Transport,
    readonly store: HandsetStore | undefined,
    readonly limits: HandsetLimits,
  ) {}

  get identity(): HandsetIdentity {
    return this.state.identity;
  }

  get devId(): string {
    return this.state.identity.devId;
  }

  /** The handset's contacts, calendar and DS accounts; generated from its seed on first use. */
  get ds(): HandsetDs {
    this.state.ds ??= generatedHandsetDs(this.identity.seed, this.identity.model);
    return this.state.ds;
  }

  save(): void {
    this.store?.save(this.state, this.tree);
  }

  persist(): void {
    try {
      this.save();
    } catch {
      // A full disk must not take the handset down; the next save retries.
    }
  }

  loadLocal(id: string): LocalBackupRecord | undefined {
    return this.store ? this.store.loadLocalBackup(this.devId, id) : this.memLocal.get(id);
  }

  /** Throws when the store cannot keep it (a full disk). */
  saveLocal(rec: LocalBackupRecord): void {
    if (this.store) this.store.saveLocalBackup(this.devId, rec);
    else this.memLocal.set(rec.manifest.id, rec);
  }

  deleteLocal(id: string): void {
    if (this.store) this.store.deleteLocalBackup(this.devId, id);
    else this.memLocal.delete(id);
  }
}

/** A managed object's behaviour on the handset: it works on the core and reports by Generic Alerts. */
export abstract class HandsetObject {
  constructor(
    protected readonly core: HandsetCore,
    protected readonly queueAlert: QueueAlert,
  ) {}

  protected get tree(): DmTree {
    return this.core.tree;
  }
}

let alertSeq = 0;

/** A Generic Alert waiting for a session, with an id unique in this process. */
export function pendingAlert(alert: GenericAlert, idMs: number, createdAt: string): PendingAlert {
  return { id: `${idMs.toString(36)}-${++alertSeq}`, alert, createdAt };
}

/** A one-item Generic Alert answering the Exec with `correlator`. */
export function alertOf(correlator: string | undefined, item: GenericAlertItem): GenericAlert {
  return { ...(correlator !== undefined ? { correlator } : {}), items: [item] };
}
