'use client';
/**
 * A static group from a CSV file: the file is read in the browser into the form's `csv` field
 * (a list of DevIds or IMEIs is small), so the server action gets text like any other field.
 */
import { useState } from 'react';
import { ActionForm, type FormAction } from './action-form';
import { Button, Field, inputClass } from './ui';

export interface ImportOutcome {
  group: string;
  added: number;
  removed: number;
  members: number;
  unknown: string[];
}

export function GroupImport({ action, groups }: { action: FormAction<ImportOutcome>; groups: string[] }) {
  const [csv, setCsv] = useState('');
  const [fileName, setFileName] = useState('');
  return (
    <ActionForm
      action={action}
      success={(r) => `${r.group}: ${r.added} added, ${r.members} in the group`}
      className="space-y-3"
      resetOnSuccess
      onSuccess={() => {
        setCsv('');
        setFileName('');
      }}
    >
      {({ pending, errors, result }) => (
        <>
          <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
            <Field id="import-name" label="Group name" error={errors.name?.[0]} hint="A new name makes a new list.">
              <input id="import-name" name="name" list="import-groups" className={inputClass} />
            </Field>
            <datalist id="import-groups">
              {groups.map((g) => (
                <option key={g} value={g} />
              ))}
            </datalist>
            <Field
              id="import-file"
              label="CSV file"
              error={errors.csv?.[0]}
              hint="One DevId or IMEI a line, or a file with a devId column."
            >
              <input
                id="import-file"
                type="file"
                accept=".csv,.txt,text/csv,text/plain"
                className={inputClass}
                onChange={async (e) => {
                  const f = e.currentTarget.files?.[0];
                  setFileName(f?.name ?? '');
                  setCsv(f ? await f.text() : '');
                }}
              />
            </Field>
          </div>
          <input type="hidden" name="csv" value={csv} />
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="replace" /> Replace the members of an existing list (else add to them)
          </label>
          <Button type="submit" disabled={pending}>
            {pending ? 'Importing…' : fileName ? `Import ${fileName}` : 'Import'}
          </Button>
          {result?.ok && result.data.unknown.length ? (
            <p role="status" className="text-sm text-amber-800">
              {result.data.unknown.length} not found: {result.data.unknown.slice(0, 20).join(', ')}
              {result.data.unknown.length > 20 ? ', …' : ''}
            </p>
          ) : null}
        </>
      )}
    </ActionForm>
  );
}
