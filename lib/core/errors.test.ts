import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, fieldErrorsOf } from './errors';

describe('AppError', () => {
  it('takes its status and code from its kind unless told otherwise', () => {
    const e = new AppError('not-found', 'No such device.');
    expect(e).toBeInstanceOf(Error);
    expect([e.kind, e.code, e.status, e.message, e.userMessage]).toEqual([
      'not-found',
      'not-found',
      404,
      'No such device.',
      'No such device.',
    ]);
    expect(e.fieldErrors).toBeUndefined();
    const c = new AppError('conflict', 'plan p is already running', {
      code: 'already-run',
      userMessage: 'Already running.',
      status: 423,
      details: { rows: [] },
    });
    expect([c.code, c.status, c.message, c.userMessage, c.details]).toEqual([
      'already-run',
      423,
      'plan p is already running',
      'Already running.',
      { rows: [] },
    ]);
  });

  it('invalid() always carries field errors, empty when no field is to blame', () => {
    expect(AppError.invalid('no').fieldErrors).toEqual({});
    expect(AppError.invalid('no', { name: ['taken'] })).toMatchObject({
      kind: 'invalid',
      code: 'invalid',
      status: 400,
      fieldErrors: { name: ['taken'] },
    });
  });

  it('a subclass keeps its name and its own codes', () => {
    class PlanLike extends AppError {
      declare readonly code: 'empty';
      constructor() {
        super('invalid', 'nothing to restore', { code: 'empty' });
        this.name = 'PlanLike';
      }
    }
    const e = new PlanLike();
    expect(e).toBeInstanceOf(AppError);
    expect([e.name, e.code, e.status]).toEqual(['PlanLike', 'empty', 400]);
  });
});

describe('AppError.fromZod and fieldErrorsOf', () => {
  const schema = z
    .object({ devId: z.string().min(1), paths: z.array(z.string().startsWith('./')), n: z.number() })
    .strict();

  it('puts every issue under its dotted path and names the first in the message', () => {
    const r = schema.safeParse({ devId: '', paths: ['./a', 'b', 'c'], n: 1 });
    expect(r.success).toBe(false);
    const e = AppError.fromZod(r.error!);
    expect(e.kind).toBe('invalid');
    expect(e.fieldErrors).toEqual({
      devId: [expect.any(String)],
      'paths.1': [expect.any(String)],
      'paths.2': [expect.any(String)],
    });
    expect(e.message).toBe(`devId: ${r.error!.issues[0]!.message}`);
    expect(fieldErrorsOf(r.error!)).toEqual(e.fieldErrors);
    expect(fieldErrorsOf(r.error!.issues)).toEqual(e.fieldErrors);
  });

  it('collects several messages for one field, and a root issue under _', () => {
    const r = z
      .string()
      .min(3)
      .regex(/^[a-z]+$/)
      .safeParse('A');
    expect(fieldErrorsOf(r.error!)).toEqual({ _: [expect.any(String), expect.any(String)] });
    expect(AppError.fromZod(r.error!).message).toMatch(/^input: /);
    expect(AppError.fromZod(r.error!, 'Some fields need another look.').message).toBe('Some fields need another look.');
  });
});
