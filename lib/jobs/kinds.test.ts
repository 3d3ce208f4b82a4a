/** Job payloads: every kind round-trips through its column, and a payload that does not fit is refused, saying why. */
import { describe, expect, it } from 'vitest';
import {
  JOB_KINDS,
  JobPayloadError,
  jobTitle,
  parseJobPayload,
  serializeJobPayload,
  type JobKind,
  type JobPayloads,
} from './kinds';

const EXAMPLES: { [K in JobKind]: JobPayloads[K] } = {
  backup: { trigger: 'device', categories: ['settings', 'applications'], actor: 'device:IMEI:1', reason: 'user' },
  restore: { planId: '7d1c4d8e-0c9e-4b6a-9f3e-0a4c2a1b5e61', actor: 'user:care-1' },
  'local-backup': { target: 'smartcard', categories: ['settings'], actor: 'cli' },
  'local-restore': { localId: 'L1', categories: ['appdata'], actor: 'token:t1' },
  'ds-backup': { actor: 'scheduler', stores: ['contacts', 'calendar'] },
  'ds-restore': { actor: 'cli', snapshotId: 's-1', stores: ['contacts'] },
  'dm-commands': {
    work: [
      { id: 'get', kind: 'get', paths: ['./DevInfo/Mod'] },
      { id: 'r', kind: 'replace', items: [{ path: './Ext/X', format: 'chr', value: 'eA==' }] },
    ],
  },
};

describe('job payloads', () => {
  it.each(JOB_KINDS)('%s round-trips through the payload column', (kind) => {
    const request = { kind, payload: EXAMPLES[kind] } as Parameters<typeof serializeJobPayload>[0];
    const text = serializeJobPayload(request);
    expect(parseJobPayload({ id: 'j1', kind, payload: text })).toEqual(request);
    expect(jobTitle(request)).toBeTruthy();
  });

  it('leaves optional members out rather than writing them empty', () => {
    const text = serializeJobPayload({
      kind: 'backup',
      payload: { trigger: 'on-demand', categories: ['settings'], actor: 'a' },
    });
    expect(JSON.parse(text)).toEqual({ trigger: 'on-demand', categories: ['settings'], actor: 'a' });
  });

  it('refuses a payload that does not fit its kind, naming the job, the kind and the member', () => {
    const bad = () => parseJobPayload({ id: 'j9', kind: 'restore', payload: '{"actor":"a"}' });
    expect(bad).toThrow(JobPayloadError);
    expect(bad).toThrow(/^job j9 \(restore\): the payload is not a restore request: planId: /);
    expect(() =>
      parseJobPayload({ kind: 'backup', payload: '{"trigger":"whenever","categories":["settings"],"actor":"a"}' }),
    ).toThrow(/trigger: /);
    expect(() => parseJobPayload({ kind: 'ds-backup', payload: '{"actor":"a","stores":["photos"]}' })).toThrow(
      /stores\.0: /,
    );
    expect(() => parseJobPayload({ kind: 'dm-commands', payload: '{"work":[{"id":"x","kind":"reboot"}]}' })).toThrow(
      /work\.0: a work request needs a string id and a known kind/,
    );
  });

  it('refuses text that is not JSON, and a kind nobody knows', () => {
    expect(() => parseJobPayload({ id: 'j1', kind: 'backup', payload: '{trigger' })).toThrow(
      'job j1 (backup): the payload is not JSON',
    );
    expect(() => parseJobPayload({ id: 'j2', kind: 'firmware-update', payload: '{}' })).toThrow(
      /^job j2 \(firmware-update\): no such job kind \(known: backup, restore, /,
    );
  });

  it('refuses to write a payload that does not fit, before it reaches the database', () => {
    expect(() =>
      serializeJobPayload({ kind: 'local-backup', payload: { target: 'cloud', categories: [], actor: 'a' } as never }),
    ).toThrow(/target: /);
  });

  it('titles jobs for people', () => {
    expect(jobTitle({ kind: 'backup', payload: { trigger: 'safety', categories: [], actor: 'a' } })).toBe(
      'Safety backup',
    );
    expect(jobTitle({ kind: 'backup', payload: { trigger: 'scheduled', categories: [], actor: 'a' } })).toBe(
      'Backup (scheduled)',
    );
    expect(jobTitle({ kind: 'local-restore', payload: { localId: 'L1', actor: 'a' } })).toBe(
      'Restore of local backup L1',
    );
  });
});
