'use client';
/** Adding a webhook: its signing secret is shown once, here, with how to check a signature. */
import type { FormAction } from './action-form';
import { AdminForm } from './admin-form';

export function WebhookAddForm({
  action,
  events,
}: {
  action: FormAction<{ secret: string; url: string }>;
  events: ReadonlyArray<{ value: string; label: string }>;
}) {
  return (
    <AdminForm
      action={action}
      submit="Add webhook"
      success="Webhook added"
      columns={1}
      resetOnSuccess
      fields={[
        {
          kind: 'text',
          name: 'url',
          label: 'URL',
          placeholder: 'https://hooks.example.com/rewind',
          hint: 'Events are POSTed here as JSON.',
        },
        {
          kind: 'checkboxes',
          name: 'events',
          label: 'Events',
          options: [...events],
          defaultValues: ['backup.failed', 'restore.failed', 'alert.raised'],
        },
      ]}
    >
      {(result) =>
        result?.ok ? (
          <div className="rounded border border-amber-300 bg-amber-50 p-3 text-sm" role="status">
            <p className="font-medium">The signing secret for {result.data.url}. Copy it now: it is not shown again.</p>
            <label htmlFor="webhook-secret" className="sr-only">
              Signing secret
            </label>
            <input
              id="webhook-secret"
              readOnly
              value={result.data.secret}
              className="mt-2 w-full rounded border border-slate-300 bg-white px-2 py-1 font-mono text-xs"
              onFocus={(e) => e.currentTarget.select()}
            />
            <p className="mt-2 text-xs text-slate-600">
              Each request carries <code>X-Rewind-Signature: sha256=…</code>, the HMAC-SHA256 of the exact body under
              this secret: compute it and compare in constant time before trusting the event.
            </p>
          </div>
        ) : null
      }
    </AdminForm>
  );
}
