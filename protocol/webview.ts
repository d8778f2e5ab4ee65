/**
 * Messages between the extension host and its webviews, typed once: one discriminated union
 * per direction per webview. The host side (client/src/webviews/) and the browser side
 * (media/src/) both import this file; media/ imports types only. Values travel by
 * structured clone (postMessage), so NaN and ±Infinity survive.
 */
import type { RunStatus } from './types';

// ─── Compare Runs ────────────────────────────────────────────────────────────────────────────

/** One compared run: a table column, a line in every chart and in the parallel coordinates. */
export interface CompareRun {
  id: string;
  name: string;
  status: RunStatus;
  startedAt: number;
  durationMs?: number;
  /** Param values as strings, as the store keeps them. */
  params: Record<string, string>;
  /** Final (latest) value per metric key; NaN where the run logged NaN. */
  metrics: Record<string, number>;
}

/** One point of a metric series: x is the logged step (epoch), y the value. */
export interface SeriesPoint {
  x: number;
  y: number;
}

/** Every point of one metric of one run, in step order. */
export interface RunSeries {
  runId: string;
  points: SeriesPoint[];
}

/** Everything the Compare Runs view draws; sent whole, replaced whole. */
export interface CompareData {
  runs: CompareRun[];
  /** Metric key → one series per run that logged it (runs without the key are left out). */
  series: Record<string, RunSeries[]>;
  /** Metric the parallel-coordinates view starts on (the view lets the user change it). */
  objective?: string;
}

/** host → Compare Runs view. */
export type CompareToView =
  /** Draw these runs (replaces what is shown). */
  | { type: 'data'; data: CompareData }
  /** Work in progress or a failure, shown instead of the charts. */
  | { type: 'status'; text: string; error?: boolean }
  /** Live points of a running compared run (from daemon `metric` events), appended in order. */
  | { type: 'appendPoints'; runId: string; points: (SeriesPoint & { key: string })[] }
  /** Report what is drawn: the view answers with `state` carrying the same requestId. */
  | { type: 'getState'; requestId: number };

/** Compare Runs view → host. */
export type CompareFromView =
  /** The view's script is up: (re)send the data (also after the panel was hidden and shown again). */
  | { type: 'ready' }
  /** Answer to `getState`. */
  | { type: 'state'; requestId: number; state: CompareRenderedState }
  /** Something went wrong in the page (errors, CSP violations): the host logs it. */
  | { type: 'log'; level: 'warn' | 'error'; message: string };

/** What the Compare Runs view has actually rendered, read back from the DOM and Chart.js instances. */
export interface CompareRenderedState {
  /** Run ids of the table's columns, in order. */
  columns: string[];
  onlyDifferences: boolean;
  /** Param rows shown in the table. */
  params: string[];
  /** Metric rows shown in the table. */
  metrics: string[];
  /** Metric key → run id of the highlighted (best) cell, for rows that have one. */
  best: Record<string, string>;
  /** One entry per Chart.js chart, read from `chart.data.datasets`. */
  charts: { key: string; series: { label: string; runId: string; points: number }[] }[];
  /** The parallel-coordinates SVG: its axes (params then the objective) and one line per run. */
  parallel: { objective: string | undefined; axes: string[]; lines: number };
  /** `light`, `dark`, `high-contrast` or `high-contrast-light` (VS Code's body class). */
  theme: string;
  /** Content-Security-Policy violations seen by the page (should stay empty). */
  cspViolations: string[];
}

// ─── Pipeline graph ──────────────────────────────────────────────────────────────────────────

/** A step of the manifest as a graph node. */
export interface GraphNode {
  step: string;
  /** Last known status: from the latest pipeline run, then live from events. Absent: never ran. */
  status?: RunStatus;
  /** Why the step ended that way: `cached`, `upstream failed: train`, an error. */
  message?: string;
  description?: string;
}

/** An arrow as drawn: `from` runs before `to` (data flows from → to). */
export interface GraphEdge {
  from: string;
  to: string;
  via: 'needs' | 'deps';
}

export interface GraphModel {
  /** Steps in topological order (ties by manifest order). */
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The pipeline run the statuses come from, if any. */
  runId?: string;
  /** Why there is nothing to draw (no manifest, invalid YAML). */
  message?: string;
}

/** host → Pipeline graph view. */
export type GraphToView =
  | { type: 'graph'; graph: GraphModel }
  /** A live status change of one step (daemon `step-started` / `step-finished`). */
  | { type: 'stepStatus'; step: string; status: RunStatus | undefined; message?: string }
  | { type: 'getState'; requestId: number }
  /** Test hook: the view dispatches a real click on the node, exactly as a user's click. */
  | { type: 'clickNode'; step: string };

/** Pipeline graph view → host. */
export type GraphFromView =
  | { type: 'ready' }
  /** The user clicked a node (or pressed Enter on it): open mlops.yaml at the step. */
  | { type: 'revealStep'; step: string }
  | { type: 'state'; requestId: number; state: GraphRenderedState }
  | { type: 'log'; level: 'warn' | 'error'; message: string };

/** What the graph view has drawn, read back from its SVG. */
export interface GraphRenderedState {
  nodes: { step: string; status: string; layer: number; x: number; y: number }[];
  edges: { from: string; to: string }[];
  theme: string;
  cspViolations: string[];
}
