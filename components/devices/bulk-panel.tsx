'use client';
/**
 * The device list's bulk actions (admins): on the rows ticked in the list, or on every handset
 * the filter matches; an action (back up now, DS backup now, assign a policy); a dry run that
 * counts them (and the ones it would skip) before anything is ordered; then the progress page.
 */
import { useRouter } from 'next/navigation';
import { useId, useState } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { Button, Card, ErrorNote, Field, inputClass } from '../ui';

type Call<T> = (prev: null, input: Record<string, unknown>) => Promise<ActionResult<T>>;

export interface BulkPreviewData {
  total: number;
  skipped: number;
  acting: number;
  summary: string;
}

const ACTIONS = [
  { value: 'backup', label: 'Back up now', verb: 'Back up' },
  { value: 'ds-backup', label: 'Back up contacts and calendar now', verb: 'Back up contacts and calendar of' },
  { value: 'assign-policy', label: 'Assign a policy', verb: 'Assign the policy to' },
  { value: 'assign-group', label: 'Add to a group', verb: 'Add to the group' },
] as const;

export function BulkPanel({
  filter,
  policies,
  groups,
  preview,
  order,
}: {
  /** The list's filter as it stands (without its sort): what "all matching" means. */
  filter: Record<string, unknown>;
  policies: Array<{ value: string; label: string }>;
  /** The static groups (a rule group's handsets are those its rule matches). */
  groups: Array<{ value: string; label: string }>;
  preview: Call<BulkPreviewData>;
  order: Call<{ id: string; total: number }>;
}) {
  const id = useId();
  const router = useRouter();
  const [scope, setScope] = useState<'selection' | 'filter'>('filter');
  const [action, setAction] = useState<(typeof ACTIONS)[number]['value']>('backup');
  const [policyId, setPolicyId] = useState(policies[0]?.value ?? '');
  const [group, setGroup] = useState(groups[0]?.value ?? '');
  const [counted, setCounted] = useState<{ order: Record<string, unknown>; preview: BulkPreviewData } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const reset = () => {
    setCounted(null);
    setError(null);
  };

  /** The order as it would go: the ticked rows are read when it is counted. */
  const build = (): Record<string, unknown> | null => {
    const params =
      action === 'assign-policy' ? { params: { policyId } } : action === 'assign-group' ? { params: { group } } : {};
    if (scope === 'filter') return { action, filter, ...params };
    const ticked = [
      ...document.querySelectorAll<HTMLInputElement>('#device-selection input[name="device"]:checked'),
    ].map((i) => i.value);
    if (ticked.length === 0) {
      setError('Tick the handsets in the list first, or choose all matching the filter.');
      return null;
    }
    return { action, deviceIds: ticked, ...params };
  };

  const count = async () => {
    reset();
    const o = build();
    if (!o) return;
    setPending(true);
    const r = await preview(null, o);
    setPending(false);
    if (r.ok) setCounted({ order: o, preview: r.data });
    else setError(r.error);
  };

  const confirm = async () => {
    if (!counted) return;
    setPending(true);
    const r = await order(null, counted.order);
    if (r.ok) router.push(`/bulk/${encodeURIComponent(r.data.id)}`);
    else {
      setPending(false);
      setError(r.error);
    }
  };

  const verb = ACTIONS.find((a) => a.value === action)!.verb;
  return (
    <Card title="Act on these handsets">
      <div className="space-y-3">
        <fieldset className="flex flex-wrap gap-4 text-sm">
          <legend className="mb-1 font-medium">Which handsets</legend>
          <label className="flex items-center gap-2">
            <input
              type="radio"
              name={`${id}-scope`}
              checked={scope === 'filter'}
              onChange={() => {
                setScope('filter');
                reset();
              }}
            />
            All handsets matching this filter
          </label>
          <label className="flex items-center gap-2">
            <input
              type="radio"
              name={`${id}-scope`}
              checked={scope === 'selection'}
              onChange={() => {
                setScope('selection');
                reset();
              }}
            />
            The handsets ticked in the list
          </label>
        </fieldset>
        <div className="flex flex-wrap items-end gap-3">
          <Field label="Action" id={`${id}-action`}>
            <select
              id={`${id}-action`}
              className={inputClass}
              value={action}
              onChange={(e) => {
                setAction(e.target.value as typeof action);
                reset();
              }}
            >
              {ACTIONS.map((a) => (
                <option key={a.value} value={a.value}>
                  {a.label}
                </option>
              ))}
            </select>
          </Field>
          {action === 'assign-policy' ? (
            <Field label="Policy" id={`${id}-policy`}>
              <select
                id={`${id}-policy`}
                className={inputClass}
                value={policyId}
                onChange={(e) => {
                  setPolicyId(e.target.value);
                  reset();
                }}
              >
                {policies.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          {action === 'assign-group' ? (
            <Field
              label="Group"
              id={`${id}-group`}
              hint={groups.length ? undefined : 'Make a static group first (Groups).'}
            >
              <select
                id={`${id}-group`}
                className={inputClass}
                value={group}
                onChange={(e) => {
                  setGroup(e.target.value);
                  reset();
                }}
              >
                {groups.map((g) => (
                  <option key={g.value} value={g.value}>
                    {g.label}
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          <Button type="button" variant="secondary" disabled={pending} onClick={() => void count()}>
            Count the handsets
          </Button>
        </div>
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        {counted ? (
          <div className="space-y-2 rounded border border-slate-200 bg-slate-50 p-3">
            <p role="status" className="text-sm">
              {counted.preview.summary}
            </p>
            {counted.preview.acting > 0 ? (
              <div className="flex gap-2">
                <Button type="button" disabled={pending} onClick={() => void confirm()}>
                  {verb} {counted.preview.acting.toLocaleString('en-GB')} handset
                  {counted.preview.acting === 1 ? '' : 's'}
                </Button>
                <Button type="button" variant="secondary" disabled={pending} onClick={reset}>
                  Not now
                </Button>
              </div>
            ) : null}
          </div>
        ) : null}
      </div>
    </Card>
  );
}
