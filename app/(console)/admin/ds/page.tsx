import type { Metadata } from 'next';
import Link from 'next/link';
import { AdminForm } from '@/components/admin-form';
import { DsAccounts } from '@/components/device-ds';
import { Card, EmptyState, PageHeader, buttonClass, inputClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { dsAccountsByHandset } from '@/lib/ds/views';
import { requireViewer } from '@/lib/server/action';
import { createDsAccountAction, resetDsPasswordAction } from './actions';

export const metadata: Metadata = { title: 'DS accounts · Rewind' };
export const dynamic = 'force-dynamic';

const LIMIT = 200;
const AUTH_OPTIONS = [
  { value: 'basic', label: 'Basic (accepts MD5 too)' },
  { value: 'md5', label: 'MD5 only' },
];

/** Admins: the DS accounts handsets' Data Sync clients sign in to /ds with; create one, reset a password. */
export default async function DsAccountsPage({ searchParams }: { searchParams: Promise<{ q?: string | string[] }> }) {
  await requireViewer(['admin']);
  const raw = (await searchParams).q;
  const q = (Array.isArray(raw) ? raw[0] : raw)?.trim().slice(0, 128) || undefined;
  const { handsets, more, now } = await dsAccountsByHandset(getContext().db, q, LIMIT);
  return (
    <div className="space-y-6">
      <PageHeader
        title="DS accounts"
        subtitle="What each handset's Data Sync client signs in to /ds with, to back up its contacts and calendar."
      />
      <Card title="Create a DS account">
        <AdminForm
          action={createDsAccountAction}
          submit="Create account"
          columns={4}
          resetOnSuccess
          success="DS account saved; give the handset's DS client the same user name and password"
          fields={[
            {
              kind: 'text',
              name: 'devId',
              label: 'Handset DevId',
              placeholder: 'IMEI:356938035643809',
              hint: 'The handset must be registered.',
            },
            { kind: 'text', name: 'user', label: 'DS user name', hint: 'Unique across handsets; no spaces.' },
            {
              kind: 'password',
              name: 'pass',
              label: 'DS password',
              hint: 'At least 4 characters. An existing user name of this handset gets this password.',
            },
            { kind: 'select', name: 'auth', label: 'Authentication', options: AUTH_OPTIONS, defaultValue: 'basic' },
          ]}
        />
      </Card>
      <Card title="Accounts by handset">
        <form method="get" role="search" className="mb-4 flex flex-wrap items-end gap-2">
          <div>
            <label htmlFor="ds-accounts-q" className="block text-sm font-medium">
              DevId or user name contains
            </label>
            <input id="ds-accounts-q" name="q" defaultValue={q} className={`${inputClass} w-72 max-w-full`} />
          </div>
          <button type="submit" className={buttonClass('secondary')}>
            Find
          </button>
          {q ? (
            <Link href="/admin/ds" className="text-sm text-sky-700 hover:underline">
              Show all
            </Link>
          ) : null}
        </form>
        {!handsets.length ? (
          <EmptyState title={q ? 'No DS account matches.' : 'No DS accounts yet'}>
            {q
              ? null
              : 'Create one above, or from the command line: npm run rewind -- ds-account add --dev-id ID --user U --pass P.'}
          </EmptyState>
        ) : (
          <ul className="space-y-4">
            {handsets.map((h) => (
              <li key={h.deviceId} className="rounded border border-slate-200 p-3">
                <h3 className="text-sm font-medium">
                  <Link href={`/devices/${h.deviceId}`} className="font-mono text-sky-700 hover:underline">
                    {h.devId}
                  </Link>
                  {h.name ? <span className="font-normal text-slate-600"> · {h.name}</span> : null}
                </h3>
                <div className="mt-2">
                  <DsAccounts accounts={h.accounts} now={now} />
                </div>
                {h.accounts.map((a) => (
                  <details key={a.id} className="mt-2">
                    <summary className="cursor-pointer text-xs text-sky-700">
                      Reset the password of {a.username}
                    </summary>
                    <div className="mt-2 max-w-md">
                      <AdminForm
                        action={resetDsPasswordAction}
                        submit="Set password"
                        columns={2}
                        resetOnSuccess
                        success="Password reset; the handset's DS client needs the new one"
                        fields={[
                          { kind: 'hidden', name: 'id', value: a.id },
                          {
                            kind: 'password',
                            name: 'pass',
                            label: `New password for ${a.username}`,
                            hint: 'At least 4 characters.',
                          },
                          {
                            kind: 'select',
                            name: 'auth',
                            label: 'Authentication',
                            options: AUTH_OPTIONS,
                            defaultValue: a.auth,
                          },
                        ]}
                      />
                    </div>
                  </details>
                ))}
              </li>
            ))}
          </ul>
        )}
        {more ? (
          <p className="mt-2 text-xs text-slate-500">
            The {LIMIT} newest accounts are listed; narrow the list to find others.
          </p>
        ) : null}
      </Card>
    </div>
  );
}
