import { md5 } from '@noble/hashes/legacy.js';
import { describe, expect, it } from 'vitest';
import { md5Derived, nonceBytes } from './auth';
import { DecodeError } from './errors';
import { buildNotification, notificationSessionId, parseNotification, verifyNotification } from './notification';
import { toHex, utf8Encode } from './util/bytes';

const secret = { user: 'rewind-dm', password: 'server-secret' };
const nonce = nonceBytes('AAECAwQFBgcICQoLDA0ODw==');
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

describe('Package #0', () => {
  it('lays out the header bits as §6 says, with an independently computed digest', () => {
    const pkg = buildNotification(
      { uiMode: 2, initiator: 'server', sessionId: 0x1a2b, serverId: 'rewind-dm' },
      secret,
      nonce,
    );
    const trigger = pkg.subarray(16);
    // version 12 = 0b0000001100: first byte 0b00000011, next byte starts 0b00...
    // then ui-mode 10, initiator 1, 3 future bits 000 -> 0b00101000.
    expect(toHex(trigger.subarray(0, 8))).toBe('0328000000' + '1a2b' + '09');
    expect(new TextDecoder().decode(trigger.subarray(8))).toBe('rewind-dm');
    const derived = b64(md5(utf8Encode('rewind-dm:server-secret')));
    const expected = md5(
      new Uint8Array([...utf8Encode(`${derived}:`), ...nonce, ...utf8Encode(`:${b64(md5(trigger))}`)]),
    );
    expect(toHex(pkg.subarray(0, 16))).toBe(toHex(expected));
  });

  it('round trips all fields, including vendor bytes and a custom version', () => {
    for (const f of [
      { uiMode: 0, initiator: 'user', sessionId: 0, serverId: 's' },
      {
        version: 0x3ff,
        uiMode: 3,
        initiator: 'server',
        sessionId: 0xffff,
        serverId: 'ßerver-ü',
        vendor: new Uint8Array([0, 1, 0xff]),
      },
      { version: 1, uiMode: 1, initiator: 'server', sessionId: 4660, serverId: 'x'.repeat(255) },
    ] as const) {
      const pkg = buildNotification(f, { ...secret, user: f.serverId }, nonce);
      const p = parseNotification(pkg);
      expect(p).toMatchObject({ ...f, version: 'version' in f ? f.version : 12 });
      expect(p.trigger).toEqual(pkg.subarray(16));
      expect(p.digest).toEqual(pkg.subarray(0, 16));
      if (!('vendor' in f)) expect(p.vendor).toBeUndefined();
    }
  });

  it('verifies with the password or only the derived secret; tampering fails', () => {
    const pkg = buildNotification(
      { uiMode: 1, initiator: 'server', sessionId: 77, serverId: 'rewind-dm', vendor: utf8Encode('v') },
      secret,
      nonce,
    );
    expect(verifyNotification(pkg, secret, nonce)).toBe(true);
    expect(
      verifyNotification(pkg, { user: 'rewind-dm', derived: md5Derived('rewind-dm', 'server-secret') }, nonce),
    ).toBe(true);
    expect(verifyNotification(pkg, { user: 'rewind-dm', password: 'wrong' }, nonce)).toBe(false);
    expect(verifyNotification(pkg, secret, new Uint8Array())).toBe(false);
    expect(verifyNotification(pkg, { user: 'other', derived: md5Derived('rewind-dm', 'server-secret') }, nonce)).toBe(
      false,
    );
    expect(verifyNotification(pkg, { user: 'rewind-dm' }, nonce)).toBe(false);
    for (let i = 0; i < pkg.length; i++) {
      const t = pkg.slice();
      t[i] = t[i]! ^ 0x08;
      expect(verifyNotification(t, secret, nonce), `byte ${i}`).toBe(false);
    }
    expect(verifyNotification(pkg.subarray(0, 10), secret, nonce)).toBe(false);
  });

  it('an empty nonce is allowed and differs from a non-empty one', () => {
    const f = { uiMode: 1, initiator: 'server', sessionId: 1, serverId: 'rewind-dm' } as const;
    const a = buildNotification(f, secret, new Uint8Array());
    expect(verifyNotification(a, secret, new Uint8Array())).toBe(true);
    expect(toHex(a)).not.toBe(toHex(buildNotification(f, secret, nonce)));
  });

  it('every truncation throws DecodeError', () => {
    const pkg = buildNotification(
      { uiMode: 1, initiator: 'server', sessionId: 9, serverId: 'rewind-dm' },
      secret,
      nonce,
    );
    for (let n = 0; n < pkg.length; n++) {
      let err: unknown;
      try {
        parseNotification(pkg.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(err, `length ${n}`).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).code).toBe('malformed');
    }
    expect(() => parseNotification(pkg)).not.toThrow();
  });

  it('refuses oversize, non-UTF-8 and empty server ids', () => {
    expect(() => parseNotification(new Uint8Array(64 * 1024 + 1))).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
    const pkg = buildNotification(
      { uiMode: 1, initiator: 'server', sessionId: 9, serverId: 'ab' },
      { ...secret, user: 'ab' },
      nonce,
    );
    const bad = pkg.slice();
    bad[24] = 0xff;
    expect(() => parseNotification(bad)).toThrow(expect.objectContaining({ code: 'malformed' }));
    const empty = pkg.slice(0, 24);
    empty[23] = 0;
    expect(() => parseNotification(empty)).toThrow(DecodeError);
  });

  it('random bytes never escape as anything but DecodeError', () => {
    const buf = new Uint8Array(80);
    for (let i = 0; i < 2000; i++) {
      globalThis.crypto.getRandomValues(buf);
      const n = i % 80;
      try {
        const p = parseNotification(buf.subarray(0, n));
        expect(p.sessionId).toBeLessThan(65536);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
  });

  it('build refuses fields that do not fit', () => {
    const f = { uiMode: 1, initiator: 'server', sessionId: 1, serverId: 's' } as const;
    expect(() => buildNotification({ ...f, version: 1024 }, secret, nonce)).toThrow(RangeError);
    expect(() => buildNotification({ ...f, sessionId: 65536 }, secret, nonce)).toThrow(RangeError);
    expect(() => buildNotification({ ...f, serverId: 'x'.repeat(256) }, secret, nonce)).toThrow(RangeError);
    expect(() => buildNotification({ ...f, vendor: new Uint8Array(70_000) }, secret, nonce)).toThrow(RangeError);
  });

  it('the session id appears as hex in the SessionID of the session it starts', () => {
    // The DM session a Package #0 starts uses the same session id: the handset puts the
    // 16-bit value, in hexadecimal, in the SyncHdr SessionID of its first message, which
    // is how the server finds the work it queued before pushing.
    const pkg = buildNotification(
      { uiMode: 1, initiator: 'server', sessionId: 0xbeef, serverId: 'rewind-dm' },
      secret,
      nonce,
    );
    const { sessionId } = parseNotification(pkg);
    expect(notificationSessionId(sessionId)).toBe('BEEF');
    expect(toHex(pkg).slice(2 * 21, 2 * 23)).toBe('beef');
    expect(notificationSessionId(0x0a)).toBe('A');
  });
});
