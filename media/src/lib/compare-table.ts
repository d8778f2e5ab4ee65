/**
 * The Compare Runs table as data: which param and metric rows differ between runs, which
 * cell is best, which metric the parallel coordinates start on. Pure (no DOM), unit-tested.
 */
import type { CompareRun } from '../../../protocol/webview';

/** Whether a bigger value of a metric is better, a smaller one, or neither (counts, sizes). */
export type Direction = 'max' | 'min' | 'none';

const MINIMISED = /(^|[_.-])(loss|error|err|rmse|mse|mae|mape|perplexity|latency|time|duration|seconds|ms|p\d\d)($|[_.-])|loss$|_ms$/i;
const NEUTRAL = /^(n|num|count)_|_(count|size|rows|n)$|^(epoch|epochs|step|steps)$/i;

export function metricDirection(key: string): Direction {
  if (NEUTRAL.test(key)) return 'none';
  return MINIMISED.test(key) ? 'min' : 'max';
}

export interface TableRow<V> {
  key: string;
  /** One value per run, in column order; undefined where the run has no such key. */
  values: (V | undefined)[];
  /** True when not every run has the same value (a missing value counts as different). */
  differs: boolean;
  /** Column indexes of the best value (ties all win); empty when all equal or no direction. */
  best: number[];
}

export interface TableModel {
  params: TableRow<string>[];
  metrics: TableRow<number>[];
  /** Rows left out because "only differences" is on. */
  hiddenParams: number;
  hiddenMetrics: number;
}

/** Keys in first-seen order across runs. */
function keysOf(records: Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/** True unless every value equals the first (NaN equals NaN; a missing value differs from a present one). */
export function valuesDiffer(values: (string | number | undefined)[]): boolean {
  const first = values[0];
  const same = (v: string | number | undefined) => v === first || (typeof v === 'number' && typeof first === 'number' && Number.isNaN(v) && Number.isNaN(first));
  return !values.every(same);
}

/** Columns holding the best finite value, by direction; none when every finite value is equal. */
export function bestColumns(values: (number | undefined)[], direction: Direction): number[] {
  if (direction === 'none') return [];
  const finite = values.map((v, i) => [v, i] as const).filter((p): p is readonly [number, number] => typeof p[0] === 'number' && Number.isFinite(p[0]));
  if (finite.length < 2) return [];
  const best = direction === 'max' ? Math.max(...finite.map((p) => p[0])) : Math.min(...finite.map((p) => p[0]));
  const winners = finite.filter((p) => p[0] === best).map((p) => p[1]);
  return winners.length === finite.length ? [] : winners;
}

export function buildTable(runs: CompareRun[], onlyDifferences: boolean): TableModel {
  const params = keysOf(runs.map((r) => r.params)).map((key): TableRow<string> => {
    const values = runs.map((r) => r.params[key]);
    return { key, values, differs: valuesDiffer(values), best: [] };
  });
  const metrics = keysOf(runs.map((r) => r.metrics)).map((key): TableRow<number> => {
    const values = runs.map((r) => (key in r.metrics ? (r.metrics[key] ?? Number.NaN) : undefined));
    return { key, values, differs: valuesDiffer(values), best: bestColumns(values, metricDirection(key)) };
  });
  const shownParams = onlyDifferences ? params.filter((r) => r.differs) : params;
  const shownMetrics = onlyDifferences ? metrics.filter((r) => r.differs) : metrics;
  return { params: shownParams, metrics: shownMetrics, hiddenParams: params.length - shownParams.length, hiddenMetrics: metrics.length - shownMetrics.length };
}

const CONVENTIONAL_OBJECTIVES = ['accuracy', 'val_accuracy', 'auc', 'val_auc', 'auc_macro', 'f1', 'f1_macro', 'r2', 'val_loss', 'loss', 'rmse'];

/**
 * The metric to plot params against by default: a conventional quality metric, preferring one
 * whose value differs between the runs (a constant objective says nothing about the params).
 */
export function defaultObjective(runs: CompareRun[]): string | undefined {
  const keys = keysOf(runs.map((r) => r.metrics)).filter((k) => runs.some((r) => Number.isFinite(r.metrics[k])));
  const varies = (k: string) => valuesDiffer(runs.map((r) => r.metrics[k]));
  const ranked = [
    ...CONVENTIONAL_OBJECTIVES.filter((k) => keys.includes(k) && varies(k)),
    ...keys.filter((k) => metricDirection(k) !== 'none' && varies(k)),
    ...CONVENTIONAL_OBJECTIVES.filter((k) => keys.includes(k)),
    ...keys.filter((k) => metricDirection(k) !== 'none'),
    ...keys,
  ];
  return ranked[0];
}

/** Metric keys worth a line chart: some run logged more than one point. */
export function chartKeys(series: Record<string, { points: unknown[] }[]>): string[] {
  return Object.keys(series)
    .filter((k) => series[k].some((s) => s.points.length > 1))
    .sort((a, b) => a.localeCompare(b));
}
