/**
 * The same-origin rule for requests that change state on the strength of the session cookie
 * (route handlers: the console's package upload). Server actions get the same rule from
 * Next itself (Origin against X-Forwarded-Host or Host), which server.ts keeps working by
 * handing Next the request with its Host untouched.
 *
 * Not for the REST API under /api/v1: it authenticates with a bearer token in the
 * Authorization header, which a browser never adds to a cross-site request by itself, so a
 * forged request from another site carries no credentials to abuse.
 */

/** Why the request is refused, or null when it may proceed. */
export function crossSiteRefusal(headers: Headers): string | null {
  // Browsers that send Fetch Metadata say outright when another site started the request.
  if (headers.get('sec-fetch-site')?.trim().toLowerCase() === 'cross-site') return 'a cross-site request';
  const origin = headers.get('origin');
  // No Origin: not a browser's cross-origin POST (browsers always send one there), e.g. curl with a copied cookie.
  if (origin === null) return null;
  let originHost: string;
  try {
    // "null" (a sandboxed frame, a file: page, a redirect across origins) is not a URL and is refused.
    originHost = new URL(origin).host;
  } catch {
    return 'a request from an opaque or malformed origin';
  }
  // As Next compares it for server actions: a proxy in front states the host in X-Forwarded-Host,
  // a header a page cannot set on a cross-origin request without a preflight we never grant.
  const forwarded = headers.get('x-forwarded-host')?.split(',')[0]?.trim();
  const host = headers.get('host');
  if (originHost && (originHost === forwarded || originHost === host)) return null;
  return `a request from another origin (${origin.slice(0, 100)})`;
}

/** A 403 answer for a refused request, or null when it may proceed. */
export function refuseCrossSite(req: Request): Response | null {
  const why = crossSiteRefusal(req.headers);
  if (!why) return null;
  return Response.json({ error: `Refused ${why}: this can only be done from Rewind's own pages.` }, { status: 403 });
}
