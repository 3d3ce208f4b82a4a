/**
 * An audit event's details as lines people read ("Interval minutes: 2880"), not JSON: a few
 * inline, more folded behind the first ones so the table stays readable.
 */
const SHOWN = 3;

export function AuditDetails({ lines }: { lines: Array<{ label: string; value: string }> }) {
  if (!lines.length) return null;
  const list = (items: typeof lines) => (
    <dl className="text-xs text-slate-700">
      {items.map((l, i) => (
        <div key={i} className="flex flex-wrap gap-x-1">
          <dt className="text-slate-500">{l.label}:</dt>
          <dd className="min-w-0 break-all">{l.value}</dd>
        </div>
      ))}
    </dl>
  );
  if (lines.length <= SHOWN + 1) return list(lines);
  return (
    <div>
      {list(lines.slice(0, SHOWN))}
      <details>
        <summary className="cursor-pointer text-xs text-sky-700">{lines.length - SHOWN} more</summary>
        {list(lines.slice(SHOWN))}
      </details>
    </div>
  );
}
