import { finishSso } from '@/lib/server/oidc';

export const dynamic = 'force-dynamic';

/** Where the provider sends the browser back (OIDC_REDIRECT_URL). */
export const GET = (req: Request) => finishSso(req);
