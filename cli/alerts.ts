/**
 * Alerts and webhooks from the command line: `rewind alerts`, `rewind webhook add|list|remove|test`.
 * The same domain functions as the API and the console (lib/alerts), audited as `cli`.
 */
import { getContext } from '../lib/core/context';
import { AppError } from '../lib/core/errors';
import { alertList } from '../lib/alerts/alerts';
import { alertListQuerySchema } from '../lib/alerts/schemas';
import { addWebhook, removeWebhook, testWebhook, webhookList } from '../lib/alerts/webhooks';
import { positionals } from './args';
import { formatTime, printJson, table } from './format';
import { required, UsageError, type Command } from './usage';

/** Input a person must correct is a usage error (exit 2), named by its option. */
function asUsage(err: unknown): never {
  if (err instanceof AppError && err.kind === 'invalid') {
    const [field, messages] = Object.entries(err.fieldErrors ?? {})[0] ?? [];
    throw new UsageError(field && messages ? `--${field}: ${messages[0]}` : err.message);
  }
  throw err;
}

export const alertsCommand: Command = {
  summary: 'list alerts (unresolved unless --status says otherwise)',
  usage: '[--status unresolved|open|acknowledged|resolved|all] [--limit N] [--json]',
  options: { status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const q = alertListQuerySchema.safeParse({ status: v.status, limit: v.limit });
    if (!q.success) throw new UsageError(`--${String(q.error.issues[0]!.path[0])}: ${q.error.issues[0]!.message}`);
    const r = await alertList(getContext().db, q.data);
    if (v.json) return printJson(r);
    console.log(`${r.unresolved} unresolved`);
    if (r.alerts.length)
      console.log(
        table(r.alerts, [
          { header: 'raised (UTC)', value: (a) => formatTime(a.raisedAt) },
          { header: 'status', value: (a) => a.status },
          { header: 'kind', value: (a) => a.kind },
          { header: 'handset', value: (a) => a.devId ?? '-' },
          { header: 'what', value: (a) => a.message },
          { header: 'alert', value: (a) => a.id },
        ]),
      );
  },
};

export const webhookAddCommand: Command = {
  summary: 'add a webhook; prints its signing secret once',
  usage: '--url URL --events backup.failed,restore.failed,alert.raised,… [--json]',
  options: { url: { type: 'string' }, events: { type: 'string' }, json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const r = await addWebhook(
      getContext().db,
      { url: required(v, 'url'), events: required(v, 'events') },
      'cli',
    ).catch(asUsage);
    if (v.json) return printJson(r);
    console.log(`webhook ${r.webhook.id} added for ${r.webhook.events.join(', ')}`);
    console.log(`signing secret (shown once): ${r.secret}`);
  },
};

export const webhookListCommand: Command = {
  summary: 'list webhooks',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const hooks = await webhookList(getContext().db);
    if (v.json) return printJson({ webhooks: hooks });
    if (!hooks.length) return console.log('no webhooks');
    console.log(
      table(hooks, [
        { header: 'webhook', value: (w) => w.id },
        { header: 'url', value: (w) => w.url },
        { header: 'events', value: (w) => w.events.join(',') },
        { header: 'added (UTC)', value: (w) => formatTime(w.createdAt) },
      ]),
    );
  },
};

export const webhookRemoveCommand: Command = {
  summary: 'remove a webhook and its pending deliveries',
  usage: 'WEBHOOK_ID',
  options: {},
  async run(_v, pos) {
    const [id] = positionals(pos, ['WEBHOOK_ID']);
    const w = await removeWebhook(getContext().db, id!, 'cli');
    console.log(`webhook ${w.id} (${w.url}) removed`);
  },
};

export const webhookTestCommand: Command = {
  summary: 'send a webhook.test event now; exit 1 when the receiver did not take it',
  usage: 'WEBHOOK_ID',
  options: {},
  async run(_v, pos) {
    const [id] = positionals(pos, ['WEBHOOK_ID']);
    const d = await testWebhook(getContext().db, id!, 'cli');
    if (d.status === 'delivered') return console.log(`delivered (HTTP ${d.lastStatus})`);
    console.error(`not delivered: ${d.lastError}; retried from ${formatTime(d.nextAttemptAt ?? Date.now())} UTC`);
    return 1;
  },
};
