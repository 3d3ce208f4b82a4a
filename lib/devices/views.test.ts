/** The device page's rules: coverage ages, why a job is pending, the timeline's points, and which backups a diff compares. */
import { describe, expect, it } from 'vitest';
import type { JobRow } from '@/db/queries/jobs';
import type { JobRequestOf } from '@/lib/jobs/kinds';
import type { SnapshotRow } from '@/db/queries/snapshots';
import {
  choosePair,
  coverage,
  networkView,
  parseDay,
  pendingJobView,
  policySummary,
  previousComplete,
  resolveSince,
  staleAfterMs,
  timelinePoints,
} from './views';

const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const H = 3_600_000;
const DAY = 24 * H;

function snap(p: Partial<SnapshotRow> & { id: string }): SnapshotRow {
  return {
    deviceId: 'dev-1',
    jobId: null,
    trigger: 'scheduled',
    status: 'complete',
    categories: '["settings","appdata"]',
    rootHash: 'r',
    entries: 10,
    bytes: 1000,
    newBytes: 0,
    legalHold: false,
    error: null,
    changeDetection: null,
    changeMarks: null,
    sessionRef: null,
    airBytesUp: null,
    airBytesDown: null,
    airRoundTrips: null,
    digestDefect: null,
    startedAt: (p.completedAt ?? NOW) - 1000,
    completedAt: NOW,
    ...p,
  };
}

function job(p: Partial<Omit<JobRow, 'kind' | 'payload'>> & Partial<JobRequestOf> = {}): JobRow {
  return {
    id: 'job-1',
    deviceId: 'dev-1',
    kind: 'backup',
    status: 'queued',
    payload: { trigger: 'on-demand', categories: ['settings'], actor: 'a' },
    result: null,
    error: null,
    sessionRef: null,
    progress: null,
    dependsOn: null,
    wakePending: false,
    attempts: 0,
    notBefore: null,
    createdAt: NOW - H,
    updatedAt: NOW - H,
    ...p,
  } as JobRow;
}

const DAILY = { categories: '["settings","appdata","firmware"]', intervalMinutes: 24 * 60 };

describe('coverage', () => {
  it('gives each category the newest complete backup that held it, fresh within two intervals, stale after, never without one', () => {
    const rows = coverage(
      [
        snap({ id: 'old', categories: '["settings","appdata","firmware"]', completedAt: NOW - 5 * DAY }),
        snap({ id: 'new', categories: '["settings"]', completedAt: NOW - 2 * H }),
        // Failed and incomplete attempts do not count, however recent.
        snap({ id: 'bad', categories: '["appdata","firmware"]', status: 'failed', completedAt: NOW - H }),
        snap({ id: 'running', categories: '["appdata"]', status: 'incomplete', completedAt: null }),
      ],
      DAILY,
      NOW,
    );
    const by = Object.fromEntries(rows.map((r) => [r.category, r]));
    expect(by.settings).toMatchObject({ snapshotId: 'new', lastAt: NOW - 2 * H, state: 'fresh', inPolicy: true });
    expect(by.appdata).toMatchObject({ snapshotId: 'old', state: 'stale', inPolicy: true });
    expect(by.firmware).toMatchObject({ snapshotId: 'old', state: 'stale' });
    expect(by.certificates).toMatchObject({ snapshotId: null, lastAt: null, state: 'never', inPolicy: false });
    expect(rows.map((r) => r.category)).toEqual(['settings', 'certificates', 'appdata', 'applications', 'firmware']);
  });

  it('puts the stale line at two intervals, or a month when nothing is scheduled', () => {
    expect(staleAfterMs({ intervalMinutes: 60 })).toBe(2 * H);
    expect(staleAfterMs({ intervalMinutes: 0 })).toBe(30 * DAY);
    const at = (ago: number) =>
      coverage(
        [snap({ id: 's', completedAt: NOW - ago })],
        { categories: '["settings"]', intervalMinutes: 60 },
        NOW,
      )[0]!.state;
    expect(at(2 * H)).toBe('fresh');
    expect(at(2 * H + 1)).toBe('stale');
  });
});

describe('pending job reasons', () => {
  it('says a job waits for its safety backup, and that it cannot run once that failed', () => {
    const restore = job({ kind: 'restore', payload: { planId: 'p', actor: 'a' }, dependsOn: 'safety' });
    const safety = { kind: 'backup' as const, payload: { trigger: 'safety' as const, categories: [], actor: 'a' } };
    expect(pendingJobView(restore, { ...safety, status: 'running' }, NOW)).toMatchObject({
      title: 'Restore',
      reason: 'waiting for the safety backup',
      tone: 'info',
    });
    expect(pendingJobView(restore, { ...safety, status: 'failed' }, NOW)).toMatchObject({
      reason: 'cannot run: the safety backup ended failed',
      tone: 'bad',
    });
    // Once it succeeded the dependency says nothing more: the job waits like any other.
    expect(pendingJobView(restore, { ...safety, status: 'succeeded' }, NOW).reason).toBe(
      'waiting for the handset to connect',
    );
  });

  it("passes on the policy's network deferral as it was written", () => {
    const v = pendingJobView(
      job({
        error: 'waiting for Wi-Fi: the policy backs up on Wi-Fi only',
        payload: { trigger: 'scheduled', categories: ['settings'], actor: 'a' },
      }),
      undefined,
      NOW,
    );
    expect(v).toMatchObject({
      title: 'Backup (scheduled)',
      reason: 'waiting for Wi-Fi: the policy backs up on Wi-Fi only',
      tone: 'warn',
      detail: null,
    });
  });

  it('tells a backoff by its time and the last attempt', () => {
    const v = pendingJobView(
      job({
        error: 'the session ended before the job finished',
        notBefore: NOW + 30_000,
        attempts: 2,
        wakePending: true,
      }),
      undefined,
      NOW,
    );
    expect(v).toMatchObject({
      reason: 'retrying after 2025-03-10 12:00:30Z',
      detail: 'last attempt: the session ended before the job finished',
      tone: 'warn',
      attempts: 2,
    });
    // Backoff over: it goes in the next session.
    expect(
      pendingJobView(
        job({ error: 'the session ended before the job finished', notBefore: NOW - 1, attempts: 2 }),
        undefined,
        NOW,
      ),
    ).toMatchObject({
      reason: "retrying in the handset's next session",
      detail: 'last attempt: the session ended before the job finished',
    });
  });

  it('says when the user put a restore off until Wi-Fi', () => {
    const v = pendingJobView(
      job({
        kind: 'restore',
        payload: { planId: 'p', actor: 'a' },
        progress: JSON.stringify({ consent: 'wifi-wait', promptCode: '1103', open: [], created: [] }),
        error: 'deferred by the user until the handset is on Wi-Fi',
      }),
      undefined,
      NOW,
    );
    expect(v).toMatchObject({ reason: 'deferred by the user until the handset is on Wi-Fi', tone: 'warn' });
  });

  it('tells waking from waiting, and a running job by where it is', () => {
    expect(pendingJobView(job({ wakePending: true }), undefined, NOW).reason).toMatch(/^waking the handset/);
    expect(pendingJobView(job(), undefined, NOW).reason).toBe('waiting for the handset to connect');
    const running = job({
      status: 'running',
      sessionRef: 's1',
      progress: JSON.stringify({
        snapshotId: 'x',
        categories: [],
        roots: [],
        open: [],
        seq: 0,
        nodes: 42,
        newBytes: 0,
        missing: [],
        unreadable: [],
        errors: [],
      }),
    });
    expect(pendingJobView(running, undefined, NOW)).toMatchObject({
      reason: 'running in a session with the handset',
      detail: '42 nodes read so far',
    });
    expect(
      pendingJobView(
        job({
          kind: 'local-backup',
          status: 'running',
          payload: { target: 'smartcard', categories: ['settings'], actor: 'a' },
        }),
        undefined,
        NOW,
      ),
    ).toMatchObject({
      title: "Backup to the handset's smart card",
      reason: 'waiting for the handset to report the result',
    });
    const asking = job({
      kind: 'restore',
      status: 'running',
      sessionRef: 's1',
      payload: { planId: 'p', actor: 'a' },
      progress: JSON.stringify({ consent: 'asked' }),
    });
    expect(pendingJobView(asking, undefined, NOW).reason).toBe("waiting for the user's answer on the handset");
  });
});

describe('timeline points', () => {
  const fmt = { bytes: (n: number) => `${n} B`, time: (t: number) => String(t) };

  it('plots every attempt oldest first, coloured by trigger, failed ones as failed, each linked', () => {
    const points = timelinePoints(
      [
        snap({ id: 'c', trigger: 'on-demand', completedAt: NOW, bytes: 3000 }),
        snap({
          id: 'b',
          status: 'incomplete',
          error: 'the session ended before the job finished',
          completedAt: null,
          startedAt: NOW - H,
          bytes: 10,
        }),
        snap({ id: 'a', trigger: 'scheduled', completedAt: NOW - DAY, bytes: 2000 }),
        snap({ id: 'r', status: 'incomplete', completedAt: null, startedAt: NOW + 1 }),
      ],
      fmt,
    );
    expect(points.map((p) => [p.kind, p.value])).toEqual([
      ['scheduled', 2000],
      ['failed', 10],
      ['on-demand', 3000],
      ['in progress', 1000],
    ]);
    expect(points[0]!.href).toBe('/devices/dev-1/snapshots/a');
    expect(points[1]!.href).toBe('/devices/dev-1#snapshot-b');
    expect(points[1]!.t).toBe(NOW - H);
    expect(points[2]!.label).toBe(`${NOW}: on-demand backup, 10 nodes, 3000 B`);
  });

  it('keeps every backup of one day as its own point', () => {
    const points = timelinePoints(
      [0, 1, 2].map((i) => snap({ id: `d${i}`, completedAt: NOW + i * 60_000, entries: 1, bytes: 100 + i })),
      fmt,
    );
    expect(points.map((p) => p.href)).toEqual(['d0', 'd1', 'd2'].map((id) => `/devices/dev-1/snapshots/${id}`));
    expect(points[0]!.label).toMatch(/, 1 node, /);
  });
});

describe('what changed since', () => {
  const list = [
    snap({ id: 'mar1', completedAt: Date.UTC(2025, 2, 1, 9) }),
    snap({ id: 'mar5', completedAt: Date.UTC(2025, 2, 5, 23, 59) }),
    snap({ id: 'mar6-failed', status: 'failed', completedAt: Date.UTC(2025, 2, 6, 1) }),
    snap({ id: 'mar8', completedAt: Date.UTC(2025, 2, 8, 10) }),
  ];

  it('compares the last complete backup before the day began with the newest', () => {
    expect(resolveSince(list, '2025-03-06')).toEqual({ ok: true, from: 'mar5', to: 'mar8' });
    expect(resolveSince(list, '2025-03-05')).toEqual({ ok: true, from: 'mar1', to: 'mar8' });
  });

  it('starts from the first backup when none is older, and says so', () => {
    const r = resolveSince(list, '2025-02-01');
    expect(r).toMatchObject({ ok: true, from: 'mar1', to: 'mar8' });
    expect(r.ok && r.note).toMatch(/No backup is older than 2025-02-01/);
  });

  it('says when nothing was backed up since, or the date is not one', () => {
    expect(resolveSince(list, '2025-03-09')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Nothing was backed up since 2025-03-09/),
    });
    expect(resolveSince(list, '2025-02-30')).toMatchObject({ ok: false, error: expect.stringMatching(/not a date/) });
    expect(resolveSince(list, "2025-03-01' or 1=1")).toMatchObject({ ok: false });
    expect(resolveSince([list[0]!], '2025-01-01')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/only one complete backup/),
    });
    expect(parseDay('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDay('2025-02-29')).toBeUndefined();
  });
});

describe('choosing the two backups of a diff', () => {
  const own = [
    snap({ id: 'a', completedAt: NOW - DAY }),
    snap({ id: 'b', completedAt: NOW }),
    snap({ id: 'x', status: 'failed', completedAt: null }),
  ];
  const elsewhere = (id: string) => (id === 'theirs' ? ('other-device' as const) : ('missing' as const));

  it('takes the newest two by default, or the two asked for', () => {
    expect(choosePair(own, {}, elsewhere)).toEqual({ ok: true, from: 'a', to: 'b' });
    expect(choosePair(own, { from: 'b', to: 'a' }, elsewhere)).toEqual({ ok: true, from: 'b', to: 'a' });
    expect(choosePair(own, { since: '2000-01-01' }, elsewhere)).toMatchObject({ ok: true, from: 'a', to: 'b' });
  });

  it("refuses another handset's backup, a missing one and an incomplete one, each in its own words", () => {
    expect(choosePair(own, { from: 'a', to: 'theirs' }, elsewhere)).toEqual({
      ok: false,
      error: 'The second backup belongs to another handset: pick two backups of this handset.',
    });
    expect(choosePair(own, { from: 'gone', to: 'a' }, elsewhere)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/no such backup \(the first one\)/),
    });
    expect(choosePair(own, { from: 'a', to: 'x' }, elsewhere)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/second backup is failed/),
    });
    expect(choosePair(own, { from: 'a' }, elsewhere)).toMatchObject({ ok: false });
    expect(choosePair([own[0]!], {}, elsewhere)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/two complete backups/),
    });
  });

  it('links each complete backup to the one before it', () => {
    const same = [snap({ id: 'p', completedAt: NOW }), snap({ id: 'q', completedAt: NOW }), ...own];
    const prev = previousComplete(same);
    expect(prev.get('a')).toBeUndefined();
    expect(prev.get('b')).toBe('a');
    // Same millisecond: ordered by id, never each other's previous.
    expect(prev.get('p')).toBe('b');
    expect(prev.get('q')).toBe('p');
    expect(prev.has('x')).toBe(false);
  });
});

describe('handset facts', () => {
  it('reads the network state, and nothing from what is not one', () => {
    expect(networkView('{"bearer":"cellular","roaming":true,"operator":"Vodafone UK"}')).toEqual({
      bearer: 'cellular',
      roaming: true,
      operator: 'Vodafone UK',
    });
    expect(networkView(null)).toBeNull();
    expect(networkView('not json')).toBeNull();
    expect(networkView('{"bearer":7}')).toEqual({ bearer: null, roaming: false, operator: null });
  });

  it('sums up the policy', () => {
    expect(policySummary({ name: 'Standard', intervalMinutes: 1440, wifiOnly: false, roamingAllowed: false })).toBe(
      'Standard: every day, not while roaming',
    );
    expect(policySummary({ name: 'Night', intervalMinutes: 360, wifiOnly: true, roamingAllowed: true })).toBe(
      'Night: every 6 hours, Wi-Fi only',
    );
    expect(policySummary({ name: 'Manual', intervalMinutes: 0, wifiOnly: false, roamingAllowed: true })).toBe(
      'Manual: on demand only',
    );
  });
});
