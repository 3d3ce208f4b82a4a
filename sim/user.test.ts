import { describe, expect, it } from 'vitest';
import type { UiAlertRequest } from '../lib/omadm/session/client-handler';
import { VirtualUser } from './user';

const confirm: UiAlertRequest = {
  code: '1101',
  options: { MAXDT: '30' },
  text: 'Back up now? Charges may apply while roaming.',
  choices: [],
};
const display: UiAlertRequest = { code: '1100', options: {}, text: 'Backup complete', choices: [] };
const input: UiAlertRequest = { code: '1102', options: { MAXLEN: '8' }, text: 'Enter PIN', choices: [] };
const single: UiAlertRequest = {
  code: '1103',
  options: { DR: '2' },
  text: 'Restore settings?',
  choices: ['Restore now', 'Later', 'Never'],
};
const multi: UiAlertRequest = {
  code: '1104',
  options: { DR: '1,3' },
  text: 'What to restore?',
  choices: ['Settings', 'Ringtones', 'Apps'],
};

describe('VirtualUser', () => {
  it('accepts: 200, the default choice, the configured text', async () => {
    const u = new VirtualUser('accept', { text: '1234' });
    expect(await u.answer(confirm)).toEqual({ status: 200 });
    expect(await u.answer(display)).toEqual({ status: 200 });
    expect(await u.answer(input)).toEqual({ status: 200, values: ['1234'] });
    expect(await u.answer(single)).toEqual({ status: 200, values: ['2'] });
    expect(await u.answer(multi)).toEqual({ status: 200, values: ['1', '3'] });
    expect(await u.answer({ ...single, options: {} })).toEqual({ status: 200, values: ['1'] });
    // A DR out of range falls back to the first choice.
    expect(await u.answer({ ...single, options: { DR: '9' } })).toEqual({ status: 200, values: ['1'] });
  });

  it('rejects: 304 to a confirm, 214 to input and choices, but still acknowledges a display', async () => {
    const u = new VirtualUser('reject');
    expect(await u.answer(confirm)).toEqual({ status: 304 });
    expect(await u.answer(input)).toEqual({ status: 214 });
    expect(await u.answer(single)).toEqual({ status: 214 });
    expect(await u.answer(display)).toEqual({ status: 200 });
  });

  it('defers: picks the "later" choice, or says no when there is none', async () => {
    const u = new VirtualUser('later');
    expect(await u.answer(single)).toEqual({ status: 200, values: ['2'] });
    expect(await u.answer({ ...single, choices: ['Now', 'Remind me tomorrow'] })).toEqual({
      status: 200,
      values: ['2'],
    });
    expect(await u.answer({ ...single, choices: ['Yes', 'No'] })).toEqual({ status: 304 });
    expect(await u.answer(confirm)).toEqual({ status: 304 });
  });

  it('times out with 215 after MAXDT without really waiting', async () => {
    const u = new VirtualUser('timeout');
    const t0 = Date.now();
    expect(await u.answer(confirm)).toEqual({ status: 215 });
    expect(await u.answer(single)).toEqual({ status: 215 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(u.prompts[0]!.waitedMs).toBe(30_000);
    expect(u.prompts[1]!.waitedMs).toBe(60_000);
  });

  it('takes a function and records every prompt with its answer', async () => {
    const u = new VirtualUser((req) => (req.text.includes('roaming') ? { status: 304 } : { status: 200 }));
    await u.answer(confirm);
    await u.answer({ ...confirm, text: 'Install update?' });
    expect(u.prompts.map((p) => [p.code, p.text, p.answer.status])).toEqual([
      ['1101', confirm.text, 304],
      ['1101', 'Install update?', 200],
    ]);
    expect(u.last?.options).toEqual({ MAXDT: '30' });
    u.setBehaviour('reject');
    await u.answer(single);
    expect(u.last).toMatchObject({ code: '1103', choices: ['Restore now', 'Later', 'Never'], answer: { status: 214 } });
  });
});
