import { CatalogUpload } from '@/components/admin-catalog-upload';
import { Card, EmptyState, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { MAX_PACKAGE_BYTES } from '@/lib/catalog/catalog';
import { formatBytes, formatTime } from '@/lib/core/format';
import { catalogPage } from '@/lib/catalog/views';
import { requireViewer } from '@/lib/server/action';

export const dynamic = 'force-dynamic';

export default async function CatalogPage() {
  await requireViewer(['admin']);
  const { db } = getContext();
  const { firmware, apps, models } = await catalogPage(db);
  return (
    <div className="space-y-6">
      <PageHeader
        title="Firmware and app catalog"
        subtitle="Packages handsets download during a restore or update (served at /packages/…). A restore installs exactly the version a backup recorded."
      />
      <Card title="Upload a package">
        <CatalogUpload maxBytes={MAX_PACKAGE_BYTES} models={models} />
      </Card>
      <Card title={`Firmware (${firmware.length})`}>
        {firmware.length === 0 ? (
          <EmptyState title="No firmware published">Upload an image above for each model and version.</EmptyState>
        ) : (
          <Table caption="Firmware packages">
            <thead>
              <tr>
                <th className={thClass}>Model</th>
                <th className={thClass}>Version</th>
                <th className={thClass}>Name</th>
                <th className={thClass}>Size</th>
                <th className={thClass}>SHA-256</th>
                <th className={thClass}>Published</th>
              </tr>
            </thead>
            <tbody>
              {firmware.map((f) => (
                <tr key={f.id}>
                  <td className={tdClass}>
                    {f.manufacturer} {f.model}
                  </td>
                  <td className={`${tdClass} font-mono`}>{f.version}</td>
                  <td className={tdClass}>{f.name ?? '-'}</td>
                  <td className={`${tdClass} tabular-nums`}>{formatBytes(f.size)}</td>
                  <td className={`${tdClass} font-mono text-xs`} title={f.sha256}>
                    {f.sha256.slice(0, 12)}…
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(f.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
      <Card title={`Apps (${apps.length})`}>
        {apps.length === 0 ? (
          <EmptyState title="No app published">
            Upload a package above for each app and version restores should reinstall.
          </EmptyState>
        ) : (
          <Table caption="App packages">
            <thead>
              <tr>
                <th className={thClass}>App</th>
                <th className={thClass}>Id</th>
                <th className={thClass}>Version</th>
                <th className={thClass}>Installs on</th>
                <th className={thClass}>Size</th>
                <th className={thClass}>Published</th>
              </tr>
            </thead>
            <tbody>
              {apps.map((a) => (
                <tr key={a.id}>
                  <td className={tdClass}>{a.name}</td>
                  <td className={`${tdClass} font-mono text-xs`}>{a.appId}</td>
                  <td className={`${tdClass} font-mono`}>{a.version}</td>
                  <td className={tdClass}>{a.models?.join(', ') ?? 'any model'}</td>
                  <td className={`${tdClass} tabular-nums`}>{formatBytes(a.size)}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(a.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
    </div>
  );
}
