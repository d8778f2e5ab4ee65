/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4), written by hand: a few
 * counters, one histogram and gauges per version need no client library. Counters live for the
 * life of the process (a version keeps its series after it is unloaded, as Prometheus expects).
 */

/** Histogram bucket bounds, seconds (Prometheus convention), tuned to in-process inference. */
export const LE_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Counters of one version. */
export class VersionCounters {
  readonly byCode = new Map<number, number>();
  readonly buckets = new Float64Array(LE_SECONDS.length);
  sumSeconds = 0;
  count = 0;
  errors = 0;
  retried = 0;
  shadow = 0;
  inFlight = 0;

  record(status: number, ms: number, shadow: boolean): void {
    this.byCode.set(status, (this.byCode.get(status) ?? 0) + 1);
    const s = ms / 1000;
    for (let i = 0; i < LE_SECONDS.length; i++) {
      if (s <= LE_SECONDS[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
    this.sumSeconds += s;
    this.count++;
    if (status >= 500) this.errors++;
    if (shadow) this.shadow++;
  }
}

export interface MetricsView {
  deployment: string;
  model: string;
  versions: { version: number; role: string; weight: number; counters: VersionCounters; loaded: boolean }[];
  /** Weight of the running canary, 0 without one. */
  canaryWeight: number;
  canaryVersion?: number;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderMetrics(view: MetricsView): string {
  const out: string[] = [];
  const base = `deployment="${esc(view.deployment)}",model="${esc(view.model)}"`;
  const family = (name: string, type: string, help: string, lines: string[]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  const per = (fn: (v: MetricsView['versions'][number], labels: string) => string[]): string[] =>
    view.versions.flatMap((v) => fn(v, `${base},version="${v.version}"`));

  family('mlops_serving_requests_total', 'counter', 'Requests answered, by version and HTTP status (shadow copies and canary retries included).',
    per((v, l) => [...v.counters.byCode].sort((a, b) => a[0] - b[0]).map(([code, n]) => `mlops_serving_requests_total{${l},code="${code}"} ${n}`)));
  family('mlops_serving_errors_total', 'counter', 'Requests the version failed to answer (5xx).', per((v, l) => [`mlops_serving_errors_total{${l}} ${v.counters.errors}`]));
  family('mlops_serving_canary_retries_total', 'counter', 'Canary requests that failed and were answered by the stable version.',
    per((v, l) => [`mlops_serving_canary_retries_total{${l}} ${v.counters.retried}`]));
  family('mlops_serving_shadow_requests_total', 'counter', 'Mirrored requests a shadow version answered (never returned).',
    per((v, l) => [`mlops_serving_shadow_requests_total{${l}} ${v.counters.shadow}`]));
  family('mlops_serving_request_duration_seconds', 'histogram', 'Time from request to answer inside the model server.',
    per((v, l) => {
      const c = v.counters;
      const lines: string[] = [];
      let cum = 0;
      LE_SECONDS.forEach((le, i) => {
        cum += c.buckets[i]!;
        lines.push(`mlops_serving_request_duration_seconds_bucket{${l},le="${le}"} ${cum}`);
      });
      lines.push(`mlops_serving_request_duration_seconds_bucket{${l},le="+Inf"} ${c.count}`);
      lines.push(`mlops_serving_request_duration_seconds_sum{${l}} ${c.sumSeconds}`);
      lines.push(`mlops_serving_request_duration_seconds_count{${l}} ${c.count}`);
      return lines;
    }));
  family('mlops_serving_in_flight_requests', 'gauge', 'Requests being answered now.', per((v, l) => [`mlops_serving_in_flight_requests{${l}} ${v.counters.inFlight}`]));
  family('mlops_serving_version_weight', 'gauge', 'Percent of primary traffic routed to the version (loaded versions only).',
    view.versions.filter((v) => v.loaded).map((v) => `mlops_serving_version_weight{${base},version="${v.version}",role="${v.role}"} ${v.weight}`));
  family('mlops_serving_canary_weight', 'gauge', 'Percent of traffic the running canary gets (0 without a canary).',
    [`mlops_serving_canary_weight{${base}${view.canaryVersion !== undefined ? `,version="${view.canaryVersion}"` : ''}} ${view.canaryWeight}`]);
  return out.join('\n') + '\n';
}
