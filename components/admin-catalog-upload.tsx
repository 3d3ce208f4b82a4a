'use client';
/**
 * Uploading a firmware image or an app package. The file goes as the request body to the
 * catalog's upload route (not a server action: see that route for why), the details in
 * the query string; a toast and a refreshed list when it is published.
 */
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { formatBytes } from '@/lib/core/format';
import { useToast } from './toast';
import { Button, ErrorNote, Field, inputClass } from './ui';

type Kind = 'firmware' | 'app';

export function CatalogUpload({
  maxBytes,
  models,
}: {
  maxBytes: number;
  models: Array<{ manufacturer: string; model: string }>;
}) {
  const [kind, setKind] = useState<Kind>('firmware');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const toast = useToast();
  const router = useRouter();

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const file = data.get('file');
    setError(null);
    setFieldErrors({});
    if (!(file instanceof File) || file.size === 0) {
      setFieldErrors({ file: ['Choose the package file.'] });
      return;
    }
    if (file.size > maxBytes) {
      setFieldErrors({
        file: [`The file is ${formatBytes(file.size)}; a package may be at most ${formatBytes(maxBytes)}.`],
      });
      return;
    }
    const params = new URLSearchParams({ kind });
    for (const [k, v] of data)
      if (k !== 'file' && k !== 'kind-choice' && typeof v === 'string' && v.trim()) params.set(k, v.trim());
    setPending(true);
    try {
      const res = await fetch(`/admin/catalog/upload?${params}`, {
        method: 'POST',
        body: file,
        headers: { 'content-type': 'application/octet-stream' },
      });
      const body = (await res.json().catch(() => ({}))) as {
        what?: string;
        error?: string;
        fieldErrors?: Record<string, string[]>;
      };
      if (!res.ok) {
        setError(body.error ?? 'The upload failed; try again.');
        setFieldErrors(body.fieldErrors ?? {});
        return;
      }
      toast(`Published ${body.what ?? 'the package'}`);
      form.reset();
      router.refresh();
    } catch {
      setError('The upload did not reach the server; check the connection and try again.');
    } finally {
      setPending(false);
    }
  }

  const field = (name: string, label: string, opts: { placeholder?: string; hint?: string; list?: string } = {}) => (
    <Field id={`upload-${name}`} label={label} hint={opts.hint} error={fieldErrors[name]?.[0]}>
      <input
        id={`upload-${name}`}
        name={name}
        placeholder={opts.placeholder}
        list={opts.list}
        className={inputClass}
        aria-invalid={fieldErrors[name] ? true : undefined}
        aria-describedby={fieldErrors[name] ? `upload-${name}-error` : undefined}
      />
    </Field>
  );

  return (
    <form onSubmit={submit} className="space-y-3" noValidate>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      <fieldset className="flex flex-wrap gap-4 text-sm">
        <legend className="mb-1 text-sm font-medium">Package</legend>
        {(['firmware', 'app'] as const).map((k) => (
          <label key={k} className="flex items-center gap-2">
            <input type="radio" name="kind-choice" value={k} checked={kind === k} onChange={() => setKind(k)} />
            {k === 'firmware' ? 'Firmware image' : 'App package'}
          </label>
        ))}
      </fieldset>
      <datalist id="upload-manufacturers">
        {[...new Set(models.map((m) => m.manufacturer))].map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
      <datalist id="upload-models">
        {models.map((m) => (
          <option key={`${m.manufacturer}/${m.model}`} value={m.model} />
        ))}
      </datalist>
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        {kind === 'firmware' ? (
          <>
            {field('manufacturer', 'Manufacturer', { placeholder: 'Nimbus', list: 'upload-manufacturers' })}
            {field('model', 'Model', { placeholder: 'N1', list: 'upload-models' })}
            {field('version', 'Version', { placeholder: '1.1.0' })}
            {field('name', 'Name (optional)', { placeholder: 'Spring update' })}
          </>
        ) : (
          <>
            {field('appId', 'Application id', { placeholder: 'com.example.mail' })}
            {field('name', 'Name', { placeholder: 'Mail' })}
            {field('version', 'Version', { placeholder: '4.0.2' })}
            {field('models', 'Installs on (optional)', {
              placeholder: 'Nimbus/N1, Nimbus/N2',
              hint: 'Blank: any model.',
            })}
          </>
        )}
      </div>
      <Field id="upload-file" label="File" hint={`Up to ${formatBytes(maxBytes)}.`} error={fieldErrors.file?.[0]}>
        <input
          id="upload-file"
          name="file"
          type="file"
          className="block w-full text-sm"
          aria-invalid={fieldErrors.file ? true : undefined}
        />
      </Field>
      <Button type="submit" disabled={pending}>
        {pending ? 'Uploading…' : 'Upload and publish'}
      </Button>
    </form>
  );
}
