/**
 * The headers that change per request, on everything Next answers: the pages' Content-Security-
 * Policy with a fresh nonce (Next reads it from the request's CSP header and puts it on its own
 * scripts, so only those run), a locked policy on the API's JSON, and HSTS when the deployment is
 * served over TLS (lib/core/security-headers.ts; the fixed headers come from next.config.ts).
 * /media sets its own sandboxing policy, which is left alone. Not a security boundary: routes and
 * actions still check who asks.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { env } from '@/lib/core/env';
import { HSTS, LOCKED_CSP, pageCsp, servedOverTls } from '@/lib/core/security-headers';

export function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;
  const e = env();
  const tls = servedOverTls(request.headers.get('x-forwarded-proto'), {
    publicUrl: e.PUBLIC_URL,
    trustProxy: e.TRUST_PROXY,
  });
  let response: NextResponse;
  if (pathname === '/media' || pathname.startsWith('/media/')) {
    response = NextResponse.next();
  } else if (pathname === '/api' || pathname.startsWith('/api/')) {
    response = NextResponse.next();
    response.headers.set('Content-Security-Policy', LOCKED_CSP);
  } else {
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64');
    const csp = pageCsp(nonce, process.env.NODE_ENV === 'development');
    const requestHeaders = new Headers(request.headers);
    requestHeaders.set('Content-Security-Policy', csp);
    response = NextResponse.next({ request: { headers: requestHeaders } });
    response.headers.set('Content-Security-Policy', csp);
  }
  if (tls) response.headers.set('Strict-Transport-Security', HSTS);
  return response;
}

export const config = {
  // Static files carry no script and need no nonce.
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
