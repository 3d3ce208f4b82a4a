'use client';
/**
 * The restore wizard, for agents and subscribers alike (each page hands it its own server
 * actions): choose a backup, pick categories or single items, choose the target handset,
 * preview the dry-run plan (each change as before → after, the values the handset changed
 * since the backup with "keep the handset's newer values", the bytes, the cost, the exact
 * prompt on the handset, what will not be carried), then say why and confirm, which runs
 * exactly that plan. The same preview and confirmation serve "undo" on a job page.
 */
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { formatBytes, formatTime } from '@/lib/core/format';
import type { ChangeLine, PlanPreview, RestoreChoices, SnapshotChoice, TargetChoice } from '@/lib/restore/wizard';
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
  preview: Call<PreviewInput, PlanPreview>;
  confirm: Call<ConfirmInput, { jobId: string }>;
  /** Where the live job is: `${jobHref}${jobId}`. */
  jobHref: string;
  /** "you" (the portal) or "the user" (the console), in the prompt's explanation. */
  audience: 'subscriber' | 'staff';
}

export type PreviewInput = {
  snapshotId: string;
  targetDeviceId: string;
  categories: string[];
  items: string[];
  keepNewer: boolean;
  keep: string[];
  removeExtra: boolean;
};

export type ConfirmInput = { planId: string; reason: string };

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
  const uid = useId();
  const [snapshotId, setSnapshotId] = useState<string>(props.initialSnapshotId ?? snapshots[0]?.id ?? '');
  const [whole, setWhole] = useState<Set<string>>(new Set());
  const [items, setItems] = useState<Set<string>>(new Set());
  const [targetId, setTargetId] = useState<string>(targets[0]?.id ?? '');
  const [plan, setPlan] = useState<PlanPreview | null>(null);
  // The portal keeps the handset's newer values unless the subscriber says otherwise; agents see them flagged.
  const [keepNewer, setKeepNewer] = useState(audience === 'subscriber');
  const [keep, setKeep] = useState<string[]>([]);
  const [removeExtra, setRemoveExtra] = useState(false);
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

  const runPreview = async (opts: Partial<Pick<PreviewInput, 'keepNewer' | 'keep' | 'removeExtra'>> = {}) => {
    const next = { keepNewer, keep, removeExtra, ...opts };
    setKeepNewer(next.keepNewer);
    setKeep(next.keep);
    setRemoveExtra(next.removeExtra);
    setBusy('preview');
    setError(null);
    try {
      setPlan(
        await unwrap(
          props.preview(null, {
            snapshotId,
            targetDeviceId: targetId,
            categories: [...whole],
            items: [...items],
            ...next,
          }),
        ),
      );
    } catch (err) {
      setError(err instanceof ActionFailed ? err.message : 'The preview could not be made. Please try again.');
    } finally {
      setBusy(null);
    }
  };
  // The keep choices change the plan, so the preview is made again with them.
  const toggleKeep = (path: string, on: boolean) => {
    const kept = (plan?.changes ?? []).filter((c) => c.kind === 'keep').map((c) => c.path);
    void runPreview({ keepNewer: false, keep: on ? [...new Set([...kept, path])] : kept.filter((p) => p !== path) });
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
          <Button onClick={() => void runPreview()} disabled={busy !== null || picked === 0 || !choices.data}>
            {busy === 'preview' ? 'Preparing the preview…' : 'Preview the restore'}
          </Button>
          {picked === 0 ? <span className="text-sm text-slate-600">Pick at least one category or item.</span> : null}
        </div>
      ) : (
        <PlanView
          plan={plan}
          audience={audience}
          headingRef={previewHeading}
          busy={busy === 'preview'}
          onKeepNewer={(on) => void runPreview({ keepNewer: on, keep: [] })}
          onKeep={toggleKeep}
          onRemoveExtra={(on) => void runPreview({ removeExtra: on })}
        >
          <ConfirmRestore
            plan={plan}
            confirm={props.confirm}
            onStarted={(jobId) => router.push(`${jobHref}${jobId}`)}
            disabled={busy !== null}
            onBusy={(b) => setBusy(b ? 'confirm' : null)}
          >
            <Button variant="secondary" onClick={() => setPlan(null)} disabled={busy !== null}>
              Change the selection
            </Button>
          </ConfirmRestore>
        </PlanView>
      )}
    </div>
  );
}

/** "Why" and the confirm button: a restore (or an undo) starts only with a reason or a ticket reference. */
export function ConfirmRestore({
  plan,
  confirm,
  onStarted,
  disabled,
  onBusy,
  children,
}: {
  plan: PlanPreview;
  confirm: Call<ConfirmInput, { jobId: string }>;
  onStarted: (jobId: string) => void;
  disabled?: boolean;
  onBusy?: (busy: boolean) => void;
  children?: ReactNode;
}) {
  const uid = useId();
  const toast = useToast();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    onBusy?.(true);
    setError(null);
    try {
      const { jobId } = await unwrap(confirm(null, { planId: plan.planId, reason }));
      toast(plan.undoOf ? 'Undo started' : 'Restore started');
      onStarted(jobId);
    } catch (err) {
      setError(err instanceof ActionFailed ? err.message : 'The restore could not be started. Please try again.');
      setBusy(false);
      onBusy?.(false);
    }
  };
  return (
    <div className="space-y-3">
      <div>
        <label htmlFor={`${uid}-reason`} className="block text-sm font-medium">
          Why? A reason or a ticket reference
        </label>
        <input
          id={`${uid}-reason`}
          className={cx(inputClass, 'mt-1 max-w-xl')}
          value={reason}
          maxLength={500}
          required
          placeholder="e.g. ticket 4711, settings lost after a reset"
          onChange={(e) => setReason(e.target.value)}
        />
        <p className="mt-1 text-xs text-slate-600">Kept on the job, in the audit log and with the consent.</p>
      </div>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      <div className="flex flex-wrap gap-3">
        <Button onClick={() => void run()} disabled={disabled || busy || !reason.trim()}>
          {busy ? 'Starting…' : plan.undoOf ? 'Confirm and put it back' : 'Confirm and start the restore'}
        </Button>
        {children}
      </div>
    </div>
  );
}

const COUNT_WORDS: Array<[keyof PlanPreview['summary'], string]> = [
  ['unchanged', 'Unchanged'],
  ['change', 'Will change'],
  ['add', 'Will add'],
  ['remove', 'Will remove'],
  ['keep', 'Newer kept'],
  ['notCarried', 'Not carried'],
];
/** Lines shown before the rest of a long list is folded away. */
const SHOWN = 12;

function ChangeRow({
  c,
  onKeep,
  busy,
}: {
  c: ChangeLine;
  onKeep?: (path: string, on: boolean) => void;
  busy?: boolean;
}) {
  return (
    <li className="rounded border border-slate-200 px-2 py-1 text-sm" data-testid="change">
      <div className="flex flex-wrap items-baseline gap-2">
        <span className="font-medium break-all" title={c.path}>
          {c.label}
        </span>
        {c.kind === 'add' ? <Badge tone="info">will add</Badge> : null}
        {c.kind === 'remove' ? <Badge tone="bad">will remove</Badge> : null}
        {c.kind === 'keep' ? <Badge>kept</Badge> : null}
      </div>
      <div className="font-mono text-xs break-all">
        {c.kind === 'add' ? (
          <>(none) → {c.after}</>
        ) : c.kind === 'remove' ? (
          <>{c.before} → (removed)</>
        ) : (
          <>
            {c.before} → {c.after}
          </>
        )}
      </div>
      {c.newer ? (
        <div className="mt-1 flex flex-wrap items-center gap-2 text-xs text-amber-900">
          <span data-testid="newer">
            Newer on the handset: {c.newer}, {c.before} → {c.after}
          </span>
          {onKeep ? (
            <label className="flex items-center gap-1">
              <input
                type="checkbox"
                checked={c.kind === 'keep'}
                disabled={busy}
                onChange={(e) => onKeep(c.path, e.target.checked)}
              />
              keep the handset’s value
            </label>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

export function PlanView({
  plan,
  audience,
  headingRef,
  busy,
  onKeepNewer,
  onKeep,
  onRemoveExtra,
  children,
}: {
  plan: PlanPreview;
  audience: RestoreWizardProps['audience'];
  headingRef?: React.RefObject<HTMLHeadingElement | null>;
  busy?: boolean;
  onKeepNewer?: (on: boolean) => void;
  onKeep?: (path: string, on: boolean) => void;
  onRemoveExtra?: (on: boolean) => void;
  children: ReactNode;
}) {
  const who = audience === 'subscriber' ? 'you' : 'the user';
  const newer = plan.changes.filter((c) => c.newer);
  const allKept = newer.length > 0 && newer.every((c) => c.kind === 'keep');
  const shown = plan.changes.slice(0, SHOWN);
  const folded = plan.changes.slice(SHOWN);
  return (
    <section aria-labelledby="plan-heading" className="space-y-4 rounded-lg border-2 border-slate-900 bg-white p-4">
      <h2 id="plan-heading" ref={headingRef} tabIndex={-1} className="text-lg font-semibold focus:outline-none">
        {plan.undoOf
          ? 'Preview: putting the handset back as it was before the restore'
          : 'Preview: what this restore will do'}
      </h2>
      <ul className="flex flex-wrap gap-2 text-sm" aria-label="Summary" data-testid="plan-summary">
        {COUNT_WORDS.map(([k, label]) => (
          <li key={k} className="rounded border border-slate-300 px-2 py-1">
            {label} <strong>{plan.summary[k]}</strong>
          </li>
        ))}
      </ul>
      <p className="text-xs text-slate-600">
        {plan.comparedAt
          ? `Compared with the handset as backed up ${formatTime(plan.comparedAt)}; checked again against the safety backup when the writes begin, so only what still differs is sent.`
          : 'The handset has no complete backup yet: the safety backup taken first decides what differs.'}
      </p>
      {newer.length ? (
        <div className="rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900" role="note">
          <p>
            {newer.length} value{newer.length === 1 ? ' was' : 's were'} changed on the handset after this backup was
            taken: restoring {newer.length === 1 ? 'it' : 'them'} would undo newer choices.
          </p>
          {onKeepNewer ? (
            <label className="mt-1 flex items-center gap-2">
              <input
                type="checkbox"
                checked={allKept}
                disabled={busy}
                onChange={(e) => onKeepNewer(e.target.checked)}
              />
              Keep the handset’s newer values
            </label>
          ) : null}
        </div>
      ) : null}
      <div>
        <h3 className="text-sm font-medium">Changes ({plan.changes.length})</h3>
        {plan.changes.length ? (
          <>
            <ul className="mt-1 space-y-1" aria-label="Changes">
              {shown.map((c) => (
                <ChangeRow key={c.path} c={c} onKeep={onKeep} busy={busy} />
              ))}
            </ul>
            {folded.length ? (
              <details className="mt-1">
                <summary className="cursor-pointer text-sm text-slate-600">and {folded.length} more</summary>
                <ul className="mt-1 space-y-1">
                  {folded.map((c) => (
                    <ChangeRow key={c.path} c={c} onKeep={onKeep} busy={busy} />
                  ))}
                </ul>
              </details>
            ) : null}
          </>
        ) : (
          <p className="mt-1 text-sm text-slate-600">No value differs from the backup.</p>
        )}
        {onRemoveExtra ? (
          <label className="mt-2 flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={plan.removeExtra}
              disabled={busy}
              onChange={(e) => onRemoveExtra(e.target.checked)}
            />
            Also remove what the backup did not have
          </label>
        ) : null}
      </div>
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
          ['Apps installed', plan.apps.length ? plan.apps.map((a) => `${a.name} ${a.version}`).join(', ') : 'none'],
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
        <h3 className="text-sm font-medium">Not carried ({plan.notCarried.length})</h3>
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
        {plan.safetyBackup
          ? 'A safety backup of the handset is taken first.'
          : "No safety backup will be taken: the handset's policy turns it off, so this restore cannot be undone."}{' '}
        Plan {plan.planId.slice(0, 8)} · hash {plan.planHash.slice(0, 12)}
      </p>
      {children}
    </section>
  );
}

/**
 * "Put it back as it was before this restore" on a finished restore's page: the preview of
 * a restore from its safety backup (the same preview as any restore), then why, then go.
 */
export function UndoRestore({
  jobId,
  preview,
  confirm,
  jobHref,
  audience,
}: {
  jobId: string;
  preview: Call<{ jobId: string }, PlanPreview>;
  confirm: Call<ConfirmInput, { jobId: string }>;
  jobHref: string;
  audience: RestoreWizardProps['audience'];
}) {
  const router = useRouter();
  const [plan, setPlan] = useState<PlanPreview | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setPlan(await unwrap(preview(null, { jobId })));
    } catch (err) {
      setError(err instanceof ActionFailed ? err.message : 'The preview could not be made. Please try again.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="space-y-3">
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      {plan ? (
        <PlanView plan={plan} audience={audience}>
          <ConfirmRestore plan={plan} confirm={confirm} onStarted={(id) => router.push(`${jobHref}${id}`)}>
            <Button variant="secondary" onClick={() => setPlan(null)}>
              Cancel
            </Button>
          </ConfirmRestore>
        </PlanView>
      ) : (
        <Button variant="secondary" onClick={() => void run()} disabled={busy}>
          {busy ? 'Preparing the preview…' : 'Put it back as it was before this restore'}
        </Button>
      )}
    </div>
  );
}
