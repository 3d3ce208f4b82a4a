/**
 * A DS backup's contacts and events, and what changed between two backups: plain rows
 * rendered on the server (a page of a hundred items at a time), each item's fields in words,
 * changed items with their old and new fields side by side.
 */
import Link from 'next/link';
import type { DsChangedView, DsItemView } from '@/lib/ds/views';
import { cx, EmptyState, inputClass, buttonClass } from './ui';

export function DsFieldList({ fields }: { fields: DsItemView['fields'] }) {
  if (!fields.length) return <span className="text-slate-500">no fields</span>;
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-3 gap-y-0.5 text-sm">
      {fields.map((f, i) => (
        <div key={i} className="contents">
          <dt className="text-slate-600">{f.label}</dt>
          <dd className="whitespace-pre-line [overflow-wrap:anywhere]">{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Items as a list of cards: name, then fields. `tone` colours the edge (added, removed). */
export function DsItemList({ items, tone, label }: { items: DsItemView[]; tone?: 'added' | 'removed'; label: string }) {
  return (
    <ul aria-label={label} className="divide-y divide-slate-100">
      {items.map((it) => (
        <li
          key={`${it.store}:${it.id}`}
          className={cx(
            'py-2 pl-3',
            tone === 'added' && 'border-l-4 border-emerald-400',
            tone === 'removed' && 'border-l-4 border-red-300',
          )}
        >
          <p className="font-medium break-words">{it.name}</p>
          {it.missing ? (
            <p className="text-sm text-red-700">This item&apos;s content is missing from the backup store.</p>
          ) : (
            <DsFieldList fields={it.fields} />
          )}
        </li>
      ))}
    </ul>
  );
}

export function DsChangedList({ items }: { items: DsChangedView[] }) {
  return (
    <ul aria-label="Changed" className="space-y-4">
      {items.map((c, i) => (
        <li key={i} className="min-w-0 rounded border border-amber-200">
          <p className="border-b border-amber-200 bg-amber-50 px-3 py-1.5 font-medium break-words">
            {c.name}
            {c.previousName ? <span className="font-normal text-slate-600"> (was {c.previousName})</span> : null}
          </p>
          <div className="overflow-x-auto">
            {/* Fixed columns, so every changed item lines up and a long number wraps on a narrow screen. */}
            <table className="w-full table-fixed text-left text-sm">
              <caption className="sr-only">Fields of {c.name}, before and after</caption>
              <colgroup>
                <col className="w-[28%]" />
                <col className="w-[36%]" />
                <col className="w-[36%]" />
              </colgroup>
              <thead>
                <tr className="text-xs uppercase tracking-wide text-slate-500">
                  <th className="px-3 py-1 font-medium">Field</th>
                  <th className="px-3 py-1 font-medium">Before</th>
                  <th className="px-3 py-1 font-medium">After</th>
                </tr>
              </thead>
              <tbody>
                {c.rows.map((r) => (
                  <tr key={r.label} className={r.changed ? 'bg-amber-50/60' : undefined}>
                    <th scope="row" className="px-3 py-1 align-top font-normal text-slate-600 [overflow-wrap:anywhere]">
                      {r.label}
                      {r.changed ? <span className="sr-only"> (changed)</span> : null}
                    </th>
                    <td
                      className={cx(
                        'px-3 py-1 align-top whitespace-pre-line [overflow-wrap:anywhere]',
                        r.changed && 'text-red-800 line-through decoration-red-300',
                      )}
                    >
                      {r.before.join('\n') || '—'}
                    </td>
                    <td
                      className={cx(
                        'px-3 py-1 align-top whitespace-pre-line [overflow-wrap:anywhere]',
                        r.changed && 'font-medium text-emerald-800',
                      )}
                    >
                      {r.changed ? <span aria-hidden>→ </span> : null}
                      {r.after.join('\n') || '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </li>
      ))}
    </ul>
  );
}

/** Store tabs, a name filter and page links for one DS backup (plain links and a GET form: no client state). */
export function DsBrowseControls({
  base,
  store,
  counts,
  q,
  page,
  pages,
  total,
}: {
  base: string;
  store: 'contacts' | 'calendar';
  counts: { contacts: number; calendar: number };
  q: string;
  page: number;
  pages: number;
  total: number;
}) {
  const href = (s: string, p: number, query = q) =>
    `${base}?store=${s}${query ? `&q=${encodeURIComponent(query)}` : ''}${p > 1 ? `&page=${p}` : ''}`;
  return (
    <div className="space-y-3">
      <nav aria-label="Stores" className="flex gap-2">
        {(['contacts', 'calendar'] as const).map((s) => (
          <Link
            key={s}
            href={href(s, 1, '')}
            aria-current={s === store ? 'page' : undefined}
            className={buttonClass(s === store ? 'primary' : 'secondary')}
          >
            {s === 'contacts' ? `Contacts (${counts.contacts})` : `Events (${counts.calendar})`}
          </Link>
        ))}
      </nav>
      <form method="get" action={base} className="flex flex-wrap items-end gap-2" role="search">
        <input type="hidden" name="store" value={store} />
        <div>
          <label htmlFor="ds-q" className="block text-sm font-medium">
            {store === 'contacts' ? 'Find a contact by name' : 'Find an event by title'}
          </label>
          <input id="ds-q" name="q" defaultValue={q} className={cx(inputClass, 'w-64 max-w-full')} />
        </div>
        <button type="submit" className={buttonClass('secondary')}>
          Find
        </button>
        {q ? (
          <Link href={href(store, 1, '')} className="text-sm text-sky-700 hover:underline">
            Show all
          </Link>
        ) : null}
      </form>
      <p className="text-sm text-slate-600" aria-live="polite">
        {total} {store === 'contacts' ? (total === 1 ? 'contact' : 'contacts') : total === 1 ? 'event' : 'events'}
        {q ? ` matching “${q}”` : ''}
        {pages > 1 ? ` · page ${page} of ${pages}` : ''}
      </p>
      {pages > 1 ? <Pager href={(p) => href(store, p)} page={page} pages={pages} /> : null}
    </div>
  );
}

export function Pager({ href, page, pages }: { href: (p: number) => string; page: number; pages: number }) {
  return (
    <nav aria-label="Pages" className="flex flex-wrap items-center gap-2 text-sm">
      {page > 1 ? (
        <Link href={href(page - 1)} className={buttonClass('secondary')} rel="prev">
          ← Previous
        </Link>
      ) : null}
      <span>
        Page {page} of {pages}
      </span>
      {page < pages ? (
        <Link href={href(page + 1)} className={buttonClass('secondary')} rel="next">
          Next →
        </Link>
      ) : null}
    </nav>
  );
}

export function DsNothing({ children }: { children: string }) {
  return <EmptyState title={children} />;
}
