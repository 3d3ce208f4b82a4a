'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';

export interface NavItem {
  href: string;
  label: string;
}

/** The section links; the current one is marked for sight and for screen readers. */
export function NavLinks({ items }: { items: NavItem[] }) {
  const path = usePathname();
  const current = items
    .filter(
      (i) =>
        path === i.href || (i.href !== '/' && i.href !== '/portal' && path.startsWith(`${i.href}/`)) || path === i.href,
    )
    .sort((a, b) => b.href.length - a.href.length)[0];
  return (
    <nav aria-label="Sections" className="-mx-1 flex gap-1 overflow-x-auto text-sm">
      {items.map((i) => (
        <Link
          key={i.href}
          href={i.href}
          aria-current={i === current ? 'page' : undefined}
          className={`whitespace-nowrap rounded px-2 py-1 ${i === current ? 'bg-slate-900 text-white' : 'text-slate-700 hover:bg-slate-100'}`}
        >
          {i.label}
        </Link>
      ))}
    </nav>
  );
}
