import { readFileSync } from 'node:fs';
import { md5 } from '@noble/hashes/legacy.js';
import { describe, expect, it } from 'vitest';
import {
  AUTH_TYPE,
  basicCredential,
  constantTimeEqual,
  hmacHeader,
  hmacMac,
  makeChal,
  makeCred,
  md5Derived,
  md5Digest,
  newNonce,
  nonceBytes,
  parseBasic,
  parseHmacHeader,
  schemeOfType,
  verifyCred,
  verifyHmac,
} from './auth';
import { base64Decode, utf8Encode } from './util/bytes';

const VECTORS = '/work/shared/omadm-vectors/spec-examples';
const pkg1 = readFileSync(`${VECTORS}/oma-dm121-sec2.4-md5-example-pkg1.xml`, 'utf8');
const pkg2 = readFileSync(`${VECTORS}/oma-dm121-sec2.4-md5-example-pkg2.xml`, 'utf8');

/** First text of <tag> inside the <parent> block — enough for these fixed vectors. */
function textIn(xml: string, parent: string, tag: string): string {
  const block = new RegExp(`<${parent}>([\\s\\S]*?)</${parent}>`).exec(xml)?.[1];
  const m = block && new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`).exec(block);
  if (!m) throw new Error(`no ${parent}/${tag}`);
  return m[1]!.trim();
}

const bruce = { user: 'Bruce2', password: 'OhBehave' };
const specNonce = utf8Encode('Nonce');

describe('MD5 digest (DM Protocol §2.4 example)', () => {
  it('computes the spec digest', () => {
    expect(md5Digest(md5Derived('Bruce2', 'OhBehave'), specNonce)).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
  });

  it('verifies the Cred in pkg1 with password or derived only', () => {
    const cred = {
      meta: { type: textIn(pkg1, 'Cred', 'Type'), format: textIn(pkg1, 'Cred', 'Format') },
      data: textIn(pkg1, 'Cred', 'Data'),
    };
    expect(cred.data).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
    expect(schemeOfType(cred.meta.type)).toBe('md5');
    expect(verifyCred(cred, 'md5', bruce, specNonce)).toBe(true);
    expect(verifyCred(cred, 'md5', { user: 'Bruce2', derived: md5Derived('Bruce2', 'OhBehave') }, specNonce)).toBe(
      true,
    );
    expect(verifyCred(cred, 'md5', { user: 'Bruce2', password: 'OhBehavf' }, specNonce)).toBe(false);
    expect(verifyCred(cred, 'md5', bruce, utf8Encode('Nonc3'))).toBe(false);
    // Declared md5, so it is no good as basic even if the caller asks for basic.
    expect(verifyCred(cred, 'basic', bruce, specNonce)).toBe(false);
    expect(verifyCred(cred, 'md5', { user: 'Bruce2' }, specNonce)).toBe(false);
  });

  it('makeCred produces the pkg1 Cred', () => {
    expect(makeCred('md5', bruce, specNonce)).toEqual({
      meta: { type: 'syncml:auth-md5', format: 'b64' },
      data: 'Zz6EivR3yeaaENcRN6lpAQ==',
    });
  });

  it('pkg2 Chal: NextNonce decodes to the bytes the next digest uses', () => {
    const next = textIn(pkg2, 'Chal', 'NextNonce');
    expect(textIn(pkg2, 'Chal', 'Type')).toBe(AUTH_TYPE.md5);
    expect(makeChal('md5', next)).toEqual({
      meta: { type: 'syncml:auth-md5', format: 'b64', nextNonce: 'LG3iZQhhdmKNHg==' },
    });
    const n = nonceBytes(next);
    expect(n).toEqual(base64Decode('LG3iZQhhdmKNHg=='));
    expect(n.length).toBe(10);
    const cred = makeCred('md5', bruce, n)!;
    expect(verifyCred(cred, 'md5', bruce, n)).toBe(true);
    // Using the text of the nonce instead of its decoding is the classic interop bug.
    expect(verifyCred(cred, 'md5', bruce, utf8Encode(next))).toBe(false);
  });

  it('empty nonce keeps its colon', () => {
    expect(nonceBytes('')).toEqual(new Uint8Array(0));
    const d = md5Derived('u', 'p');
    const withColon = md5Digest(d, new Uint8Array(0));
    const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
    expect(withColon).toBe(b64(md5(utf8Encode(`${d}:`))));
    expect(withColon).not.toBe(b64(md5(utf8Encode(d))));
    const cred = makeCred('md5', { user: 'u', password: 'p' }, nonceBytes(''))!;
    expect(verifyCred(cred, 'md5', { user: 'u', derived: d }, new Uint8Array(0))).toBe(true);
    expect(verifyCred(cred, 'md5', { user: 'u', derived: d }, new Uint8Array([0]))).toBe(false);
  });
});

describe('Basic', () => {
  it('round trips, including a colon in the password and non-ASCII', () => {
    const data = basicCredential('älice', 'pa:ss');
    expect(parseBasic(data)).toEqual({ user: 'älice', password: 'pa:ss' });
    const cred = makeCred('basic', { user: 'älice', password: 'pa:ss' }, new Uint8Array())!;
    expect(cred.meta).toEqual({ type: 'syncml:auth-basic', format: 'b64' });
    expect(verifyCred(cred, 'basic', { user: 'älice', password: 'pa:ss' }, new Uint8Array())).toBe(true);
    expect(verifyCred(cred, 'basic', { user: 'alice', password: 'pa:ss' }, new Uint8Array())).toBe(false);
    expect(verifyCred(cred, 'basic', { user: 'älice', password: 'pa:sS' }, new Uint8Array())).toBe(false);
    // Basic cannot be checked against a derived secret.
    expect(verifyCred(cred, 'basic', { user: 'älice', derived: md5Derived('älice', 'pa:ss') }, new Uint8Array())).toBe(
      false,
    );
  });

  it('tolerates a Cred without Type but refuses a wrong Type', () => {
    const data = basicCredential('a', 'b');
    expect(verifyCred({ data }, 'basic', { user: 'a', password: 'b' }, new Uint8Array())).toBe(true);
    expect(
      verifyCred({ meta: { type: AUTH_TYPE.md5 }, data }, 'basic', { user: 'a', password: 'b' }, new Uint8Array()),
    ).toBe(false);
    expect(verifyCred(undefined, 'basic', { user: 'a', password: 'b' }, new Uint8Array())).toBe(false);
  });

  it('parseBasic refuses garbage', () => {
    expect(parseBasic('!!!')).toBeNull();
    expect(parseBasic(basicCredential('nocolon', '').slice(0, -4))).toBeNull();
    expect(parseBasic(btoa('no-colon-here'))).toBeNull();
    expect(parseBasic('//79')).toBeNull(); // bytes ff fe fd: not UTF-8
    expect(parseBasic('A'.repeat(10_000))).toBeNull();
  });

  it('makeCred refuses basic without a password and returns nothing for hmac', () => {
    expect(() => makeCred('basic', { user: 'u', derived: 'x' }, new Uint8Array())).toThrow();
    expect(() => makeCred('md5', { user: 'u' }, new Uint8Array())).toThrow();
    expect(makeCred('hmac', { user: 'u', password: 'p' }, new Uint8Array())).toBeUndefined();
  });
});

describe('HMAC header (DM Security §5.1.4)', () => {
  const secret = { user: 'Robert Jordan', password: 'wheel' };
  const nonce = nonceBytes('MTIzNDU2Nzg5MA==');
  const body = utf8Encode('<SyncML><SyncHdr/><SyncBody/></SyncML>');

  it('follows the formula', () => {
    const h = hmacHeader(secret, nonce, body);
    expect(h).toMatch(/^algorithm=MD5, username="Robert Jordan", mac=[A-Za-z0-9+/]{22}==$/);
    expect(parseHmacHeader(h)!.mac).toBe(hmacMac(md5Derived('Robert Jordan', 'wheel'), nonce, body));
  });

  it('matches a hand-assembled digest', () => {
    const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
    const derived = b64(md5(utf8Encode('Robert Jordan:wheel')));
    const bodyHash = b64(md5(body));
    const expected = b64(md5(new Uint8Array([...utf8Encode(`${derived}:`), ...nonce, ...utf8Encode(`:${bodyHash}`)])));
    expect(hmacMac(derived, nonce, body)).toBe(expected);
  });

  it('verifies, and fails on a tampered body, wrong user, wrong nonce, wrong password', () => {
    const h = hmacHeader(secret, nonce, body);
    expect(verifyHmac(h, secret, nonce, body)).toBe(true);
    expect(verifyHmac(h, { user: secret.user, derived: md5Derived(secret.user, secret.password) }, nonce, body)).toBe(
      true,
    );
    const tampered = body.slice();
    tampered[3] = tampered[3]! ^ 1;
    expect(verifyHmac(h, secret, nonce, tampered)).toBe(false);
    expect(verifyHmac(h, { user: 'Robert Jordan ', password: 'wheel' }, nonce, body)).toBe(false);
    expect(verifyHmac(h, { user: 'Robert Jordan', password: 'whee1' }, nonce, body)).toBe(false);
    expect(verifyHmac(h, secret, new Uint8Array(), body)).toBe(false);
    expect(verifyHmac(undefined, secret, nonce, body)).toBe(false);
    expect(verifyHmac(h.replace('MD5', 'SHA1'), secret, nonce, body)).toBe(false);
    // A header naming another user but carrying this user's mac is still refused.
    expect(verifyHmac(h.replace('Robert Jordan', 'Robert Jordam'), secret, nonce, body)).toBe(false);
  });

  it('parses the spec example and variants in spacing, quoting and order', () => {
    expect(
      parseHmacHeader('algorithm=MD5, username="Robert Jordan", mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk'),
    ).toEqual({
      algorithm: 'MD5',
      username: 'Robert Jordan',
      mac: 'NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk',
    });
    const want = { algorithm: 'MD5', username: 'bob', mac: 'abc+/==' };
    expect(parseHmacHeader('mac="abc+/==",username=bob ,algorithm = "MD5"')).toEqual(want);
    expect(parseHmacHeader('  Username = "bob",MAC=abc+/==  ')).toEqual(want); // algorithm defaults to MD5
    expect(parseHmacHeader('algorithm=MD5, username="a \\"q\\" b", mac=eA==')!.username).toBe('a "q" b');
    // A user name with a quote survives our own build/parse.
    const odd = { user: 'x"y\\z', password: 'p' };
    const h = hmacHeader(odd, new Uint8Array(), new Uint8Array());
    expect(parseHmacHeader(h)!.username).toBe('x"y\\z');
    expect(verifyHmac(h, odd, new Uint8Array(), new Uint8Array())).toBe(true);
  });

  it('garbage headers parse to null', () => {
    for (const g of [
      '',
      'garbage',
      'username="bob"',
      'mac=abc',
      'username="bob, mac=abc',
      '=x, username=a, mac=b',
      'username=a, username=b, mac=abc',
      'username=a mac=abc',
      'username=a, mac=not base64!',
      'username=a, mac=',
      'username=a; mac=abc',
      `username=a, mac=${'A'.repeat(5000)}`,
      'username=a, mac=abc, ="x"',
    ]) {
      expect(parseHmacHeader(g), g).toBeNull();
    }
  });
});

describe('nonces, schemes, challenges', () => {
  it('newNonce is 16 random bytes in base64', () => {
    const a = newNonce();
    expect(base64Decode(a).length).toBe(16);
    expect(newNonce()).not.toBe(a);
  });

  it('nonceBytes falls back to the text for non-base64 nonces', () => {
    expect(nonceBytes('not base64!')).toEqual(utf8Encode('not base64!'));
  });

  it('schemeOfType maps the Meta Types, case-insensitively', () => {
    expect(schemeOfType('syncml:auth-basic')).toBe('basic');
    expect(schemeOfType('syncml:auth-MAC')).toBe('hmac');
    expect(schemeOfType(' syncml:auth-mac ')).toBe('hmac');
    expect(schemeOfType('syncml:auth-MD5')).toBe('md5');
    expect(schemeOfType('syncml:auth-x509')).toBeUndefined();
    expect(schemeOfType(undefined)).toBeUndefined();
    expect(makeChal('hmac', 'AAAA').meta.type).toBe('syncml:auth-MAC');
  });

  it('constantTimeEqual', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([]), new Uint8Array([0]))).toBe(false);
  });
});
