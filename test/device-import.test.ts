import { describe, expect, it } from 'vitest';
import { getDeviceByDevId, listDevices } from '@/db/queries/devices';
import { DeviceImportError, importDevices, parseCsv, parseDeviceCsv } from '@/lib/devices/import';
import { testDb } from './support/db';

const HEADER = 'devId,manufacturer,model,msisdn,subscriber,serverId,auth,clientUser,clientPass,serverPass';
const row = (devId: string, extra = '') => `${devId},Nimbus,N1,,,rewind,md5,u,p,s${extra}`;

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and line breaks; CRLF, a BOM and blank lines', () => {
    const recs = parseCsv('\ufeffa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n\r\nlast,,\n');
    expect(recs).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'two\nlines'] },
      { line: 5, fields: ['last', '', ''] },
    ]);
    expect(parseCsv('a,b')).toEqual([{ line: 1, fields: ['a', 'b'] }]);
    expect(parseCsv('""\n')).toEqual([{ line: 1, fields: [''] }]);
  });

  it('refuses a quote that is never closed, naming its row', () => {
    expect(() => parseCsv('a\n"b,c\n')).toThrow(DeviceImportError);
    expect(parseDeviceCsv(`${HEADER}\n"IMEI:1,x`).errors).toEqual([
      { row: 2, message: 'a quoted field is never closed' },
    ]);
  });
});

describe('parseDeviceCsv', () => {
  it('takes the columns in any order and any case, optional ones too', () => {
    const { rows, errors } = parseDeviceCsv(
      'MODEL,devid,Manufacturer,msisdn,subscriber,serverId,auth,clientUser,clientPass,serverPass,pushAddress,serverAuth\nN1,IMEI:123456,Nimbus,+44 7700 900123,Ada,rewind,md5,u,p,s,sms:+447700900123,basic\n',
    );
    expect(errors).toEqual([]);
    expect(rows[0]).toEqual({
      row: 2,
      input: expect.objectContaining({
        devId: 'IMEI:123456',
        model: 'N1',
        clientAuth: 'md5',
        serverAuth: 'basic',
        pushAddress: 'sms:+447700900123',
        msisdn: '+44 7700 900123',
      }),
    });
  });

  it('takes a scheme each way: auth for both, clientAuth and serverAuth each winning for theirs', () => {
    const head = 'devId,manufacturer,model,msisdn,subscriber,serverId,clientUser,clientPass,serverPass';
    const parse = (cols: string, values: string) =>
      parseDeviceCsv(`${head},${cols}\nIMEI:123456,Nimbus,N1,,,rewind,u,p,s,${values}\n`);
    const schemes = (r: ReturnType<typeof parse>) =>
      r.rows.map(({ input }) => ({ client: input.clientAuth, server: input.serverAuth }));
    expect(schemes(parse('auth', 'md5'))).toEqual([{ client: 'md5', server: 'md5' }]);
    expect(schemes(parse('clientAuth,serverAuth', 'basic,md5'))).toEqual([{ client: 'basic', server: 'md5' }]);
    expect(schemes(parse('auth,clientAuth', 'hmac,basic'))).toEqual([{ client: 'basic', server: 'hmac' }]);
    expect(schemes(parse('serverAuth,auth', 'md5,basic'))).toEqual([{ client: 'basic', server: 'md5' }]);
    // A bad scheme is named by the column it came from, once.
    expect(parse('auth', 'rsa').errors).toEqual([{ row: 2, column: 'auth', message: expect.any(String) }]);
    expect(parse('clientAuth,serverAuth', 'md5,rsa').errors).toEqual([
      { row: 2, column: 'serverAuth', message: expect.any(String) },
    ]);
    expect(parse('serverAuth', 'md5').errors[0]!.message).toBe('missing column: auth');
  });

  it('reports header problems before any row', () => {
    expect(parseDeviceCsv('devId,modle\n').errors.map((e) => e.message)).toEqual([
      expect.stringContaining('unknown column "modle"'),
      expect.stringContaining('missing columns: manufacturer, model'),
    ]);
    expect(parseDeviceCsv(`${HEADER},devId\n`).errors[0]!.message).toBe('column devId appears twice');
    expect(parseDeviceCsv('').errors[0]!.message).toContain('the file is empty');
    expect(parseDeviceCsv(`${HEADER}\n`).errors[0]!.message).toContain('no device rows');
  });

  it('gives each bad row its line number, counting blank lines and multi-line fields', () => {
    const { errors } = parseDeviceCsv(
      [HEADER, row('IMEI:100001'), '', row('"IMEI:100\n002"'), row('IMEI:100001'), 'IMEI:9,x'].join('\n'),
    );
    expect(errors).toEqual([
      { row: 4, column: 'devId', message: 'printable ASCII without spaces' },
      { row: 6, column: 'devId', message: 'IMEI:100001 is already on row 2' },
      { row: 7, message: '2 fields where the header has 10' },
    ]);
  });
});

describe('importDevices', () => {
  it('writes all rows or none', async () => {
    const db = await testDb();
    await expect(
      importDevices(db, [HEADER, row('IMEI:200001'), row('IMEI:200002', '').replace('md5', 'sha1')].join('\n')),
    ).rejects.toThrow(/1 error in the file, nothing was imported: row 3 \(auth\)/);
    expect(await listDevices(db)).toEqual([]);
    expect(await importDevices(db, [HEADER, row('IMEI:200001'), row('IMEI:200002')].join('\n'))).toEqual({
      devices: 2,
      created: 2,
      updated: 0,
      subscribersCreated: 0,
    });
    expect(await getDeviceByDevId(db, 'IMEI:200002')).toBeDefined();
  });
});
