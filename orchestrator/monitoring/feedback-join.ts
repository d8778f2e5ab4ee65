/**
 * Ground truth joined to logged predictions by id. Ids (see protocol/monitoring.ts): a
 * request with one row is `<requestId>` (also `<requestId>:0`); a row of a multi-row request
 * is `<requestId>:<row>`, 0-based. Feedback lines are read from
 * `.mlops/deployments/<name>/feedback/*.jsonl`; a later label for the same id replaces an
 * earlier one.
 */
import type { FeedbackEntry, RequestLogEntry } from '../../protocol/serving';
import { logFilesNewestFirst } from './request-log';
import * as fs from 'node:fs';

/** One labelled id as the feedback log holds it. */
export interface FeedbackLine {
  id: string;
  label: unknown;
  at?: number;
}

export interface JoinedOutcome {
  id: string;
  version: number;
  /** When the request was served. */
  at: number;
  prediction: unknown;
  label: unknown;
}

/** A prediction's comparable value: command models may answer `{label: …}` or `{prediction: …}`. */
export function predictedValue(p: unknown): unknown {
  if (p && typeof p === 'object' && !Array.isArray(p)) {
    const o = p as Record<string, unknown>;
    for (const k of ['label', 'prediction', 'class', 'value']) if (k in o) return o[k];
  }
  return p;
}

/** Every feedback line of the folder, oldest file first; lines that are not `{id, label}` are skipped. */
export function readFeedback(dir: string): FeedbackLine[] {
  const out: FeedbackLine[] = [];
  for (const file of logFilesNewestFirst(dir).reverse()) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const o = JSON.parse(line) as Partial<FeedbackEntry> & { label?: unknown };
        if (typeof o.id !== 'string') continue;
        const at = typeof o.at === 'number' ? o.at : undefined;
        // FeedbackEntry: labels in the request's row order; one label may also name one row (`abc:2`).
        const labels = Array.isArray(o.labels) ? o.labels : 'label' in o ? [o.label] : [];
        if (labels.length === 1) {
          if (labels[0] !== null && labels[0] !== undefined) out.push({ id: o.id, label: labels[0], at });
        } else labels.forEach((label, i) => label !== null && label !== undefined && out.push({ id: `${o.id}:${i}`, label, at }));
      } catch {
        // a torn line while the server appends
      }
    }
  }
  return out;
}

/** Row ids of a logged request (see the file comment). */
export function rowIds(e: RequestLogEntry): string[] {
  const n = e.predictions?.length ?? 0;
  if (n === 1) return [e.id];
  return Array.from({ length: n }, (_, i) => `${e.id}:${i}`);
}

/** Joins labels to predictions; `unmatched` counts labels of ids the log does not hold (rotated away, or wrong). */
export function joinFeedback(entries: readonly RequestLogEntry[], feedback: readonly FeedbackLine[]): { joined: JoinedOutcome[]; unmatched: number } {
  const byId = new Map<string, { e: RequestLogEntry; row: number }>();
  for (const e of entries) {
    if (e.role === 'shadow' || e.status >= 400 || !e.predictions?.length) continue;
    rowIds(e).forEach((id, row) => byId.set(id, { e, row }));
    if (e.predictions.length === 1) byId.set(`${e.id}:0`, { e, row: 0 });
  }
  // `abc:0` and `abc` name the same single row: one key per row, the last label wins.
  const labels = new Map<string, { hit: { e: RequestLogEntry; row: number }; label: unknown }>();
  let unmatched = 0;
  for (const f of feedback) {
    const hit = byId.get(f.id);
    if (hit) labels.set(`${hit.e.id}#${hit.row}`, { hit, label: f.label });
    else unmatched++;
  }
  const joined: JoinedOutcome[] = [];
  for (const { hit, label } of labels.values()) {
    const id = hit.e.predictions!.length === 1 ? hit.e.id : `${hit.e.id}:${hit.row}`;
    joined.push({ id, version: hit.e.version, at: hit.e.at, prediction: predictedValue(hit.e.predictions![hit.row]), label });
  }
  return { joined: joined.sort((a, b) => a.at - b.at), unmatched };
}
