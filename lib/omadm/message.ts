/**
 * Typed model of a SyncML DM 1.2 message (OMA-TS-DM_RepPro-V1_2). Also covers the few
 * extra elements SyncML DS 1.2 needs (Sync, Map, Put, Anchor), so the DS server reuses
 * the same codecs.
 *
 * Numbers that travel as PCDATA (CmdID, MsgID, MsgRef, CmdRef, status codes) are kept as
 * strings where the spec allows arbitrary text (SessionID) and as numbers where the spec
 * says they are integers; the codec validates them.
 */
import type { XmlElement } from './codec/element';

export type Format = 'b64' | 'bin' | 'bool' | 'chr' | 'int' | 'node' | 'null' | 'xml' | 'date' | 'time' | 'float';

/** MetInf (syncml:metinf). Every field optional; unknown elements are dropped. */
export interface Meta {
  format?: Format | string;
  type?: string;
  mark?: string;
  size?: number;
  nextNonce?: string;
  version?: string;
  maxMsgSize?: number;
  maxObjSize?: number;
  /** DS sync anchors. */
  anchor?: { last?: string; next?: string };
  /** DS EMI / FreeMem / FreeID and other MetInf we pass through as raw elements. */
  extra?: XmlElement[];
}

export interface LocInfo {
  locURI: string;
  locName?: string;
}

/** Item payload: text (chr, int, b64 as text...), raw bytes (WBXML opaque / bin), or nested XML. */
export type ItemData = string | Uint8Array | XmlElement[];

export interface Item {
  target?: LocInfo;
  source?: LocInfo;
  meta?: Meta;
  data?: ItemData;
  /** Large Object: more chunks of this item follow in later messages. */
  moreData?: boolean;
}

export interface Cred {
  meta?: Meta;
  data: string;
}

export interface Chal {
  meta: Meta;
}

export interface SyncHdr {
  verDTD: string; // "1.2"
  verProto: string; // "DM/1.2"
  sessionId: string;
  msgId: number;
  target: LocInfo;
  source: LocInfo;
  respURI?: string;
  noResp?: boolean;
  cred?: Cred;
  meta?: Meta;
}

interface CommandBase {
  cmdId: number;
  noResp?: boolean;
}

export interface Status {
  kind: 'Status';
  cmdId: number;
  msgRef: number;
  cmdRef: number; // 0 refers to SyncHdr
  cmd: string; // "SyncHdr", "Get", "Replace", ...
  targetRef?: string[];
  sourceRef?: string[];
  cred?: Cred;
  chal?: Chal;
  data: string; // status code, e.g. "200"
  items?: Item[];
}

export interface Results {
  kind: 'Results';
  cmdId: number;
  msgRef?: number;
  cmdRef: number;
  meta?: Meta;
  targetRef?: string;
  sourceRef?: string;
  items: Item[];
}

export interface Alert extends CommandBase {
  kind: 'Alert';
  cred?: Cred;
  data: string; // alert code, e.g. "1201", "1226", "1101"
  correlator?: string;
  items: Item[];
}

export interface ItemCommand extends CommandBase {
  cred?: Cred;
  meta?: Meta;
  items: Item[];
}

export interface Get extends ItemCommand {
  kind: 'Get';
  lang?: string;
}
export interface Add extends ItemCommand {
  kind: 'Add';
}
export interface Replace extends ItemCommand {
  kind: 'Replace';
}
export interface Delete extends ItemCommand {
  kind: 'Delete';
  archive?: boolean;
  sftDel?: boolean;
}
export interface Copy extends ItemCommand {
  kind: 'Copy';
}
export interface Exec extends CommandBase {
  kind: 'Exec';
  cred?: Cred;
  meta?: Meta;
  correlator?: string;
  items: Item[];
}
/** DS Put (DevInf). */
export interface Put extends ItemCommand {
  kind: 'Put';
  lang?: string;
}

export interface Atomic extends CommandBase {
  kind: 'Atomic';
  meta?: Meta;
  commands: Command[];
}
export interface Sequence extends CommandBase {
  kind: 'Sequence';
  meta?: Meta;
  commands: Command[];
}

/** DS Sync: a datastore's changes. */
export interface Sync extends CommandBase {
  kind: 'Sync';
  cred?: Cred;
  target?: LocInfo;
  source?: LocInfo;
  meta?: Meta;
  numberOfChanges?: number;
  commands: Command[];
}

/** DS Map: client LUID -> server GUID after the server's Adds. */
export interface MapItem {
  target: LocInfo;
  source: LocInfo;
}
export interface SyncMap extends CommandBase {
  kind: 'Map';
  target: LocInfo;
  source: LocInfo;
  cred?: Cred;
  meta?: Meta;
  mapItems: MapItem[];
}

export type Command =
  Status | Results | Alert | Get | Add | Replace | Delete | Copy | Exec | Put | Atomic | Sequence | Sync | SyncMap;

export type CommandKind = Command['kind'];

export interface SyncBody {
  commands: Command[];
  final: boolean;
}

export interface SyncMLMessage {
  hdr: SyncHdr;
  body: SyncBody;
}

/** Wire encodings. */
export type Encoding = 'xml' | 'wbxml';

/** Alert codes used by the DM protocol (OMA-TS-DM_Protocol §8). */
export const AlertCode = {
  Display: '1100',
  Confirm: '1101',
  TextInput: '1102',
  SingleChoice: '1103',
  MultipleChoice: '1104',
  ServerInitiated: '1200',
  ClientInitiated: '1201',
  NextMessage: '1222',
  SessionAbort: '1223',
  ClientEvent: '1224',
  NoEndOfData: '1225',
  Generic: '1226',
} as const;

/** Status codes the engine emits or understands. */
export const StatusCode = {
  InProgress: 101,
  Ok: 200,
  AcceptedForProcessing: 202,
  AuthAccepted: 212,
  ChunkAccepted: 213,
  OperationCancelled: 214,
  NotExecuted: 215,
  AtomicRollbackOk: 216,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  NotAllowed: 405,
  OptionalFeatureNotSupported: 406,
  MissingCredentials: 407,
  IncompleteCommand: 412,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  AlreadyExists: 418,
  DeviceFull: 420,
  SizeMismatch: 424,
  PermissionDenied: 425,
  CommandFailed: 500,
  NotImplemented: 501,
  ServiceUnavailable: 503,
  AtomicFailed: 507,
  AtomicRollbackFailed: 516,
  ReadOnly: 517, // not in DM 1.2 but some clients send it
} as const;

/** MIME types accepted on the wire. Real DM clients also send the DS types. */
export const MIME = {
  dmXml: 'application/vnd.syncml.dm+xml',
  dmWbxml: 'application/vnd.syncml.dm+wbxml',
  dsXml: 'application/vnd.syncml+xml',
  dsWbxml: 'application/vnd.syncml+wbxml',
  notification: 'application/vnd.syncml.notification',
} as const;

/** Which encoding a Content-Type names, or undefined if it is not a SyncML type. */
export function encodingOf(contentType: string | null | undefined): Encoding | undefined {
  if (!contentType) return undefined;
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  if (base === MIME.dmXml || base === MIME.dsXml) return 'xml';
  if (base === MIME.dmWbxml || base === MIME.dsWbxml) return 'wbxml';
  return undefined;
}
