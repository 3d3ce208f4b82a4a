/**
 * The client side of the DM benchmark (dm.ts), in a process of its own so the handsets'
 * work (their own codec, auth and tree, saving state to disk) does not share an event
 * loop with the server being measured. dm.ts forks it and drives it over IPC:
 *
 *   fleet  — runs a fleet of virtual handsets once against the real /dm endpoint and records
 *            every DM request with the answer it got; the parent provisions the handsets
 *            (it owns the database) when asked with `register`.
 *   replay — sends the recorded requests, byte for byte and through the same transport
 *            the handsets use, to the bare node:http baseline, with the same concurrency.
 *
 * Not meant to be run by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet, type FleetHandsetInfo, type FleetSummary } from '../../sim/fleet';
import { httpTransport, type HttpRequest, type Transport } from '../../sim/transport';

export interface FleetCommand {
  cmd: 'fleet';
  server: string;
  devices: number;
  seed: number;
  concurrency: number;
  encoding: 'xml' | 'wbxml' | 'mixed';
  /** Catalog models to draw from (all when absent). */
  models?: string[];
  /** Media size (1 = a real handset's; the DM bench's default is 0.01). */
  mediaScale?: number;
  /** How long a handset waits for an answer (default 30 s): a full fetch of a large fleet on a busy machine queues longer. */
  messageTimeoutMs?: number;
}

export interface ReplayCommand {
  cmd: 'replay';
  /** Base URL of the bare server; request i goes to `${url}?r=i`. */
  url: string;
  concurrency: number;
}

export type ParentMessage = FleetCommand | ReplayCommand | { cmd: 'registered' } | { cmd: 'exit' };

/** One recorded DM round trip: what the bare server answers to request `index`. */
export interface RecordedAnswer {
  status: number;
  contentType: string;
  body: Uint8Array;
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'register'; ids: FleetHandsetInfo[] }
  | {
      type: 'fleet-done';
      summary: FleetSummary;
      /** First DM request sent to last answer read: the sessions, without creating and provisioning the fleet. */
      windowMs: number;
      requests: number;
      requestBytes: number;
      /** Answers of this run's requests, in the order they were recorded (appended to earlier runs'). */
      answers: RecordedAnswer[];
    }
  | { type: 'replayed'; ms: number; requests: number; mismatches: number }
  | { type: 'error'; message: string };

function send(m: ChildMessage): void {
  process.send!(m);
}

const stateDir = mkdtempSync(join(tmpdir(), 'rewind-bench-handsets-'));
/** Every DM request recorded so far, in order, across fleet runs. */
const recorded: { req: HttpRequest; answer: RecordedAnswer }[] = [];
let onRegistered: (() => void) | undefined;

async function fleet(c: FleetCommand): Promise<void> {
  const first = recorded.length;
  let t0 = 0;
  let t1 = 0;
  let requestBytes = 0;
  const transport: Transport = async (req) => {
    if (t0 === 0) t0 = performance.now();
    const reply = await httpTransport(req);
    t1 = performance.now();
    if (req.method === 'POST') {
      requestBytes += req.body?.length ?? 0;
      const copy: HttpRequest = {
        ...req,
        headers: { ...req.headers },
        ...(req.body ? { body: req.body.slice() } : {}),
      };
      recorded.push({
        req: copy,
        answer: { status: reply.status, contentType: reply.headers['content-type'] ?? '', body: reply.body },
      });
    }
    return reply;
  };
  const summary = await runFleet({
    server: c.server,
    devices: c.devices,
    stateDir,
    seed: c.seed,
    encoding: c.encoding,
    auth: 'md5',
    concurrency: c.concurrency,
    mediaScale: c.mediaScale ?? 0.01,
    ...(c.models ? { models: c.models } : {}),
    once: true,
    register: (ids) =>
      new Promise<void>((resolve) => {
        onRegistered = resolve;
        send({ type: 'register', ids });
      }),
    handset: {
      transport,
      ...(c.messageTimeoutMs
        ? { messageTimeoutMs: c.messageTimeoutMs, sessionTimeoutMs: 20 * c.messageTimeoutMs }
        : {}),
    },
  });
  const answers = recorded.slice(first).map((r) => r.answer);
  send({ type: 'fleet-done', summary, windowMs: t1 - t0, requests: answers.length, requestBytes, answers });
}

async function replay(c: ReplayCommand): Promise<void> {
  let next = 0;
  let mismatches = 0;
  const worker = async () => {
    while (next < recorded.length) {
      const i = next++;
      const { req, answer } = recorded[i]!;
      const reply = await httpTransport({ ...req, url: `${c.url}?r=${i}` });
      if (reply.status !== answer.status || reply.body.length !== answer.body.length) mismatches++;
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, Math.min(c.concurrency, recorded.length)) }, worker));
  send({ type: 'replayed', ms: performance.now() - t, requests: recorded.length, mismatches });
}

// The parent went away (finished or failed): nothing more to do.
process.on('disconnect', () => rmSync(stateDir, { recursive: true, force: true }));

process.on('message', (m: ParentMessage) => {
  const run = async () => {
    switch (m.cmd) {
      case 'registered':
        onRegistered?.();
        onRegistered = undefined;
        return;
      case 'fleet':
        return fleet(m);
      case 'replay':
        return replay(m);
      case 'exit':
        process.disconnect();
        return;
    }
  };
  run().catch((err: unknown) =>
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
send({ type: 'ready' });
