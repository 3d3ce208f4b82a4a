'use client';
/** Creating an API token: the token is shown once, here, with a button to copy it. */
import { useState } from 'react';
import type { FormAction } from './action-form';
import { AdminForm } from './admin-form';
import { Button } from './ui';

export function TokenCreateForm({ action }: { action: FormAction<{ token: string; name: string }> }) {
  const [copied, setCopied] = useState(false);
  return (
    <AdminForm
      action={action}
      submit="Create token"
      success="Token created"
      columns={2}
      resetOnSuccess
      onSuccess={() => setCopied(false)}
      fields={[
        {
          kind: 'text',
          name: 'name',
          label: 'Name',
          placeholder: 'billing integration',
          hint: 'What uses it, so you know what breaks if you revoke it.',
        },
        {
          kind: 'select',
          name: 'role',
          label: 'Role',
          defaultValue: 'agent',
          options: [
            { value: 'agent', label: 'agent (read, back up, restore)' },
            { value: 'admin', label: 'admin (everything)' },
          ],
        },
        {
          kind: 'select',
          name: 'scope',
          label: 'Scope',
          defaultValue: 'full',
          options: [
            { value: 'full', label: 'full (whatever the role may do)' },
            { value: 'read', label: 'read-only (GET only)' },
          ],
        },
        {
          kind: 'select',
          name: 'expiresInDays',
          label: 'Expires',
          defaultValue: '90',
          options: [
            { value: '30', label: 'in 30 days' },
            { value: '90', label: 'in 90 days' },
            { value: '365', label: 'in a year' },
            { value: '0', label: 'never' },
          ],
        },
      ]}
    >
      {(result) =>
        result?.ok ? (
          <div className="rounded border border-amber-300 bg-amber-50 p-3 text-sm" role="status">
            <p className="font-medium">The token for {result.data.name}. Copy it now: it is not shown again.</p>
            <div className="mt-2 flex flex-wrap items-center gap-2">
              <label htmlFor="new-token" className="sr-only">
                New API token
              </label>
              <input
                id="new-token"
                readOnly
                value={result.data.token}
                className="min-w-0 flex-1 rounded border border-slate-300 bg-white px-2 py-1 font-mono text-xs"
                onFocus={(e) => e.currentTarget.select()}
              />
              <Button
                variant="secondary"
                onClick={async () => {
                  await navigator.clipboard.writeText(result.data.token);
                  setCopied(true);
                }}
              >
                {copied ? 'Copied' : 'Copy'}
              </Button>
            </div>
          </div>
        ) : null
      }
    </AdminForm>
  );
}
