/**
 * The registry's tables in the workspace's `.mlops/store.db`, through their own libsql
 * connection (the run store keeps its own; both are WAL readers/writers of one file). The
 * registry's transactions are async, so both connections queue their writes in one per-file
 * lock (orchestrator/store/sqlite-lock.ts) rather than meet SQLite's lock inside one process.
 * The schema comes from the shared migration list (orchestrator/store/migrations.ts), applied
 * by opening the run store first when the file is older.
 *
 * The audit key and the anchored head live next to the store file, not in it: see audit-chain.ts.
 * Same libsql care as sqlite-store.ts: columns picked by name, no booleans or lone nulls bound.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'libsql';
import { MlopsError } from '../../protocol/errors';
import type { AliasEvent, PromotionRequest } from '../../protocol/registry';
import { writeJsonAtomic } from '../daemon/daemon-info';
import { ensureToken, readToken } from '../daemon/token';
import { MIGRATIONS } from '../store/migrations';
import { sqliteFileLock, type AsyncMutex } from '../store/sqlite-lock';
import { openSqliteStore } from '../store/sqlite-store';
import { anchorFor, chainEntry, type AuditAnchor, type StoredAuditEntry } from './audit-chain';
import type { AuditInput, ModelRecord, RegistryStore, RegistryTx, RequestFilter } from './registry-store';
import { modelRecordOf, promotionRequestOf, publicEntry, storedEntry, tokenOf, versionOf, withAliases, MODEL_SELECT, TOKEN_COLUMNS, VERSION_COLUMNS, type AuditRow, type DecisionRow, type ModelRow, type RequestRow, type TokenRow, type VersionRow } from './sqlite-registry-rows';

const BUSY_TIMEOUT_MS = 5000;
/** The schema version that has the registry's tables (the migration that creates them). */
const REGISTRY_SCHEMA = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE registered_models')) + 1;

export interface RegistryFiles {
  /** `.mlops/store.db` */
  db: string;
  /** `.mlops/audit.key`: HMAC key of the audit log, 64 hex characters, mode 0600. */
  auditKey: string;
  /** `.mlops/audit-head`: the last entry's seq and hash, signed with the key. */
  auditHead: string;
}

export function registryFiles(mlopsDir: string): RegistryFiles {
  return { db: path.join(mlopsDir, 'store.db'), auditKey: path.join(mlopsDir, 'audit.key'), auditHead: path.join(mlopsDir, 'audit-head') };
}

/** Opens the registry of the workspace whose `.mlops/` is `mlopsDir` (creating or migrating the store file if needed). */
export async function openRegistryStore(mlopsDir: string): Promise<SqliteRegistryStore> {
  const files = registryFiles(mlopsDir);
  if (schemaVersion(files.db) < REGISTRY_SCHEMA) await (await openSqliteStore(mlopsDir)).close();
  return new SqliteRegistryStore(files);
}

function schemaVersion(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const db = new Database(file);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return (db.prepare('PRAGMA user_version').get([]) as { user_version: number }).user_version;
  } finally {
    db.close();
  }
}

export class SqliteRegistryStore implements RegistryStore {
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  private key: string | undefined;
  /** The anchor to write when the current transaction commits. */
  private pendingAnchor: AuditAnchor | undefined;
  private readonly tx: RegistryTx;
  /**
   * Transactions are async (the interface serves PostgreSQL too) but this connection runs one
   * at a time: the queue keeps two callers from interleaving on it, and is the same queue the
   * run store's writes to this file wait in (see sqlite-lock.ts).
   */
  private readonly lock: AsyncMutex;

  constructor(readonly files: RegistryFiles) {
    this.lock = sqliteFileLock(files.db);
    this.db = new Database(files.db);
    try {
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.exec('PRAGMA foreign_keys = ON');
      const v = (this.db.prepare('PRAGMA user_version').get([]) as { user_version: number }).user_version;
      if (v < REGISTRY_SCHEMA) throw new MlopsError('UNAVAILABLE', `${files.db} has schema version ${v}; the registry needs ${REGISTRY_SCHEMA} (open it with the run store first)`);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.tx = asyncTx(this.makeTx());
  }

  async read<T>(fn: (tx: RegistryTx) => T | Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      if (this.db.inTransaction) return fn(this.tx);
      this.db.exec('BEGIN');
      try {
        return await fn(this.tx);
      } finally {
        if (this.db.inTransaction) this.db.exec('COMMIT');
      }
    });
  }

  async write<T>(fn: (tx: RegistryTx) => T | Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      if (this.db.inTransaction) return fn(this.tx);
      this.db.exec('BEGIN IMMEDIATE');
      this.pendingAnchor = undefined;
      let anchored: { previous: string | undefined } | undefined;
      try {
        const result = await fn(this.tx);
        if (this.pendingAnchor) {
          // Anchored before the commit: a crash in between leaves the head one entry ahead,
          // which verify reports, rather than an entry nobody anchored.
          anchored = { previous: readText(this.files.auditHead) };
          writeJsonAtomic(this.files.auditHead, this.pendingAnchor);
        }
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        if (anchored?.previous === undefined && anchored) fs.rmSync(this.files.auditHead, { force: true });
        else if (anchored?.previous !== undefined) fs.writeFileSync(this.files.auditHead, anchored.previous);
        throw err;
      } finally {
        this.pendingAnchor = undefined;
      }
    });
  }

  async auditSecrets(): Promise<{ key: string | undefined; anchor: AuditAnchor | undefined }> {
    const key = readToken(this.files.auditKey);
    let anchor: AuditAnchor | undefined;
    try {
      const a = JSON.parse(fs.readFileSync(this.files.auditHead, 'utf8')) as AuditAnchor;
      if (Number.isInteger(a.seq) && typeof a.hash === 'string' && typeof a.mac === 'string') anchor = { seq: a.seq, hash: a.hash, mac: a.mac };
      else anchor = { seq: -1, hash: '', mac: '' };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') anchor = { seq: -1, hash: '', mac: '' };
    }
    return { key, anchor };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private q(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private auditKey(): string {
    this.key ??= ensureToken(this.files.auditKey);
    return this.key;
  }

  /** The tables through this connection, synchronously (libsql); `asyncTx` gives it the interface's shape. */
  private makeTx(): SyncTx {
    const q = (sql: string) => this.q(sql);
    const aliasesOf = (model: string): Record<string, number> =>
      Object.fromEntries((q('SELECT alias, version FROM model_aliases WHERE model = ? ORDER BY alias').all([model]) as { alias: string; version: number }[]).map((r) => [r.alias, r.version]));
    const modelRecord = (r: ModelRow): ModelRecord => modelRecordOf(r, aliasesOf(r.name));
    const requestOf = (r: RequestRow): PromotionRequest =>
      promotionRequestOf(r, q('SELECT actor, decision, at, comment FROM request_decisions WHERE request_id = ? ORDER BY at, actor').all([r.id]) as DecisionRow[]);
    const lastAudit = (): StoredAuditEntry | undefined => {
      const r = q('SELECT seq, at, actor, action, target, before, after, prev_hash, hash, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get([]) as AuditRow | undefined;
      return r ? storedEntry(r) : undefined;
    };

    return {
      model: (name) => {
        const r = q(`${MODEL_SELECT} WHERE m.name = ? GROUP BY m.name`).get([name]) as ModelRow | undefined;
        return r ? modelRecord(r) : undefined;
      },
      models: () => (q(`${MODEL_SELECT} GROUP BY m.name ORDER BY m.name`).all([]) as ModelRow[]).map(modelRecord),
      reserveVersion: (name, description, at) => {
        q(`INSERT INTO registered_models (name, description, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`).run([name, description ?? null, at, at]);
        const row = q('UPDATE registered_models SET next_version = next_version + 1, updated_at = ? WHERE name = ? RETURNING next_version - 1 AS version').get([at, name]) as { version: number };
        return row.version;
      },
      insertVersion: (v, card) => {
        q(`INSERT INTO model_versions (${VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run([
          v.model, v.version, v.runId, v.artifact.path, v.artifact.hash, v.artifact.size, v.createdAt, v.createdBy, v.description ?? null,
          JSON.stringify(v.tags), JSON.stringify(v.metrics), v.signature ? JSON.stringify(v.signature) : null, JSON.stringify(v.lineage), card,
        ]);
      },
      version: (model, version) => {
        const r = q(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = ? AND version = ?`).get([model, version]) as VersionRow | undefined;
        return r ? { ...withAliases(versionOf(r), aliasesOf(model)), card: r.card } : undefined;
      },
      versions: (model) => {
        const aliases = aliasesOf(model);
        return (q(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = ? ORDER BY version DESC`).all([model]) as VersionRow[]).map((r) => withAliases(versionOf(r), aliases));
      },
      setCard: (model, version, card) => {
        q('UPDATE model_versions SET card = ? WHERE model = ? AND version = ?').run([card, model, version]);
      },
      deleteVersion: (model, version) => {
        q('DELETE FROM model_versions WHERE model = ? AND version = ?').run([model, version]);
        q('UPDATE registered_models SET updated_at = ? WHERE name = ?').run([Date.now(), model]);
      },
      deleteModel: (model) => {
        q('DELETE FROM model_aliases WHERE model = ?').run([model]);
        q('DELETE FROM registered_models WHERE name = ?').run([model]);
        q('DELETE FROM alias_history WHERE model = ?').run([model]);
        q('DELETE FROM promotion_requests WHERE model = ?').run([model]);
      },

      aliases: aliasesOf,
      putAlias: (model, alias, version, at) => {
        if (version === undefined) q('DELETE FROM model_aliases WHERE model = ? AND alias = ?').run([model, alias]);
        else {
          q(`INSERT INTO model_aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`).run([model, alias, version, at]);
        }
        q('UPDATE registered_models SET updated_at = ? WHERE name = ?').run([at, model]);
      },
      addAliasEvent: (e) => {
        const r = q(`INSERT INTO alias_history (model, alias, version, previous, action, actor, at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`).get([
          e.model, e.alias, e.version ?? null, e.previous ?? null, e.action, e.actor, e.at, e.requestId ?? null,
        ]) as { id: number };
        return { ...e, id: r.id };
      },
      aliasEvents: (model, alias) => {
        const rows = (alias === undefined
          ? q('SELECT id, model, alias, version, previous, action, actor, at, request_id FROM alias_history WHERE model = ? ORDER BY id').all([model])
          : q('SELECT id, model, alias, version, previous, action, actor, at, request_id FROM alias_history WHERE model = ? AND alias = ? ORDER BY id').all([model, alias])) as {
          id: number; model: string; alias: string; version: number | null; previous: number | null; action: string; actor: string; at: number; request_id: number | null;
        }[];
        return rows.map((r): AliasEvent => ({
          id: r.id, model: r.model, alias: r.alias, action: r.action as AliasEvent['action'], actor: r.actor, at: r.at,
          ...(r.version !== null ? { version: r.version } : {}),
          ...(r.previous !== null ? { previous: r.previous } : {}),
          ...(r.request_id !== null ? { requestId: r.request_id } : {}),
        }));
      },

      insertRequest: (r) => {
        const row = q(`INSERT INTO promotion_requests (model, version, alias, requested_by, requested_at, comment, status, required)
          VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id, model, version, alias, requested_by, requested_at, comment, status, required, decided_at`).get([
          r.model, r.version, r.alias, r.requestedBy, r.requestedAt, r.comment ?? null, r.required,
        ]) as RequestRow;
        return requestOf(row);
      },
      request: (id) => {
        const r = q('SELECT id, model, version, alias, requested_by, requested_at, comment, status, required, decided_at FROM promotion_requests WHERE id = ?').get([id]) as RequestRow | undefined;
        return r ? requestOf(r) : undefined;
      },
      requests: (f: RequestFilter) => {
        const rows = q(`SELECT id, model, version, alias, requested_by, requested_at, comment, status, required, decided_at FROM promotion_requests
          WHERE (:model IS NULL OR model = :model) AND (:status IS NULL OR status = :status) AND (:alias IS NULL OR alias = :alias) AND (:version IS NULL OR version = :version)
          ORDER BY id DESC`).all({ model: f.model ?? null, status: f.status ?? null, alias: f.alias ?? null, version: f.version ?? null }) as RequestRow[];
        return rows.map(requestOf);
      },
      addDecision: (id, actor, decision, at, comment) => {
        q('INSERT INTO request_decisions (request_id, actor, decision, at, comment) VALUES (?, ?, ?, ?, ?)').run([id, actor, decision, at, comment ?? null]);
      },
      setRequestStatus: (id, status, at) => {
        q('UPDATE promotion_requests SET status = ?, decided_at = ? WHERE id = ?').run([status, status === 'pending' ? null : at, id]);
      },

      insertToken: (t, tokenHash) => {
        q(`INSERT INTO api_tokens (name, role, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)`).run([t.name, t.role, tokenHash, t.createdAt, t.createdBy]);
      },
      tokenByHash: (h) => {
        const r = q(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?`).get([h]) as TokenRow | undefined;
        return r ? tokenOf(r) : undefined;
      },
      token: (name) => {
        const r = q(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE name = ?`).get([name]) as TokenRow | undefined;
        return r ? tokenOf(r) : undefined;
      },
      tokens: () => (q(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY name`).all([]) as TokenRow[]).map(tokenOf),
      revokeToken: (name, at) => {
        q('UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run([at, name]);
      },
      touchToken: (name, at) => {
        q('UPDATE api_tokens SET last_used_at = ? WHERE name = ?').run([at, name]);
      },

      appendAudit: (e: AuditInput, at = Date.now()) => {
        const stored = chainEntry(this.auditKey(), lastAudit(), {
          at,
          actor: e.actor,
          action: e.action,
          target: e.target,
          before: e.before === undefined ? null : JSON.stringify(e.before),
          after: e.after === undefined ? null : JSON.stringify(e.after),
        });
        q('INSERT INTO audit_log (seq, at, actor, action, target, before, after, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run([
          stored.seq, stored.at, stored.actor, stored.action, stored.target, stored.before, stored.after, stored.prevHash, stored.hash, stored.mac,
        ]);
        this.pendingAnchor = anchorFor(this.auditKey(), stored.seq, stored.hash);
        return publicEntry(stored);
      },
      audit: (limit, offset) =>
        (q('SELECT seq, at, actor, action, target, before, after, prev_hash, hash, mac FROM audit_log ORDER BY seq DESC LIMIT ? OFFSET ?').all([limit, offset]) as AuditRow[]).map((r) => publicEntry(storedEntry(r))),
      auditCount: () => (q('SELECT COUNT(*) AS n FROM audit_log').get([]) as { n: number }).n,
      auditChain: () => (q('SELECT seq, at, actor, action, target, before, after, prev_hash, hash, mac FROM audit_log ORDER BY seq').all([]) as AuditRow[]).map(storedEntry),
    };
  }
}

type SyncTx = { [K in keyof RegistryTx]: (...args: Parameters<RegistryTx[K]>) => Awaited<ReturnType<RegistryTx[K]>> };

/** Wraps each synchronous method so it returns a promise, as RegistryTx declares. */
function asyncTx(sync: SyncTx): RegistryTx {
  const wrapped: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(sync) as [string, (...args: unknown[]) => unknown][]) {
    wrapped[name] = (...args) => {
      try {
        return Promise.resolve(fn(...args));
      } catch (e) {
        return Promise.reject(e);
      }
    };
  }
  return wrapped as unknown as RegistryTx;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
