/**
 * What a DM client (a virtual handset, or any embedding) provides to the client session
 * engine: the device side of each management command. The engine owns the protocol
 * (statuses, Large Object reassembly and splitting, Atomic/Sequence, message splitting);
 * the handler owns the tree and the user.
 */
import type { Item } from '../message';

/** Outcome of one command on one item. `results` only for Get. */
export interface CommandOutcome {
  status: number;
  results?: Item[];
}

export interface UiAlertRequest {
  code: '1100' | '1101' | '1102' | '1103' | '1104';
  /** Options from the first Item (e.g. "MINDT=10&MAXDT=30&DR=1"), parsed to key/values. */
  options: Record<string, string>;
  /** The text shown to the user (second Item). */
  text: string;
  /** Choices for 1103/1104 (remaining Items). */
  choices: string[];
}

export interface UiAlertResponse {
  /** 200 accepted/yes, 304 rejected/no, 214 cancelled, 215 not executed (timeout). */
  status: number;
  /** For 1102: the text entered; for 1103/1104: the chosen indexes, 1-based, as strings. */
  values?: string[];
}

export interface ClientHandler {
  get(item: Item): Promise<CommandOutcome>;
  add(item: Item): Promise<CommandOutcome>;
  replace(item: Item): Promise<CommandOutcome>;
  delete(item: Item): Promise<CommandOutcome>;
  copy(item: Item): Promise<CommandOutcome>;
  /** Exec on a node; `correlator` is echoed in the Generic Alert that reports the result later. */
  exec(item: Item, correlator: string | undefined): Promise<CommandOutcome>;
  /** Atomic support: the handler snapshots on begin and restores on rollback. */
  beginAtomic(): void;
  commitAtomic(): void;
  rollbackAtomic(): void;
  userAlert(req: UiAlertRequest): Promise<UiAlertResponse>;
}
