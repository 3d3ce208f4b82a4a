/** One node's value as the browser and the diff show it: text inline (long text folded), media previewed, other bytes by size and type. */
import { formatBytes } from '@/lib/core/format';
import { mediaUrl, type EntryView } from '@/lib/backup/snapshot-views';
import { MediaPreview } from './media-preview';

const INLINE_CHARS = 120;

export function SnapshotValue({ snapshotId, entry }: { snapshotId: string; entry: EntryView }) {
  if (entry.interior) return <span className="text-xs text-slate-500">folder</span>;
  const url = mediaUrl(snapshotId, entry.path);
  if (entry.text !== null) {
    if (entry.text === '') return <span className="text-xs text-slate-500">(empty)</span>;
    if (entry.text.length <= INLINE_CHARS && !entry.text.includes('\n'))
      return <code className="break-all">{entry.text}</code>;
    return (
      <details>
        <summary className="cursor-pointer">
          <code className="break-all">{entry.text.slice(0, INLINE_CHARS).split('\n')[0]}…</code>{' '}
          <span className="text-xs text-sky-700">show all</span>
        </summary>
        <pre className="mt-1 max-h-80 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 text-xs">
          {entry.text}
        </pre>
      </details>
    );
  }
  const what = `${formatBytes(entry.size)} · ${entry.type ?? entry.format}`;
  return (
    <div className="space-y-1">
      {entry.preview ? <MediaPreview src={url} kind={entry.preview} label={`${entry.name} (${what})`} /> : null}
      <p className="text-xs text-slate-600">
        {what}
        {entry.hash ? (
          <span className="font-mono" title={`SHA-256 ${entry.hash}`}>
            {' '}
            · {entry.hash.slice(0, 12)}
          </span>
        ) : null}
        {' · '}
        <a href={url} download className="text-sky-700 underline">
          Download
        </a>
      </p>
    </div>
  );
}
