import { startSso } from '@/lib/server/oidc';

export const dynamic = 'force-dynamic';

/** "Sign in with …": off to the OpenID Connect provider, with PKCE. */
export const GET = (req: Request) => startSso(req);
