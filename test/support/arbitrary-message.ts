/**
 * fast-check arbitraries for SyncML messages, shared by the XML and WBXML property tests.
 *
 * Everything generated is a message the codecs must reproduce exactly after a round trip,
 * so it respects the mapping's normalisations: text outside Data is trimmed (the decoder
 * trims it), numbers are non-negative integers, nested Data XML has no mixed content and
 * no empty text nodes. Data text is unrestricted apart from lone surrogates, which no
 * UTF-8 encoding can carry.
 */
import fc from 'fast-check';
import type { XmlElement } from '../../lib/omadm/codec/element';
import type {
  Alert,
  Atomic,
  Chal,
  Command,
  Cred,
  Delete,
  Exec,
  Item,
  ItemCommand,
  LocInfo,
  MapItem,
  Meta,
  Results,
  Sequence,
  Status,
  Sync,
  SyncHdr,
  SyncMLMessage,
  SyncMap,
} from '../../lib/omadm/message';

const NS_METINF = 'syncml:metinf';

/** Decoded messages are plain objects; generate the same so toStrictEqual compares content. */
const PLAIN = { noNullPrototype: true } as const;

/** XML whitespace: what the decoder trims from non-Data text. */
const isXmlSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const trimmed = (s: string): boolean => s.length === 0 || (!isXmlSpace(s[0]!) && !isXmlSpace(s[s.length - 1]!));

/** Any text, ASCII-heavy but with the whole Unicode range (and XML's special characters) mixed in. */
const anyText = (maxLength = 24): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.constantFrom('&', '<', '>', '"', "'", ']]>', '&amp;', ' ', '\r\n', '\t', '\u0000') },
  );

/** Text where leading/trailing whitespace is not significant: generated already trimmed. */
const text = (maxLength = 24): fc.Arbitrary<string> => anyText(maxLength).filter(trimmed);
const nonEmptyText = (maxLength = 24): fc.Arbitrary<string> => text(maxLength).filter((s) => s.length > 0);

const uri: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    './DevInfo/DevId',
    './DevDetail/SwV',
    './ DevDetail/HwV',
    'IMEI:493005100592800',
    'http://www.syncml.org/mgmt-server',
    './Vendor/a&b/<c>',
    './SCOMO/Inventory/Deployed/x',
  ),
  nonEmptyText(40),
);

const int = (max = 1_000_000): fc.Arbitrary<number> => fc.nat({ max });

const locInfo: fc.Arbitrary<LocInfo> = fc.record(
  { locURI: uri, locName: text() },
  { noNullPrototype: true, requiredKeys: ['locURI'] },
);

/** Leaf text inside nested XML: never empty (an empty text node does not survive encoding). */
const leaf = (name: string, ns?: string): fc.Arbitrary<XmlElement> =>
  fc
    .option(
      anyText().filter((s) => s.length > 0),
      { nil: undefined },
    )
    .map((t) => ({
      name,
      ...(ns !== undefined ? { ns } : {}),
      children: t === undefined ? [] : [t],
    }));

/** MetInf elements the mapping does not model, kept raw in Meta.extra. */
const metaExtra: fc.Arbitrary<XmlElement> = fc.oneof(
  leaf('EMI', NS_METINF),
  leaf('FieldLevel', NS_METINF),
  fc.tuple(leaf('FreeMem'), leaf('FreeID')).map(([m, i]): XmlElement => ({
    name: 'Mem',
    ns: NS_METINF,
    children: [m, i],
  })),
);

const format = fc.constantFrom('b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float');

export const arbMeta: fc.Arbitrary<Meta> = fc.record(
  {
    format: fc.oneof(format, nonEmptyText(8)),
    type: fc.oneof(fc.constantFrom('text/plain', 'syncml:auth-md5', 'application/vnd.syncml-devinf+xml'), text()),
    mark: text(),
    size: fc.nat(),
    nextNonce: text(),
    version: text(8),
    maxMsgSize: fc.nat(),
    maxObjSize: fc.nat(),
    anchor: fc.record({ last: text(), next: text() }, { noNullPrototype: true, requiredKeys: [] }),
    extra: fc.array(metaExtra, { minLength: 1, maxLength: 3 }),
  },
  { noNullPrototype: true, requiredKeys: [] },
);

/** Nested XML in Data: a DS Anchor, as a Status for an Alert carries it. */
const dataXml: fc.Arbitrary<XmlElement[]> = fc.array(
  fc
    .tuple(leaf('Last'), leaf('Next'))
    .map(([l, n]): XmlElement => ({ name: 'Anchor', ns: NS_METINF, children: [l, n] })),
  { minLength: 1, maxLength: 2 },
);

export interface ArbMessageOptions {
  /** Also generate opaque (Uint8Array) Data, which only WBXML carries as such (default false). */
  opaque?: boolean;
  /** Deepest Atomic/Sequence/Sync nesting (default 2). */
  maxNesting?: number;
}

const itemArb = (opaque: boolean): fc.Arbitrary<Item> => {
  const data: fc.Arbitrary<Item['data']> = opaque
    ? fc.oneof(anyText(64), dataXml, fc.uint8Array({ maxLength: 64 }))
    : fc.oneof({ weight: 4, arbitrary: anyText(64) }, { weight: 1, arbitrary: dataXml });
  return fc.record(
    { target: locInfo, source: locInfo, meta: arbMeta, data, moreData: fc.constant(true) },
    { noNullPrototype: true, requiredKeys: [] },
  );
};

const cred: fc.Arbitrary<Cred> = fc.record(
  { meta: arbMeta, data: text(32) },
  { noNullPrototype: true, requiredKeys: ['data'] },
);
const chal: fc.Arbitrary<Chal> = fc.record({ meta: arbMeta }, PLAIN);

export function arbMessage(opts: ArbMessageOptions = {}): fc.Arbitrary<SyncMLMessage> {
  const item = itemArb(opts.opaque ?? false);
  const items = (min: number) => fc.array(item, { minLength: min, maxLength: 3 });
  const noResp = fc.constant(true);

  const status: fc.Arbitrary<Status> = fc.record(
    {
      kind: fc.constant('Status' as const),
      cmdId: int(),
      msgRef: int(),
      cmdRef: int(),
      cmd: fc.constantFrom('SyncHdr', 'Get', 'Replace', 'Alert', 'Exec', 'Atomic'),
      targetRef: fc.array(uri, { minLength: 1, maxLength: 2 }),
      sourceRef: fc.array(uri, { minLength: 1, maxLength: 2 }),
      cred,
      chal,
      data: fc.constantFrom('200', '212', '401', '404', '500'),
      items: items(1),
    },
    { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'msgRef', 'cmdRef', 'cmd', 'data'] },
  );

  const results: fc.Arbitrary<Results> = fc.record(
    {
      kind: fc.constant('Results' as const),
      cmdId: int(),
      msgRef: int(),
      cmdRef: int(),
      meta: arbMeta,
      targetRef: uri,
      sourceRef: uri,
      items: items(1),
    },
    { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'cmdRef', 'items'] },
  );

  const alert: fc.Arbitrary<Alert> = fc.record(
    {
      kind: fc.constant('Alert' as const),
      cmdId: int(),
      noResp,
      cred,
      data: fc.constantFrom('1200', '1201', '1101', '1226', '1222'),
      correlator: nonEmptyText(),
      items: items(0),
    },
    { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'data', 'items'] },
  );

  const itemCommand = <K extends 'Get' | 'Add' | 'Replace' | 'Copy' | 'Put'>(kind: K) =>
    fc.record(
      {
        kind: fc.constant(kind),
        cmdId: int(),
        noResp,
        cred,
        meta: arbMeta,
        items: items(1),
        ...(kind === 'Get' || kind === 'Put' ? { lang: nonEmptyText(5) } : {}),
      },
      { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'items'] },
    ) as unknown as fc.Arbitrary<ItemCommand & { kind: K }>;

  const del: fc.Arbitrary<Delete> = fc.record(
    {
      kind: fc.constant('Delete' as const),
      cmdId: int(),
      noResp,
      archive: fc.constant(true),
      sftDel: fc.constant(true),
      cred,
      meta: arbMeta,
      items: items(1),
    },
    { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'items'] },
  );

  const exec: fc.Arbitrary<Exec> = fc.record(
    {
      kind: fc.constant('Exec' as const),
      cmdId: int(),
      noResp,
      cred,
      meta: arbMeta,
      correlator: nonEmptyText(),
      items: items(1).map((a) => a.slice(0, 1)),
    },
    { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'items'] },
  );

  const mapItem: fc.Arbitrary<MapItem> = fc.record({ target: locInfo, source: locInfo }, PLAIN);
  const map: fc.Arbitrary<SyncMap> = fc.record(
    {
      kind: fc.constant('Map' as const),
      cmdId: int(),
      target: locInfo,
      source: locInfo,
      cred,
      meta: arbMeta,
      mapItems: fc.array(mapItem, { minLength: 1, maxLength: 3 }),
    },
    { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'target', 'source', 'mapItems'] },
  );

  const simple: fc.Arbitrary<Command> = fc.oneof(
    status,
    results,
    alert,
    itemCommand('Get'),
    itemCommand('Add'),
    itemCommand('Replace'),
    itemCommand('Copy'),
    itemCommand('Put'),
    del,
    exec,
    map,
  );

  const nested = (depth: number): fc.Arbitrary<Command> => {
    if (depth <= 0) return simple;
    const inner = fc.array(nested(depth - 1), { minLength: 1, maxLength: 3 });
    const container = <K extends 'Atomic' | 'Sequence'>(kind: K) =>
      fc.record(
        { kind: fc.constant(kind), cmdId: int(), noResp, meta: arbMeta, commands: inner },
        { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'commands'] },
      ) as unknown as fc.Arbitrary<K extends 'Atomic' ? Atomic : Sequence>;
    const sync: fc.Arbitrary<Sync> = fc.record(
      {
        kind: fc.constant('Sync' as const),
        cmdId: int(),
        noResp,
        cred,
        target: locInfo,
        source: locInfo,
        meta: arbMeta,
        numberOfChanges: int(),
        commands: fc.array(nested(depth - 1), { maxLength: 3 }),
      },
      { noNullPrototype: true, requiredKeys: ['kind', 'cmdId', 'commands'] },
    );
    return fc.oneof({ weight: 4, arbitrary: simple }, container('Atomic'), container('Sequence'), sync);
  };

  const hdr: fc.Arbitrary<SyncHdr> = fc.record(
    {
      verDTD: fc.constantFrom('1.2', '1.1'),
      verProto: fc.constantFrom('DM/1.2', 'SyncML/1.2', 'DM/1.1'),
      sessionId: nonEmptyText(8),
      msgId: int(),
      target: locInfo,
      source: locInfo,
      respURI: uri,
      noResp,
      cred,
      meta: arbMeta,
    },
    { noNullPrototype: true, requiredKeys: ['verDTD', 'verProto', 'sessionId', 'msgId', 'target', 'source'] },
  );

  return fc.record(
    {
      hdr,
      body: fc.record(
        {
          commands: fc.array(nested(opts.maxNesting ?? 2), { maxLength: 5 }),
          final: fc.boolean(),
        },
        PLAIN,
      ),
    },
    PLAIN,
  );
}
