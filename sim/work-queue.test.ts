import { expect, it } from 'vitest';
import { WorkQueue } from './work-queue';

it('runs sessions one after another and operations after the session that asked for them; idle waits for all', async () => {
  const q = new WorkQueue();
  const log: string[] = [];
  let release!: () => void;
  const first = q.session(async () => {
    q.inSession = true;
    q.defer(async () => {
      log.push('operation');
    });
    await new Promise<void>((r) => {
      release = r;
    });
    log.push('first session');
    q.inSession = false;
    q.startDeferred();
  });
  const second = q.session(async () => {
    log.push('second session');
  });
  await Promise.resolve();
  expect(log).toEqual([]);
  release();
  await Promise.all([first, second]);
  await q.idle();
  expect(log).toEqual(['first session', 'operation', 'second session']);
});

it('a failed session does not stop the next one', async () => {
  const q = new WorkQueue();
  await expect(q.session(() => Promise.reject(new Error('dropped')))).rejects.toThrow('dropped');
  expect(await q.session(async () => 'next')).toBe('next');
  await q.idle();
});
