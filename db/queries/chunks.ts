/** Well under SQLite's bound-parameter limit. */
const CHUNK = 500;

/** `items` in parts small enough for one `in (...)` each. */
export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
