/**
 * The registry's tables in the shared PostgreSQL store. Each transaction takes one pooled
 * connection; concurrent writers from several daemons are kept consistent by the database:
 * version numbers come from an UPDATE … RETURNING on the model's row (a row lock), and audit
 * appends take a transaction-scoped advisory lock before reading the chain head, so two writers
 * never chain onto the same entry. The anchored head is a row (`audit_anchor`) written in the
 * same transaction, signed with the audit key, which stays outside the database
 * (`.mlops/audit.key`: everyone who writes to one registry needs the same key file).
 */
import type pg from 'pg';
import type { AliasEvent, PromotionRequest } from '../../protocol/registry';
import { ensureToken, readToken } from '../daemon/token';
import { openMigratedPool, transaction, type PostgresTarget, type Queryable } from '../store/postgres-connection';
import { anchorFor, chainEntry, type AuditAnchor, type StoredAuditEntry } from './audit-chain';
import type { AuditInput, ModelRecord, RegistryStore, RegistryTx, RequestFilter } from './registry-store';
import { modelRecordOf, promotionRequestOf, publicEntry, storedEntry, tokenOf, versionOf, withAliases, MODEL_SELECT, TOKEN_COLUMNS, VERSION_COLUMNS, type AuditRow, type DecisionRow, type ModelRow, type RequestRow, type TokenRow, type VersionRow } from './sqlite-registry-rows';

const AUDIT_COLUMNS = 'seq, at, actor, action, target, before, after, prev_hash, hash, mac';
const REQUEST_COLUMNS = 'id, model, version, alias, requested_by, requested_at, comment, status, required, decided_at';
/** The advisory lock that serialises registry writes (and so audit appends) across every connection to the database. */
const REGISTRY_LOCK = 'mlops-workbench registry';

type AliasRow = { id: number; model: string; alias: string; version: number | null; previous: number | null; action: string; actor: string; at: number; request_id: number | null };

export async function openPostgresRegistryStore(url: string, auditKeyFile: string): Promise<PostgresRegistryStore> {
  const { pool, target } = await openMigratedPool(url);
  return new PostgresRegistryStore(pool, target, auditKeyFile);
}

export class PostgresRegistryStore implements RegistryStore {
  private key: string | undefined;

  constructor(
    private readonly pool: pg.Pool,
    readonly target: PostgresTarget,
    private readonly auditKeyFile: string,
  ) {}

  read<T>(fn: (tx: RegistryTx) => T | Promise<T>): Promise<T> {
    return transaction(this.pool, this.target, async (c) => fn(this.txOn(c)), 'read');
  }

  /**
   * Registry writes are few and short, so they take the registry's advisory lock first and run
   * one at a time across every daemon: a check-then-change (two approvals of one request, an
   * alias moved while its gate is evaluated) never interleaves with another writer's.
   */
  write<T>(fn: (tx: RegistryTx) => T | Promise<T>): Promise<T> {
    return transaction(this.pool, this.target, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [REGISTRY_LOCK]);
      return fn(this.txOn(c));
    }, 'write');
  }

  async auditSecrets(): Promise<{ key: string | undefined; anchor: AuditAnchor | undefined }> {
    const row = (await this.pool.query<AuditAnchor>('SELECT seq, hash, mac FROM audit_anchor WHERE id = 1')).rows[0];
    return { key: readToken(this.auditKeyFile), anchor: row ? { seq: row.seq, hash: row.hash, mac: row.mac } : undefined };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private auditKey(): string {
    this.key ??= ensureToken(this.auditKeyFile);
    return this.key;
  }

  /** The tables through one transaction's connection. */
  private txOn(c: Queryable): RegistryTx {
    const all = async <R extends pg.QueryResultRow>(sql: string, args: unknown[] = []) => (await c.query<R>(sql, args)).rows;
    const first = async <R extends pg.QueryResultRow>(sql: string, args: unknown[] = []) => (await c.query<R>(sql, args)).rows[0];
    const aliasesOf = async (model: string): Promise<Record<string, number>> =>
      Object.fromEntries((await all<{ alias: string; version: number }>('SELECT alias, version FROM model_aliases WHERE model = $1 ORDER BY alias', [model])).map((r) => [r.alias, r.version]));
    const modelRecord = async (r: ModelRow): Promise<ModelRecord> => modelRecordOf(r, await aliasesOf(r.name));
    const requestOf = async (r: RequestRow): Promise<PromotionRequest> =>
      promotionRequestOf(r, await all<DecisionRow>('SELECT actor, decision, at, comment FROM request_decisions WHERE request_id = $1 ORDER BY at, actor', [r.id]));
    const touchModel = (model: string, at: number) => c.query('UPDATE registered_models SET updated_at = $1 WHERE name = $2', [at, model]);

    return {
      model: async (name) => {
        const r = await first<ModelRow>(`${MODEL_SELECT} WHERE m.name = $1 GROUP BY m.name`, [name]);
        return r ? modelRecord(r) : undefined;
      },
      models: async () => Promise.all((await all<ModelRow>(`${MODEL_SELECT} GROUP BY m.name ORDER BY m.name`)).map(modelRecord)),
      reserveVersion: async (name, description, at) => {
        await c.query('INSERT INTO registered_models (name, description, created_at, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING', [name, description ?? null, at, at]);
        const row = await first<{ version: number }>('UPDATE registered_models SET next_version = next_version + 1, updated_at = $1 WHERE name = $2 RETURNING next_version - 1 AS version', [at, name]);
        return row!.version;
      },
      insertVersion: async (v, card) => {
        await c.query(`INSERT INTO model_versions (${VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, [
          v.model, v.version, v.runId, v.artifact.path, v.artifact.hash, v.artifact.size, v.createdAt, v.createdBy, v.description ?? null,
          JSON.stringify(v.tags), JSON.stringify(v.metrics), v.signature ? JSON.stringify(v.signature) : null, JSON.stringify(v.lineage), card,
        ]);
      },
      version: async (model, version) => {
        const r = await first<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 AND version = $2`, [model, version]);
        return r ? { ...withAliases(versionOf(r), await aliasesOf(model)), card: r.card } : undefined;
      },
      versions: async (model) => {
        const aliases = await aliasesOf(model);
        return (await all<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 ORDER BY version DESC`, [model])).map((r) => withAliases(versionOf(r), aliases));
      },
      setCard: async (model, version, card) => {
        await c.query('UPDATE model_versions SET card = $1 WHERE model = $2 AND version = $3', [card, model, version]);
      },
      deleteVersion: async (model, version) => {
        await c.query('DELETE FROM model_versions WHERE model = $1 AND version = $2', [model, version]);
        await touchModel(model, Date.now());
      },
      deleteModel: async (model) => {
        await c.query('DELETE FROM model_aliases WHERE model = $1', [model]);
        await c.query('DELETE FROM registered_models WHERE name = $1', [model]);
        await c.query('DELETE FROM alias_history WHERE model = $1', [model]);
        await c.query('DELETE FROM promotion_requests WHERE model = $1', [model]);
      },

      aliases: aliasesOf,
      putAlias: async (model, alias, version, at) => {
        if (version === undefined) await c.query('DELETE FROM model_aliases WHERE model = $1 AND alias = $2', [model, alias]);
        else {
          await c.query(
            `INSERT INTO model_aliases (model, alias, version, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
            [model, alias, version, at],
          );
        }
        await touchModel(model, at);
      },
      addAliasEvent: async (e) => {
        const r = await first<{ id: number }>(
          'INSERT INTO alias_history (model, alias, version, previous, action, actor, at, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id',
          [e.model, e.alias, e.version ?? null, e.previous ?? null, e.action, e.actor, e.at, e.requestId ?? null],
        );
        return { ...e, id: r!.id };
      },
      aliasEvents: async (model, alias) => {
        const cols = 'id, model, alias, version, previous, action, actor, at, request_id';
        const rows = alias === undefined
          ? await all<AliasRow>(`SELECT ${cols} FROM alias_history WHERE model = $1 ORDER BY id`, [model])
          : await all<AliasRow>(`SELECT ${cols} FROM alias_history WHERE model = $1 AND alias = $2 ORDER BY id`, [model, alias]);
        return rows.map((r): AliasEvent => ({
          id: r.id, model: r.model, alias: r.alias, action: r.action as AliasEvent['action'], actor: r.actor, at: r.at,
          ...(r.version !== null ? { version: r.version } : {}),
          ...(r.previous !== null ? { previous: r.previous } : {}),
          ...(r.request_id !== null ? { requestId: r.request_id } : {}),
        }));
      },

      insertRequest: async (r) => {
        const row = await first<RequestRow>(
          `INSERT INTO promotion_requests (model, version, alias, requested_by, requested_at, comment, status, required)
           VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING ${REQUEST_COLUMNS}`,
          [r.model, r.version, r.alias, r.requestedBy, r.requestedAt, r.comment ?? null, r.required],
        );
        return requestOf(row!);
      },
      request: async (id) => {
        const r = await first<RequestRow>(`SELECT ${REQUEST_COLUMNS} FROM promotion_requests WHERE id = $1`, [id]);
        return r ? requestOf(r) : undefined;
      },
      requests: async (f: RequestFilter) => {
        const rows = await all<RequestRow>(
          `SELECT ${REQUEST_COLUMNS} FROM promotion_requests
           WHERE ($1::text IS NULL OR model = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR alias = $3) AND ($4::int IS NULL OR version = $4)
           ORDER BY id DESC`,
          [f.model ?? null, f.status ?? null, f.alias ?? null, f.version ?? null],
        );
        const out: PromotionRequest[] = [];
        for (const r of rows) out.push(await requestOf(r));
        return out;
      },
      addDecision: async (id, actor, decision, at, comment) => {
        await c.query('INSERT INTO request_decisions (request_id, actor, decision, at, comment) VALUES ($1, $2, $3, $4, $5)', [id, actor, decision, at, comment ?? null]);
      },
      setRequestStatus: async (id, status, at) => {
        await c.query('UPDATE promotion_requests SET status = $1, decided_at = $2 WHERE id = $3', [status, status === 'pending' ? null : at, id]);
      },

      insertToken: async (t, tokenHash) => {
        await c.query('INSERT INTO api_tokens (name, role, token_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5)', [t.name, t.role, tokenHash, t.createdAt, t.createdBy]);
      },
      tokenByHash: async (h) => {
        const r = await first<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1`, [h]);
        return r ? tokenOf(r) : undefined;
      },
      token: async (name) => {
        const r = await first<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE name = $1`, [name]);
        return r ? tokenOf(r) : undefined;
      },
      tokens: async () => (await all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY name`)).map(tokenOf),
      revokeToken: async (name, at) => {
        await c.query('UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [at, name]);
      },
      touchToken: async (name, at) => {
        await c.query('UPDATE api_tokens SET last_used_at = $1 WHERE name = $2', [at, name]);
      },

      appendAudit: async (e: AuditInput, at = Date.now()) => {
        // Taken by write() already; taken again (it nests) so the chain head is read under it whatever the caller.
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [REGISTRY_LOCK]);
        const last = await first<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1`);
        const key = this.auditKey();
        const stored = chainEntry(key, last ? storedEntry(last) : undefined, {
          at, actor: e.actor, action: e.action, target: e.target,
          before: e.before === undefined ? null : JSON.stringify(e.before),
          after: e.after === undefined ? null : JSON.stringify(e.after),
        });
        await c.query(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
          stored.seq, stored.at, stored.actor, stored.action, stored.target, stored.before, stored.after, stored.prevHash, stored.hash, stored.mac,
        ]);
        const anchor = anchorFor(key, stored.seq, stored.hash);
        await c.query(
          'INSERT INTO audit_anchor (id, seq, hash, mac) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac',
          [anchor.seq, anchor.hash, anchor.mac],
        );
        return publicEntry(stored);
      },
      audit: async (limit, offset) =>
        (await all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT $1 OFFSET $2`, [limit, offset])).map((r) => publicEntry(storedEntry(r))),
      auditCount: async () => (await first<{ n: number }>('SELECT COUNT(*) AS n FROM audit_log'))!.n,
      auditChain: async (): Promise<StoredAuditEntry[]> => (await all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq`)).map(storedEntry),
    };
  }
}
