/**
 * A real OpenID Connect provider in this process (oidc-provider) on 127.0.0.1, for the
 * single sign-on tests: one confidential client, accounts with an email and `groups`, its
 * development login form (any account name, no password), consent taken as given. `signIn`
 * plays the browser: it follows the authorization URL through the provider's login form
 * with a cookie jar of its own and answers the URL the provider sends it back to.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
// oidc-provider ships no types; what this file uses of it is typed below.
import Provider from 'oidc-provider';

export interface OidcAccount {
  email: string;
  groups: string[];
  email_verified?: boolean;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Follows an authorization URL as `login` and answers the redirect back (the callback URL with its code). */
  signIn(authorizationUrl: string, login: string): Promise<URL>;
  close(): Promise<void>;
}

interface ProviderLike {
  callback(): http.RequestListener;
  Grant: new (o: { clientId: string; accountId: string }) => {
    addOIDCScope(s: string): void;
    save(): Promise<string>;
  };
}
interface GrantContext {
  oidc: {
    client: { clientId: string };
    session: { accountId: string; grantIdFor(clientId: string): string | undefined };
    result?: { consent?: { grantId?: string } };
    provider: { Grant: { find(id: string): Promise<unknown> } };
  };
}

export async function startOidcProvider(opts: {
  redirectUri: string;
  accounts: Record<string, OidcAccount>;
}): Promise<TestOidcProvider> {
  const clientId = 'rewind-console';
  const clientSecret = 'a-client-secret-for-tests-only-0123456789';
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ProviderClass = Provider as unknown as new (issuer: string, config: unknown) => ProviderLike;
  const provider: ProviderLike = new ProviderClass(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [opts.redirectUri],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    pkce: { required: () => true },
    async findAccount(_ctx: unknown, id: string) {
      const a = opts.accounts[id];
      if (!a) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, email: a.email, email_verified: a.email_verified ?? true, groups: a.groups }),
      };
    },
    // The console is the provider's own application: no consent screen.
    async loadExistingGrant(ctx: GrantContext) {
      const id = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (id) return ctx.oidc.provider.Grant.find(id);
      const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());

  async function signIn(authorizationUrl: string, login: string): Promise<URL> {
    const jar = new Map<string, string>();
    const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const keep = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        jar.set(pair!.slice(0, i), pair!.slice(i + 1));
      }
    };
    let url = new URL(authorizationUrl);
    let init: RequestInit = {};
    for (let hop = 0; hop < 20; hop++) {
      if (url.toString().startsWith(opts.redirectUri)) return url;
      const res = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: { ...init.headers, cookie: cookieHeader() },
      });
      keep(res);
      init = {};
      const location = res.headers.get('location');
      if (location) {
        url = new URL(location, url);
        continue;
      }
      const html = await res.text();
      // The development login form: POST the account name to its action.
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (res.status !== 200 || !action) throw new Error(`the provider answered ${res.status}: ${html.slice(0, 300)}`);
      url = new URL(action, url);
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
      };
    }
    throw new Error('the provider never sent the browser back');
  }

  return {
    issuer,
    clientId,
    clientSecret,
    signIn,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
