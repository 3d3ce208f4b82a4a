'use client';
/**
 * The restore wizard, for agents and subscribers alike (each page hands it its own server
 * actions): choose a backup, pick categories or single items, choose the target handset,
 * preview the dry-run plan (what is written, the bytes, the cost, the exact prompt on the
 * handset, what will not be carried), then confirm, which runs exactly that plan.
 */
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { formatBytes, formatTime } from '@/lib/core/format';
import type { PlanPreview, RestoreChoices, SnapshotChoice, TargetChoice } from '@/lib/restore/wizard';
import { useToast } from './toast';
import { Badge, Button, Card, EmptyState, ErrorNote, Facts, cx, inputClass } from './ui';

type Call<I, T> = (prev: null, input: I) => Promise<ActionResult<T>>;

export interface RestoreWizardProps {
  snapshots: SnapshotChoice[];
  initialSnapshotId: string | null;
  /** The choices of the initial snapshot, read on the server. */
  initialChoices: RestoreChoices | null;
  targets: TargetChoice[];
  loadChoices: Call<{ snapshotId: string }, RestoreChoices>;
  preview: Call<{ snapshotId: string; targetDeviceId: string; categories: string[]; items: string[] }, PlanPreview>;
  confirm: Call<{ planId: string }, { jobId: string }>;
  /** Where the live job is: `${jobHref}${jobId}`. */
  jobHref: string;
  /** "you" (the portal) or "the user" (the console), in the prompt's explanation. */
  audience: 'subscriber' | 'staff';
}

class ActionFailed extends Error {}

async function unwrap<T>(p: Promise<ActionResult<T>>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new ActionFailed(r.error);
  return r.data;
}

function Step({ n, title, children }: { n: number; title: string; children: ReactNode }) {
  return (
    <Card
      title={
        <span>
          <span
            className="mr-2 inline-flex h-6 w-6 items-center justify-center rounded-full bg-slate-900 text-xs text-white"
            aria-hidden
          >
            {n}
          </span>
          {title}
        </span>
      }
    >
      {children}
    </Card>
  );
}

export function RestoreWizard(props: RestoreWizardProps) {
  const { snapshots, targets, loadChoices, jobHref, audience } = props;
  const router = useRouter();
  const toast = useToast();
  const uid = useId();
  const [snapshotId, setSnapshotId] = useState<string>(props.initialSnapshotId ?? snapshots[0]?.id ?? '');
  const [whole, setWhole] = useState<Set<string>>(new Set());
  const [items, setItems] = useState<Set<string>>(new Set());
  const [targetId, setTargetId] = useState<string>(targets[0]?.id ?? '');
  const [plan, setPlan] = useState<PlanPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'preview' | 'confirm' | null>(null);
  const previewHeading = useRef<HTMLHeadingElement>(null);

  const choices = useQuery({
    queryKey: ['restore-choices', snapshotId],
    queryFn: () => unwrap(loadChoices(null, { snapshotId })),
    enabled: snapshotId !== '',
    initialData: props.initialChoices?.snapshotId === snapshotId ? props.initialChoices : undefined,
    staleTime: Infinity,
  });

  useEffect(() => {
    if (plan) previewHeading.current?.focus();
  }, [plan]);

  const picked = useMemo(() => {
    const n = choices.data?.categories.filter((c) => whole.has(c.category)).length ?? 0;
    return n + items.size;
  }, [choices.data, whole, items]);

  if (!snapshots.length) {
    return (
      <EmptyState title="No complete backup to restore from">
        A restore starts from a complete backup of this handset.
      </EmptyState>
    );
  }

  // Any change to what is asked for makes the previewed plan stale.
  const stale = () => {
    setPlan(null);
    setError(null);
  };
  const toggleCategory = (category: string, on: boolean) => {
    stale();
    setWhole((w) => {
      const n = new Set(w);
      if (on) n.add(category);
      else n.delete(category);
      return n;
    });
    const paths = choices.data?.categories.find((c) => c.category === category)?.items.map((i) => i.path) ?? [];
    setItems((s) => {
      const n = new Set(s);
      for (const p of paths) n.delete(p);
      return n;
    });
  };
  const toggleItem = (category: string, path: string, on: boolean) => {
    stale();
    const all = choices.data?.categories.find((c) => c.category === category)?.items.map((i) => i.path) ?? [];
    if (whole.has(category)) {
      // Unticking one item of a whole category keeps the others.
      setWhole((w) => {
        const n = new Set(w);
        n.delete(category);
        return n;
      });
      setItems((s) => {
        const n = new Set(s);
        for (const p of all) if (p !== path) n.add(p);
        return n;
      });
      return;
    }
    setItems((s) => {
      const n = new Set(s);
      if (on) n.add(path);
      else n.delete(path);
      return n;
    });
  };

  const runPreview = async () => {
    setBusy('preview');
    setError(null);
    try {
      setPlan(
        await unwrap(
          props.preview(null, { snapshotId, targetDeviceId: targetId, categories: [...whole], items: [...items] }),
        ),
      );
    } catch (err) {
      setError(err instanceof ActionFailed ? err.message : 'The preview could not be made. Please try again.');
    } finally {
      setBusy(null);
    }
  };
  const runConfirm = async () => {
    if (!plan) return;
    setBusy('confirm');
    setError(null);
    try {
      const { jobId } = await unwrap(props.confirm(null, { planId: plan.planId }));
      toast('Restore started');
      router.push(`${jobHref}${jobId}`);
    } catch (err) {
      setError(err instanceof ActionFailed ? err.message : 'The restore could not be started. Please try again.');
      setBusy(null);
    }
  };

  return (
    <div className="space-y-4">
      <Step n={1} title="Choose a backup">
        <label htmlFor={`${uid}-snapshot`} className="block text-sm font-medium">
          Backup
        </label>
        <select
          id={`${uid}-snapshot`}
          className={cx(inputClass, 'mt-1 max-w-xl')}
          value={snapshotId}
          onChange={(e) => {
            stale();
            setSnapshotId(e.target.value);
            setWhole(new Set());
            setItems(new Set());
          }}
        >
          {snapshots.map((s) => (
            <option key={s.id} value={s.id}>
              {formatTime(s.takenAt)} · {s.trigger} · {formatBytes(s.bytes)}
            </option>
          ))}
        </select>
      </Step>

      <Step n={2} title="Pick what to restore">
        {choices.isPending ? (
          <p className="text-sm text-slate-600">Reading the backup…</p>
        ) : choices.isError ? (
          <ErrorNote>
            {choices.error instanceof ActionFailed ? choices.error.message : 'The backup could not be read.'}
          </ErrorNote>
        ) : (
          <fieldset>
            <legend className="sr-only">Categories and items to restore</legend>
            <ul className="space-y-2">
              {choices.data.categories.map((c) => {
                const some = c.items.some((i) => items.has(i.path));
                return (
                  <li key={c.category} className="rounded border border-slate-200 p-2">
                    <div className="flex flex-wrap items-center justify-between gap-2">
                      <label className="flex items-center gap-2 text-sm font-medium">
                        <input
                          type="checkbox"
                          checked={whole.has(c.category)}
                          ref={(el) => {
                            if (el) el.indeterminate = !whole.has(c.category) && some;
                          }}
                          onChange={(e) => toggleCategory(c.category, e.target.checked)}
                        />
                        {c.label}
                      </label>
                      <span className="text-xs text-slate-500">
                        {c.items.length ? `${c.items.length} item${c.items.length === 1 ? '' : 's'} · ` : ''}
                        {formatBytes(c.bytes)}
                      </span>
                    </div>
                    {c.items.length ? (
                      <details className="mt-1 pl-6">
                        <summary className="cursor-pointer text-xs text-slate-600">Choose single items</summary>
                        <ul className="mt-1 grid gap-1 sm:grid-cols-2">
                          {c.items.map((i) => (
                            <li key={i.path}>
                              <label className="flex items-start gap-2 text-sm" title={i.path}>
                                <input
                                  type="checkbox"
                                  className="mt-1"
                                  checked={whole.has(c.category) || items.has(i.path)}
                                  onChange={(e) => toggleItem(c.category, i.path, e.target.checked)}
                                />
                                <span className="min-w-0 break-all">
                                  {i.label} <span className="text-xs text-slate-500">{formatBytes(i.bytes)}</span>
                                </span>
                              </label>
                            </li>
                          ))}
                        </ul>
                      </details>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          </fieldset>
        )}
      </Step>

      <Step n={3} title="Choose the handset to restore to">
        <fieldset className="space-y-1">
          <legend className="sr-only">Target handset</legend>
          {targets.map((t) => (
            <label key={t.id} className="flex items-center gap-2 text-sm">
              <input
                type="radio"
                name={`${uid}-target`}
                value={t.id}
                checked={targetId === t.id}
                onChange={() => {
                  stale();
                  setTargetId(t.id);
                }}
              />
              <span>{t.label}</span>
              {t.same ? <Badge>this handset</Badge> : <Badge tone="info">copy to another handset</Badge>}
            </label>
          ))}
        </fieldset>
      </Step>

      {error ? <ErrorNote>{error}</ErrorNote> : null}
      {!plan ? (
        <div className="flex flex-wrap items-center gap-3">
          <Button onClick={runPreview} disabled={busy !== null || picked === 0 || !choices.data}>
            {busy === 'preview' ? 'Preparing the preview…' : 'Preview the restore'}
          </Button>
          {picked === 0 ? <span className="text-sm text-slate-600">Pick at least one category or item.</span> : null}
        </div>
      ) : (
        <PlanView plan={plan} audience={audience} headingRef={previewHeading}>
          <div className="flex flex-wrap gap-3">
            <Button onClick={runConfirm} disabled={busy !== null}>
              {busy === 'confirm' ? 'Starting…' : 'Confirm and start the restore'}
            </Button>
            <Button variant="secondary" onClick={() => setPlan(null)} disabled={busy !== null}>
              Change the selection
            </Button>
          </div>
        </PlanView>
      )}
    </div>
  );
}

function PlanView({
  plan,
  audience,
  headingRef,
  children,
}: {
  plan: PlanPreview;
  audience: RestoreWizardProps['audience'];
  headingRef: React.RefObject<HTMLHeadingElement | null>;
  children: ReactNode;
}) {
  const who = audience === 'subscriber' ? 'you' : 'the user';
  return (
    <section aria-labelledby="plan-heading" className="space-y-4 rounded-lg border-2 border-slate-900 bg-white p-4">
      <h2 id="plan-heading" ref={headingRef} tabIndex={-1} className="text-lg font-semibold focus:outline-none">
        Preview: what this restore will do
      </h2>
      <Facts
        items={[
          ['From the backup of', `${formatTime(plan.takenAt)} (${plan.sourceDevId})`],
          [
            'To',
            <span key="to">
              {plan.targetDevId} {plan.migration ? <Badge tone="info">migration</Badge> : null}
            </span>,
          ],
          [
            'Values written',
            `${plan.nodes}${plan.folders ? ` (and ${plan.folders} folder${plan.folders === 1 ? '' : 's'} made first)` : ''}`,
          ],
          ['Firmware', plan.firmware ? `${plan.firmware.from ?? 'unknown'} → ${plan.firmware.to}` : 'unchanged'],
          ['Apps reinstalled', plan.apps.length ? plan.apps.map((a) => `${a.name} ${a.version}`).join(', ') : 'none'],
          ['Data to send', formatBytes(plan.bytes)],
          [
            'Cost',
            `${plan.cost.text} (${plan.cost.network === 'unknown' ? 'network not known yet' : plan.cost.network === 'wifi' ? 'Wi-Fi' : plan.cost.network === 'roaming' ? 'roaming' : 'home network'})`,
          ],
        ]}
      />
      {plan.nodesByCategory.length ? (
        <p className="text-sm text-slate-600">
          {plan.nodesByCategory.map((c) => `${c.label}: ${c.count} (${formatBytes(c.bytes)})`).join(' · ')}
        </p>
      ) : null}

      <div>
        <h3 className="text-sm font-medium">What {who} will see on the handset</h3>
        <figure
          className="mt-2 max-w-sm rounded-2xl border border-slate-300 bg-slate-50 p-4 shadow-inner"
          aria-label="The prompt on the handset"
        >
          <p className="text-sm" data-testid="prompt-text">
            {plan.prompt.text}
          </p>
          <ul className="mt-3 space-y-1" aria-label="Choices">
            {plan.prompt.choices.map((c) => (
              <li key={c} className="rounded border border-slate-300 bg-white px-3 py-1 text-center text-sm">
                {c}
              </li>
            ))}
          </ul>
          <figcaption className="mt-2 text-xs text-slate-500">
            Single choice (alert {plan.prompt.code}), {plan.prompt.version}
          </figcaption>
        </figure>
        <p className="mt-2 text-xs text-slate-600">
          A handset that cannot show choices asks instead (alert {plan.prompt.fallback.code}): “
          {plan.prompt.fallback.text}”
        </p>
      </div>

      <div>
        <h3 className="text-sm font-medium">Compatibility</h3>
        {plan.notCarried.length || plan.reissue.length ? (
          <ul className="mt-1 list-disc space-y-1 pl-5 text-sm">
            {plan.notCarried.map((n) => (
              <li key={n.path}>
                <span className="font-mono text-xs">{n.path}</span>: {n.reason}
              </li>
            ))}
          </ul>
        ) : (
          <p className="mt-1 text-sm text-slate-600">Everything selected will be carried.</p>
        )}
      </div>
      <p className="text-xs text-slate-500">
        A safety backup of the handset is taken first. Plan {plan.planId.slice(0, 8)} · hash{' '}
        {plan.planHash.slice(0, 12)}
      </p>
      {children}
    </section>
  );
}
