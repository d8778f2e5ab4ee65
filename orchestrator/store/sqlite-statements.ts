/**
 * The SQL text of the SQLite store: statements prepared once per connection, and the
 * WHERE clause of run listings (whose shape varies with the filters, so it is built here
 * and cached by the store).
 */
import type Database from 'libsql';
import { RUN_COLUMNS } from './sqlite-rows';
import type { RunFilter } from './store';

const EXPERIMENT_SELECT = `SELECT e.id, e.name, COUNT(r.id) AS run_count, MAX(r.started_at) AS last_run_at
  FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id AND r.parent_id IS NULL`;
export const RUNS_FROM = `FROM runs r JOIN experiments e ON e.id = r.experiment_id`;
/** Binds a JSON array of ids as a set, so one prepared statement serves any number of ids. */
const IN_IDS = `IN (SELECT value FROM json_each(?))`;

export function whereClause(f: RunFilter): { where: string; args: Record<string, unknown> } {
  const conds: string[] = [];
  const args: Record<string, unknown> = {};
  if (f.experiment !== undefined) {
    conds.push('e.name = :experiment');
    args.experiment = f.experiment;
  }
  if (f.parentId === null) conds.push('r.parent_id IS NULL');
  else if (f.parentId !== undefined) {
    conds.push('r.parent_id = :parent');
    args.parent = f.parentId;
  }
  if (f.status !== undefined) {
    conds.push('r.status IN (SELECT value FROM json_each(:statuses))');
    args.statuses = JSON.stringify([f.status].flat());
  }
  if (f.kind !== undefined) {
    conds.push('r.kind = :kind');
    args.kind = f.kind;
  }
  Object.entries(f.params ?? {}).forEach(([key, value], i) => {
    conds.push(`EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = :pk${i} AND p.value = :pv${i})`);
    args[`pk${i}`] = key;
    args[`pv${i}`] = value;
  });
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', args };
}

/** Every fixed statement of the store, by name. */
const SQL = {
  insertExperiment: 'INSERT INTO experiments (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
  experimentIdByName: 'SELECT id FROM experiments WHERE name = ?',
  experimentByName: `${EXPERIMENT_SELECT} WHERE e.name = ? GROUP BY e.id`,
  experimentById: `${EXPERIMENT_SELECT} WHERE e.id = ? GROUP BY e.id`,
  listExperiments: `${EXPERIMENT_SELECT} GROUP BY e.id ORDER BY e.name`,

  insertRun: `INSERT INTO runs (id, experiment_id, name, kind, parent_id, status, started_at, git_commit, git_dirty)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateRun: `UPDATE runs SET name = coalesce(:name, name), status = coalesce(:status, status),
    ended_at = coalesce(:ended_at, ended_at), exit_code = coalesce(:exit_code, exit_code),
    message = coalesce(:message, message) WHERE id = :id`,
  runExists: 'SELECT 1 AS found FROM runs WHERE id = ?',
  runById: `SELECT ${RUN_COLUMNS} ${RUNS_FROM} WHERE r.id = ?`,
  childrenOf: `SELECT ${RUN_COLUMNS} ${RUNS_FROM} WHERE r.parent_id = ? ORDER BY r.started_at, r.rowid`,
  markInterrupted: `UPDATE runs SET status = 'interrupted', ended_at = coalesce(ended_at, ?1), message = ?2
    WHERE status IN ('queued', 'running') RETURNING id`,

  getParam: 'SELECT value FROM params WHERE run_id = ? AND key = ?',
  insertParam: 'INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)',
  paramsOf: `SELECT run_id, key, value FROM params WHERE run_id ${IN_IDS}`,
  upsertTag: 'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value',
  deleteTag: 'DELETE FROM tags WHERE run_id = ? AND key = ?',
  tagsOf: `SELECT run_id, key, value FROM tags WHERE run_id ${IN_IDS}`,

  insertMetric: 'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
  // Latest = highest step, then newest timestamp, then last logged (MLflow's rule, minus its value tiebreak).
  upsertLatest: `INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
    WHERE excluded.step > latest_metrics.step
       OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)`,
  metricHistory: 'SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp, id',
  latestOf: 'SELECT key, value, step, timestamp FROM latest_metrics WHERE run_id = ? ORDER BY key',
  latestOfMany: `SELECT run_id, key, value, step, timestamp FROM latest_metrics WHERE run_id ${IN_IDS}`,

  upsertArtifact: `INSERT INTO artifacts (run_id, path, hash, size) VALUES (?, ?, ?, ?)
    ON CONFLICT (run_id, path) DO UPDATE SET hash = excluded.hash, size = excluded.size`,
  artifactsOf: 'SELECT path, hash, size FROM artifacts WHERE run_id = ? ORDER BY path',
  upsertDatasetHash: `INSERT INTO dataset_hashes (run_id, name, hash) VALUES (?, ?, ?)
    ON CONFLICT (run_id, name) DO UPDATE SET hash = excluded.hash`,
  datasetHashesOf: 'SELECT name, hash FROM dataset_hashes WHERE run_id = ? ORDER BY name',

  getStepCache: 'SELECT step_name, fingerprint, run_id, outs, created_at FROM step_cache WHERE step_name = ? AND fingerprint = ?',
  putStepCache: `INSERT INTO step_cache (step_name, fingerprint, run_id, outs, created_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (step_name, fingerprint) DO UPDATE SET run_id = excluded.run_id, outs = excluded.outs, created_at = excluded.created_at`,
  getFileHashes: `SELECT path, size, mtime_ms, ctime_ms, ino, hash FROM file_hashes WHERE path ${IN_IDS}`,
  putFileHash: `INSERT INTO file_hashes (path, size, mtime_ms, ctime_ms, ino, hash) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, ctime_ms = excluded.ctime_ms,
      ino = excluded.ino, hash = excluded.hash`,
};

export type Statements = Record<keyof typeof SQL, Database.Statement>;

export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)])) as Statements;
}
