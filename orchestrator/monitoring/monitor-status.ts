/**
 * What `mlops monitor NAME` shows, computed from the deployment's files alone: performance per
 * version over time (latency percentiles, throughput, error rate per bucket, from the request
 * log, so it covers more than the daemon's 10-minute live series and survives restarts),
 * concept metrics per version from joined feedback, and the A/B verdict between the two
 * versions with the most labelled outcomes.
 */
import type { ConceptMetrics, MonitorStatus, PerformanceBucket } from '../../protocol/monitoring';
import type { RequestLogEntry } from '../../protocol/serving';
import { abTest, conceptMetrics, MIN_JUDGED, taskOf } from './concept';
import { deploymentPaths, latestReport } from './deployment-drift';
import { joinFeedback, readFeedback, type JoinedOutcome } from './feedback-join';
import { readRequestLog, type LogWindow } from './request-log';

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  // numpy's default (linear interpolation between closest ranks)
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function bucketOf(entries: readonly RequestLogEntry[], start: number, version: number, spanMs: number): PerformanceBucket {
  const lat = entries.map((e) => e.latencyMs).sort((a, b) => a - b);
  const errors = entries.filter((e) => e.status >= 500 || (e.error !== undefined && e.status >= 400)).length;
  return {
    start,
    version,
    requests: entries.length,
    errors,
    errorRate: entries.length ? errors / entries.length : 0,
    reqPerSec: spanMs > 0 ? entries.length / (spanMs / 1000) : 0,
    p50Ms: percentile(lat, 0.5),
    p95Ms: percentile(lat, 0.95),
    p99Ms: percentile(lat, 0.99),
  };
}

/** Performance per version per `bucketMs` (served traffic only: shadow answers were never returned). */
export function performance(entries: readonly RequestLogEntry[], bucketMs: number): MonitorStatus['performance'] {
  const served = entries.filter((e) => e.role !== 'shadow');
  const groups = new Map<string, RequestLogEntry[]>();
  const versions = new Map<number, RequestLogEntry[]>();
  for (const e of served) {
    const start = Math.floor(e.at / bucketMs) * bucketMs;
    const key = `${start}:${e.version}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(e);
    (versions.get(e.version) ?? versions.set(e.version, []).get(e.version)!).push(e);
  }
  const buckets = [...groups.entries()].map(([k, es]) => bucketOf(es, Number(k.split(':')[0]), es[0]!.version, bucketMs)).sort((a, b) => a.start - b.start || a.version - b.version);
  const byVersion = [...versions.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([v, es]) => {
      const span = Math.max(1000, es[es.length - 1]!.at - es[0]!.at);
      const { start: _start, ...rest } = bucketOf(es, 0, v, span);
      return rest;
    });
  return { bucketMs, buckets, byVersion };
}

export interface MonitorStatusOptions {
  window?: LogWindow;
  bucketMs?: number;
  /** Registration metrics per version (ModelVersion.metrics). */
  registered?: Record<number, Record<string, number>>;
  tolerance?: number;
}

export function monitorStatus(workspace: string, name: string, opts: MonitorStatusOptions = {}): MonitorStatus & { outcomes: Map<number, JoinedOutcome[]> } {
  const paths = deploymentPaths(workspace, name);
  const entries = readRequestLog(paths.requests, opts.window ?? {});
  const { joined, unmatched } = joinFeedback(entries, readFeedback(paths.feedback));
  const task = taskOf(joined);
  const outcomes = new Map<number, JoinedOutcome[]>();
  for (const o of joined) (outcomes.get(o.version) ?? outcomes.set(o.version, []).get(o.version)!).push(o);
  const concept: ConceptMetrics[] = [...outcomes.entries()].sort((a, b) => a[0] - b[0]).map(([v, os]) => conceptMetrics(v, os, task, opts.registered?.[v], opts.tolerance));
  const status: MonitorStatus & { outcomes: Map<number, JoinedOutcome[]> } = {
    deployment: name,
    requests: entries.length,
    ...(opts.window?.last !== undefined || opts.window?.since !== undefined ? { window: { last: opts.window.last, since: opts.window.since } } : {}),
    performance: performance(entries, opts.bucketMs ?? 60_000),
    concept,
    unmatchedFeedback: unmatched,
    alerts: [],
    outcomes,
  };
  // A/B: the two versions with the most labelled outcomes, older first.
  const ranked = [...outcomes.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, 2).sort((a, b) => a[0] - b[0]);
  if (ranked.length === 2) status.ab = abTest(ranked[0]![0], ranked[0]![1], ranked[1]![0], ranked[1]![1], task);
  const last = latestReport(workspace, name);
  if (last) status.lastDrift = { at: Date.parse(last.report.generatedAt), share: last.report.share, datasetDrift: last.report.datasetDrift, reportPath: last.reportPath };
  return status;
}

/** The version with the largest accuracy drop against its registration (judged from MIN_JUDGED outcomes). */
export function worstAccuracyDrop(concept: readonly ConceptMetrics[]): { version: number; drop: number } | undefined {
  let worst: { version: number; drop: number } | undefined;
  for (const c of concept) {
    if (c.degradation?.metric !== 'accuracy' || c.n < MIN_JUDGED) continue;
    if (!worst || c.degradation.drop > worst.drop) worst = { version: c.version, drop: c.degradation.drop };
  }
  return worst;
}

/** Values for alert rules from concept metrics: the worst version's accuracy drop. */
export function conceptValues(concept: readonly ConceptMetrics[]): Map<string, number> {
  const v = new Map<string, number>();
  const worst = worstAccuracyDrop(concept);
  if (worst) v.set('accuracy_drop', worst.drop);
  return v;
}
