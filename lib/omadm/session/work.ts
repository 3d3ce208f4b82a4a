/**
 * The vocabulary between domain code (inventory, backup, restore, FUMO...) and the server
 * session engine: what the domain asks of a handset (WorkRequest) and what comes back
 * (SessionEvent). Both are plain JSON so they can be stored with jobs and session state.
 *
 * Values travel as base64 strings of the node's bytes (as itemValue() decodes them), so an
 * event can be stored or logged as-is.
 */

/** A leaf value to write. `value` is base64 of the node's bytes. */
export interface NodeValue {
  path: string;
  /** Meta Format: chr, int, bool, b64, bin, xml, node, ... Defaults to chr. */
  format?: string;
  /** Meta Type (MIME type), e.g. text/plain. */
  type?: string;
  /** base64 of the value bytes; omitted for interior nodes (format node). */
  value?: string;
}

export type UiCode = '1100' | '1101' | '1102' | '1103' | '1104';

/** Options of a UI alert (first Item), e.g. { MINDT: '5', MAXDT: '30', DR: '0' }. */
export type UiOptions = Record<string, string | number>;

interface WorkBase {
  /** Caller's id; every event about this work carries it as workId. */
  id: string;
}

/**
 * Get of one or more paths (one Get command per path, so each gets its own status).
 * Paths may carry `?list=Struct` / `?list=StructData`; they pass through unchanged.
 */
export interface GetWork extends WorkBase {
  kind: 'get';
  paths: string[];
  /**
   * One Get command of several items instead of one per path: one Status and one Results from
   * a handset that answers them alike (small values every session reads, such as the inventory).
   */
  together?: boolean;
}
export interface AddWork extends WorkBase {
  kind: 'add';
  items: NodeValue[];
  atomic?: boolean;
}
export interface ReplaceWork extends WorkBase {
  kind: 'replace';
  items: NodeValue[];
  atomic?: boolean;
}
export interface DeleteWork extends WorkBase {
  kind: 'delete';
  paths: string[];
  atomic?: boolean;
}
/** Copy `from` (Source) to `path` (Target). */
export interface CopyWork extends WorkBase {
  kind: 'copy';
  path: string;
  from: string;
}
export interface ExecWork extends WorkBase {
  kind: 'exec';
  path: string;
  /** Echoed by the handset in the Generic Alert that reports the outcome later. */
  correlator?: string;
  /** Optional Item Data (text). */
  data?: string;
  format?: string;
  type?: string;
}
export interface UiWork extends WorkBase {
  kind: 'ui';
  code: UiCode;
  text: string;
  /** Always sent as the first Item ('' when empty): some clients crash without it. */
  options?: UiOptions | string;
  /** Choices for 1103/1104. */
  choices?: string[];
}

/** A step of a Sequence: any of the above without its own id (the Sequence's id is used). */
export type SequenceStep =
  | Omit<GetWork, 'id'>
  | Omit<AddWork, 'id' | 'atomic'>
  | Omit<ReplaceWork, 'id' | 'atomic'>
  | Omit<DeleteWork, 'id' | 'atomic'>
  | Omit<CopyWork, 'id'>
  | Omit<ExecWork, 'id'>
  | Omit<UiWork, 'id'>;

/** Ordered steps in one Sequence command (e.g. a 1101 confirm, then the Replace). */
export interface SequenceWork extends WorkBase {
  kind: 'sequence';
  steps: SequenceStep[];
}

export type WorkRequest = GetWork | AddWork | ReplaceWork | DeleteWork | CopyWork | ExecWork | UiWork | SequenceWork;

/** A Generic Alert (1226) item as received. `data` is the Data text (bytes are base64). */
export interface GenericAlertEventItem {
  source?: string;
  target?: string;
  type?: string;
  format?: string;
  mark?: string;
  data?: string;
}

export type SessionEndReason =
  | 'complete' // both sides done
  | 'client-abort' // Alert 1223 from the client
  | 'server-abort' // we sent Alert 1223 (abortSession)
  | 'auth-failed' // 3 failed authentications
  | 'server-auth-refused' // the client checks us with a scheme we will not use
  | 'limit'; // too many messages

export type SessionEvent =
  /** The client's first message: Alert 1201 (client-initiated) or 1200 (after Package #0). */
  | { type: 'session-start'; initiator: 'client' | 'server'; alert: string }
  | { type: 'authenticated'; scheme: string }
  | { type: 'auth-failed'; status: 401 | 407; attempts: number; final: boolean }
  /** DevInfo (or other) values the client Replaced into our view, keyed by LocURI. */
  | { type: 'devinfo'; values: Record<string, string> }
  | { type: 'generic-alert'; correlator?: string; items: GenericAlertEventItem[] }
  /** Alert 1224 (client event) or any other non-protocol alert from the client. */
  | { type: 'client-alert'; code: string; correlator?: string; items: GenericAlertEventItem[] }
  /**
   * A Get's outcome for one node. status 200 with value, or the Get's error status (404,
   * 406...) without. For ?list= forms there is one event per node returned; `requested`
   * is the path asked for.
   */
  | {
      type: 'result';
      workId: string;
      path: string;
      requested: string;
      status: number;
      format?: string;
      mimeType?: string;
      value?: string;
    }
  /** Status of any other command (Add, Replace, Delete, Copy, Exec, Atomic, Sequence). */
  | { type: 'status'; workId: string; cmd: string; path?: string; status: number }
  /** Outcome of a UI alert: 200 yes/ok, 304 no, 214 cancelled, 215 timeout; values for 1102-1104. */
  | { type: 'ui'; workId: string; code: string; status: number; values?: string[] }
  /** Every command of the work has been answered (or failed, or the session ended). */
  | { type: 'work-done'; workId: string }
  /** Something the client did wrong that we tolerated (logged by the caller). */
  | { type: 'protocol-error'; detail: string }
  | { type: 'session-end'; reason: SessionEndReason };

export type SessionEventType = SessionEvent['type'];
