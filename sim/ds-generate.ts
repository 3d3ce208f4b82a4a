/**
 * Deterministic phonebooks and calendars: the virtual handsets' DS stores, and the test
 * corpora SyncEvolution syncs. The same seed gives the same items, byte for byte.
 */
import { Rng, subSeed } from './random';

const GIVEN = [
  'Amelia',
  'Oliver',
  'Isla',
  'Noah',
  'Ava',
  'Leo',
  'Mia',
  'Arthur',
  'Freya',
  'Oscar',
  'Grace',
  'Henry',
  'Lily',
  'Jack',
  'Sophie',
  'Harry',
  'Evie',
  'George',
  'Poppy',
  'Theo',
  'Zara',
  'Idris',
  'Maya',
  'Kofi',
];
const FAMILY = [
  'Hughes',
  'Bennett',
  'Chowdhury',
  'Fraser',
  'Kowalski',
  'Okafor',
  'Santos',
  'Lindqvist',
  'Murphy',
  'Nakamura',
  'Adeyemi',
  'Walsh',
  'Novak',
  'Moreau',
  'Patel',
  'Dubois',
  'MacLeod',
  'Haddad',
  'Jensen',
  'Rossi',
];
const ORGS = ['Northwind', 'Contoso', 'Fabrikam', 'Tailspin', 'Litware', 'Adventure Works', ''];
const EVENTS = [
  'Dentist',
  'Team stand-up',
  'Dinner with {0}',
  'Call {0}',
  'Gym',
  'School run',
  'Flight to Lisbon',
  'Birthday: {0}',
  'Car service',
  'Quarterly review',
];

export interface GeneratedItem {
  /** A file name / LUID: stable per index. */
  id: string;
  text: string;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** `n` contacts as vCard 3.0 (or 2.1), CRLF line ends. */
export function generateContacts(seed: number, n: number, version: '3.0' | '2.1' = '3.0'): GeneratedItem[] {
  const out: GeneratedItem[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Rng(subSeed(seed, `contact:${i}`));
    const given = GIVEN[r.int(0, GIVEN.length - 1)]!;
    const family = FAMILY[r.int(0, FAMILY.length - 1)]!;
    const org = ORGS[r.int(0, ORGS.length - 1)]!;
    const mobile = `+4477009${pad(r.int(0, 99_999), 5)}`;
    const lines = ['BEGIN:VCARD', `VERSION:${version}`, `N:${family};${given};;;`, `FN:${given} ${family}`];
    lines.push(version === '3.0' ? `TEL;TYPE=CELL:${mobile}` : `TEL;CELL:${mobile}`);
    if (r.bool(0.5))
      lines.push(
        version === '3.0'
          ? `TEL;TYPE=HOME:+44207${pad(r.int(0, 9_999_999), 7)}`
          : `TEL;HOME:+44207${pad(r.int(0, 9_999_999), 7)}`,
      );
    if (r.bool(0.7))
      lines.push(
        version === '3.0'
          ? `EMAIL;TYPE=INTERNET:${given.toLowerCase()}.${family.toLowerCase()}${i}@example.net`
          : `EMAIL;INTERNET:${given.toLowerCase()}.${family.toLowerCase()}${i}@example.net`,
      );
    if (org) lines.push(`ORG:${org}`);
    if (r.bool(0.3)) lines.push(`NOTE:Met at ${org || 'the conference'} in ${2015 + r.int(0, 10)}`);
    lines.push('END:VCARD');
    out.push({ id: `contact-${pad(i, 5)}`, text: `${lines.join('\r\n')}\r\n` });
  }
  return out;
}

function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** `n` events as iCalendar 2.0 (or vCalendar 1.0) over the year from 2026-01-05. */
export function generateEvents(seed: number, n: number, version: '2.0' | '1.0' = '2.0'): GeneratedItem[] {
  const out: GeneratedItem[] = [];
  const base = Date.UTC(2026, 0, 5, 8, 0, 0);
  for (let i = 0; i < n; i++) {
    const r = new Rng(subSeed(seed, `event:${i}`));
    const start = base + r.int(0, 360) * 86_400_000 + r.int(0, 20) * 1_800_000;
    const end = start + r.int(1, 6) * 1_800_000;
    const who = GIVEN[r.int(0, GIVEN.length - 1)]!;
    const summary = EVENTS[r.int(0, EVENTS.length - 1)]!.replace('{0}', who);
    const lines =
      version === '2.0'
        ? [
            'BEGIN:VCALENDAR',
            'VERSION:2.0',
            'PRODID:-//Rewind//Virtual handset//EN',
            'BEGIN:VEVENT',
            `UID:rewind-event-${seed}-${i}@example.net`,
            `DTSTART:${stamp(start)}`,
            `DTEND:${stamp(end)}`,
            `SUMMARY:${summary}`,
            ...(r.bool(0.4) ? [`LOCATION:${FAMILY[r.int(0, FAMILY.length - 1)]} House`] : []),
            'END:VEVENT',
            'END:VCALENDAR',
          ]
        : [
            'BEGIN:VCALENDAR',
            'VERSION:1.0',
            'BEGIN:VEVENT',
            `UID:rewind-event-${seed}-${i}@example.net`,
            `DTSTART:${stamp(start)}`,
            `DTEND:${stamp(end)}`,
            `SUMMARY:${summary}`,
            'END:VEVENT',
            'END:VCALENDAR',
          ];
    out.push({ id: `event-${pad(i, 5)}`, text: `${lines.join('\r\n')}\r\n` });
  }
  return out;
}
