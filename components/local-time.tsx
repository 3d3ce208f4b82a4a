'use client';
/**
 * A moment in the viewer's own time zone, with the UTC time on hover (title) and in
 * `dateTime`. The server does not know the browser's zone: its HTML says UTC, and the browser
 * puts its own zone in once React has hydrated (so the two renders never disagree).
 */
import { formatTime } from '@/lib/core/format';
import { useHydrated } from './use-hydrated';

const LOCAL = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});

export function LocalTime({ at, className }: { at: number; className?: string }) {
  const hydrated = useHydrated();
  const utc = formatTime(at).replace(/Z$/, ' UTC');
  return (
    <time dateTime={new Date(at).toISOString()} title={utc} className={className}>
      {hydrated ? LOCAL.format(at) : utc}
    </time>
  );
}
