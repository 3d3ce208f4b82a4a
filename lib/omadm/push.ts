/**
 * Delivering Package #0. The engine does not speak SMS or WAP Push itself: production
 * hands the bytes to an operator gateway over HTTP (WebhookPush); tests, the demo and the
 * virtual handsets receive them in process (InProcessPush).
 */
import { MIME } from './message';

export interface PushTarget {
  devId: string;
  /** e.g. "tel:+4412345" / "msisdn:..." for a gateway, or "inproc:<devId>" for a virtual handset. */
  address: string;
}

export interface PushTransport {
  push(target: PushTarget, pkg: Uint8Array): Promise<void>;
}

export type PushErrorCode =
  | 'unreachable' // nobody to deliver to: unknown in-process address, gateway down or DNS failure
  | 'rejected' // the gateway (or in-process handler) refused the package
  | 'timeout'; // the gateway did not answer in time

export class PushError extends Error {
  readonly code: PushErrorCode;
  /** HTTP status from the gateway, for 'rejected'. */
  readonly status?: number;
  constructor(code: PushErrorCode, message?: string, opts: { status?: number; cause?: unknown } = {}) {
    super(message ?? code, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'PushError';
    this.code = code;
    if (opts.status !== undefined) this.status = opts.status;
  }
}

export interface WebhookPushOptions {
  /** The operator's SMS / WAP Push gateway endpoint. */
  url: string;
  /** Extra headers, typically the gateway's API key. */
  headers?: Record<string, string>;
  /** Default 10 s: a wake-up that takes longer is better retried than waited for. */
  timeoutMs?: number;
}

/**
 * POSTs the package as application/vnd.syncml.notification to the gateway. The target
 * travels twice — as query parameters `devId` and `address` (for gateways that route on
 * the URL) and as headers `X-Rewind-DevId` / `X-Rewind-Push-Address` (for those that
 * route on headers). Any non-2xx answer is a PushError.
 */
export class WebhookPush implements PushTransport {
  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(opts: WebhookPushOptions) {
    this.#url = new URL(opts.url);
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:') {
      throw new TypeError(`push gateway URL must be http(s): ${opts.url}`);
    }
    this.#headers = { ...opts.headers };
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async push(target: PushTarget, pkg: Uint8Array): Promise<void> {
    const url = new URL(this.#url);
    url.searchParams.set('devId', target.devId);
    url.searchParams.set('address', target.address);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.#timeoutMs);
    let res: Response;
    try {
      res = await globalThis.fetch(url, {
        method: 'POST',
        headers: {
          ...this.#headers,
          'content-type': MIME.notification,
          // Header values must be ByteStrings; percent-encode so any devId is safe.
          'x-rewind-devid': encodeURIComponent(target.devId),
          'x-rewind-push-address': encodeURIComponent(target.address),
        },
        body: pkg.slice(), // a copy backed by a plain ArrayBuffer, which fetch accepts
        signal: ac.signal,
        redirect: 'error', // a gateway that redirects is misconfigured; do not follow it elsewhere
      });
    } catch (e) {
      if (ac.signal.aborted)
        throw new PushError('timeout', `push gateway did not answer in ${this.#timeoutMs} ms`, { cause: e });
      throw new PushError('unreachable', `push gateway unreachable: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    // Only the status matters; release the connection without reading an arbitrarily large body.
    await res.body?.cancel().catch(() => undefined);
    if (res.status < 200 || res.status > 299) {
      throw new PushError('rejected', `push gateway answered ${res.status}`, { status: res.status });
    }
  }
}

export type PushHandler = (pkg: Uint8Array) => void | Promise<void>;

/** Delivers to handlers registered in this process, keyed by address ("inproc:<devId>"). */
export class InProcessPush implements PushTransport {
  readonly #handlers = new Map<string, PushHandler>();

  /** Registers a handler; the returned function unregisters it (and only it). */
  register(address: string, handler: PushHandler): () => void {
    this.#handlers.set(address, handler);
    return () => {
      if (this.#handlers.get(address) === handler) this.#handlers.delete(address);
    };
  }

  has(address: string): boolean {
    return this.#handlers.has(address);
  }

  async push(target: PushTarget, pkg: Uint8Array): Promise<void> {
    const handler = this.#handlers.get(target.address);
    if (!handler) throw new PushError('unreachable', `no handset listening at ${target.address}`);
    try {
      // A copy, so the handset cannot change the bytes the caller may log or retry with.
      await handler(pkg.slice());
    } catch (e) {
      throw new PushError(
        'rejected',
        `handset at ${target.address} refused the notification: ${(e as Error)?.message ?? String(e)}`,
        { cause: e },
      );
    }
  }
}

export const INPROC_PREFIX = 'inproc:';

/** Sends 'inproc:' addresses to the in-process registry and everything else to the gateway. */
export class RoutingPush implements PushTransport {
  readonly inproc: InProcessPush;
  readonly #gateway: PushTransport | undefined;

  constructor(opts: { inproc?: InProcessPush; gateway?: PushTransport } = {}) {
    this.inproc = opts.inproc ?? new InProcessPush();
    this.#gateway = opts.gateway;
  }

  push(target: PushTarget, pkg: Uint8Array): Promise<void> {
    if (target.address.startsWith(INPROC_PREFIX)) return this.inproc.push(target, pkg);
    if (!this.#gateway)
      return Promise.reject(new PushError('unreachable', `no push gateway configured for ${target.address}`));
    return this.#gateway.push(target, pkg);
  }
}
