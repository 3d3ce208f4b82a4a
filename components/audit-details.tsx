/** An audit event's details: short ones inline, long ones folded so the table stays readable. */
export function AuditDetails({ json }: { json: string | null }) {
  if (!json) return null;
  let text = json;
  try {
    text = JSON.stringify(JSON.parse(json));
  } catch {
    /* shown as stored */
  }
  if (text.length <= 80) return <code className="break-all text-xs text-slate-700">{text}</code>;
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    /* as stored */
  }
  return (
    <details>
      <summary className="cursor-pointer text-xs text-slate-700">
        <code className="break-all">{text.slice(0, 72)}…</code>
      </summary>
      <pre className="mt-1 max-w-md overflow-x-auto rounded bg-slate-50 p-2 text-xs">{pretty}</pre>
    </details>
  );
}
