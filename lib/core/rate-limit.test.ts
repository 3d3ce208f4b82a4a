import { describe, expect, it } from 'vitest';
import { FailureLimiter } from './rate-limit';
import { addressKey } from './client-address';

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('FailureLimiter', () => {
  it('allows max failures in a window, then refuses until the window from the first failure is over', () => {
    const c = clock();
    const l = new FailureLimiter({ max: 3, windowMs: 60_000, now: c.now });
    expect(l.fail('ip:a').limited).toBe(false);
    c.advance(10_000);
    expect(l.fail('ip:a').limited).toBe(false);
    expect(l.check('ip:a')).toEqual({ limited: false, retryAfterSeconds: 0, failures: 2 });
    const third = l.fail('ip:a');
    expect(third).toEqual({ limited: true, retryAfterSeconds: 50, failures: 3 });
    c.advance(49_500);
    expect(l.check('ip:a')).toEqual({ limited: true, retryAfterSeconds: 1, failures: 3 });
    c.advance(500);
    expect(l.check('ip:a')).toEqual({ limited: false, retryAfterSeconds: 0, failures: 0 });
    // A fresh window: three more failures before the next refusal.
    expect(l.fail('ip:a').limited).toBe(false);
  });

  it('keeps keys apart, and reset forgets one key only', () => {
    const c = clock();
    const l = new FailureLimiter({ max: 2, windowMs: 60_000, now: c.now });
    l.fail('ip:a');
    l.fail('ip:a');
    l.fail('ip:b');
    l.fail('ip:b');
    expect(l.check('ip:a').limited).toBe(true);
    expect(l.check('ip:c').limited).toBe(false);
    l.reset('ip:a');
    expect(l.check('ip:a').limited).toBe(false);
    expect(l.check('ip:b').limited).toBe(true);
  });

  it('is off with max 0', () => {
    const l = new FailureLimiter({ max: 0, windowMs: 1000 });
    for (let i = 0; i < 100; i++) expect(l.fail('k').limited).toBe(false);
    expect(l.size).toBe(0);
  });

  it('tracks at most maxKeys keys under a flood of distinct keys, evicting the least recently failed', () => {
    const c = clock();
    const l = new FailureLimiter({ max: 2, windowMs: 60_000, maxKeys: 100, now: c.now });
    l.fail('ip:victim-of-eviction');
    l.fail('ip:kept');
    l.fail('ip:kept');
    for (let i = 0; i < 10_000; i++) {
      if (i % 50 === 0) l.fail('ip:kept'); // fails again now and then: stays among the recent ones
      l.fail(`dev:${i}`);
      expect(l.size).toBeLessThanOrEqual(100);
    }
    expect(l.size).toBe(100);
    expect(l.check('ip:victim-of-eviction').failures).toBe(0);
    expect(l.check('ip:kept').limited).toBe(true);
  });

  it('evicts expired keys before live ones', () => {
    const c = clock();
    const l = new FailureLimiter({ max: 1, windowMs: 1000, maxKeys: 2, now: c.now });
    l.fail('old');
    c.advance(2000);
    l.fail('live');
    l.fail('new');
    expect(l.check('live').limited).toBe(true);
    expect(l.check('new').limited).toBe(true);
  });

  it('refuses nonsense options', () => {
    expect(() => new FailureLimiter({ max: -1, windowMs: 1 })).toThrow(RangeError);
    expect(() => new FailureLimiter({ max: 1, windowMs: 0 })).toThrow(RangeError);
    expect(() => new FailureLimiter({ max: 1, windowMs: 1, maxKeys: 0 })).toThrow(RangeError);
  });
});

describe('addressKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, groups IPv6 by /64, refuses the rest', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('[2001:DB8:0001:0002::9]')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('not an address')).toBeUndefined();
    expect(addressKey('')).toBeUndefined();
    expect(addressKey(undefined)).toBeUndefined();
  });
});
