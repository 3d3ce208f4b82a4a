/** A count with its noun, singular for one: "1 node", "3 nodes", "2 replies" with `many`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}

/** How sizes, times and ages read everywhere: the console, the portal and the CLI. */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** UTC, to the second: 2025-03-01 14:05:09Z. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** "3 min ago", "2 h ago", "5 days ago"; "in 2 h" for times ahead. */
export function formatAge(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return 'never';
  const d = now - ms;
  const a = Math.abs(d);
  const s =
    a < 60_000
      ? 'just now'
      : a < 3_600_000
        ? `${Math.round(a / 60_000)} min`
        : a < 86_400_000
          ? `${Math.round(a / 3_600_000)} h`
          : `${Math.round(a / 86_400_000)} days`;
  if (s === 'just now') return s;
  return d >= 0 ? `${s} ago` : `in ${s}`;
}

/**
 * Text a person can read: short, valid UTF-8, no control characters. What a handset sends is
 * shown or stored as text only when it is this (a NUL, for one, is refused by PostgreSQL).
 */
export function readableText(bytes: Uint8Array): string | undefined {
  if (bytes.length > 200) return undefined;
  try {
    const t = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(t) ? undefined : t;
  } catch {
    return undefined;
  }
}
