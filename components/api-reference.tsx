/**
 * The REST API's reference, rendered from its OpenAPI document: operations grouped by tag,
 * each with its parameters, request body and responses, and the shared schemas they name.
 * Server-rendered, no script: it reads and prints like a page of documentation.
 */
import type { ReactNode } from 'react';
import { Badge, Card, Table, cx, tdClass, thClass } from './ui';

/** The parts of an OpenAPI 3.1 document this page reads; everything else is ignored. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: readonly unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: boolean | Schema;
  oneOf?: readonly Schema[];
  anyOf?: readonly Schema[];
  allOf?: readonly Schema[];
  description?: string;
  format?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  example?: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
  example?: unknown;
}
interface Media {
  schema?: Schema;
  example?: unknown;
}
interface Operation {
  summary?: string;
  description?: string;
  tags?: readonly string[];
  parameters?: readonly Parameter[];
  requestBody?: { required?: boolean; description?: string; content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
}
export interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  servers?: ReadonlyArray<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const METHOD_TONE = { get: 'info', post: 'good', put: 'warn', patch: 'warn', delete: 'bad' } as const;

const refName = (ref: string) => ref.split('/').at(-1) ?? ref;
const anchor = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
export const operationId = (method: string, path: string) => `op-${method}-${anchor(path)}`;

/** A schema in one line where it fits: `Job`, `string[]`, `"a" | "b"`, `integer ≥ 1`. */
function TypeText({ s }: { s: Schema | undefined }): ReactNode {
  if (!s) return <span className="text-slate-500">any</span>;
  if (s.$ref)
    return (
      <a href={`#schema-${anchor(refName(s.$ref))}`} className="text-sky-700 hover:underline">
        {refName(s.$ref)}
      </a>
    );
  if (s.enum) return <span>{s.enum.map((v) => JSON.stringify(v)).join(' | ')}</span>;
  const union = s.oneOf ?? s.anyOf;
  if (union)
    return (
      <span>
        {union.map((u, i) => (
          <span key={i}>
            {i ? ' | ' : ''}
            <TypeText s={u} />
          </span>
        ))}
      </span>
    );
  if (s.allOf)
    return (
      <span>
        {s.allOf.map((u, i) => (
          <span key={i}>
            {i ? ' & ' : ''}
            <TypeText s={u} />
          </span>
        ))}
      </span>
    );
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (type === 'array')
    return (
      <span>
        <TypeText s={s.items} />
        []
      </span>
    );
  if (s.properties) return <span>object</span>;
  const bounds = [s.minimum !== undefined && `≥ ${s.minimum}`, s.maximum !== undefined && `≤ ${s.maximum}`]
    .filter(Boolean)
    .join(', ');
  return (
    <span>
      {type ?? 'any'}
      {s.format ? ` (${s.format})` : ''}
      {bounds ? ` ${bounds}` : ''}
    </span>
  );
}

/** An object's properties as a nested list; other schemas as their one-line type. */
function SchemaView({ s, depth = 0 }: { s: Schema | undefined; depth?: number }) {
  const inner = s?.items && !s.items.$ref ? s.items : s;
  const parts = inner?.allOf?.filter((p) => p.properties);
  const props =
    inner?.properties ??
    (parts?.length ? (Object.assign({}, ...parts.map((p) => p.properties)) as Record<string, Schema>) : undefined);
  if (!props || depth > 3)
    return (
      <code className="text-xs">
        <TypeText s={s} />
      </code>
    );
  const required = new Set(inner?.required ?? []);
  return (
    <div className="text-xs">
      {inner !== s ? (
        <span className="text-slate-600">array of:</span>
      ) : inner?.allOf ? (
        <span className="text-slate-600">
          <TypeText s={inner} /> with:
        </span>
      ) : null}
      <ul className={cx('space-y-0.5', depth ? 'ml-4 border-l border-slate-200 pl-2' : '')}>
        {Object.entries(props).map(([name, p]) => (
          <li key={name}>
            <code className="font-semibold">{name}</code>
            {required.has(name) ? (
              <span className="text-red-700" title="required">
                *
              </span>
            ) : null}
            {': '}
            <code>
              <TypeText s={p} />
            </code>
            {p.description ? <span className="text-slate-600"> · {p.description}</span> : null}
            {p.properties || p.items?.properties ? <SchemaView s={p} depth={depth + 1} /> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Content({ content }: { content: Record<string, Media> | undefined }) {
  if (!content) return null;
  return (
    <>
      {Object.entries(content).map(([type, m]) => (
        <div key={type} className="mt-1">
          <span className="font-mono text-xs text-slate-500">{type}</span>
          <SchemaView s={m.schema} />
          {m.example !== undefined ? (
            <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-2 text-xs">
              {typeof m.example === 'string' ? m.example : JSON.stringify(m.example, null, 2)}
            </pre>
          ) : null}
        </div>
      ))}
    </>
  );
}

function OperationView({ method, path, op, base }: { method: string; path: string; op: Operation; base: string }) {
  return (
    <article id={operationId(method, path)} className="border-t border-slate-100 py-4 first:border-t-0">
      <h3 className="flex flex-wrap items-center gap-2">
        <Badge tone={METHOD_TONE[method as keyof typeof METHOD_TONE] ?? 'neutral'}>{method.toUpperCase()}</Badge>
        <code className="break-all text-sm font-semibold">
          {base}
          {path}
        </code>
        <span className="text-sm text-slate-700">{op.summary}</span>
      </h3>
      {op.description ? <p className="mt-1 text-sm text-slate-600">{op.description}</p> : null}
      {op.parameters?.length ? (
        <div className="mt-2">
          <h4 className="text-xs font-medium uppercase tracking-wide text-slate-500">Parameters</h4>
          <Table caption={`Parameters of ${method.toUpperCase()} ${path}`}>
            <thead>
              <tr>
                <th className={thClass}>Name</th>
                <th className={thClass}>In</th>
                <th className={thClass}>Type</th>
                <th className={thClass}>Description</th>
              </tr>
            </thead>
            <tbody>
              {op.parameters.map((p) => (
                <tr key={`${p.in}-${p.name}`}>
                  <td className={`${tdClass} font-mono text-xs`}>
                    {p.name}
                    {p.required ? (
                      <span className="text-red-700" title="required">
                        *
                      </span>
                    ) : null}
                  </td>
                  <td className={`${tdClass} text-xs`}>{p.in}</td>
                  <td className={`${tdClass} font-mono text-xs`}>
                    <TypeText s={p.schema} />
                    {p.schema?.default !== undefined ? ` = ${JSON.stringify(p.schema.default)}` : ''}
                  </td>
                  <td className={`${tdClass} text-xs`}>
                    {p.description ?? ''}
                    {p.example !== undefined ? (
                      <span className="text-slate-500">
                        {' '}
                        e.g. <code>{String(p.example)}</code>
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        </div>
      ) : null}
      {op.requestBody ? (
        <div className="mt-2">
          <h4 className="text-xs font-medium uppercase tracking-wide text-slate-500">
            Request body{op.requestBody.required ? ' (required)' : ''}
          </h4>
          {op.requestBody.description ? <p className="text-xs text-slate-600">{op.requestBody.description}</p> : null}
          <Content content={op.requestBody.content} />
        </div>
      ) : null}
      {op.responses ? (
        <div className="mt-2">
          <h4 className="text-xs font-medium uppercase tracking-wide text-slate-500">Responses</h4>
          <ul className="space-y-1">
            {Object.entries(op.responses).map(([code, r]) => (
              <li key={code} className="text-sm">
                <Badge
                  tone={
                    code.startsWith('2')
                      ? 'good'
                      : code.startsWith('4')
                        ? 'warn'
                        : code.startsWith('5')
                          ? 'bad'
                          : 'neutral'
                  }
                >
                  {code}
                </Badge>{' '}
                <span className="text-slate-700">{r.description}</span>
                <Content content={r.content} />
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </article>
  );
}

export function ApiReference({ doc }: { doc: OpenApiDoc }) {
  const base = doc.servers?.[0]?.url ?? '';
  const groups = new Map<string, Array<{ method: string; path: string; op: Operation }>>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag)!.push({ method, path, op });
    }
  }
  const schemas = Object.entries(doc.components?.schemas ?? {});
  return (
    <div className="space-y-6">
      <nav aria-label="API sections" className="flex flex-wrap gap-2 text-sm">
        {[...groups.keys()].map((tag) => (
          <a
            key={tag}
            href={`#tag-${anchor(tag)}`}
            className="rounded border border-slate-300 bg-white px-2 py-1 hover:bg-slate-50"
          >
            {tag}
          </a>
        ))}
        {schemas.length ? (
          <a href="#schemas" className="rounded border border-slate-300 bg-white px-2 py-1 hover:bg-slate-50">
            schemas
          </a>
        ) : null}
      </nav>
      {[...groups].map(([tag, ops]) => (
        <section
          key={tag}
          id={`tag-${anchor(tag)}`}
          aria-labelledby={`tag-${anchor(tag)}-h`}
          className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
        >
          <h2 id={`tag-${anchor(tag)}-h`} className="text-lg font-medium capitalize">
            {tag}
          </h2>
          {ops.map((o) => (
            <OperationView key={`${o.method} ${o.path}`} {...o} base={base} />
          ))}
        </section>
      ))}
      {schemas.length ? (
        <Card title="Schemas">
          <div id="schemas" className="space-y-4">
            {schemas.map(([name, s]) => (
              <div key={name} id={`schema-${anchor(name)}`}>
                <h3 className="font-mono text-sm font-semibold">{name}</h3>
                {s.description ? <p className="text-xs text-slate-600">{s.description}</p> : null}
                <SchemaView s={s} />
              </div>
            ))}
          </div>
        </Card>
      ) : null}
    </div>
  );
}
