'use client';
/**
 * The admin pages' forms, described as data so each page stays a list of fields: labelled
 * controls with their errors, a submit button that says what it does, a toast on success.
 * `AdminButton` is the one-button form (revoke, unlock, delete), with a confirmation when
 * the action cannot be undone.
 */
import { useId, type ReactNode } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { ActionForm, type FormAction } from './action-form';
import { Button, Field, cx, inputClass, type ButtonVariant } from './ui';

export type FieldSpec =
  | {
      kind: 'text' | 'email' | 'password' | 'number';
      name: string;
      label: string;
      defaultValue?: string | number;
      hint?: string;
      placeholder?: string;
      list?: string[];
      autoComplete?: string;
      min?: number;
      className?: string;
    }
  | {
      kind: 'textarea';
      name: string;
      label: string;
      defaultValue?: string;
      hint?: string;
      rows?: number;
      className?: string;
    }
  | {
      kind: 'select';
      name: string;
      label: string;
      options: Array<{ value: string; label: string }>;
      defaultValue?: string;
      hint?: string;
      className?: string;
    }
  | { kind: 'checkbox'; name: string; label: string; defaultChecked?: boolean; hint?: string; className?: string }
  | {
      kind: 'checkboxes';
      name: string;
      label: string;
      options: Array<{ value: string; label: string }>;
      defaultValues?: string[];
      hint?: string;
      className?: string;
    }
  | { kind: 'hidden'; name: string; value: string };

function Control({ f, id, error }: { f: Exclude<FieldSpec, { kind: 'hidden' }>; id: string; error?: string }) {
  const describedBy = cx(error && `${id}-error`, f.hint && `${id}-hint`) || undefined;
  const aria = { 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy };
  switch (f.kind) {
    case 'textarea':
      return (
        <textarea
          id={id}
          name={f.name}
          rows={f.rows ?? 4}
          defaultValue={f.defaultValue}
          className={cx(inputClass, 'font-mono')}
          {...aria}
        />
      );
    case 'select':
      return (
        <select id={id} name={f.name} defaultValue={f.defaultValue} className={inputClass} {...aria}>
          {f.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
    case 'checkbox':
    case 'checkboxes':
      return null; // laid out by FieldView
    default: {
      const listId = f.list?.length ? `${id}-list` : undefined;
      return (
        <>
          <input
            id={id}
            name={f.name}
            type={f.kind}
            defaultValue={f.defaultValue}
            placeholder={f.placeholder}
            list={listId}
            autoComplete={f.autoComplete ?? (f.kind === 'password' ? 'new-password' : 'off')}
            min={f.min}
            className={inputClass}
            {...aria}
          />
          {listId ? (
            <datalist id={listId}>
              {f.list!.map((v) => (
                <option key={v} value={v} />
              ))}
            </datalist>
          ) : null}
        </>
      );
    }
  }
}

function FieldView({ f, prefix, errors }: { f: FieldSpec; prefix: string; errors: Record<string, string[]> }) {
  if (f.kind === 'hidden') return <input type="hidden" name={f.name} value={f.value} />;
  const id = `${prefix}-${f.name}`;
  const error = errors[f.name]?.[0];
  if (f.kind === 'checkbox') {
    return (
      <div className={cx('space-y-1', f.className)}>
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            id={id}
            name={f.name}
            defaultChecked={f.defaultChecked}
            className="h-4 w-4"
            aria-describedby={f.hint ? `${id}-hint` : undefined}
          />
          {f.label}
        </label>
        {f.hint ? (
          <p id={`${id}-hint`} className="text-xs text-slate-500">
            {f.hint}
          </p>
        ) : null}
        {error ? (
          <p role="alert" className="text-sm text-red-700">
            {error}
          </p>
        ) : null}
      </div>
    );
  }
  if (f.kind === 'checkboxes') {
    return (
      <fieldset className={cx('space-y-1', f.className)} aria-describedby={error ? `${id}-error` : undefined}>
        <legend className="text-sm font-medium">{f.label}</legend>
        <div className="flex flex-wrap gap-x-4 gap-y-1">
          {f.options.map((o) => (
            <label key={o.value} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                name={f.name}
                value={o.value}
                defaultChecked={f.defaultValues?.includes(o.value)}
                className="h-4 w-4"
              />
              {o.label}
            </label>
          ))}
        </div>
        {f.hint ? <p className="text-xs text-slate-500">{f.hint}</p> : null}
        {error ? (
          <p id={`${id}-error`} role="alert" className="text-sm text-red-700">
            {error}
          </p>
        ) : null}
      </fieldset>
    );
  }
  return (
    <div className={f.className}>
      <Field id={id} label={f.label} hint={f.hint} error={error}>
        <Control f={f} id={id} error={error} />
      </Field>
    </div>
  );
}

export function AdminForm<T>({
  action,
  fields,
  submit,
  success,
  columns = 2,
  resetOnSuccess,
  children,
  onSuccess,
}: {
  action: FormAction<T>;
  fields: FieldSpec[];
  submit: string;
  success: string;
  /** Fields per row on a wide screen (one on a narrow one). */
  columns?: 1 | 2 | 3 | 4;
  resetOnSuccess?: boolean;
  /** Shown under the fields once the action succeeded (e.g. a token shown once). */
  children?: (result: ActionResult<T> | null) => ReactNode;
  onSuccess?: (data: T) => void;
}) {
  const prefix = useId();
  const grid = { 1: '', 2: 'sm:grid-cols-2', 3: 'sm:grid-cols-3', 4: 'sm:grid-cols-2 lg:grid-cols-4' }[columns];
  return (
    <ActionForm
      action={action}
      success={success}
      resetOnSuccess={resetOnSuccess}
      onSuccess={onSuccess}
      className="space-y-3"
    >
      {({ pending, errors, result }) => (
        <>
          <div className={cx('grid grid-cols-1 gap-3', grid)}>
            {fields.map((f) => (
              <FieldView key={f.name} f={f} prefix={prefix} errors={errors} />
            ))}
          </div>
          <Button type="submit" disabled={pending}>
            {pending ? 'Saving…' : submit}
          </Button>
          {children?.(result)}
        </>
      )}
    </ActionForm>
  );
}

/** One button that runs an action on one thing; `confirm` asks first. */
export function AdminButton<T>({
  action,
  values,
  label,
  success,
  confirm,
  variant = 'secondary',
}: {
  action: FormAction<T>;
  values: Record<string, string>;
  label: string;
  success: string;
  confirm?: string;
  variant?: ButtonVariant;
}) {
  return (
    <ActionForm action={action} success={success} className="inline">
      {({ pending }) => (
        <>
          {Object.entries(values).map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          <Button
            type="submit"
            variant={variant}
            disabled={pending}
            className="px-2 py-1 text-xs"
            onClick={(e) => {
              if (confirm && !window.confirm(confirm)) e.preventDefault();
            }}
          >
            {label}
          </Button>
        </>
      )}
    </ActionForm>
  );
}
