/**
 * A minimal scripted DM server over node:http, for tests of virtual handsets without the
 * real server: MD5 authentication both ways (following both sides' Chals, so nonces carry
 * over between sessions like on a real server), 200 for every client command, a `script`
 * deciding which commands to send in each round, Generic Alerts collected, and files served
 * on GET for FUMO/SCOMO downloads. Not a DM server: no Large Object handling, one package
 * per round, everything Final.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeChal, makeCred, newNonce, nonceBytes, verifyCred } from '../../lib/omadm/auth';
import { decodeMessage, encodeMessage } from '../../lib/omadm/codec/index';
import { encodingOf, type Command, type Results, type Status, type SyncMLMessage } from '../../lib/omadm/message';
import { parseGenericAlert, type GenericAlert } from '../../lib/omadm/mo/generic-alert';
import type { ClientNonces } from '../../lib/omadm/session/client';
import type { HandsetIdentity } from '../../sim/generate';

export interface StubRound {
  devId: string;
  sessionId: string;
  /** 1 for the handset's Package #1. */
  round: number;
  msg: SyncMLMessage;
}

interface Account {
  identity: HandsetIdentity;
  clientNonce: string;
  serverNonce: string;
}

export class StubDmServer {
  private server: Server | undefined;
  url = '';
  /** Every message handsets sent, decoded, in arrival order. */
  received: Array<{ devId: string; msg: SyncMLMessage; path: string }> = [];
  /** When set, the first reply of each session names this RespURI (+ "/<SessionID>") for the rest. */
  respUri: string | undefined;
  alerts: Array<{ devId: string; sessionId: string; alert: GenericAlert }> = [];
  /** Package #1s whose credentials did not verify (the stub answers them anyway, and counts). */
  credFailures = 0;
  /** Files served on GET, by path. */
  readonly files = new Map<string, Uint8Array>();
  script: (r: StubRound) => Command[] = () => [];
  private readonly accounts = new Map<string, Account>();
  private readonly rounds = new Map<string, number>();

  /** Provisions a handset: its identity and the nonces both sides start from. */
  enroll(identity: HandsetIdentity, nonces: ClientNonces): void {
    this.accounts.set(identity.devId, { identity, clientNonce: nonces.clientNonce, serverNonce: nonces.serverNonce });
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET') {
          const f = this.files.get(req.url ?? '');
          res.writeHead(f ? 200 : 404, { 'content-type': 'application/octet-stream' });
          return void res.end(f ? Buffer.from(f) : undefined);
        }
        const type = req.headers['content-type'] ?? '';
        const enc = encodingOf(type) ?? 'xml';
        let reply: SyncMLMessage | undefined;
        try {
          reply = this.handle(decodeMessage(new Uint8Array(Buffer.concat(chunks)), enc), req.url ?? '');
        } catch {
          reply = undefined;
        }
        if (!reply) {
          res.writeHead(400);
          return void res.end();
        }
        res.writeHead(200, { 'content-type': type });
        res.end(Buffer.from(encodeMessage(reply, enc)));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  stop(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }

  /** Forgets sessions and what was received (accounts and files stay). */
  reset(): void {
    this.received = [];
    this.alerts = [];
    this.credFailures = 0;
    this.script = () => [];
    this.rounds.clear();
    this.respUri = undefined;
  }

  private handle(msg: SyncMLMessage, path: string): SyncMLMessage | undefined {
    const devId = msg.hdr.source.locURI;
    const acc = this.accounts.get(devId);
    if (!acc) return undefined;
    this.received.push({ devId, msg, path });
    const sid = msg.hdr.sessionId;
    const key = `${devId}\n${sid}`;
    const round = (this.rounds.get(key) ?? 0) + 1;
    this.rounds.set(key, round);
    const id = acc.identity;
    const first = round === 1;
    if (
      first &&
      !verifyCred(
        msg.hdr.cred,
        'md5',
        { user: id.clientUser, password: id.clientPassword },
        nonceBytes(acc.clientNonce),
      )
    )
      this.credFailures++;
    let cmdId = 0;
    const out: Command[] = [];
    const hdrStatus: Status = {
      kind: 'Status',
      cmdId: ++cmdId,
      msgRef: msg.hdr.msgId,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRef: [msg.hdr.target.locURI],
      sourceRef: [msg.hdr.source.locURI],
      data: first ? '212' : '200',
    };
    if (first) {
      acc.clientNonce = newNonce();
      hdrStatus.chal = makeChal('md5', acc.clientNonce);
    }
    out.push(hdrStatus);
    // The server's credentials for this reply use the nonce the handset expected when it sent this message.
    const credNonce = acc.serverNonce;
    for (const c of msg.body.commands) {
      if (c.kind === 'Status') {
        const next = c.cmdRef === 0 ? c.chal?.meta.nextNonce : undefined;
        if (next !== undefined) acc.serverNonce = next;
        continue;
      }
      if (c.kind === 'Alert') {
        const g = parseGenericAlert(c);
        if (g) this.alerts.push({ devId, sessionId: sid, alert: g });
      }
      out.push({ kind: 'Status', cmdId: ++cmdId, msgRef: msg.hdr.msgId, cmdRef: c.cmdId, cmd: c.kind, data: '200' });
    }
    for (const c of this.script({ devId, sessionId: sid, round, msg })) out.push({ ...c, cmdId: ++cmdId } as Command);
    const hdr: SyncMLMessage['hdr'] = {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: sid,
      msgId: round,
      target: { locURI: devId },
      source: { locURI: `${this.url}/dm` },
    };
    if (first && this.respUri !== undefined) hdr.respURI = `${this.respUri}/${sid}`;
    if (first) hdr.cred = makeCred('md5', { user: id.serverId, password: id.serverPassword }, nonceBytes(credNonce));
    return { hdr, body: { commands: out, final: true } };
  }

  sessionIds(devId?: string): string[] {
    return [...this.rounds.keys()]
      .filter((k) => devId === undefined || k.startsWith(`${devId}\n`))
      .map((k) => k.split('\n')[1]!);
  }

  results(): Results[] {
    return this.received.flatMap(({ msg }) => msg.body.commands.filter((c): c is Results => c.kind === 'Results'));
  }
}
