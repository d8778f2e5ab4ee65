/**
 * A drift report between a reference and a current table: per column, the test Evidently
 * would pick by default (or the one asked for), its score, threshold and verdict, why it was
 * picked, both distributions binned alike; and the data-set verdict from the share of
 * drifted columns.
 *
 * Evidently's default choice (`get_stattest`), on the non-empty values of each column:
 * - reference ≤ 1000 values: numeric with > 5 distinct values (both samples) → KS (p ≤ 0.05);
 *   otherwise chi-square (> 2 distinct values) or the z-test (≤ 2), p < 0.05;
 * - reference > 1000 values: numeric with > 5 distinct values → normed Wasserstein (≥ 0.1);
 *   otherwise Jensen–Shannon distance (≥ 0.1).
 */
import type { ColumnDrift, ColumnHistogram, ColumnSummary, DriftReport, StatTestName } from '../../protocol/data';
import { MlopsError } from '../../protocol/errors';
import { asCategorical, type CategoricalColumn, type Column, type LoadedTable, type NumericColumn } from './columns';
import { ks2Samp } from './ks';
import { sortFloat64 } from './radix-sort';
import {
  binnedShares,
  chiSquareTest,
  countsSorted,
  distinctSorted,
  histogramSorted,
  jensenShannon,
  linspace,
  mean,
  psi,
  stdPop,
  sturgesEdges,
  wasserstein,
  zTest,
} from './stats';

export const STAT_TESTS: Record<StatTestName, { label: string; scoreKind: 'p_value' | 'distance'; threshold: number; numeric: boolean; categorical: boolean }> = {
  ks: { label: 'K-S p-value', scoreKind: 'p_value', threshold: 0.05, numeric: true, categorical: false },
  chisquare: { label: 'chi-square p-value', scoreKind: 'p_value', threshold: 0.05, numeric: true, categorical: true },
  z: { label: 'Z-test p-value', scoreKind: 'p_value', threshold: 0.05, numeric: true, categorical: true },
  wasserstein: { label: 'Wasserstein distance (normed)', scoreKind: 'distance', threshold: 0.1, numeric: true, categorical: false },
  jensenshannon: { label: 'Jensen-Shannon distance', scoreKind: 'distance', threshold: 0.1, numeric: true, categorical: true },
  psi: { label: 'PSI', scoreKind: 'distance', threshold: 0.1, numeric: true, categorical: true },
};

export function isStatTest(s: string): s is StatTestName {
  return Object.hasOwn(STAT_TESTS, s);
}

export interface DriftOptions {
  /** Only these columns (default: every column present in both). */
  columns?: string[];
  /** Test for every column, and per column. */
  stattest?: StatTestName;
  stattests?: Record<string, StatTestName>;
  threshold?: number;
  thresholds?: Record<string, number>;
  /** Columns to treat as categorical even when they hold numbers. */
  categorical?: string[];
  /** Data-set drift when drifted/tested ≥ this (default 0.5). */
  driftShare?: number;
}

/** Reference samples up to this size use the small-sample tests (KS, chi-square, z). */
const SMALL_REFERENCE = 1000;
/** Numeric columns need more distinct values than this for KS / Wasserstein. */
const FEW_VALUES = 5;
/** Categories drawn per column before the rest are summed as `(other)`. */
const MAX_CATEGORIES = 20;
/** Most bins drawn for a numeric column. */
const MAX_BINS = 40;

interface Side {
  path: string;
  table: LoadedTable;
}

function finiteSorted(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) n++;
  const out = new Float64Array(n);
  n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) out[n++] = values[i]!;
  return sortFloat64(out);
}

/** Distinct values of two sorted arrays together. */
function distinctMerged(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    n++;
  }
  return n;
}

function numericSummary(all: Float64Array, sorted: Float64Array): ColumnSummary {
  const count = sorted.length;
  const m = count ? mean(sorted) : undefined;
  return {
    count,
    missing: all.length - count,
    unique: distinctSorted(sorted),
    mean: m,
    std: count ? stdPop(sorted, m) : undefined,
    min: count ? sorted[0] : undefined,
    max: count ? sorted[count - 1] : undefined,
  };
}

function pick(reason: string[], refCount: number, nValues: number, numeric: boolean): StatTestName {
  const small = refCount <= SMALL_REFERENCE;
  const size = `reference has ${refCount} values (${small ? '≤' : '>'} ${SMALL_REFERENCE})`;
  if (numeric && nValues > FEW_VALUES) {
    reason.push(`${size}; numeric with ${nValues} distinct values (> ${FEW_VALUES})`);
    return small ? 'ks' : 'wasserstein';
  }
  reason.push(`${size}; ${numeric ? `numeric with only ${nValues} distinct values (≤ ${FEW_VALUES})` : `categorical with ${nValues} categories`}`);
  if (!small) return 'jensenshannon';
  return nValues > 2 ? 'chisquare' : 'z';
}

function verdict(test: StatTestName, score: number, threshold: number): boolean {
  // Evidently: KS drifts at p ≤ threshold, chi-square and z at p < threshold, distances at ≥.
  if (test === 'ks') return score <= threshold;
  if (STAT_TESTS[test].scoreKind === 'p_value') return score < threshold;
  return score >= threshold;
}

function numericDrift(name: string, ref: NumericColumn, cur: NumericColumn, opts: DriftOptions): ColumnDrift | string {
  const a = finiteSorted(ref.values);
  const b = finiteSorted(cur.values);
  if (!a.length || !b.length) return `no numeric values in the ${a.length ? 'current' : 'reference'} data`;
  const nValues = distinctMerged(a, b);
  const reason: string[] = [];
  const forced = opts.stattests?.[name] ?? opts.stattest;
  const test = forced ?? pick(reason, a.length, nValues, true);
  if (forced) reason.push(`chosen with --stattest`);
  const threshold = opts.thresholds?.[name] ?? opts.threshold ?? STAT_TESTS[test].threshold;
  let score: number;
  let statistic: number | undefined;
  let method: ColumnDrift['method'];
  const refDistinct = distinctSorted(a);
  const binned = () => {
    if (refDistinct > 20) {
      const edges = sturgesEdges(a, b);
      return binnedShares(histogramSorted(a, edges), histogramSorted(b, edges), a.length, b.length);
    }
    const c = countsSorted(a, b);
    return binnedShares(c.a, c.b, a.length, b.length);
  };
  switch (test) {
    case 'ks': {
      const r = ks2Samp(a, b);
      score = r.pValue;
      statistic = r.statistic;
      method = r.method;
      break;
    }
    case 'wasserstein':
      score = wasserstein(a, b) / Math.max(stdPop(a), 0.001);
      break;
    case 'jensenshannon': {
      const s = binned();
      score = jensenShannon(s.ref, s.cur);
      break;
    }
    case 'psi': {
      const s = binned();
      score = psi(s.ref, s.cur);
      break;
    }
    case 'chisquare': {
      const c = countsSorted(a, b);
      const r = chiSquareTest(c.a, c.b);
      score = r.pValue;
      statistic = r.statistic;
      break;
    }
    case 'z': {
      const c = countsSorted(a, b);
      if (c.keys.length > 2) return `the z-test needs at most 2 distinct values; this column has ${c.keys.length}`;
      if (c.keys.length === 1) score = 1;
      else {
        const r = zTest(c.a[0]!, a.length, c.b[0]!, b.length);
        score = r.pValue;
        statistic = r.statistic;
      }
      break;
    }
  }
  const lo = Math.min(a[0]!, b[0]!);
  const hi = Math.max(a[a.length - 1]!, b[b.length - 1]!);
  const bins = Math.min(MAX_BINS, sturgesEdges(a, b).length - 1);
  const edges = lo === hi ? [lo - 0.5, hi + 0.5] : linspace(lo, hi, bins + 1);
  const histogram: ColumnHistogram = { edges, reference: histogramSorted(a, edges), current: histogramSorted(b, edges) };
  return {
    column: name,
    kind: 'numeric',
    test,
    testLabel: STAT_TESTS[test].label,
    reason: reason.join('; '),
    scoreKind: STAT_TESTS[test].scoreKind,
    score,
    threshold,
    drifted: verdict(test, score, threshold),
    statistic,
    method,
    reference: numericSummary(ref.values, a),
    current: numericSummary(cur.values, b),
    histogram,
  };
}

function categoricalDrift(name: string, ref: CategoricalColumn, cur: CategoricalColumn, opts: DriftOptions): ColumnDrift | string {
  // Union of both dictionaries; counts of non-empty values per category.
  const index = new Map<string, number>();
  const labels: string[] = [];
  const mapOf = (col: CategoricalColumn) =>
    col.labels.map((l) => {
      let k = index.get(l);
      if (k === undefined) {
        k = labels.length;
        index.set(l, k);
        labels.push(l);
      }
      return k;
    });
  const refMap = mapOf(ref);
  const curMap = mapOf(cur);
  const rc = new Array<number>(labels.length).fill(0);
  const cc = new Array<number>(labels.length).fill(0);
  let nRef = 0;
  let nCur = 0;
  for (const code of ref.codes) if (code >= 0) (rc[refMap[code]!]!++, nRef++);
  for (const code of cur.codes) if (code >= 0) (cc[curMap[code]!]!++, nCur++);
  if (!nRef || !nCur) return `no values in the ${nRef ? 'current' : 'reference'} data`;
  // Only categories that occur (a dictionary may hold labels of empty-coded cells: none here, but keep it exact).
  const keys = labels.map((_, i) => i).filter((i) => rc[i]! + cc[i]! > 0);
  const refCounts = keys.map((i) => rc[i]!);
  const curCounts = keys.map((i) => cc[i]!);
  const reason: string[] = [];
  const forced = opts.stattests?.[name] ?? opts.stattest;
  if (forced && !STAT_TESTS[forced].categorical) throw new MlopsError('BAD_REQUEST', `--stattest ${forced} needs a numeric column; "${name}" is categorical (use chisquare, z, jensenshannon or psi)`);
  const test = forced ?? pick(reason, nRef, keys.length, false);
  if (forced) reason.push('chosen with --stattest');
  const threshold = opts.thresholds?.[name] ?? opts.threshold ?? STAT_TESTS[test].threshold;
  let score: number;
  let statistic: number | undefined;
  if (test === 'chisquare') {
    const r = chiSquareTest(refCounts, curCounts);
    score = r.pValue;
    statistic = r.statistic;
  } else if (test === 'z') {
    if (keys.length > 2) return `the z-test needs at most 2 categories; this column has ${keys.length}`;
    if (keys.length === 1) score = 1;
    else {
      const first = [0, 1].sort((x, y) => (labels[keys[x]!]! < labels[keys[y]!]! ? -1 : 1))[0]!;
      const r = zTest(refCounts[first]!, nRef, curCounts[first]!, nCur);
      score = r.pValue;
      statistic = r.statistic;
    }
  } else {
    const s = binnedShares(refCounts, curCounts, nRef, nCur);
    score = test === 'psi' ? psi(s.ref, s.cur) : jensenShannon(s.ref, s.cur);
  }
  // Drawn: the most frequent categories, the rest summed.
  const order = keys.map((_, i) => i).sort((x, y) => refCounts[y]! + curCounts[y]! - (refCounts[x]! + curCounts[x]!));
  const shown = order.slice(0, MAX_CATEGORIES);
  const rest = order.slice(MAX_CATEGORIES);
  const histogram: ColumnHistogram = {
    labels: shown.map((i) => labels[keys[i]!]!),
    reference: shown.map((i) => refCounts[i]!),
    current: shown.map((i) => curCounts[i]!),
  };
  if (rest.length) {
    histogram.labels!.push(`(other ${rest.length})`);
    histogram.reference.push(rest.reduce((s, i) => s + refCounts[i]!, 0));
    histogram.current.push(rest.reduce((s, i) => s + curCounts[i]!, 0));
  }
  const summary = (codes: Int32Array, n: number, counts: number[]): ColumnSummary => ({ count: n, missing: codes.length - n, unique: counts.filter((c) => c > 0).length });
  return {
    column: name,
    kind: 'categorical',
    test,
    testLabel: STAT_TESTS[test].label,
    reason: reason.join('; '),
    scoreKind: STAT_TESTS[test].scoreKind,
    score,
    threshold,
    drifted: verdict(test, score, threshold),
    statistic,
    reference: summary(ref.codes, nRef, refCounts),
    current: summary(cur.codes, nCur, curCounts),
    histogram,
  };
}

/** Compares two loaded tables column by column. */
export function driftReport(reference: Side, current: Side, opts: DriftOptions = {}): DriftReport {
  const started = Date.now();
  const refCols = new Map(reference.table.columns.map((c) => [c.name, c]));
  const curCols = new Map(current.table.columns.map((c) => [c.name, c]));
  const names = opts.columns?.length ? opts.columns : reference.table.columns.map((c) => c.name);
  const columns: ColumnDrift[] = [];
  const skipped: { column: string; reason: string }[] = [];
  for (const name of names) {
    const r = refCols.get(name);
    const c = curCols.get(name);
    if (!r || !c) {
      skipped.push({ column: name, reason: `missing in the ${!r && !c ? 'reference and current' : !r ? 'reference' : 'current'} data` });
      continue;
    }
    if ((r.kind === 'categorical' && r.datetime) || (c.kind === 'categorical' && c.datetime)) {
      skipped.push({ column: name, reason: 'dates/times: not a feature (as in Evidently)' });
      continue;
    }
    const categorical = opts.categorical?.includes(name) || r.kind === 'categorical' || c.kind === 'categorical';
    const out = categorical ? categoricalDrift(name, asCategorical(r), asCategorical(c), opts) : numericDrift(name, r as NumericColumn, c as NumericColumn, opts);
    if (typeof out === 'string') skipped.push({ column: name, reason: out });
    else columns.push(out);
  }
  for (const name of curCols.keys()) if (!refCols.has(name) && !names.includes(name)) skipped.push({ column: name, reason: 'missing in the reference data' });
  const drifted = columns.filter((c) => c.drifted).length;
  const share = columns.length ? drifted / columns.length : 0;
  const driftShare = opts.driftShare ?? 0.5;
  return {
    reference: { path: reference.path, rows: reference.table.rows },
    current: { path: current.path, rows: current.table.rows },
    generatedAt: new Date().toISOString(),
    driftShare,
    tested: columns.length,
    drifted,
    share,
    datasetDrift: columns.length > 0 && share >= driftShare,
    columns,
    skipped,
    durationMs: Date.now() - started,
  };
}

export type { Column };
