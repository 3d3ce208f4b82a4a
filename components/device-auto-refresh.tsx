'use client';
/**
 * Keeps a server-rendered page current while something on it is still moving (a job
 * queued or running): the page's data is fetched again every few seconds, without a
 * reload, and the refreshing stops once nothing is pending or the tab is hidden.
 */
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

export function AutoRefresh({ active, everyMs = 4000 }: { active: boolean; everyMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') router.refresh();
    }, everyMs);
    return () => clearInterval(timer);
  }, [active, everyMs, router]);
  return null;
}
