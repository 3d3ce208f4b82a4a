'use client';
/**
 * The console's one search box. Without JavaScript it is a plain GET form (the page renders
 * `?q=` itself); with it, results follow the typing (debounced, through React Query against
 * /search), the address keeps the query, Enter opens the subscriber when only one matches (with
 * several it shows the list: the first is not always the one meant) and the arrow keys walk the list.
 */
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { whyNotSearchable, type SearchHit } from '@/lib/search/search';
import { SearchResults } from './search-results';
import { Button, EmptyState, ErrorNote, inputClass } from './ui';

const DEBOUNCE_MS = 200;

async function fetchHits(q: string): Promise<SearchHit[]> {
  const r = await fetch(`/search?q=${encodeURIComponent(q)}`, { headers: { accept: 'application/json' } });
  if (!r.ok)
    throw new Error(
      r.status === 401 ? 'Your session has ended: sign in again.' : 'The search did not answer. Try again in a moment.',
    );
  return ((await r.json()) as { hits: SearchHit[] }).hits;
}

const searchKey = (q: string) => ['search', q.trim()] as const;

export function SearchBox({ initialQuery, initialHits }: { initialQuery: string; initialHits: SearchHit[] }) {
  const router = useRouter();
  const client = useQueryClient();
  // The address may be ahead of the page's props: Back returns to a page rendered before the
  // query was typed, at the address the typing left.
  const fromUrl = useSearchParams().get('q')?.trim().slice(0, 128);
  const [text, setText] = useState(() => fromUrl ?? initialQuery);
  const [query, setQuery] = useState(() => fromUrl ?? initialQuery);
  const list = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const t = setTimeout(() => setQuery(text), DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [text]);

  // The address follows the query, so reloading, sharing and Back keep it.
  useEffect(() => {
    const url = query.trim() ? `/?q=${encodeURIComponent(query.trim())}` : '/';
    if (url !== `${location.pathname}${location.search}`) history.replaceState(history.state, '', url);
  }, [query]);

  const blocked = whyNotSearchable(query);
  const results = useQuery({
    queryKey: searchKey(query),
    queryFn: () => fetchHits(query),
    enabled: !blocked,
    placeholderData: keepPreviousData,
    ...(query.trim() === initialQuery.trim() ? { initialData: initialHits } : {}),
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (whyNotSearchable(text)) return setQuery(text);
    try {
      const hits = await client.fetchQuery({ queryKey: searchKey(text), queryFn: () => fetchHits(text) });
      setQuery(text);
      if (hits.length === 1) router.push(`/subscribers/${hits[0]!.id}`);
      else list.current?.querySelector<HTMLAnchorElement>('a[data-result]')?.scrollIntoView({ block: 'nearest' });
    } catch {
      setQuery(text); // the list shows the error
    }
  }

  // ArrowDown from the box goes to the first result; up and down move between results.
  function onKeyDown(e: KeyboardEvent) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = [...(list.current?.querySelectorAll<HTMLAnchorElement>('a[data-result]') ?? [])];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = e.key === 'ArrowDown' ? Math.min(at + 1, links.length - 1) : at - 1;
    e.preventDefault();
    if (next < 0) document.getElementById('search-q')?.focus();
    else links[next]!.focus();
  }

  const hits = blocked ? [] : (results.data ?? []);
  const status =
    blocked && query.trim()
      ? blocked
      : blocked
        ? ''
        : results.isError
          ? ''
          : results.data === undefined
            ? 'Searching…'
            : hits.length === 0
              ? `No subscriber matches “${query.trim()}”.`
              : `${hits.length === 1 ? '1 subscriber' : `${hits.length} subscribers`} found${results.isPlaceholderData ? ', searching…' : '.'}`;

  return (
    <div onKeyDown={onKeyDown}>
      <form
        role="search"
        action="/"
        method="get"
        onSubmit={submit}
        className="flex flex-col gap-2 sm:flex-row sm:items-end"
      >
        <div className="flex-1 space-y-1">
          <label htmlFor="search-q" className="block text-sm font-medium">
            MSISDN, IMEI, name or email
          </label>
          <input
            id="search-q"
            name="q"
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            autoFocus
            autoComplete="off"
            spellCheck={false}
            maxLength={128}
            placeholder="+44 7700 900123, 3569 3803…, Ada Lovelace, ada@example.org"
            aria-describedby="search-status"
            className={inputClass}
          />
        </div>
        <Button type="submit">Search</Button>
      </form>
      <p id="search-status" role="status" aria-live="polite" className="mt-3 min-h-5 text-sm text-slate-600">
        {status}
      </p>
      <div ref={list} className="mt-2">
        {results.isError && !blocked ? <ErrorNote>{(results.error as Error).message}</ErrorNote> : null}
        {!query.trim() ? (
          <EmptyState title="Find a subscriber">
            A full or partial MSISDN in any form (+44 7700 900123, 07700 900123), the start of an IMEI, or the start of
            a name, surname or email.
          </EmptyState>
        ) : hits.length ? (
          <SearchResults hits={hits} />
        ) : !blocked && results.data !== undefined && !results.isError ? (
          <EmptyState title="No match">
            Check the number, or try fewer characters: the start of a name, surname or email, or a full MSISDN.
          </EmptyState>
        ) : null}
      </div>
    </div>
  );
}
