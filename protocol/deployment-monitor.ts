/**
 * Messages of the deployment Live Monitor webview (client/src/deployments/monitor-panel.ts ↔
 * media/src/monitor.ts): the deployment's status and its per-second samples go to the page,
 * which draws latency, throughput and error-rate charts per version.
 */
import type { DeploymentSample, DeploymentStatus } from './serving';

/** host → monitor view. */
export type MonitorToView =
  /** The deployment as the daemon reports it now (header, versions table, canary, history). */
  | { type: 'deployment'; status: DeploymentStatus }
  /** Samples to draw; `reset` replaces what the page has (first load, another deployment). */
  | { type: 'samples'; samples: DeploymentSample[]; reset?: boolean }
  | { type: 'status'; text: string; error?: boolean }
  | { type: 'getState'; requestId: number };

/** Actions the page's buttons ask the host for; the host runs the matching command. */
export type MonitorAction = 'promote' | 'rollback' | 'sendTestRequest' | 'showHistory';

/** monitor view → host. */
export type MonitorFromView =
  | { type: 'ready' }
  | { type: 'action'; action: MonitorAction }
  | { type: 'state'; requestId: number; state: MonitorRenderedState }
  | { type: 'log'; level: 'warn' | 'error'; message: string };

/** Which chart: latency (p50 and p99 per version), throughput (req/s), error rate (%). */
export type MonitorChartKey = 'latency' | 'throughput' | 'errors';

/** What the monitor has drawn, read back from its DOM and Chart.js instances (tests). */
export interface MonitorRenderedState {
  deployment: string;
  /** The state shown in the header (`serving`, `stopped`, …). */
  state: string;
  /** One entry per chart; one series per line, with how many points it holds. */
  charts: { key: MonitorChartKey; series: { label: string; version: number; points: number }[] }[];
  /** Rows of the versions table, as text (`v3 stable 90 % ready`). */
  versions: string[];
  /** The canary progress line, when a canary runs. */
  canary?: string;
  theme: string;
  cspViolations: string[];
}
