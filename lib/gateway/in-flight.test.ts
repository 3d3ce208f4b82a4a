import { expect, it } from 'vitest';
import { InFlight } from './in-flight';

it('runs at most max tasks at once, the rest in order, and passes on results and errors', async () => {
  const limit = new InFlight(3);
  let now = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (i: number) =>
    limit.run(async () => {
      peak = Math.max(peak, ++now);
      await new Promise((r) => setTimeout(r, 2));
      now--;
      order.push(i);
      if (i === 5) throw new Error('five');
      return i * 10;
    });
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => task(i)));
  expect(peak).toBe(3);
  expect(results[4]).toEqual({ status: 'fulfilled', value: 40 });
  expect(results[5]).toMatchObject({ status: 'rejected' });
  expect(order.slice(0, 3).sort()).toEqual([0, 1, 2]);
  expect(limit.queued).toBe(0);
  // Free again afterwards.
  expect(await limit.run(async () => 'again')).toBe('again');
});
