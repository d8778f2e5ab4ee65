/**
 * Hyperparameter sweeps as the daemon, the CLI and the extension see them: the requests,
 * the status of a sweep with its trials and prunes, and the sweep webview's messages.
 * A sweep is a run of kind `sweep`; each trial is a child run of kind `trial` (its step is
 * the trial's child); the upstream steps, computed once, are a child run of kind `pipeline`.
 */
import type { SearchSpaceEntry } from './manifest';
import type { RunStatus } from './types';

/** How a trial ended, as samplers and pruners see it; `discarded`: stopped with the sweep, re-sampled on resume. */
export type TrialState = 'running' | 'complete' | 'pruned' | 'failed' | 'discarded';

/**
 * Why a trial was pruned, with what the decision was computed from, so it can be checked
 * again from the stored metric series (`mlops.sweep.prune` tag of the trial run, JSON).
 */
export interface PruneRecord {
  /** Trial number (0-based, in sampling order). */
  trial: number;
  /** The reported step (epoch) at which it was stopped. */
  step: number;
  /** Median rule: the trial's best value up to `step`; hyperband: its value at `step`. */
  value: number;
  rule: 'median' | 'hyperband';
  /** Median rule: the median of the completed trials' values at `step`. */
  median?: number;
  /** The value the trial had to match: the median, or the rung's promotion cut-off. */
  threshold: number;
  /** The trials it was compared with, and the step whose value counted for each. */
  basis: { trial: number; step: number }[];
  /** Hyperband: the rung (0 = first) and the bracket of the trial. */
  rung?: number;
  bracket?: number;
  /** When it was decided, ms since the epoch. */
  at: number;
}

/** One trial of a sweep. */
export interface TrialSummary {
  number: number;
  runId: string;
  status: RunStatus;
  state: TrialState;
  /** The swept params, as text (what the trial ran with). */
  params: Record<string, string>;
  /** The objective: final value (complete), last reported value (pruned). */
  value?: number;
  /** Highest step reported for the objective metric. */
  lastStep?: number;
  prune?: PruneRecord;
  best?: boolean;
  startedAt: number;
  durationMs?: number;
  message?: string;
}

/** A search-space entry as written in the manifest. */
export type SpaceEntry = SearchSpaceEntry;

/** Everything about one sweep run: the spec it ran with, the trials, the best one, param importance. */
export interface SweepStatus {
  runId: string;
  name: string;
  status: RunStatus;
  step: string;
  method: 'grid' | 'random' | 'tpe';
  objective: { metric: string; goal: 'minimize' | 'maximize' };
  space: Record<string, SpaceEntry>;
  /** Trials to finish (complete, pruned or failed). */
  budget: number;
  parallel: number;
  seed: number;
  prune?: string;
  trials: TrialSummary[];
  counts: Record<TrialState, number>;
  best?: { number: number; runId: string; value: number; params: Record<string, string> };
  /**
   * Param importance: the share of the objective's variance across complete trials explained
   * by each param alone (correlation ratio η² over quantile bins), normalised to sum to 1.
   */
  importance: { param: string; score: number }[];
  startedAt: number;
  endedAt?: number;
  message?: string;
}

/** A sweep declared in mlops.yaml and its latest run. */
export interface SweepInfo {
  name: string;
  step: string;
  method: 'grid' | 'random' | 'tpe';
  metric: string;
  goal: 'minimize' | 'maximize';
  trials: number;
  parallel: number;
  latest?: { runId: string; status: RunStatus; finished: number; startedAt: number };
}

/** What `mlops sweep NAME` (or the IDE) asks for. */
export interface SweepStartRequest {
  name: string;
  /** Overrides `trials:` of the manifest. */
  trials?: number;
  /** Overrides `parallel:` of the manifest. */
  parallel?: number;
  /** Start a new sweep run even when the latest one of this sweep could be continued. */
  fresh?: boolean;
  /** Experiment name; default: the manifest's `project`. */
  experiment?: string;
}

export interface SweepStartResult {
  runId: string;
  /** The run continues an earlier, unfinished run of the same sweep (same spec). */
  resumed: boolean;
  /** False when the latest run already has its trials: nothing was started. */
  started: boolean;
  /** Trials already finished in this run. */
  finished: number;
  budget: number;
  message: string;
}

/** The sweep endpoints of the daemon (merged into DaemonApi). */
export interface SweepApi {
  /** Sweeps of mlops.yaml with their latest runs. */
  'GET /api/sweeps': { req: void; res: { sweeps: SweepInfo[] } };
  /** Starts (or resumes) a sweep; 409 CONFLICT while another run is active. */
  'POST /api/sweeps/start': { req: SweepStartRequest; res: SweepStartResult };
  /** Stops an active sweep: its running trials are killed and re-sampled when it is resumed. */
  'POST /api/sweeps/stop': { req: { runId: string }; res: { stopped: boolean } };
  'GET /api/sweeps/status': { req: { id: string }; res: SweepStatus };
}

// ─── The sweep webview ──────────────────────────────────────────────────────────────────────

/** One trial's objective series (intermediate values by step). */
export interface TrialCurve {
  number: number;
  points: { x: number; y: number }[];
}

/** host → sweep view. */
export type SweepToView =
  | { type: 'data'; status: SweepStatus; curves: TrialCurve[] }
  | { type: 'status'; text: string; error?: boolean }
  | { type: 'getState'; requestId: number };

/** sweep view → host. */
export type SweepFromView =
  | { type: 'ready' }
  /** The user clicked a trial (a point or a line): show its run. */
  | { type: 'openTrial'; runId: string }
  | { type: 'state'; requestId: number; state: SweepRenderedState }
  | { type: 'log'; level: 'warn' | 'error'; message: string };

/** What the sweep view has drawn, read back from its DOM. */
export interface SweepRenderedState {
  runId: string;
  status: string;
  /** Points in the objective-over-trials chart, and how many of them are pruned trials. */
  objectivePoints: number;
  prunedPoints: number;
  /** The best-so-far line's last value. */
  bestSoFar?: number;
  /** Parallel coordinates: axes (params, then the objective) and one line per plotted trial. */
  parallel: { axes: string[]; lines: number };
  /** Importance bars, in the order shown. */
  importance: string[];
  /** Rows of the trials table. */
  rows: number;
  theme: string;
  cspViolations: string[];
}
