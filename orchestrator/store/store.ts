/**
 * The orchestrator's persistence boundary. Everything above it (runner, tracking routes,
 * registry) talks to this interface only, so a PostgreSQL backend can replace the local
 * SQLite file for team mode. Keep it free of SQL dialect details: ids are strings,
 * times are ms-epoch numbers, and every method is async even though SQLite is synchronous.
 *
 * Methods that take a run id throw `MlopsError('NOT_FOUND')` when the run does not exist,
 * except `getRun`, which returns `undefined`, and `listChildren`, which returns [].
 */
import type { Artifact, Experiment, MetricPoint, RunDetail, RunKind, RunStatus, RunSummary } from '../../protocol/types';

/** Input of `createRun`. The experiment is named and created on first use. */
export interface NewRun {
  experiment: string;
  name: string;
  kind: RunKind;
  parentId?: string;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  gitCommit?: string;
  gitDirty?: boolean;
  /** Defaults to 'running' (an MLflow client creates a run when it starts logging). */
  status?: RunStatus;
  /** Defaults to now; MLflow clients send their own `start_time`. */
  startedAt?: number;
}

/** Fields of a run that change after creation. */
export interface RunPatch {
  name?: string;
  status?: RunStatus;
  endedAt?: number;
  exitCode?: number;
  message?: string;
}

/** Filters shared by `listRuns` and `countRuns`. */
export interface RunFilter {
  /** Experiment name. */
  experiment?: string;
  /** A run id for its children; `null` for top-level runs only; absent for any. */
  parentId?: string | null;
  status?: RunStatus | RunStatus[];
  kind?: RunKind;
  /** Runs whose params have exactly these values (all of them). */
  params?: Record<string, string>;
}

/** Sort key: run start time, or the latest value of a metric (runs without it sort last). */
export type RunOrder = 'startedAt' | { metric: string };

export interface RunQuery extends RunFilter {
  /** Page size; default 100. */
  limit?: number;
  offset?: number;
  /** Default 'startedAt'. Ties break on start time, newest first. */
  orderBy?: RunOrder;
  /** Default true (newest or highest first). */
  desc?: boolean;
}

/** Everything a tracking client can log in one request, written atomically. */
export interface RunBatch {
  metrics?: MetricPoint[];
  params?: Record<string, string>;
  tags?: Record<string, string>;
}

/** A remembered successful execution of a step, used to skip unchanged work. */
export interface StepCacheEntry {
  stepName: string;
  /** Hash over command, params and dependency contents. */
  fingerprint: string;
  outs: Artifact[];
  /** The run that produced the outputs. */
  runId: string;
  createdAt: number;
}

/** A file's hash, valid while its size, mtime, ctime and inode are unchanged. */
export interface FileHashEntry {
  path: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  hash: string;
}

export interface Store {
  // Experiments
  getOrCreateExperiment(name: string): Promise<Experiment>;
  getExperiment(ref: { id: string } | { name: string }): Promise<Experiment | undefined>;
  /** All experiments, by name. */
  listExperiments(): Promise<Experiment[]>;

  // Runs
  /** Creates the run (and its experiment if new); returns its 32-hex id. */
  createRun(run: NewRun): Promise<string>;
  updateRun(id: string, patch: RunPatch): Promise<void>;
  getRun(id: string): Promise<RunDetail | undefined>;
  listRuns(query?: RunQuery): Promise<RunSummary[]>;
  countRuns(filter?: RunFilter): Promise<number>;
  /** Direct children, oldest first. */
  listChildren(id: string): Promise<RunSummary[]>;

  // Params, tags, metrics
  /** Params are immutable: re-logging the same value is a no-op, a different one is CONFLICT. */
  logParams(runId: string, params: Record<string, string>): Promise<void>;
  setTags(runId: string, tags: Record<string, string>): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  /** All points in one transaction. */
  logMetrics(runId: string, points: MetricPoint[]): Promise<void>;
  /** Params, tags and metrics in one transaction (MLflow's log-batch). */
  logBatch(runId: string, batch: RunBatch): Promise<void>;
  /** Every point of one metric, by step then timestamp then logging order. */
  getMetricHistory(runId: string, key: string): Promise<MetricPoint[]>;
  /** The latest point per key (highest step, then newest timestamp), by key. */
  getLatestMetrics(runId: string): Promise<MetricPoint[]>;

  // Artifacts and data lineage
  /** Upserts by path. */
  recordArtifacts(runId: string, artifacts: Artifact[]): Promise<void>;
  /** Upserts dataset name → content hash. */
  recordDatasetHashes(runId: string, hashes: Record<string, string>): Promise<void>;

  // Caches
  getStepCache(stepName: string, fingerprint: string): Promise<StepCacheEntry | undefined>;
  /** Replaces any entry for the same step and fingerprint: the newest wins. */
  putStepCache(entry: Omit<StepCacheEntry, 'createdAt'>): Promise<void>;
  /** Known entries for the given paths; paths never hashed are absent from the map. */
  getFileHashes(paths: string[]): Promise<Map<string, FileHashEntry>>;
  putFileHashes(entries: FileHashEntry[]): Promise<void>;

  // Maintenance
  /**
   * Marks every queued or running run as interrupted (ended now, with `message`) and returns
   * their ids. Called by a daemon at start-up: nothing can still be running after a crash.
   */
  markInterrupted(message?: string): Promise<string[]>;
  /** 'ok', or a description of what is corrupt. */
  integrityCheck(): Promise<string>;
  close(): Promise<void>;
}
