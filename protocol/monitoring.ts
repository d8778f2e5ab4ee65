/**
 * Live monitoring of deployments as the daemon, the CLI (`mlops drift DEPLOYMENT`, `mlops
 * monitor`, `mlops feedback`) and the extension see it: alerts, drift checks on logged
 * requests, performance over time, concept metrics from feedback and the A/B verdict.
 *
 * Feedback ids: a logged request with one row is labelled by its request id (`abc`); a
 * request with several rows by `<requestId>:<row>` (row 0-based, `abc:0`, `abc:1`, …). A
 * single-row request also accepts `abc:0`.
 */
import type { DriftReport } from './data';

/** Metrics an alert rule's `when` may name (`column_drift.COLUMN` carries the column). */
export type AlertMetric = 'drift_share' | 'column_drift' | 'error_rate' | 'p99_ms' | 'prediction_shift' | 'accuracy_drop';

export type AlertOp = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** A parsed `when` expression: `metric op number`. */
export interface AlertCondition {
  metric: AlertMetric;
  /** For `column_drift.COLUMN`. */
  column?: string;
  op: AlertOp;
  threshold: number;
}

export type AlertChannel = 'vscode' | 'webhook' | 'audit';

/** Event published on the daemon's SSE stream (part of DaemonEvent) and posted to webhooks. */
export interface AlertEvent {
  type: 'alert';
  deployment: string;
  /** The rule's name (default: its `when`). */
  rule: string;
  when: string;
  state: 'firing' | 'cleared';
  /** The metric's value that made the rule fire or clear. */
  value: number;
  at: number;
  /** Version the value was measured on, for per-version metrics. */
  version?: number;
  /** Absolute path of the drift report behind the value (drift rules). */
  reportPath?: string;
  /** One line for people: `penguins-api: drift_share > 0.3 (0.667)`. */
  message: string;
}

/** One rule's current state, as `mlops monitor` and the API show it. */
export interface AlertStatus {
  rule: string;
  when: string;
  state: 'ok' | 'firing';
  /** Last evaluated value (absent before any evaluation with data). */
  value?: number;
  since?: number;
  lastEvaluatedAt?: number;
}

/** A drift check on a deployment's logged requests. */
export interface DeploymentDriftResult {
  deployment: string;
  report: DriftReport;
  /** Absolute path of the saved JSON report (`.mlops/deployments/<name>/reports/drift-*.json`). */
  reportPath: string;
  /** Prediction distribution of the window vs the reference predictions (categorical test), when both exist. */
  predictionShift?: { score: number; test: string; drifted: boolean; reference: string };
  /** Requests and rows in the window. */
  requests: number;
  rows: number;
}

/** Performance of one version over one time bucket (from the request log). */
export interface PerformanceBucket {
  start: number;
  version: number;
  requests: number;
  errors: number;
  errorRate: number;
  reqPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export type TaskKind = 'classification' | 'regression';

/** Concept metrics of one version from joined feedback. */
export interface ConceptMetrics {
  version: number;
  task: TaskKind;
  /** Labelled predictions joined. */
  n: number;
  accuracy?: number;
  f1Macro?: number;
  mae?: number;
  rmse?: number;
  /** Metrics recorded when the version was registered (ModelVersion.metrics). */
  registered?: Record<string, number>;
  /** The registration metric compared with, and by how much the live value is below it. */
  degradation?: { metric: string; registered: number; live: number; drop: number; tolerance: number; degraded: boolean };
}

/** A/B comparison of two versions' outcomes. */
export interface AbResult {
  a: { version: number; n: number; value: number };
  b: { version: number; n: number; value: number };
  /** `accuracy` (higher is better) or `abs_error` (lower is better). */
  metric: 'accuracy' | 'abs_error';
  test: 'two-proportion z' | 'Welch t';
  statistic: number;
  pValue: number;
  /** b − a in the metric's unit. */
  effect: number;
  alpha: number;
  significant: boolean;
  /** The better version, when significant. */
  better?: number;
  /** Samples per arm needed to detect the observed effect at 80 % power (when not significant yet). */
  neededPerArm?: number;
  verdict: string;
}

/** `mlops monitor NAME --json` and `GET /api/monitor`. */
export interface MonitorStatus {
  deployment: string;
  /** Requests of the log window it was computed over. */
  requests: number;
  /** The window asked for (absent: the whole request log the server keeps). */
  window?: { last?: number; since?: number };
  performance: { bucketMs: number; buckets: PerformanceBucket[]; byVersion: Omit<PerformanceBucket, 'start'>[] };
  concept: ConceptMetrics[];
  /** Feedback lines that matched no logged prediction. */
  unmatchedFeedback: number;
  ab?: AbResult;
  alerts: AlertStatus[];
  lastDrift?: { at: number; share: number; datasetDrift: boolean; reportPath: string };
}

/** The daemon's monitoring endpoints (merged into DaemonApi). */
export interface MonitorApi {
  /** `last`: only the newest N requests; `since`: only requests at or after this time (ms since the epoch). */
  'GET /api/monitor': { req: { name: string; last?: number; since?: number }; res: MonitorStatus };
  /** Runs a drift check now (as the schedule would) and evaluates the alert rules. */
  'POST /api/monitor/check': { req: { name: string }; res: DeploymentDriftResult };
}
