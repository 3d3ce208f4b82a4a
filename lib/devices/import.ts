/**
 * Bulk provisioning from CSV, shared by `rewind device import` and
 * `POST /api/v1/devices/import`. All or nothing: every row is validated first and any
 * error is reported with its row number, before anything is written; then every device
 * is provisioned in one transaction.
 *
 * The file has a header row naming the columns (in any order, case-insensitive):
 * devId, manufacturer, model, msisdn, subscriber, serverId, auth, clientUser, clientPass,
 * serverPass, and optionally firmware, pushAddress, email, clientAuth and serverAuth. A DM
 * account has a scheme each way: auth sets both, clientAuth (how the handset proves itself)
 * and serverAuth (how it checks the server) each win for theirs; clientAuth may stand in for
 * auth. msisdn and subscriber may be left empty. Row numbers are the file's line numbers
 * (the header is row 1), as an editor or a spreadsheet shows them.
 */
import type { Db } from '@/db/client';
import { getDeviceByDevId } from '@/db/queries/devices';
import { countSubscribers } from '@/db/queries/subscribers';
import { insertAudit } from '@/db/queries/audit';
import { AppError } from '../core/errors';
import { provisionDevice } from './devices';
import { provisionDeviceSchema, type ProvisionDeviceInput } from './schemas';

export const IMPORT_MAX_BYTES = 10_000_000;
export const IMPORT_MAX_ROWS = 50_000;

/** CSV column -> provisioning field. */
const COLUMNS = {
  devId: 'devId',
  manufacturer: 'manufacturer',
  model: 'model',
  msisdn: 'msisdn',
  subscriber: 'subscriber',
  serverId: 'serverId',
  auth: 'clientAuth',
  clientAuth: 'clientAuth',
  clientUser: 'clientUser',
  clientPass: 'clientPass',
  serverPass: 'serverPass',
  firmware: 'firmware',
  pushAddress: 'pushAddress',
  serverAuth: 'serverAuth',
  email: 'email',
} as const satisfies Record<string, keyof ProvisionDeviceInput>;
type Column = keyof typeof COLUMNS;

export const REQUIRED_COLUMNS: readonly Column[] = [
  'devId',
  'manufacturer',
  'model',
  'msisdn',
  'subscriber',
  'serverId',
  'auth',
  'clientUser',
  'clientPass',
  'serverPass',
];
const FIELD_TO_COLUMN = Object.fromEntries(Object.entries(COLUMNS).map(([c, f]) => [f, c])) as Record<string, Column>;
/** Passwords keep their spaces; everything else is trimmed. */
const VERBATIM = new Set<Column>(['clientPass', 'serverPass']);

export interface ImportRowError {
  /** Line of the file the row starts on (the header is 1); 0 for the file as a whole. */
  row: number;
  /** The CSV column, when one is to blame. */
  column?: string;
  message: string;
}

/** Every bad row, so the CLI can print one line each; the API answers them as `rows`. */
export class DeviceImportError extends AppError {
  constructor(readonly rows: ImportRowError[]) {
    const shown = rows.slice(0, 5).map(formatRowError).join('; ');
    const more = rows.length > 5 ? `; and ${rows.length - 5} more` : '';
    super(
      'invalid',
      `${rows.length} error${rows.length === 1 ? '' : 's'} in the file, nothing was imported: ${shown}${more}`,
      {
        code: 'invalid-rows',
        fieldErrors: Object.fromEntries(rows.map((r) => [`${r.row}${r.column ? `.${r.column}` : ''}`, [r.message]])),
        details: { rows },
      },
    );
    this.name = 'DeviceImportError';
  }
}

export function formatRowError(e: ImportRowError): string {
  return `${e.row ? `row ${e.row}` : 'file'}${e.column ? ` (${e.column})` : ''}: ${e.message}`;
}

interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * RFC 4180 records: comma-separated, optionally "quoted" (with "" for a quote, and commas
 * and line breaks inside), CRLF or LF line ends, a UTF-8 BOM ignored, blank lines skipped.
 */
export function parseCsv(text: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let wasQuoted = false;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== '' || wasQuoted) records.push({ line: start, fields });
    fields = [];
    field = '';
    wasQuoted = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      wasQuoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else field += c;
  }
  if (quoted) throw new DeviceImportError([{ row: start, message: 'a quoted field is never closed' }]);
  if (field !== '' || fields.length || wasQuoted) endRecord();
  return records;
}

export interface ParsedImport {
  /** Valid rows, in file order. */
  rows: Array<{ row: number; input: ProvisionDeviceInput }>;
  errors: ImportRowError[];
}

/** Parses and validates the whole file; nothing is written. */
export function parseDeviceCsv(text: string): ParsedImport {
  if (text.length > IMPORT_MAX_BYTES)
    return { rows: [], errors: [{ row: 0, message: `the file is larger than ${IMPORT_MAX_BYTES} bytes` }] };
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof DeviceImportError) return { rows: [], errors: err.rows };
    throw err;
  }
  const [header, ...body] = records;
  if (!header)
    return {
      rows: [],
      errors: [{ row: 0, message: 'the file is empty: it needs a header row and one row per device' }],
    };
  const errors: ImportRowError[] = [];
  const byLower = new Map(Object.keys(COLUMNS).map((c) => [c.toLowerCase(), c as Column]));
  const columns: Column[] = [];
  header.fields.forEach((raw) => {
    const name = raw.trim();
    const col = byLower.get(name.toLowerCase());
    if (!col)
      errors.push({
        row: header.line,
        message: `unknown column ${JSON.stringify(name)} (columns: ${Object.keys(COLUMNS).join(', ')})`,
      });
    else if (columns.includes(col)) errors.push({ row: header.line, message: `column ${col} appears twice` });
    columns.push(col ?? ('' as Column));
  });
  // clientAuth names the handset's scheme as auth does (serverAuth then defaults to it).
  const missing = REQUIRED_COLUMNS.filter(
    (c) => !columns.includes(c) && !(c === 'auth' && columns.includes('clientAuth')),
  );
  if (missing.length)
    errors.push({
      row: header.line,
      message: `missing column${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}`,
    });
  if (errors.length) return { rows: [], errors };
  if (!body.length) return { rows: [], errors: [{ row: 0, message: 'the file has a header but no device rows' }] };
  if (body.length > IMPORT_MAX_ROWS)
    return { rows: [], errors: [{ row: 0, message: `more than ${IMPORT_MAX_ROWS} rows; split the file` }] };

  const rows: ParsedImport['rows'] = [];
  const seen = new Map<string, number>();
  for (const rec of body) {
    if (rec.fields.length !== columns.length) {
      errors.push({ row: rec.line, message: `${rec.fields.length} fields where the header has ${columns.length}` });
      continue;
    }
    const input: Record<string, string> = {};
    /** Which column gave each field, to name it in errors (auth and clientAuth both give clientAuth). */
    const from: Record<string, Column> = {};
    let both: string | undefined;
    columns.forEach((col, i) => {
      const raw = rec.fields[i]!;
      const value = VERBATIM.has(col) ? raw : raw.trim();
      if (value === '') return;
      if (col === 'auth') both = value;
      else {
        input[COLUMNS[col]] = value;
        from[COLUMNS[col]] = col;
      }
    });
    // auth sets both directions; clientAuth and serverAuth, when given, win for their own.
    if (both !== undefined) {
      for (const field of ['clientAuth', 'serverAuth'] as const) {
        if (input[field] !== undefined) continue;
        input[field] = both;
        from[field] = 'auth';
      }
    }
    const parsed = provisionDeviceSchema.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '');
        // A bad auth is wrong for both directions it sets: said once.
        if (from[field] === 'auth' && field === 'serverAuth' && from.clientAuth === 'auth') continue;
        errors.push({
          row: rec.line,
          ...(field ? { column: from[field] ?? FIELD_TO_COLUMN[field] ?? field } : {}),
          message: issue.message,
        });
      }
      continue;
    }
    const first = seen.get(parsed.data.devId);
    if (first !== undefined) {
      errors.push({ row: rec.line, column: 'devId', message: `${parsed.data.devId} is already on row ${first}` });
      continue;
    }
    seen.set(parsed.data.devId, rec.line);
    rows.push({ row: rec.line, input: input as unknown as ProvisionDeviceInput });
  }
  return { rows, errors };
}

export interface ImportResult {
  /** Rows provisioned. */
  devices: number;
  /** Of those, devices that were new; the rest updated existing ones (matched by devId). */
  created: number;
  updated: number;
  /** Subscribers created for named owners or MSISDNs not known before. */
  subscribersCreated: number;
}

/** Validates the whole file, then provisions every row in one transaction; throws DeviceImportError listing every bad row. */
export async function importDevices(db: Db, csv: string): Promise<ImportResult> {
  const { rows, errors } = parseDeviceCsv(csv);
  if (errors.length) throw new DeviceImportError(errors);
  // One transaction, every query through it; provisionDevice's own transactions nest as savepoints.
  return db.transaction(async (tx) => {
    const subscribersBefore = await countSubscribers(tx);
    let created = 0;
    for (const r of rows) {
      if (!(await getDeviceByDevId(tx, r.input.devId.trim()))) created++;
      try {
        await provisionDevice(tx, r.input);
      } catch (err) {
        if (err instanceof AppError) throw new DeviceImportError([{ row: r.row, message: err.message }]);
        throw err;
      }
    }
    return {
      devices: rows.length,
      created,
      updated: rows.length - created,
      subscribersCreated: (await countSubscribers(tx)) - subscribersBefore,
    };
  });
}

/** importDevices for a person or token (the API, the CLI): a file imported is audited under `actor`, with its counts. */
export async function importDevicesAs(db: Db, csv: string, actor: string): Promise<ImportResult> {
  const result = await importDevices(db, csv);
  await insertAudit(db, { actor, action: 'devices.imported', details: result });
  return result;
}
