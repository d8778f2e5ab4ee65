/**
 * Logged requests as the drift engine's columns: every row of every request becomes a row;
 * a column is numeric while each of its values is a number, categorical otherwise. The
 * predictions become a `prediction` column (categorical: a class label's distribution).
 */
import type { RequestLogEntry } from '../../protocol/serving';
import type { CategoricalColumn, Column, LoadedTable } from '../drift/columns';

type Value = RequestLogEntry['rows'] extends (infer R)[][] | undefined ? R : never;

class Builder {
  private readonly values: Value[] = [];
  constructor(readonly name: string) {}
  push(v: Value | undefined): void {
    this.values.push(v === undefined ? null : v);
  }
  build(forceCategorical = false): Column {
    const numeric = !forceCategorical && this.values.every((v) => v === null || (typeof v === 'number' && Number.isFinite(v)));
    if (numeric) return { kind: 'numeric', name: this.name, values: Float64Array.from(this.values, (v) => (v === null ? Number.NaN : (v as number))) };
    return categorical(this.name, this.values.map((v) => (v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v))));
  }
}

export function categorical(name: string, values: (string | undefined)[]): CategoricalColumn {
  const dict = new Map<string, number>();
  const labels: string[] = [];
  const codes = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (v === undefined) return void (codes[i] = -1);
    let k = dict.get(v);
    if (k === undefined) {
      k = labels.length;
      dict.set(v, k);
      labels.push(v);
    }
    codes[i] = k;
  });
  return { kind: 'categorical', name, codes, labels, datetime: false };
}

/** A prediction as a category label: class labels as they are, objects as JSON. */
export function predictionLabel(p: unknown): string | undefined {
  if (p === null || p === undefined) return undefined;
  return typeof p === 'string' ? p : typeof p === 'number' || typeof p === 'boolean' ? String(p) : JSON.stringify(p);
}

/** The input rows of the entries as columns (only `only` when given). */
export function entriesToTable(entries: readonly RequestLogEntry[], only?: readonly string[]): LoadedTable {
  const builders = new Map<string, Builder>();
  let rows = 0;
  for (const e of entries) {
    if (!e.rows?.length || !e.columns?.length) continue;
    const idx: [Builder, number][] = [];
    e.columns.forEach((c, i) => {
      if (only && !only.includes(c)) return;
      let b = builders.get(c);
      if (!b) {
        b = new Builder(c);
        // A column first seen now has nulls for the rows before.
        for (let r = 0; r < rows; r++) b.push(null);
        builders.set(c, b);
      }
      idx.push([b, i]);
    });
    for (const row of e.rows) {
      const seen = new Set<Builder>();
      for (const [b, i] of idx) (b.push(row[i]), seen.add(b));
      for (const b of builders.values()) if (!seen.has(b)) b.push(null);
      rows++;
    }
  }
  return { rows, columns: [...builders.values()].map((b) => b.build()) };
}

/** The predictions of the entries as one categorical column named `prediction`. */
export function predictionsColumn(entries: readonly RequestLogEntry[]): CategoricalColumn {
  const values: (string | undefined)[] = [];
  for (const e of entries) for (const p of e.predictions ?? []) values.push(predictionLabel(p));
  return categorical('prediction', values);
}
