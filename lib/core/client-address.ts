/**
 * Who is asking: the client address the rate limits count by. The node:http front
 * (server.ts) works it out from the socket (or, behind a trusted proxy, from
 * X-Forwarded-For) and hands it to Next in CLIENT_IP_HEADER, deleting any copy the client
 * sent, so server actions and route handlers can trust that header and nothing else.
 */
import { isIP } from 'node:net';
import type http from 'node:http';

export const CLIENT_IP_HEADER = 'x-rewind-client-ip';
/** What requests that did not come through the front (tests calling handlers) count under. */
export const UNKNOWN_CLIENT = 'unknown';

/**
 * A key for an address: IPv4 as it is (an IPv4-mapped IPv6 address as IPv4), IPv6 by its
 * /64, since one subscriber line gets a whole /64 and could otherwise use a fresh address
 * for every attempt. Anything that is not an address is undefined.
 */
export function addressKey(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let a = raw.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped) a = mapped[1]!;
  const v = isIP(a);
  if (v === 4) return a;
  if (v !== 6) return undefined;
  return `${expand6(a).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, without leading zeros (an embedded IPv4 tail included). */
function expand6(a: string): string[] {
  let s = a.toLowerCase();
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const [b1, b2, b3, b4] = v4.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, v4.index) + `${((b1 << 8) | b2).toString(16)}:${((b3 << 8) | b4).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => (parseInt(g, 16) || 0).toString(16));
}

/**
 * The client of a request to the front: the socket's peer, or with `trustProxy` the last
 * address of X-Forwarded-For (the one the proxy itself added; earlier ones are whatever the
 * client claimed). Falls back to the socket when the header holds no address.
 */
export function clientAddressOf(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const joined = Array.isArray(xff) ? xff.join(',') : xff;
    const last = joined
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    const key = addressKey(last);
    if (key) return key;
  }
  return addressKey(req.socket.remoteAddress) ?? UNKNOWN_CLIENT;
}

/** Replaces whatever the client sent in CLIENT_IP_HEADER with the address the front saw. */
export function stampClientAddress(req: http.IncomingMessage, address: string): void {
  delete req.headers[CLIENT_IP_HEADER];
  // rawHeaders too: some readers rebuild headers from it.
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i]!.toLowerCase() === CLIENT_IP_HEADER) raw.splice(i, 2);
  }
  req.headers[CLIENT_IP_HEADER] = address;
  raw.push(CLIENT_IP_HEADER, address);
}

/** The address the front stamped, read from a Fetch API Headers (route handlers, server actions). */
export function clientAddressFromHeaders(h: { get(name: string): string | null }): string {
  const v = h.get(CLIENT_IP_HEADER)?.trim() ?? '';
  if (/^[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){3}::\/64$/.test(v)) return v; // an IPv6 /64 key as addressKey makes it
  return addressKey(v) ?? UNKNOWN_CLIENT;
}
