import type { CompareData, CompareRun, RunSeries } from '../../../protocol/webview';
import type { MetricPoint, RunDetail } from '../../../protocol/types';

/** What loading a comparison needs from the orchestrator (OrchestratorConnection has it). */
export interface CompareSource {
  getRun(id: string): Promise<RunDetail>;
  metricHistory(runId: string, key: string): Promise<MetricPoint[]>;
}

/** At most this many requests to the daemon at once: 50 runs × 10 metrics stays smooth. */
const CONCURRENCY = 8;

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** JSON turns NaN into null; the views want numbers. */
const num = (v: number | null): number => (v === null ? Number.NaN : v);

export function toCompareRun(r: RunDetail): CompareRun {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    params: { ...r.params },
    metrics: Object.fromEntries(Object.entries(r.latestMetrics).map(([k, v]) => [k, num(v as number | null)])),
  };
}

/** Points in step order; several values at one step (retries, re-logs) keep the last logged. */
export function toSeries(runId: string, history: MetricPoint[]): RunSeries {
  const byStep = new Map<number, number>();
  for (const p of [...history].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)) byStep.set(p.step, num(p.value as number | null));
  return { runId, points: [...byStep].map(([x, y]) => ({ x, y })) };
}

/** Loads the runs (in the order given), then every metric's history of each run. */
export async function loadComparison(source: CompareSource, runIds: readonly string[]): Promise<CompareData> {
  const details = await mapLimit(runIds, CONCURRENCY, (id) => source.getRun(id));
  const runs = details.map(toCompareRun);
  const jobs: { runId: string; key: string }[] = [];
  for (const r of details) for (const key of Object.keys(r.latestMetrics)) jobs.push({ runId: r.id, key });
  const histories = await mapLimit(jobs, CONCURRENCY, (j) => source.metricHistory(j.runId, j.key));
  const series: Record<string, RunSeries[]> = {};
  jobs.forEach((j, i) => {
    (series[j.key] ??= []).push(toSeries(j.runId, histories[i]));
  });
  // Series in column order, whatever order the requests finished in.
  const col = new Map(runIds.map((id, i) => [id, i]));
  for (const list of Object.values(series)) list.sort((a, b) => col.get(a.runId)! - col.get(b.runId)!);
  return { runs, series };
}
