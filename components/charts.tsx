/**
 * Small SVG charts for the console: bars over categories (backups per day, failures by
 * reason) and points over time (a handset's backup sizes). Plain SVG scaled to its box, so
 * they render on the server, print, and need no library; each has a text alternative for
 * screen readers (a <title> and a visually hidden table of the same figures).
 */
import type { ReactNode } from 'react';

export interface Bar {
  label: string;
  /** Stacked parts, bottom first; each part's colour comes from `series`. */
  values: number[];
  href?: string;
}

export interface Series {
  name: string;
  color: string;
}

const W = 640;
const H = 200;
const PAD = { top: 10, right: 8, bottom: 28, left: 44 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function Legend({ series }: { series: Series[] }) {
  if (series.length < 2) return null;
  return (
    <ul className="mt-1 flex flex-wrap gap-3 text-xs text-slate-600" aria-hidden="true">
      {series.map((s) => (
        <li key={s.name} className="flex items-center gap-1">
          <span className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: s.color }} />
          {s.name}
        </li>
      ))}
    </ul>
  );
}

function SrTable({ caption, head, rows }: { caption: string; head: string[]; rows: ReactNode[][] }) {
  return (
    <table className="sr-only">
      <caption>{caption}</caption>
      <thead>
        <tr>
          {head.map((h) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {r.map((c, j) => (
              <td key={j}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Vertical bars, optionally stacked. `format` writes the axis and tooltips (e.g. bytes). */
export function BarChart({
  title,
  bars,
  series,
  format = String,
}: {
  title: string;
  bars: Bar[];
  series: Series[];
  format?: (n: number) => string;
}) {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.values.reduce((a, v) => a + v, 0))));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const slot = bars.length ? iw / bars.length : iw;
  const bw = Math.max(2, Math.min(40, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(bars.length / 12));
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} className="h-auto w-full">
        <title>{title}</title>
        {[0, 0.5, 1].map((f) => {
          const y = PAD.top + ih * (1 - f);
          return (
            <g key={f}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} stroke="#e2e8f0" />
              <text x={PAD.left - 4} y={y + 4} textAnchor="end" fontSize="10" fill="#64748b">
                {format(max * f)}
              </text>
            </g>
          );
        })}
        {bars.map((b, i) => {
          const x = PAD.left + i * slot + (slot - bw) / 2;
          let y = PAD.top + ih;
          const parts = b.values.map((v, k) => {
            const h = (v / max) * ih;
            y -= h;
            return h > 0 ? (
              <rect key={k} x={x} y={y} width={bw} height={h} fill={series[k]?.color ?? '#334155'}>
                <title>{`${b.label}: ${series[k]?.name ?? ''} ${format(v)}`}</title>
              </rect>
            ) : null;
          });
          return (
            <g key={b.label + i}>
              {b.href ? <a href={b.href}>{parts}</a> : parts}
              {i % labelEvery === 0 ? (
                <text x={x + bw / 2} y={H - PAD.bottom + 14} textAnchor="middle" fontSize="10" fill="#64748b">
                  {b.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
      <SrTable
        caption={title}
        head={['', ...series.map((s) => s.name)]}
        rows={bars.map((b) => [b.label, ...b.values.map(format)])}
      />
    </figure>
  );
}

export interface Point {
  /** Milliseconds since the epoch. */
  t: number;
  value: number;
  /** Picks the marker colour from `tones`. */
  kind: string;
  label: string;
  href?: string;
}

/** The least distance between two markers' centres: a marker is 9 units wide, plus a gap. */
const MIN_MARKER_GAP = 11;

/**
 * Where each marker goes: at its time, but never closer than MIN_MARKER_GAP to the one before,
 * so several backups on one day are several markers, not one drawn over the others. Markers
 * pushed past the right edge are pushed back from it; when even that cannot fit them all, they
 * are spread evenly (order kept, time lost).
 */
function spread(xs: number[], left: number, right: number): number[] {
  const out = [...xs];
  for (let i = 1; i < out.length; i++) out[i] = Math.max(out[i]!, out[i - 1]! + MIN_MARKER_GAP);
  if (out.length && out.at(-1)! > right) {
    out[out.length - 1] = right;
    for (let i = out.length - 2; i >= 0; i--) out[i] = Math.min(out[i]!, out[i + 1]! - MIN_MARKER_GAP);
  }
  if (out.length > 1 && out[0]! < left) return out.map((_, i) => left + ((right - left) * i) / (out.length - 1));
  return out;
}

/**
 * Points over time joined by a line (a handset's backup sizes, newest right). Markers are
 * coloured by `kind` (a trigger or a status) and link to `href` when given; each is drawn, however
 * close in time to the next.
 */
export function TimeChart({
  title,
  points,
  tones,
  format = String,
  formatTime,
}: {
  title: string;
  points: Point[];
  tones: Record<string, string>;
  format?: (n: number) => string;
  formatTime: (t: number) => string;
}) {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const t0 = sorted[0]?.t ?? 0;
  const t1 = sorted.at(-1)?.t ?? 1;
  const span = Math.max(1, t1 - t0);
  const max = niceMax(Math.max(0, ...sorted.map((p) => p.value)));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const xs = spread(
    sorted.map((p) => PAD.left + (sorted.length < 2 ? iw / 2 : ((p.t - t0) / span) * iw)),
    PAD.left,
    W - PAD.right,
  );
  const x = (i: number) => xs[i]!;
  const y = (v: number) => PAD.top + ih * (1 - v / max);
  const path = sorted.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const kinds = [...new Set(sorted.map((p) => p.kind))];
  return (
    <figure>
      {/* The markers' links sit over the drawing, not in it: an image's content is not interactive. */}
      <div className="relative">
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} className="h-auto w-full">
          <title>{title}</title>
          {[0, 0.5, 1].map((f) => (
            <g key={f}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y(max * f)} y2={y(max * f)} stroke="#e2e8f0" />
              <text x={PAD.left - 4} y={y(max * f) + 4} textAnchor="end" fontSize="10" fill="#64748b">
                {format(max * f)}
              </text>
            </g>
          ))}
          {sorted.length > 1 ? <path d={path} fill="none" stroke="#94a3b8" strokeWidth="1.5" /> : null}
          {sorted.map((p, i) => (
            <circle
              key={i}
              data-point=""
              cx={x(i)}
              cy={y(p.value)}
              r="4.5"
              fill={tones[p.kind] ?? '#334155'}
              stroke="white"
              strokeWidth="1.5"
            >
              <title>{p.label}</title>
            </circle>
          ))}
          {sorted.length ? (
            <>
              <text x={PAD.left} y={H - 8} fontSize="10" fill="#64748b">
                {formatTime(t0)}
              </text>
              <text x={W - PAD.right} y={H - 8} textAnchor="end" fontSize="10" fill="#64748b">
                {formatTime(t1)}
              </text>
            </>
          ) : null}
        </svg>
        {sorted.map((p, i) =>
          p.href ? (
            <a
              key={i}
              data-point=""
              href={p.href}
              aria-label={p.label}
              title={p.label}
              className="absolute block h-4 w-4 -translate-x-1/2 -translate-y-1/2 rounded-full focus:outline-2 focus:outline-sky-700"
              style={{ left: `${(x(i) / W) * 100}%`, top: `${(y(p.value) / H) * 100}%` }}
            />
          ) : null,
        )}
      </div>
      <Legend series={kinds.map((k) => ({ name: k, color: tones[k] ?? '#334155' }))} />
      <SrTable
        caption={title}
        head={['When', 'Value', 'Kind']}
        rows={sorted.map((p) => [formatTime(p.t), format(p.value), p.kind])}
      />
    </figure>
  );
}
