/**
 * Row shapes of the SQLite schema and their mapping to protocol types. Mappers pick columns
 * by name, which also drops the `_metadata` property libsql adds to every `get()` row.
 */
import type { Artifact, Experiment, MetricPoint, RunKind, RunStatus, RunSummary } from '../../protocol/types';
import type { FileHashEntry, StepCacheEntry } from './store';

export interface ExperimentRow {
  id: number;
  name: string;
  run_count: number;
  last_run_at: number | null;
}

export interface RunRow {
  id: string;
  experiment: string;
  name: string;
  kind: string;
  parent_id: string | null;
  status: string;
  started_at: number;
  ended_at: number | null;
  git_commit: string | null;
  git_dirty: number | null;
  exit_code: number | null;
  message: string | null;
}

/** Columns of RunRow, for SELECTs over `runs r JOIN experiments e`. */
export const RUN_COLUMNS =
  'r.id, e.name AS experiment, r.name, r.kind, r.parent_id, r.status, r.started_at, r.ended_at, r.git_commit, r.git_dirty, r.exit_code, r.message';

export interface KeyValueRow {
  run_id: string;
  key: string;
  value: string;
}

export interface MetricRow {
  run_id?: string;
  key: string;
  /** NULL is how SQLite stores NaN. */
  value: number | null;
  step: number;
  timestamp: number;
}

export interface StepCacheRow {
  step_name: string;
  fingerprint: string;
  run_id: string;
  outs: string;
  created_at: number;
}

export interface FileHashRow {
  path: string;
  size: number;
  mtime_ms: number;
  ctime_ms: number;
  ino: number;
  hash: string;
}

export function toExperiment(row: ExperimentRow): Experiment {
  const exp: Experiment = { id: String(row.id), name: row.name, runCount: row.run_count };
  if (row.last_run_at !== null) exp.lastRunAt = row.last_run_at;
  return exp;
}

/** Per-run side data loaded in bulk for a page of runs. */
export interface RunExtras {
  params: Map<string, Record<string, string>>;
  tags: Map<string, Record<string, string>>;
  latest: Map<string, Record<string, number>>;
}

export function toRunSummary(row: RunRow, extras: RunExtras): RunSummary {
  const run: RunSummary = {
    id: row.id,
    experiment: row.experiment,
    name: row.name,
    kind: row.kind as RunKind,
    status: row.status as RunStatus,
    startedAt: row.started_at,
    tags: extras.tags.get(row.id) ?? {},
    params: extras.params.get(row.id) ?? {},
    latestMetrics: extras.latest.get(row.id) ?? {},
  };
  if (row.parent_id !== null) run.parentId = row.parent_id;
  if (row.ended_at !== null) {
    run.endedAt = row.ended_at;
    run.durationMs = row.ended_at - row.started_at;
  }
  if (row.git_commit !== null) run.gitCommit = row.git_commit;
  if (row.git_dirty !== null) run.gitDirty = row.git_dirty !== 0;
  if (row.exit_code !== null) run.exitCode = row.exit_code;
  if (row.message !== null) run.message = row.message;
  return run;
}

/** Groups key/value rows by run id. */
export function groupByRun<R extends { run_id: string; key: string }, T>(rows: R[], value: (row: R) => T): Map<string, Record<string, T>> {
  const out = new Map<string, Record<string, T>>();
  for (const row of rows) {
    let rec = out.get(row.run_id);
    if (!rec) out.set(row.run_id, (rec = {}));
    rec[row.key] = value(row);
  }
  return out;
}

export function toMetricPoint(row: MetricRow): MetricPoint {
  return { key: row.key, value: row.value ?? NaN, step: row.step, timestamp: row.timestamp };
}

export function toArtifact(row: { path: string; hash: string; size: number }): Artifact {
  return { path: row.path, hash: row.hash, size: row.size };
}

export function toStepCacheEntry(row: StepCacheRow): StepCacheEntry {
  const outs = (JSON.parse(row.outs) as Artifact[]).map(toArtifact);
  return { stepName: row.step_name, fingerprint: row.fingerprint, outs, runId: row.run_id, createdAt: row.created_at };
}

export function toFileHashEntry(row: FileHashRow): FileHashEntry {
  return { path: row.path, size: row.size, mtimeMs: row.mtime_ms, ctimeMs: row.ctime_ms, ino: row.ino, hash: row.hash };
}
