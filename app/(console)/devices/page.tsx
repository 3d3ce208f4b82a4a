import type { Metadata } from 'next';
import Link from 'next/link';
import { AdminButton, AdminForm } from '@/components/admin-form';
import { BulkPanel } from '@/components/devices/bulk-panel';
import { LocalTime } from '@/components/local-time';
import {
  Badge,
  buttonClass,
  Card,
  EmptyState,
  ErrorNote,
  inputClass,
  PageHeader,
  Table,
  tdClass,
  thClass,
} from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { COVERAGE_STATES, COVERAGE_WORDS, DEVICE_SORTS } from '@/lib/devices/filter';
import { deviceListPageView, deviceListSearch } from '@/lib/devices/list';
import { deviceViewsOf } from '@/lib/devices/saved-views';
import { ALERT_KINDS } from '@/lib/alerts/schemas';
import { requireViewer } from '@/lib/server/action';
import { deleteDeviceViewAction, saveDeviceViewAction } from './actions';
import { orderBulkAction, previewBulkAction } from '../bulk/actions';
import { bulkPanelOptions } from '@/lib/bulk/views';

export const metadata: Metadata = { title: 'Devices · Rewind' };
export const dynamic = 'force-dynamic';

const COVERAGE_TONE = { day: 'good', week: 'info', older: 'warn', never: 'bad' } as const;

/** Filters the bar has no control for, carried as they came (from a saved view, a link or the API's words). */
const CARRIED = ['manufacturer', 'subscriber', 'lastBackupAfter', 'lastSeenBefore', 'lastSeenAfter'] as const;

function Select({
  name,
  label,
  value,
  options,
  error,
}: {
  name: string;
  label: string;
  value: string | undefined;
  options: Array<{ value: string; label: string }>;
  error?: string;
}) {
  return (
    <label className="flex flex-col gap-1 text-sm">
      <span className="font-medium">{label}</span>
      <select name={name} defaultValue={value ?? ''} className={inputClass} aria-invalid={error ? true : undefined}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error ? <span className="text-xs text-red-700">{error}</span> : null}
    </label>
  );
}

function Text({
  name,
  label,
  value,
  error,
  ...rest
}: {
  name: string;
  label: string;
  value: string | undefined;
  error?: string;
  type?: string;
  placeholder?: string;
  list?: string;
  min?: number;
}) {
  return (
    <label className="flex flex-col gap-1 text-sm">
      <span className="font-medium">{label}</span>
      <input
        name={name}
        defaultValue={value ?? ''}
        className={inputClass}
        aria-invalid={error ? true : undefined}
        {...rest}
      />
      {error ? <span className="text-xs text-red-700">{error}</span> : null}
    </label>
  );
}

/**
 * The admins' device list: every handset, filtered and sorted by what the fleet is managed by.
 * A plain GET form, so a list is a link to share or save; pages by cursor.
 */
export default async function DevicesPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { db } = getContext();
  const { form, options, error, list } = await deviceListPageView(db, await searchParams);
  const views = await deviceViewsOf(db, viewer.userId);
  const fe = error?.fieldErrors ?? {};
  const policyName = new Map(options.policies.map((p) => [p.id, p.name]));
  const search = list ? deviceListSearch(list.query).slice(1) : new URLSearchParams(form).toString();

  return (
    <div className="space-y-6">
      <PageHeader
        title="Devices"
        subtitle="Every handset, filtered and sorted by model, firmware, subscriber, group, policy, backups and connections. The address of this page is the list: share it or save it as a view."
        actions={
          list ? (
            <a href={list.csvHref} className={buttonClass('secondary')} download>
              Export CSV
            </a>
          ) : null
        }
      />

      <Card>
        <form method="get" role="search" aria-label="Filter the devices" className="space-y-3">
          <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Text name="q" label="DevId or IMEI" value={form.q} placeholder="IMEI:3569… or 3569…" error={fe.q} />
            <Select
              name="model"
              label="Model"
              value={form.model}
              options={options.models.map((m) => ({ value: m, label: m }))}
              error={fe.model}
            />
            <Select
              name="firmware"
              label="Firmware"
              value={form.firmware}
              options={options.firmware.map((f) => ({ value: f, label: f }))}
              error={fe.firmware}
            />
            <div className="grid grid-cols-2 gap-2">
              <Text
                name="firmwareFrom"
                label="Firmware from"
                value={form.firmwareFrom}
                list="device-firmware"
                error={fe.firmwareFrom}
              />
              <Text name="firmwareTo" label="to" value={form.firmwareTo} list="device-firmware" error={fe.firmwareTo} />
              <datalist id="device-firmware">
                {options.firmware.map((f) => (
                  <option key={f} value={f} />
                ))}
              </datalist>
            </div>
            <Text
              name="msisdnPrefix"
              label="MSISDN starts with"
              value={form.msisdnPrefix}
              placeholder="447700"
              error={fe.msisdnPrefix}
            />
            <Select
              name="group"
              label="Group"
              value={form.group}
              options={options.groups.map((g) => ({ value: g, label: g }))}
              error={fe.group}
            />
            <Select
              name="policy"
              label="Policy"
              value={form.policy}
              options={options.policies.map((p) => ({ value: p.id, label: p.name }))}
              error={fe.policy}
            />
            <Select
              name="coverage"
              label="Backup coverage"
              value={form.coverage}
              options={COVERAGE_STATES.map((c) => ({ value: c, label: COVERAGE_WORDS[c] }))}
              error={fe.coverage}
            />
            <Text
              name="noBackupForDays"
              label="No good backup for (days)"
              type="number"
              min={0}
              value={form.noBackupForDays}
              error={fe.noBackupForDays}
            />
            <Text
              name="lastBackupBefore"
              label="No good backup since"
              type="date"
              value={form.lastBackupBefore}
              error={fe.lastBackupBefore}
            />
            <div className="grid grid-cols-2 gap-2">
              <Text
                name="seenWithinDays"
                label="Seen within (days)"
                type="number"
                min={0}
                value={form.seenWithinDays}
                error={fe.seenWithinDays}
              />
              <Text
                name="notSeenForDays"
                label="Not seen for (days)"
                type="number"
                min={0}
                value={form.notSeenForDays}
                error={fe.notSeenForDays}
              />
            </div>
            <Select
              name="alert"
              label="Open alert"
              value={form.alert}
              options={[{ value: 'any', label: 'Any kind' }, ...ALERT_KINDS.map((k) => ({ value: k, label: k }))]}
              error={fe.alert}
            />
          </div>
          {CARRIED.map((k) => (form[k] ? <input key={k} type="hidden" name={k} value={form[k]} /> : null))}
          <input type="hidden" name="sort" value={form.sort ?? ''} />
          <input type="hidden" name="dir" value={form.dir ?? ''} />
          <div className="flex flex-wrap items-center gap-2">
            <button type="submit" className={buttonClass('primary')}>
              Show devices
            </button>
            <Link href="/devices" className={buttonClass('secondary')}>
              Clear filters
            </Link>
          </div>
          {error ? (
            <ErrorNote>
              {Object.entries(fe)
                .map(([k, m]) => `${k}: ${m}`)
                .join('; ')}
            </ErrorNote>
          ) : null}
        </form>
      </Card>

      <Card title="Saved views">
        <div className="space-y-3">
          {views.length ? (
            <ul className="flex flex-wrap gap-2" aria-label="Saved views">
              {views.map((v) => (
                <li key={v.id} className="flex items-center gap-1 rounded border border-slate-200 px-2 py-1 text-sm">
                  {v.href ? (
                    <Link href={v.href} className="text-sky-700 hover:underline">
                      {v.name}
                    </Link>
                  ) : (
                    <span title="Its filters no longer read">{v.name}</span>
                  )}
                  <AdminButton
                    action={deleteDeviceViewAction}
                    values={{ id: v.id }}
                    label={`Delete ${v.name}`}
                    success={`Deleted the view ${v.name}`}
                    variant="secondary"
                  />
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-600">None yet: filter the list, then save it here under a name.</p>
          )}
          <AdminForm
            action={saveDeviceViewAction}
            fields={[
              { kind: 'text', name: 'name', label: 'Save this view as', placeholder: 'N1 without a backup for a week' },
              { kind: 'hidden', name: 'search', value: search },
            ]}
            submit="Save view"
            success="Saved the view"
            columns={1}
            resetOnSuccess
          />
        </div>
      </Card>

      {list ? (
        <Card
          title={
            list.more
              ? `More than ${list.total.toLocaleString('en-GB')} handsets match`
              : list.total === 1
                ? '1 handset matches'
                : `${list.total.toLocaleString('en-GB')} handsets match`
          }
        >
          {list.items.length ? (
            <form id="device-selection">
              <Table caption="Handsets matching the filters">
                <thead>
                  <tr>
                    <th scope="col" className={thClass}>
                      <span className="sr-only">Select</span>
                    </th>
                    {DEVICE_SORTS.slice(0, 3).map((s) => (
                      <SortHead key={s} {...list.sorts[s]} />
                    ))}
                    <th scope="col" className={thClass}>
                      Subscriber
                    </th>
                    <th scope="col" className={thClass}>
                      Policy
                    </th>
                    <SortHead {...list.sorts.lastBackup} />
                    <th scope="col" className={thClass}>
                      Coverage
                    </th>
                    <SortHead {...list.sorts.lastSeen} />
                    <th scope="col" className={thClass}>
                      Open alerts
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.map((d) => (
                    <tr key={d.id}>
                      <td className={tdClass}>
                        <input type="checkbox" name="device" value={d.id} aria-label={`Select ${d.devId}`} />
                      </td>
                      <td className={`${tdClass} font-mono text-xs`}>
                        <Link href={`/devices/${d.id}`} className="text-sky-700 hover:underline">
                          {d.devId}
                        </Link>
                      </td>
                      <td className={tdClass}>{[d.manufacturer, d.model].filter(Boolean).join(' ') || '-'}</td>
                      <td className={`${tdClass} font-mono text-xs`}>{d.firmware ?? '-'}</td>
                      <td className={tdClass}>
                        {d.subscriber ? (
                          <Link href={`/subscribers/${d.subscriber.id}`} className="text-sky-700 hover:underline">
                            {d.subscriber.name}
                          </Link>
                        ) : (
                          '-'
                        )}
                      </td>
                      <td className={tdClass}>
                        {d.policyId ? (policyName.get(d.policyId) ?? d.policyId) : 'Inherited'}
                      </td>
                      <td className={`${tdClass} whitespace-nowrap`}>
                        {d.lastGoodBackupAt !== null ? <LocalTime at={d.lastGoodBackupAt} /> : 'never'}
                      </td>
                      <td className={tdClass}>
                        <Badge tone={COVERAGE_TONE[d.coverage]}>{d.coverageWords}</Badge>
                      </td>
                      <td className={`${tdClass} whitespace-nowrap`}>
                        {d.lastSeenAt !== null ? <LocalTime at={d.lastSeenAt} /> : 'never'}
                      </td>
                      <td className={tdClass}>{d.openAlerts ? <Badge tone="bad">{d.openAlerts}</Badge> : 0}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            </form>
          ) : (
            <EmptyState title="No handset matches">Loosen a filter, or clear them all.</EmptyState>
          )}
          {list.nextHref || !list.onFirstPage ? (
            <nav aria-label="Pages" className="mt-3 flex gap-2">
              {!list.onFirstPage ? (
                <Link href={list.firstHref} className={buttonClass('secondary')}>
                  First page
                </Link>
              ) : null}
              {list.nextHref ? (
                <Link href={list.nextHref} className={buttonClass('secondary')}>
                  Next page
                </Link>
              ) : null}
            </nav>
          ) : null}
        </Card>
      ) : null}
      {list && list.total > 0 && viewer.role === 'admin' ? (
        <BulkPanel
          filter={bulkFilterOf(list.query)}
          {...await bulkPanelOptions(db)}
          preview={previewBulkAction}
          order={orderBulkAction}
        />
      ) : null}
    </div>
  );
}

/** The list's filter without its sort: what "all matching this filter" orders on. */
function bulkFilterOf(q: Record<string, unknown>): Record<string, unknown> {
  const { sort: _sort, dir: _dir, ...filter } = q;
  return filter;
}

/** A header that sorts by its column: ascending first, again for descending. */
function SortHead({ label, href, active }: { label: string; href: string; active: 'asc' | 'desc' | null }) {
  return (
    <th
      scope="col"
      className={thClass}
      aria-sort={active === 'asc' ? 'ascending' : active === 'desc' ? 'descending' : undefined}
    >
      <Link href={href} className="hover:underline">
        {label}
        {active === 'asc' ? ' ↑' : active === 'desc' ? ' ↓' : ''}
      </Link>
    </th>
  );
}
