/**
 * The local Store: one SQLite file (`.mlops/store.db`) in WAL mode through libsql, a
 * prebuilt N-API driver, so the same binary loads in Node 20, Node 24 and Electron.
 *
 * libsql quirks handled here (see ML-NOTES.md):
 * - rows from `get()` carry an extra `_metadata` property: mappers pick columns by name;
 * - `.pluck()` is ignored by `get()`: scalars are read through a named column instead;
 * - binding a boolean aborts the process (a Rust panic), and a lone `null` argument is
 *   rejected: booleans are bound as 0/1 and every statement gets an array or named object.
 *
 * Every write runs in `BEGIN IMMEDIATE` so a second process (the CLI next to the daemon)
 * waits on `busy_timeout` at BEGIN instead of failing mid-transaction on a lock upgrade.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'libsql';
import { MlopsError } from '../../protocol/errors';
import type { Artifact, Experiment, MetricPoint, RunDetail, RunSummary } from '../../protocol/types';
import { MIGRATIONS } from './migrations';
import { sqliteFileLock, type AsyncMutex } from './sqlite-lock';
import * as rows from './sqlite-rows';
import { prepareStatements, RUNS_FROM, whereClause, type Statements } from './sqlite-statements';
import type { ExperimentRow, FileHashRow, KeyValueRow, MetricRow, RunRow, StepCacheRow } from './sqlite-rows';
import type { FileHashEntry, NewRun, RunBatch, RunFilter, RunPatch, RunQuery, StepCacheEntry, Store } from './store';

type Statement = Database.Statement;

const BUSY_TIMEOUT_MS = 5000;
const DEFAULT_PAGE = 100;

/** Opens (creating if needed) `<dir>/store.db`; `dir` is the workspace's `.mlops/`. */
export async function openSqliteStore(dir: string): Promise<SqliteStore> {
  await mkdir(dir, { recursive: true });
  return new SqliteStore(join(dir, 'store.db'));
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly s: Statements;
  /** listRuns/countRuns SQL varies with the filters present; each shape (and rare maintenance SQL) is prepared once. */
  private readonly dynamic = new Map<string, Statement>();
  /** Shared with the registry's connection to the same file: see sqlite-lock.ts. */
  private readonly lock: AsyncMutex;

  constructor(readonly file: string) {
    this.lock = sqliteFileLock(file);
    this.db = new Database(file);
    try {
      // busy_timeout first: switching to WAL and migrating take locks another process may hold.
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA synchronous = NORMAL'); // WAL + NORMAL: durable across app crashes, may lose the last commit on power loss
      this.db.exec('PRAGMA foreign_keys = ON');
      this.migrate();
      this.s = prepareStatements(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  // ---- experiments

  async getOrCreateExperiment(name: string): Promise<Experiment> {
    return this.write(() => {
      this.s.insertExperiment.run([name, Date.now()]);
      return rows.toExperiment(this.s.experimentByName.get([name]) as ExperimentRow);
    });
  }

  async getExperiment(ref: { id: string } | { name: string }): Promise<Experiment | undefined> {
    let row: unknown;
    if ('id' in ref) row = /^\d+$/.test(ref.id) ? this.s.experimentById.get([Number(ref.id)]) : undefined;
    else row = this.s.experimentByName.get([ref.name]);
    return row ? rows.toExperiment(row as ExperimentRow) : undefined;
  }

  async listExperiments(): Promise<Experiment[]> {
    return (this.s.listExperiments.all([]) as ExperimentRow[]).map(rows.toExperiment);
  }

  // ---- runs

  async createRun(run: NewRun): Promise<string> {
    const id = randomBytes(16).toString('hex');
    await this.write(() => {
      if (run.parentId !== undefined && !this.s.runExists.get([run.parentId])) {
        throw new MlopsError('NOT_FOUND', `parent run ${run.parentId} not found`);
      }
      this.s.insertExperiment.run([run.experiment, Date.now()]);
      const exp = this.s.experimentIdByName.get([run.experiment]) as { id: number };
      this.s.insertRun.run([
        id, exp.id, run.name, run.kind, run.parentId ?? null, run.status ?? 'running', run.startedAt ?? Date.now(),
        run.gitCommit ?? null, run.gitDirty === undefined ? null : run.gitDirty ? 1 : 0,
      ]);
      this.insertParams(id, run.params ?? {});
      this.upsertTags(id, run.tags ?? {});
    });
    return id;
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    await this.write(() => {
      const { changes } = this.s.updateRun.run({
        id, name: patch.name ?? null, status: patch.status ?? null, ended_at: patch.endedAt ?? null,
        exit_code: patch.exitCode ?? null, message: patch.message ?? null,
      });
      if (changes === 0) throw notFound(id);
    });
  }

  async getRun(id: string): Promise<RunDetail | undefined> {
    return this.read(() => {
      const row = this.s.runById.get([id]) as RunRow | undefined;
      if (!row) return undefined;
      const [summary] = this.summaries([row]);
      return {
        ...summary!,
        children: this.summaries(this.s.childrenOf.all([id]) as RunRow[]),
        artifacts: (this.s.artifactsOf.all([id]) as Artifact[]).map(rows.toArtifact),
        datasetHashes: Object.fromEntries((this.s.datasetHashesOf.all([id]) as { name: string; hash: string }[]).map((r) => [r.name, r.hash])),
      };
    });
  }

  async listRuns(query: RunQuery = {}): Promise<RunSummary[]> {
    const { where, args } = whereClause(query);
    const dir = query.desc === false ? 'ASC' : 'DESC';
    const order = query.orderBy ?? 'startedAt';
    let join = '';
    // Ties (runs created in the same millisecond) keep insertion order: rowid, not the random id.
    let orderSql = `r.started_at ${dir}, r.rowid ${dir}`;
    if (typeof order === 'object') {
      // Runs that never logged the metric (or logged NaN, stored as NULL) go last either way.
      join = 'LEFT JOIN latest_metrics lm ON lm.run_id = r.id AND lm.key = :metric';
      args.metric = order.metric;
      orderSql = `(lm.value IS NULL), lm.value ${dir}, r.started_at DESC, r.rowid DESC`;
    }
    args.limit = Math.max(0, Math.floor(query.limit ?? DEFAULT_PAGE));
    args.offset = Math.max(0, Math.floor(query.offset ?? 0));
    const sql = `SELECT ${rows.RUN_COLUMNS} ${RUNS_FROM} ${join} ${where} ORDER BY ${orderSql} LIMIT :limit OFFSET :offset`;
    return this.read(() => this.summaries(this.prepared(sql).all(args) as RunRow[]));
  }

  async countRuns(filter: RunFilter = {}): Promise<number> {
    const { where, args } = whereClause(filter);
    return (this.prepared(`SELECT COUNT(*) AS n ${RUNS_FROM} ${where}`).get(args) as { n: number }).n;
  }

  async listChildren(id: string): Promise<RunSummary[]> {
    return this.read(() => this.summaries(this.s.childrenOf.all([id]) as RunRow[]));
  }

  // ---- params, tags, metrics

  async logParams(runId: string, params: Record<string, string>): Promise<void> {
    await this.write(() => {
      this.requireRun(runId);
      this.insertParams(runId, params);
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    await this.write(() => {
      this.requireRun(runId);
      this.upsertTags(runId, tags);
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.write(() => {
      this.requireRun(runId);
      this.s.deleteTag.run([runId, key]);
    });
  }

  async logMetrics(runId: string, points: MetricPoint[]): Promise<void> {
    return this.logBatch(runId, { metrics: points });
  }

  async logBatch(runId: string, batch: RunBatch): Promise<void> {
    await this.write(() => {
      this.requireRun(runId);
      this.insertParams(runId, batch.params ?? {});
      this.upsertTags(runId, batch.tags ?? {});
      this.insertMetrics(runId, batch.metrics ?? []);
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    return this.read(() => {
      this.requireRun(runId);
      return (this.s.metricHistory.all([runId, key]) as MetricRow[]).map(rows.toMetricPoint);
    });
  }

  async getLatestMetrics(runId: string): Promise<MetricPoint[]> {
    return this.read(() => {
      this.requireRun(runId);
      return (this.s.latestOf.all([runId]) as MetricRow[]).map(rows.toMetricPoint);
    });
  }

  // ---- artifacts, lineage

  async recordArtifacts(runId: string, artifacts: Artifact[]): Promise<void> {
    await this.write(() => {
      this.requireRun(runId);
      for (const a of artifacts) this.s.upsertArtifact.run([runId, a.path, a.hash, a.size]);
    });
  }

  async recordDatasetHashes(runId: string, hashes: Record<string, string>): Promise<void> {
    await this.write(() => {
      this.requireRun(runId);
      for (const [name, hash] of Object.entries(hashes)) this.s.upsertDatasetHash.run([runId, name, hash]);
    });
  }

  // ---- caches

  async getStepCache(stepName: string, fingerprint: string): Promise<StepCacheEntry | undefined> {
    const row = this.s.getStepCache.get([stepName, fingerprint]) as StepCacheRow | undefined;
    return row ? rows.toStepCacheEntry(row) : undefined;
  }

  async putStepCache(entry: Omit<StepCacheEntry, 'createdAt'>): Promise<void> {
    const outs = JSON.stringify(entry.outs.map(rows.toArtifact));
    await this.write(() => this.s.putStepCache.run([entry.stepName, entry.fingerprint, entry.runId, outs, Date.now()]));
  }

  async getFileHashes(paths: string[]): Promise<Map<string, FileHashEntry>> {
    const found = this.s.getFileHashes.all([JSON.stringify(paths)]) as FileHashRow[];
    return new Map(found.map((r) => [r.path, rows.toFileHashEntry(r)]));
  }

  async putFileHashes(entries: FileHashEntry[]): Promise<void> {
    await this.write(() => {
      for (const e of entries) this.s.putFileHash.run([e.path, e.size, e.mtimeMs, e.ctimeMs, e.ino, e.hash]);
    });
  }

  // ---- maintenance

  async markInterrupted(message = 'interrupted: the orchestrator stopped while the run was active'): Promise<string[]> {
    return this.write(() => (this.s.markInterrupted.all([Date.now(), message]) as { id: string }[]).map((r) => r.id));
  }

  async integrityCheck(): Promise<string> {
    const problems = (this.prepared('PRAGMA integrity_check').all([]) as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .filter((m) => m !== 'ok');
    const fk = this.prepared('PRAGMA foreign_key_check').all([]) as { table: string; rowid: number; parent: string }[];
    for (const v of fk) problems.push(`foreign key violation: ${v.table} row ${v.rowid} references a missing ${v.parent}`);
    return problems.length === 0 ? 'ok' : problems.join('\n');
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // ---- internals (synchronous; callers hold the transaction)

  private migrate(): void {
    const known = MIGRATIONS.length;
    const check = (found: number) => {
      if (found > known) {
        throw new MlopsError(
          'UNAVAILABLE',
          `${this.file} has schema version ${found}, but this MLOps Workbench only knows versions up to ${known}: ` +
            'it was written by a newer release. Upgrade MLOps Workbench (or the mlops CLI) to open it.',
          { found, known },
        );
      }
      return found;
    };
    if (check(this.userVersion()) === known) return;
    this.writeNow(() => {
      // Re-read under the write lock: another process may have migrated in the meantime.
      for (let v = check(this.userVersion()); v < known; v++) this.db.exec(MIGRATIONS[v]!);
      this.db.exec(`PRAGMA user_version = ${known}`); // transactional: rolls back with the scripts
    });
  }

  private userVersion(): number {
    return (this.db.prepare('PRAGMA user_version').get([]) as { user_version: number }).user_version;
  }

  /** A write transaction, queued behind the registry's (see sqlite-lock.ts); `fn` itself is synchronous. */
  private write<T>(fn: () => T): Promise<T> {
    return this.lock.run(() => this.writeNow(fn));
  }

  private writeNow<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** A read transaction, so multi-query reads see one snapshot while writers commit. */
  private read<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.db.exec('BEGIN');
    try {
      return fn();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  private prepared(sql: string): Statement {
    let stmt = this.dynamic.get(sql);
    if (!stmt) this.dynamic.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  private requireRun(id: string): void {
    if (!this.s.runExists.get([id])) throw notFound(id);
  }

  private insertParams(runId: string, params: Record<string, string>): void {
    for (const [key, raw] of Object.entries(params)) {
      const value = String(raw);
      const existing = this.s.getParam.get([runId, key]) as { value: string } | undefined;
      if (existing === undefined) this.s.insertParam.run([runId, key, value]);
      else if (existing.value !== value) {
        throw new MlopsError('CONFLICT', `param "${key}" of run ${runId} is already "${existing.value}"; params cannot change once logged`);
      }
    }
  }

  private upsertTags(runId: string, tags: Record<string, string>): void {
    for (const [key, value] of Object.entries(tags)) this.s.upsertTag.run([runId, key, String(value)]);
  }

  private insertMetrics(runId: string, points: MetricPoint[]): void {
    // Collapse the batch to one candidate "latest" per key before touching latest_metrics.
    const latest = new Map<string, MetricPoint>();
    for (const p of points) {
      this.s.insertMetric.run([runId, p.key, p.value, p.step, p.timestamp]);
      const cur = latest.get(p.key);
      if (!cur || p.step > cur.step || (p.step === cur.step && p.timestamp >= cur.timestamp)) latest.set(p.key, p);
    }
    for (const p of latest.values()) this.s.upsertLatest.run([runId, p.key, p.value, p.step, p.timestamp]);
  }

  /** Loads params, tags and latest metrics for a page of runs in three queries. */
  private summaries(runRows: RunRow[]): RunSummary[] {
    if (runRows.length === 0) return [];
    const ids = [JSON.stringify(runRows.map((r) => r.id))];
    const extras: rows.RunExtras = {
      params: rows.groupByRun(this.s.paramsOf.all(ids) as KeyValueRow[], (r) => r.value),
      tags: rows.groupByRun(this.s.tagsOf.all(ids) as KeyValueRow[], (r) => r.value),
      latest: rows.groupByRun(this.s.latestOfMany.all(ids) as (MetricRow & { run_id: string })[], (r) => r.value ?? NaN),
    };
    return runRows.map((r) => rows.toRunSummary(r, extras));
  }
}

function notFound(runId: string): MlopsError {
  return new MlopsError('NOT_FOUND', `run ${runId} not found`);
}
