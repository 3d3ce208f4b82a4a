/** What every server action answers (lib/server/action.ts); UI components read it with useActionState. */
export type ActionResult<T> =
  { ok: true; data: T } | { ok: false; error: string; fieldErrors?: Record<string, string[]> };
