/**
 * Send Test Request: an editable Open Inference Protocol v2 request prefilled from the served
 * version's signature (each input's name, datatype and shape with symbolic dims as 1; values
 * of a real row when the model names its features and a CSV the source run wrote has them),
 * sent to the deployment with the workspace token; the response and its latency come back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelVersion, TensorSpec } from '../../../protocol/registry';
import { REQUEST_ID_HEADER } from '../../../protocol/serving';
import type { DaemonClient } from '../../../orchestrator/api-client';
import { isInside } from '../../../orchestrator/daemon/paths';
import { VERSION_HEADER } from '../../../orchestrator/serving/http-front';
import { v2Datatype } from '../../../orchestrator/serving/tensors';

/** The request body of a v2 `infer` call. */
export interface V2Request {
  id?: string;
  inputs: { name: string; datatype: string; shape: number[]; data: unknown[]; parameters?: Record<string, string> }[];
}

/** What one test request got back. */
export interface TestResponse {
  url: string;
  status: number;
  ok: boolean;
  latencyMs: number;
  requestId?: string;
  /** The served version, when the server says which (response header). */
  version?: string;
  /** The parsed JSON answer, or the text when it is not JSON. */
  body: unknown;
  /** The server's own message for a refused request (`{error: {message}}` or `{error: "…"}`). */
  error?: string;
}

/** How much of a CSV is read to find one example row. */
const CSV_HEAD_BYTES = 64 * 1024;

function featureNames(v: ModelVersion): string[] | undefined {
  try {
    const names: unknown = JSON.parse(v.signature?.metadata?.feature_names ?? '');
    return Array.isArray(names) && names.every((n) => typeof n === 'string') ? names : undefined;
  } catch {
    return undefined;
  }
}

/** A zero of the tensor's type, for inputs nothing better is known for. */
function zero(type: string): unknown {
  return type === 'string' ? '' : type === 'bool' ? false : 0;
}

/** The prefilled request: one tensor per signature input, one row. */
export function buildTestRequest(v: ModelVersion, example?: number[]): V2Request {
  const names = featureNames(v);
  const inputs = (v.signature?.inputs ?? []).map((spec: TensorSpec) => {
    const shape = (spec.shape ?? [1]).map((d) => (typeof d === 'number' ? d : 1));
    const count = shape.reduce((a, b) => a * b, 1);
    const single = (v.signature?.inputs.length ?? 0) === 1;
    const values = single && example && example.length === count ? example : Array.from({ length: count }, () => zero(spec.type));
    // Nested by rows for 2-D inputs, so a row reads as one line of the document.
    const data = shape.length === 2 ? Array.from({ length: shape[0]! }, (_, i) => values.slice(i * shape[1]!, (i + 1) * shape[1]!)) : values;
    // The feature names come before the row, so the values can be read against them.
    return {
      name: spec.name,
      datatype: v2Datatype(spec.type),
      shape,
      ...(single && names && shape.length === 2 && shape[1] === names.length ? { parameters: { feature_names: names.join(', ') } } : {}),
      data,
    };
  });
  return { id: 'test-request', inputs };
}

/**
 * A real row for the model's features: the first complete row of a CSV the version's source
 * run (or its pipeline's steps) wrote, whose header has every feature name.
 */
export async function exampleRow(client: DaemonClient, workspace: string, v: ModelVersion): Promise<number[] | undefined> {
  const names = featureNames(v);
  if (!names) return undefined;
  const ids = [...new Set([v.lineage.pipelineRunId, v.runId].filter((x): x is string => !!x))];
  const csvs = new Set<string>();
  for (const id of ids) {
    const run = await client.getRun(id).catch(() => undefined);
    if (!run) continue;
    for (const a of run.artifacts) if (a.path.endsWith('.csv')) csvs.add(a.path);
    for (const child of run.children.slice(0, 20)) {
      const c = await client.getRun(child.id).catch(() => undefined);
      for (const a of c?.artifacts ?? []) if (a.path.endsWith('.csv')) csvs.add(a.path);
    }
  }
  for (const rel of csvs) {
    const file = path.resolve(workspace, rel);
    if (!isInside(workspace, file)) continue;
    const row = firstRow(file, names);
    if (row) return row;
  }
  return undefined;
}

function firstRow(file: string, names: string[]): number[] | undefined {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(CSV_HEAD_BYTES);
      text = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(',').map((h) => h.trim().replace(/^"|"$/g, '')) ?? [];
  const at = names.map((n) => header.indexOf(n));
  if (at.some((i) => i < 0)) return undefined;
  // The last line may be cut by the read: only whole lines before it.
  for (const line of lines.slice(1, -1)) {
    const cells = line.split(',');
    const row = at.map((i) => Number(cells[i]));
    if (cells.length === header.length && row.every(Number.isFinite)) return row;
  }
  return undefined;
}

/** Posts `body` (JSON text or a value) and times the answer. */
export async function sendTestRequest(url: string, body: string | unknown, token: string | undefined, timeoutMs = 30_000): Promise<TestResponse> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: text,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const raw = await res.text();
  const latencyMs = performance.now() - t0;
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // not JSON: kept as text
  }
  const err = (parsed as { error?: unknown } | undefined)?.error;
  const error = res.ok ? undefined : typeof err === 'string' ? err : typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : raw.slice(0, 500) || `HTTP ${res.status}`;
  return {
    url,
    status: res.status,
    ok: res.ok,
    latencyMs,
    requestId: res.headers.get(REQUEST_ID_HEADER) ?? undefined,
    version: res.headers.get(VERSION_HEADER) ?? undefined,
    body: parsed,
    ...(error ? { error } : {}),
  };
}

/** JSON with two-space indents, but lists of plain values on one line (a row of features reads as a row). */
export function formatJson(v: unknown, indent = ''): string {
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${formatJson(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The response as the read-only response document shows it: a comment header, then the JSON. */
export function responseText(r: TestResponse, deployment: string): string {
  const head = [
    `// ${deployment}: POST ${r.url}`,
    `// ${r.status}${r.ok ? ' OK' : ''} in ${r.latencyMs.toFixed(1)} ms${r.version ? ` · served by v${r.version}` : ''}${r.requestId ? ` · ${REQUEST_ID_HEADER} ${r.requestId}` : ''}`,
  ];
  if (r.error) head.push(`// refused: ${r.error}`);
  return `${head.join('\n')}\n${typeof r.body === 'string' ? r.body : formatJson(r.body)}\n`;
}
