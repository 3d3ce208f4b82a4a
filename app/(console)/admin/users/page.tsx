import { AdminButton, AdminForm } from '@/components/admin-form';
import { Badge, Card, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { formatTime } from '@/lib/core/format';
import { requireViewer } from '@/lib/server/action';
import { MIN_PASSWORD_LENGTH } from '@/lib/auth/schemas';
import { usersPage } from '@/lib/auth/user-admin';
import { changeRoleAction, createUserAction, deleteUserAction, resetPasswordAction, unlockUserAction } from './actions';

export const dynamic = 'force-dynamic';

export default async function UsersPage() {
  const viewer = await requireViewer(['admin']);
  const { now, users } = await usersPage(getContext().db);
  return (
    <div className="space-y-6">
      <PageHeader title="Users" subtitle="Who signs in to the console (admins, agents) and the portal (subscribers)." />
      <Card title={`People (${users.length})`}>
        <Table caption="Users">
          <thead>
            <tr>
              <th className={thClass}>Email</th>
              <th className={thClass}>Role</th>
              <th className={thClass}>Last sign-in</th>
              <th className={thClass}>Status</th>
              <th className={thClass}>Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => {
              const locked = u.lockedUntil !== null && u.lockedUntil > now;
              const me = u.id === viewer.userId;
              return (
                <tr key={u.id}>
                  <td className={`${tdClass} break-all`}>
                    {u.email}
                    {me ? <span className="text-slate-500"> (you)</span> : null}
                  </td>
                  <td className={tdClass}>
                    {u.role}
                    {u.subscriberId ? <div className="font-mono text-xs text-slate-500">{u.subscriberId}</div> : null}
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(u.lastSignInAt)}</td>
                  <td className={tdClass}>
                    {locked ? (
                      <Badge tone="bad">locked until {formatTime(u.lockedUntil)}</Badge>
                    ) : u.failedAttempts ? (
                      <Badge tone="warn">{u.failedAttempts} failed</Badge>
                    ) : (
                      <Badge tone="good">active</Badge>
                    )}
                  </td>
                  <td className={tdClass}>
                    <div className="flex flex-wrap gap-1">
                      {!me && u.role !== 'subscriber' ? (
                        <AdminButton
                          action={changeRoleAction}
                          values={{ id: u.id, role: u.role === 'admin' ? 'agent' : 'admin' }}
                          label={u.role === 'admin' ? 'Make agent' : 'Make admin'}
                          success="Role changed"
                        />
                      ) : null}
                      {locked || u.failedAttempts ? (
                        <AdminButton
                          action={unlockUserAction}
                          values={{ id: u.id }}
                          label="Unlock"
                          success="Account unlocked"
                        />
                      ) : null}
                      {!me ? (
                        <AdminButton
                          action={deleteUserAction}
                          values={{ id: u.id }}
                          label="Delete"
                          success="User deleted"
                          variant="danger"
                          confirm={`Delete ${u.email}? They will no longer be able to sign in.`}
                        />
                      ) : null}
                    </div>
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs text-sky-700">Reset password</summary>
                      <div className="mt-2 max-w-xs">
                        <AdminForm
                          action={resetPasswordAction}
                          submit="Set password"
                          success="Password reset; the user was signed out"
                          columns={1}
                          resetOnSuccess
                          fields={[
                            { kind: 'hidden', name: 'id', value: u.id },
                            {
                              kind: 'password',
                              name: 'password',
                              label: `New password for ${u.email}`,
                              hint: `At least ${MIN_PASSWORD_LENGTH} characters.`,
                            },
                          ]}
                        />
                      </div>
                    </details>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      </Card>
      <Card title="Add a user">
        <AdminForm
          action={createUserAction}
          submit="Create user"
          success="User created"
          columns={4}
          resetOnSuccess
          fields={[
            { kind: 'email', name: 'email', label: 'Email', autoComplete: 'off' },
            {
              kind: 'select',
              name: 'role',
              label: 'Role',
              defaultValue: 'agent',
              options: [
                { value: 'agent', label: 'agent' },
                { value: 'admin', label: 'admin' },
                { value: 'subscriber', label: 'subscriber' },
              ],
            },
            { kind: 'text', name: 'subscriberId', label: 'Subscriber id', hint: 'Only for subscriber accounts.' },
            {
              kind: 'password',
              name: 'password',
              label: 'Initial password',
              hint: `At least ${MIN_PASSWORD_LENGTH} characters; share it with them safely.`,
            },
          ]}
        />
      </Card>
    </div>
  );
}
