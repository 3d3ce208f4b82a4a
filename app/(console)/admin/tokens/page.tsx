import { AdminButton } from '@/components/admin-form';
import { TokenCreateForm } from '@/components/admin-token-form';
import { Badge, Card, EmptyState, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { formatTime } from '@/lib/core/format';
import { tokenList } from '@/lib/auth/tokens';
import { requireViewer } from '@/lib/server/action';
import { createTokenAction, revokeTokenAction } from './actions';

export const dynamic = 'force-dynamic';

export default async function TokensPage() {
  await requireViewer(['admin']);
  const tokens = await tokenList(getContext().db);
  return (
    <div className="space-y-6">
      <PageHeader
        title="API tokens"
        subtitle={
          <>
            Bearer tokens for the REST API (<code>Authorization: Bearer rw_…</code>). Only a hash is kept: a token is
            shown once, when it is created.
          </>
        }
      />
      <Card title="Create a token">
        <TokenCreateForm action={createTokenAction} />
      </Card>
      <Card title="Tokens">
        {tokens.length === 0 ? (
          <EmptyState title="No API tokens yet">Create one above for each system that calls the API.</EmptyState>
        ) : (
          <Table caption="API tokens">
            <thead>
              <tr>
                <th className={thClass}>Name</th>
                <th className={thClass}>Role</th>
                <th className={thClass}>Scope</th>
                <th className={thClass}>Expires</th>
                <th className={thClass}>Created</th>
                <th className={thClass}>Last used</th>
                <th className={thClass}>Status</th>
                <th className={thClass}>
                  <span className="sr-only">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id}>
                  <td className={tdClass}>{t.name}</td>
                  <td className={tdClass}>{t.role}</td>
                  <td className={tdClass}>{t.scope === 'read' ? 'read-only' : 'full'}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>{t.expiresAt ? formatTime(t.expiresAt) : 'never'}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(t.createdAt)}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    {t.lastUsedAt ? formatTime(t.lastUsedAt) : 'never'}
                  </td>
                  <td className={tdClass}>
                    {t.revokedAt ? (
                      <Badge tone="bad">revoked {formatTime(t.revokedAt)}</Badge>
                    ) : t.expired ? (
                      <Badge tone="bad">expired</Badge>
                    ) : (
                      <Badge tone="good">active</Badge>
                    )}
                  </td>
                  <td className={tdClass}>
                    {t.revokedAt ? null : (
                      <AdminButton
                        action={revokeTokenAction}
                        values={{ id: t.id }}
                        label="Revoke"
                        success="Token revoked"
                        variant="danger"
                        confirm={`Revoke ${t.name}? Anything using it stops working at once.`}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
    </div>
  );
}
