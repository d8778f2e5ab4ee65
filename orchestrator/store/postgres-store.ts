/**
 * The shared Store: runs, params, metrics and caches in PostgreSQL, so several people and CI
 * track into one database. Same behaviour as SqliteStore (the store tests run against both);
 * the SQL differs in dialect only, plus an `owner` (the workspace, see postgres-migrations.ts)
 * on runs and on the machine-local caches.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { MlopsError } from '../../protocol/errors';
import type { Artifact, Experiment, MetricPoint, RunDetail, RunSummary } from '../../protocol/types';
import { openMigratedPool, transaction, type PostgresTarget, type Queryable } from './postgres-connection';
import * as rows from './sqlite-rows';
import type { ExperimentRow, FileHashRow, KeyValueRow, MetricRow, RunRow, StepCacheRow } from './sqlite-rows';
import type { FileHashEntry, NewRun, RunBatch, RunFilter, RunPatch, RunQuery, StepCacheEntry, Store } from './store';

const DEFAULT_PAGE = 100;
// git_dirty is a BOOLEAN here; the shared row mapper expects SQLite's 0/1.
const RUN_COLUMNS = rows.RUN_COLUMNS.replace('r.git_dirty', 'r.git_dirty::int AS git_dirty');
const RUNS_FROM = 'FROM runs r JOIN experiments e ON e.id = r.experiment_id';
const EXPERIMENT_SELECT = `SELECT e.id, e.name, COUNT(r.id) AS run_count, MAX(r.started_at) AS last_run_at
  FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id AND r.parent_id IS NULL`;

export interface PostgresStoreOptions {
  /** Who runs this store's runs (default: the workspace); see postgres-migrations.ts. */
  owner: string;
}

/** Connects, creates the schema if needed and migrates it. */
export async function openPostgresStore(url: string, opts: PostgresStoreOptions): Promise<PostgresStore> {
  const { pool, target } = await openMigratedPool(url);
  return new PostgresStore(pool, target, opts.owner);
}

export class PostgresStore implements Store {
  constructor(
    private readonly pool: pg.Pool,
    readonly target: PostgresTarget,
    readonly owner: string,
  ) {}

  // ---- experiments

  async getOrCreateExperiment(name: string): Promise<Experiment> {
    return this.write(async (c) => {
      await insertExperiment(c, name);
      return rows.toExperiment(await one<ExperimentRow>(c, `${EXPERIMENT_SELECT} WHERE e.name = $1 GROUP BY e.id`, [name]));
    });
  }

  async getExperiment(ref: { id: string } | { name: string }): Promise<Experiment | undefined> {
    if ('id' in ref && !/^\d{1,15}$/.test(ref.id)) return undefined;
    const [where, arg] = 'id' in ref ? ['e.id = $1', Number(ref.id)] : ['e.name = $1', ref.name];
    const row = (await this.pool.query<ExperimentRow>(`${EXPERIMENT_SELECT} WHERE ${where} GROUP BY e.id`, [arg])).rows[0];
    return row ? rows.toExperiment(row) : undefined;
  }

  async listExperiments(): Promise<Experiment[]> {
    return (await this.pool.query<ExperimentRow>(`${EXPERIMENT_SELECT} GROUP BY e.id ORDER BY e.name`)).rows.map(rows.toExperiment);
  }

  // ---- runs

  async createRun(run: NewRun): Promise<string> {
    const id = randomBytes(16).toString('hex');
    await this.write(async (c) => {
      if (run.parentId !== undefined && !(await runExists(c, run.parentId))) throw new MlopsError('NOT_FOUND', `parent run ${run.parentId} not found`);
      await insertExperiment(c, run.experiment);
      const exp = await one<{ id: number }>(c, 'SELECT id FROM experiments WHERE name = $1', [run.experiment]);
      await c.query(
        `INSERT INTO runs (id, owner, experiment_id, name, kind, parent_id, status, started_at, git_commit, git_dirty)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, this.owner, exp.id, run.name, run.kind, run.parentId ?? null, run.status ?? 'running', run.startedAt ?? Date.now(), run.gitCommit ?? null, run.gitDirty ?? null],
      );
      await insertParams(c, id, run.params ?? {});
      await upsertTags(c, id, run.tags ?? {});
    });
    return id;
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    const { rowCount } = await this.pool.query(
      `UPDATE runs SET name = coalesce($2, name), status = coalesce($3, status), ended_at = coalesce($4, ended_at),
         exit_code = coalesce($5, exit_code), message = coalesce($6, message) WHERE id = $1`,
      [id, patch.name ?? null, patch.status ?? null, patch.endedAt ?? null, patch.exitCode ?? null, patch.message ?? null],
    );
    if (rowCount === 0) throw notFound(id);
  }

  async getRun(id: string): Promise<RunDetail | undefined> {
    return this.read(async (c) => {
      const row = (await c.query<RunRow>(`SELECT ${RUN_COLUMNS} ${RUNS_FROM} WHERE r.id = $1`, [id])).rows[0];
      if (!row) return undefined;
      const [summary] = await summaries(c, [row]);
      const children = (await c.query<RunRow>(`SELECT ${RUN_COLUMNS} ${RUNS_FROM} WHERE r.parent_id = $1 ORDER BY r.started_at, r.seq`, [id])).rows;
      const artifacts = (await c.query<Artifact>('SELECT path, hash, size FROM artifacts WHERE run_id = $1 ORDER BY path', [id])).rows;
      const datasets = (await c.query<{ name: string; hash: string }>('SELECT name, hash FROM dataset_hashes WHERE run_id = $1 ORDER BY name', [id])).rows;
      return {
        ...summary!,
        children: await summaries(c, children),
        artifacts: artifacts.map(rows.toArtifact),
        datasetHashes: Object.fromEntries(datasets.map((r) => [r.name, r.hash])),
      };
    });
  }

  async listRuns(query: RunQuery = {}): Promise<RunSummary[]> {
    const { where, args } = whereClause(query);
    const dir = query.desc === false ? 'ASC' : 'DESC';
    const order = query.orderBy ?? 'startedAt';
    let join = '';
    let orderSql = `r.started_at ${dir}, r.seq ${dir}`;
    if (typeof order === 'object') {
      args.push(order.metric);
      join = `LEFT JOIN latest_metrics lm ON lm.run_id = r.id AND lm.key = $${args.length}`;
      orderSql = `(lm.value IS NULL), lm.value ${dir}, r.started_at DESC, r.seq DESC`;
    }
    args.push(Math.max(0, Math.floor(query.limit ?? DEFAULT_PAGE)), Math.max(0, Math.floor(query.offset ?? 0)));
    const sql = `SELECT ${RUN_COLUMNS} ${RUNS_FROM} ${join} ${where} ORDER BY ${orderSql} LIMIT $${args.length - 1} OFFSET $${args.length}`;
    return this.read(async (c) => summaries(c, (await c.query<RunRow>(sql, args)).rows));
  }

  async countRuns(filter: RunFilter = {}): Promise<number> {
    const { where, args } = whereClause(filter);
    return (await one<{ n: number }>(this.pool, `SELECT COUNT(*) AS n ${RUNS_FROM} ${where}`, args)).n;
  }

  async listChildren(id: string): Promise<RunSummary[]> {
    return this.read(async (c) => summaries(c, (await c.query<RunRow>(`SELECT ${RUN_COLUMNS} ${RUNS_FROM} WHERE r.parent_id = $1 ORDER BY r.started_at, r.seq`, [id])).rows));
  }

  // ---- params, tags, metrics

  async logParams(runId: string, params: Record<string, string>): Promise<void> {
    await this.write(async (c) => {
      await requireRun(c, runId);
      await insertParams(c, runId, params);
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    await this.write(async (c) => {
      await requireRun(c, runId);
      await upsertTags(c, runId, tags);
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.write(async (c) => {
      await requireRun(c, runId);
      await c.query('DELETE FROM tags WHERE run_id = $1 AND key = $2', [runId, key]);
    });
  }

  async logMetrics(runId: string, points: MetricPoint[]): Promise<void> {
    return this.logBatch(runId, { metrics: points });
  }

  async logBatch(runId: string, batch: RunBatch): Promise<void> {
    await this.write(async (c) => {
      await requireRun(c, runId);
      await insertParams(c, runId, batch.params ?? {});
      await upsertTags(c, runId, batch.tags ?? {});
      await insertMetrics(c, runId, batch.metrics ?? []);
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    return this.read(async (c) => {
      await requireRun(c, runId);
      const r = await c.query<MetricRow>('SELECT key, value, step, timestamp FROM metrics WHERE run_id = $1 AND key = $2 ORDER BY step, timestamp, id', [runId, key]);
      return r.rows.map(rows.toMetricPoint);
    });
  }

  async getLatestMetrics(runId: string): Promise<MetricPoint[]> {
    return this.read(async (c) => {
      await requireRun(c, runId);
      return (await c.query<MetricRow>('SELECT key, value, step, timestamp FROM latest_metrics WHERE run_id = $1 ORDER BY key', [runId])).rows.map(rows.toMetricPoint);
    });
  }

  // ---- artifacts, lineage

  async recordArtifacts(runId: string, artifacts: Artifact[]): Promise<void> {
    await this.write(async (c) => {
      await requireRun(c, runId);
      for (const a of artifacts) {
        await c.query(
          `INSERT INTO artifacts (run_id, path, hash, size) VALUES ($1, $2, $3, $4)
           ON CONFLICT (run_id, path) DO UPDATE SET hash = excluded.hash, size = excluded.size`,
          [runId, a.path, a.hash, a.size],
        );
      }
    });
  }

  async recordDatasetHashes(runId: string, hashes: Record<string, string>): Promise<void> {
    await this.write(async (c) => {
      await requireRun(c, runId);
      for (const [name, hash] of Object.entries(hashes)) {
        await c.query('INSERT INTO dataset_hashes (run_id, name, hash) VALUES ($1, $2, $3) ON CONFLICT (run_id, name) DO UPDATE SET hash = excluded.hash', [runId, name, hash]);
      }
    });
  }

  // ---- caches (this owner's)

  async getStepCache(stepName: string, fingerprint: string): Promise<StepCacheEntry | undefined> {
    const r = await this.pool.query<StepCacheRow>(
      'SELECT step_name, fingerprint, run_id, outs, created_at FROM step_cache WHERE owner = $1 AND step_name = $2 AND fingerprint = $3',
      [this.owner, stepName, fingerprint],
    );
    return r.rows[0] ? rows.toStepCacheEntry(r.rows[0]) : undefined;
  }

  async putStepCache(entry: Omit<StepCacheEntry, 'createdAt'>): Promise<void> {
    const outs = JSON.stringify(entry.outs.map(rows.toArtifact));
    await this.pool.query(
      `INSERT INTO step_cache (owner, step_name, fingerprint, run_id, outs, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (owner, step_name, fingerprint) DO UPDATE SET run_id = excluded.run_id, outs = excluded.outs, created_at = excluded.created_at`,
      [this.owner, entry.stepName, entry.fingerprint, entry.runId, outs, Date.now()],
    );
  }

  async getFileHashes(paths: string[]): Promise<Map<string, FileHashEntry>> {
    const r = await this.pool.query<FileHashRow>('SELECT path, size, mtime_ms, ctime_ms, ino, hash FROM file_hashes WHERE owner = $1 AND path = ANY($2::text[])', [this.owner, paths]);
    return new Map(r.rows.map((row) => [row.path, rows.toFileHashEntry(row)]));
  }

  async putFileHashes(entries: FileHashEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.write(async (c) => {
      for (const e of entries) {
        await c.query(
          `INSERT INTO file_hashes (owner, path, size, mtime_ms, ctime_ms, ino, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (owner, path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, ctime_ms = excluded.ctime_ms, ino = excluded.ino, hash = excluded.hash`,
          [this.owner, e.path, e.size, e.mtimeMs, e.ctimeMs, e.ino, e.hash],
        );
      }
    });
  }

  // ---- maintenance

  /** Only this owner's runs: other people's daemons may be running theirs right now. */
  async markInterrupted(message = 'interrupted: the orchestrator stopped while the run was active'): Promise<string[]> {
    const r = await this.pool.query<{ id: string }>(
      `UPDATE runs SET status = 'interrupted', ended_at = coalesce(ended_at, $1), message = $2
       WHERE status IN ('queued', 'running') AND owner = $3 RETURNING id`,
      [Date.now(), message, this.owner],
    );
    return r.rows.map((x) => x.id);
  }

  /** PostgreSQL checks its own pages and constraints; this says whether the store answers and has the expected schema. */
  async integrityCheck(): Promise<string> {
    try {
      const v = await one<{ version: number }>(this.pool, 'SELECT version FROM mlops_schema', []);
      return v ? 'ok' : 'the mlops_schema table is empty';
    } catch (e) {
      return `the PostgreSQL store at ${this.target.label} does not answer: ${(e as Error).message}`;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private write<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.pool, this.target, fn, 'write');
  }

  /** A snapshot read, so multi-query reads see one state while others commit. */
  private read<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.pool, this.target, fn, 'read');
  }
}

async function one<R extends pg.QueryResultRow>(c: Queryable, sql: string, args: unknown[]): Promise<R> {
  return (await c.query<R>(sql, args)).rows[0]!;
}

function notFound(runId: string): MlopsError {
  return new MlopsError('NOT_FOUND', `run ${runId} not found`);
}

async function insertExperiment(c: Queryable, name: string): Promise<void> {
  await c.query('INSERT INTO experiments (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, Date.now()]);
}

async function runExists(c: Queryable, id: string): Promise<boolean> {
  return (await c.query('SELECT 1 FROM runs WHERE id = $1', [id])).rows.length > 0;
}

async function requireRun(c: Queryable, id: string): Promise<void> {
  if (!(await runExists(c, id))) throw notFound(id);
}

async function insertParams(c: Queryable, runId: string, params: Record<string, string>): Promise<void> {
  for (const [key, raw] of Object.entries(params)) {
    const value = String(raw);
    // Insert-or-read in one statement, so two writers of the same param cannot both "insert".
    await c.query('INSERT INTO params (run_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (run_id, key) DO NOTHING', [runId, key, value]);
    const existing = await one<{ value: string }>(c, 'SELECT value FROM params WHERE run_id = $1 AND key = $2', [runId, key]);
    if (existing.value !== value) {
      throw new MlopsError('CONFLICT', `param "${key}" of run ${runId} is already "${existing.value}"; params cannot change once logged`);
    }
  }
}

async function upsertTags(c: Queryable, runId: string, tags: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(tags)) {
    await c.query('INSERT INTO tags (run_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value', [runId, key, String(value)]);
  }
}

async function insertMetrics(c: Queryable, runId: string, points: MetricPoint[]): Promise<void> {
  if (points.length === 0) return;
  const value = (v: number) => (Number.isNaN(v) ? null : v);
  // One INSERT for the whole batch (unnest keeps logging order in the identity column).
  await c.query(
    `INSERT INTO metrics (run_id, key, value, step, timestamp)
     SELECT $1, k, v, s, t FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS x(k, v, s, t, n) ORDER BY n`,
    [runId, points.map((p) => p.key), points.map((p) => value(p.value)), points.map((p) => p.step), points.map((p) => p.timestamp)],
  );
  const latest = new Map<string, MetricPoint>();
  for (const p of points) {
    const cur = latest.get(p.key);
    if (!cur || p.step > cur.step || (p.step === cur.step && p.timestamp >= cur.timestamp)) latest.set(p.key, p);
  }
  for (const p of latest.values()) {
    await c.query(
      `INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
       WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)`,
      [runId, p.key, value(p.value), p.step, p.timestamp],
    );
  }
}

/** Loads params, tags and latest metrics for a page of runs in three queries. */
async function summaries(c: Queryable, runRows: RunRow[]): Promise<RunSummary[]> {
  if (runRows.length === 0) return [];
  const ids = [runRows.map((r) => r.id)];
  const extras: rows.RunExtras = {
    params: rows.groupByRun((await c.query<KeyValueRow>('SELECT run_id, key, value FROM params WHERE run_id = ANY($1::text[])', ids)).rows, (r) => r.value),
    tags: rows.groupByRun((await c.query<KeyValueRow>('SELECT run_id, key, value FROM tags WHERE run_id = ANY($1::text[])', ids)).rows, (r) => r.value),
    latest: rows.groupByRun(
      (await c.query<MetricRow & { run_id: string }>('SELECT run_id, key, value, step, timestamp FROM latest_metrics WHERE run_id = ANY($1::text[])', ids)).rows,
      (r) => r.value ?? NaN,
    ),
  };
  return runRows.map((r) => rows.toRunSummary(r, extras));
}

/** The WHERE clause of run listings, with positional arguments. */
function whereClause(f: RunFilter): { where: string; args: unknown[] } {
  const conds: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.experiment !== undefined) conds.push(`e.name = ${arg(f.experiment)}`);
  if (f.parentId === null) conds.push('r.parent_id IS NULL');
  else if (f.parentId !== undefined) conds.push(`r.parent_id = ${arg(f.parentId)}`);
  if (f.status !== undefined) conds.push(`r.status = ANY(${arg([f.status].flat())}::text[])`);
  if (f.kind !== undefined) conds.push(`r.kind = ${arg(f.kind)}`);
  for (const [key, value] of Object.entries(f.params ?? {})) {
    conds.push(`EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ${arg(key)} AND p.value = ${arg(value)})`);
  }
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', args };
}
