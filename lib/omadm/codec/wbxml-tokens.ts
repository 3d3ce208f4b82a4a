/**
 * WBXML code pages for SyncML 1.1/1.2, MetInf and DevInf 1.2.
 *
 * Token values are those of the OMA SyncML Representation Protocol and MetaInfo specs and
 * DS DevInf 1.2, checked against libwbxml's tables and xml2wbxml output. SyncML 1.1 uses the
 * same numbering as 1.2 (1.2 only appended tokens), so one table serves both on decode.
 */

export const NS_SYNCML12 = 'SYNCML:SYNCML1.2';
export const NS_SYNCML11 = 'SYNCML:SYNCML1.1';
export const NS_METINF = 'syncml:metinf';
export const NS_DEVINF = 'syncml:devinf';

/** Global WBXML tokens (WBXML 1.3 §7.1). */
export const T = {
  SWITCH_PAGE: 0x00,
  END: 0x01,
  ENTITY: 0x02,
  STR_I: 0x03,
  LITERAL: 0x04,
  EXT_I_0: 0x40,
  EXT_I_1: 0x41,
  EXT_I_2: 0x42,
  PI: 0x43,
  LITERAL_C: 0x44,
  EXT_T_0: 0x80,
  EXT_T_1: 0x81,
  EXT_T_2: 0x82,
  STR_T: 0x83,
  LITERAL_A: 0x84,
  EXT_0: 0xc0,
  EXT_1: 0xc1,
  EXT_2: 0xc2,
  OPAQUE: 0xc3,
  LITERAL_AC: 0xc4,
} as const;

export const CHARSET_UTF8 = 106;
export const CHARSET_US_ASCII = 3;

const SYNCML_PAGE0: readonly (readonly [string, number])[] = [
  ['Add', 0x05],
  ['Alert', 0x06],
  ['Archive', 0x07],
  ['Atomic', 0x08],
  ['Chal', 0x09],
  ['Cmd', 0x0a],
  ['CmdID', 0x0b],
  ['CmdRef', 0x0c],
  ['Copy', 0x0d],
  ['Cred', 0x0e],
  ['Data', 0x0f],
  ['Delete', 0x10],
  ['Exec', 0x11],
  ['Final', 0x12],
  ['Get', 0x13],
  ['Item', 0x14],
  ['Lang', 0x15],
  ['LocName', 0x16],
  ['LocURI', 0x17],
  ['Map', 0x18],
  ['MapItem', 0x19],
  ['Meta', 0x1a],
  ['MsgID', 0x1b],
  ['MsgRef', 0x1c],
  ['NoResp', 0x1d],
  ['NoResults', 0x1e],
  ['Put', 0x1f],
  ['Replace', 0x20],
  ['RespURI', 0x21],
  ['Results', 0x22],
  ['Search', 0x23],
  ['Sequence', 0x24],
  ['SessionID', 0x25],
  ['SftDel', 0x26],
  ['Source', 0x27],
  ['SourceRef', 0x28],
  ['Status', 0x29],
  ['Sync', 0x2a],
  ['SyncBody', 0x2b],
  ['SyncHdr', 0x2c],
  ['SyncML', 0x2d],
  ['Target', 0x2e],
  ['TargetRef', 0x2f],
  // 0x30 is reserved.
  ['VerDTD', 0x31],
  ['VerProto', 0x32],
  ['NumberOfChanges', 0x33],
  ['MoreData', 0x34],
  ['Field', 0x35],
  ['Filter', 0x36],
  ['Record', 0x37],
  ['FilterType', 0x38],
  ['SourceParent', 0x39],
  ['TargetParent', 0x3a],
  ['Move', 0x3b],
  ['Correlator', 0x3c],
];

const METINF_PAGE1: readonly (readonly [string, number])[] = [
  ['Anchor', 0x05],
  ['EMI', 0x06],
  ['Format', 0x07],
  ['FreeID', 0x08],
  ['FreeMem', 0x09],
  ['Last', 0x0a],
  ['Mark', 0x0b],
  ['MaxMsgSize', 0x0c],
  ['Mem', 0x0d],
  ['MetInf', 0x0e],
  ['Next', 0x0f],
  ['NextNonce', 0x10],
  ['SharedMem', 0x11],
  ['Size', 0x12],
  ['Type', 0x13],
  ['Version', 0x14],
  ['MaxObjSize', 0x15],
  ['FieldLevel', 0x16],
];

const DEVINF_PAGE0: readonly (readonly [string, number])[] = [
  ['CTCap', 0x05],
  ['CTType', 0x06],
  ['DataStore', 0x07],
  ['DataType', 0x08],
  ['DevID', 0x09],
  ['DevInf', 0x0a],
  ['DevTyp', 0x0b],
  ['DisplayName', 0x0c],
  ['DSMem', 0x0d],
  ['Ext', 0x0e],
  ['FwV', 0x0f],
  ['HwV', 0x10],
  ['Man', 0x11],
  ['MaxGUIDSize', 0x12],
  ['MaxID', 0x13],
  ['MaxMem', 0x14],
  ['Mod', 0x15],
  ['OEM', 0x16],
  ['ParamName', 0x17],
  ['PropName', 0x18],
  ['Rx', 0x19],
  ['Rx-Pref', 0x1a],
  ['SharedMem', 0x1b],
  ['MaxSize', 0x1c],
  ['SourceRef', 0x1d],
  ['SwV', 0x1e],
  ['SyncCap', 0x1f],
  ['SyncType', 0x20],
  ['Tx', 0x21],
  ['Tx-Pref', 0x22],
  ['ValEnum', 0x23],
  ['VerCT', 0x24],
  ['VerDTD', 0x25],
  ['XNam', 0x26],
  ['XVal', 0x27],
  ['UTC', 0x28],
  ['SupportNumberOfChanges', 0x29],
  ['SupportLargeObjs', 0x2a],
  ['Property', 0x2b],
  ['PropParam', 0x2c],
  ['MaxOccur', 0x2d],
  ['NoTruncate', 0x2e],
  // 0x2f is reserved.
  ['Filter-Rx', 0x30],
  ['FilterCap', 0x31],
  ['FilterKeyword', 0x32],
  ['FieldLevel', 0x33],
  ['SupportHierarchicalSync', 0x34],
];

export interface CodePage {
  /** Page index as written after SWITCH_PAGE. */
  index: number;
  /** Namespace of elements on this page. */
  ns: string;
  /** Tag token (without the content/attribute bits) -> element name. */
  names: ReadonlyMap<number, string>;
  /** Element name -> tag token. */
  tokens: ReadonlyMap<string, number>;
}

function page(index: number, ns: string, entries: readonly (readonly [string, number])[]): CodePage {
  return {
    index,
    ns,
    names: new Map(entries.map(([n, t]) => [t, n])),
    tokens: new Map(entries),
  };
}

/** A WBXML document type: its public id(s), root namespace and code pages. */
export interface DocType {
  /** Canonical namespace of page 0, given to the root element on decode. */
  ns: string;
  /** Well-known public id written on encode. */
  publicId: number;
  /** Formal public identifier, for documents that carry it as a string-table literal. */
  fpi: string;
  /** Code pages by index. */
  pages: ReadonlyMap<number, CodePage>;
}

const syncml12Page0 = page(0, NS_SYNCML12, SYNCML_PAGE0);
const syncml11Page0 = page(0, NS_SYNCML11, SYNCML_PAGE0);
const metinfPage1 = page(1, NS_METINF, METINF_PAGE1);
const devinfPage0 = page(0, NS_DEVINF, DEVINF_PAGE0);

export const SYNCML12: DocType = {
  ns: NS_SYNCML12,
  publicId: 0x1201,
  fpi: '-//SYNCML//DTD SyncML 1.2//EN',
  pages: new Map([
    [0, syncml12Page0],
    [1, metinfPage1],
  ]),
};

export const SYNCML11: DocType = {
  ns: NS_SYNCML11,
  publicId: 0x0fd3,
  fpi: '-//SYNCML//DTD SyncML 1.1//EN',
  pages: new Map([
    [0, syncml11Page0],
    [1, metinfPage1],
  ]),
};

/** A standalone MetInf document: its tokens live on page 1 even there. */
export const METINF12: DocType = {
  ns: NS_METINF,
  publicId: 0x1202,
  fpi: '-//SYNCML//DTD MetInf 1.2//EN',
  pages: new Map([[1, metinfPage1]]),
};

export const DEVINF12: DocType = {
  ns: NS_DEVINF,
  publicId: 0x1203,
  fpi: '-//SYNCML//DTD DevInf 1.2//EN',
  pages: new Map([[0, devinfPage0]]),
};

/** WBXML public id 0x01: "unknown, the document type is implied". */
export const PUBLIC_ID_UNKNOWN = 0x01;

const BY_PUBLIC_ID = new Map<number, DocType>([
  [SYNCML12.publicId, SYNCML12],
  [SYNCML11.publicId, SYNCML11],
  [METINF12.publicId, METINF12],
  [DEVINF12.publicId, DEVINF12],
  // DevInf 1.1 shares DevInf 1.2's tokens for everything 1.1 defines.
  [0x0fd4, DEVINF12],
]);

const BY_FPI = new Map<string, DocType>([
  [SYNCML12.fpi, SYNCML12],
  [SYNCML11.fpi, SYNCML11],
  [METINF12.fpi, METINF12],
  [DEVINF12.fpi, DEVINF12],
  ['-//SYNCML//DTD DevInf 1.1//EN', DEVINF12],
  ['-//SYNCML//DTD MetInf 1.1//EN', METINF12],
]);

export function docTypeByPublicId(id: number): DocType | undefined {
  return BY_PUBLIC_ID.get(id);
}

/** Formal public identifiers compare case-insensitively in practice; devices vary the case. */
export function docTypeByFpi(fpi: string): DocType | undefined {
  const exact = BY_FPI.get(fpi);
  if (exact) return exact;
  const lower = fpi.trim().toLowerCase();
  for (const [k, v] of BY_FPI) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Which document type an element's namespace selects when it is a document root. */
export function docTypeByNs(ns: string | undefined): DocType | undefined {
  if (ns === undefined) return undefined;
  switch (ns.toLowerCase()) {
    case NS_SYNCML12.toLowerCase():
      return SYNCML12;
    case NS_SYNCML11.toLowerCase():
      return SYNCML11;
    case NS_METINF:
      return METINF12;
    case NS_DEVINF:
      return DEVINF12;
    default:
      return undefined;
  }
}
