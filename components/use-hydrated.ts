'use client';
import { useSyncExternalStore } from 'react';

const noSubscribe = () => () => {};

/**
 * False in the server's HTML and until React has hydrated, then true. Buttons wait for it: a
 * click before that would post a form without its action, or reach no handler at all.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscribe,
    () => true,
    () => false,
  );
}
