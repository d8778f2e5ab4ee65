/**
 * Plain data types that cross process boundaries: the daemon's HTTP API, the CLI's `--json`
 * output and the extension's trees and webviews all speak these shapes. No behaviour here.
 */

/**
 * Lifecycle of a run. `interrupted` is set by the daemon on restart for runs that were
 * `queued`/`running` when it died; `skipped` marks a step whose inputs were unchanged.
 */
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'skipped';

/** Every run status, in lifecycle order; handy for validation and filters. */
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'skipped'];

/** What a run stands for: a whole pipeline, one step of it, one sweep trial, or the sweep itself. */
export type RunKind = 'pipeline' | 'step' | 'trial' | 'sweep';

/** Every run kind; handy for validation and filters. */
export const RUN_KINDS: readonly RunKind[] = ['pipeline', 'step', 'trial', 'sweep'];

/** One row of a run listing: enough to draw a tree item or a table row without another request. */
export interface RunSummary {
  /** 32 lowercase hex characters, like MLflow's `run_uuid`. */
  id: string;
  /** Experiment name (not its id). */
  experiment: string;
  name: string;
  kind: RunKind;
  /** The enclosing pipeline or sweep run, if any. */
  parentId?: string;
  status: RunStatus;
  /** Milliseconds since the Unix epoch. */
  startedAt: number;
  /** Milliseconds since the Unix epoch; absent while the run is queued or running. */
  endedAt?: number;
  /** `endedAt - startedAt`, present once the run has ended. */
  durationMs?: number;
  gitCommit?: string;
  /** True when the working tree had uncommitted changes at run start. */
  gitDirty?: boolean;
  exitCode?: number;
  /** Why the run ended the way it did (error text, skip reason, "interrupted by daemon restart"). */
  message?: string;
  tags: Record<string, string>;
  /** Parameter values as strings, as MLflow stores them. */
  params: Record<string, string>;
  /** Latest value per metric key: highest step, then newest timestamp. NaN may appear (null in JSON). */
  latestMetrics: Record<string, number>;
}

/** One logged metric value. */
export interface MetricPoint {
  key: string;
  /** Any double; NaN and ±Infinity are allowed, as in MLflow. */
  value: number;
  /** Training step or epoch; 0 when the logger gave none. */
  step: number;
  /** Milliseconds since the Unix epoch, taken when the value was logged. */
  timestamp: number;
}

/** A file a run produced, identified by content. */
export interface Artifact {
  /** Workspace-relative path, forward slashes. */
  path: string;
  /** Content hash (hex SHA-256). */
  hash: string;
  /** Size in bytes. */
  size: number;
}

/** Everything about one run: the summary plus what a detail view needs. */
export interface RunDetail extends RunSummary {
  /** Nested runs (pipeline steps, sweep trials), oldest first. */
  children: RunSummary[];
  artifacts: Artifact[];
  /** Dataset name → content hash of the data the run read. */
  datasetHashes: Record<string, string>;
}

/** A named group of runs. */
export interface Experiment {
  /** Opaque string id ("0" is the default experiment, as in MLflow). */
  id: string;
  name: string;
  /** Top-level runs (pipeline runs, sweeps, MLflow runs without a parent); steps and trials are not counted. */
  runCount: number;
  /** Start time of the newest run, ms since the epoch; absent when there are no runs. */
  lastRunAt?: number;
}
