/**
 * Connecting to the shared PostgreSQL store: the URL, the pool, the schema and its migrations,
 * and one helper for transactions. Everything goes through `pg` (node-postgres).
 *
 * URL: `postgres://USER:PASSWORD@HOST:PORT/DATABASE[?schema=NAME]` (`postgresql://` too, and
 * any libpq-style parameter node-postgres understands, such as `sslmode`). `schema` (default
 * `public`) lets several projects share one database; it is created on first use.
 */
import pg from 'pg';
import { MlopsError } from '../../protocol/errors';
import { PG_MIGRATIONS } from './postgres-migrations';

export type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PostgresTarget {
  connectionString: string;
  schema: string;
  /** The URL without its password, for messages. */
  label: string;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const BIGINT_OID = 20;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function parsePostgresUrl(url: string): PostgresTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MlopsError('BAD_REQUEST', `"${redact(url)}" is not a PostgreSQL URL; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE[?schema=NAME]`);
  }
  if (!isPostgresUrl(url)) throw new MlopsError('BAD_REQUEST', `"${redact(url)}" is not a PostgreSQL URL (it must start with postgres://)`);
  const schema = u.searchParams.get('schema') ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new MlopsError('BAD_REQUEST', `schema "${schema}" in the store URL is not a plain SQL name (letters, digits and _, not starting with a digit)`);
  u.searchParams.delete('schema');
  const label = redact(u.toString()) + (schema !== 'public' ? ` (schema ${schema})` : '');
  return { connectionString: u.toString(), schema, label };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/**
 * A pool whose connections use `target.schema`. BIGINT columns (times, sizes, counts) come back
 * as numbers: ms-epoch times and file sizes stay far below 2^53.
 */
export function createPool(target: PostgresTarget, max = 4): pg.Pool {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    options: `-c search_path=${target.schema}`,
    types: { getTypeParser: ((oid: number, format?: string) => (oid === BIGINT_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
  });
  // An idle connection dropped by the server must not crash the daemon; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` on one pooled connection inside BEGIN … COMMIT (ROLLBACK when it throws). */
export async function transaction<T>(pool: pg.Pool, target: PostgresTarget, fn: (c: pg.PoolClient) => Promise<T>, mode: 'read' | 'write' = 'write'): Promise<T> {
  const client = await connect(pool, target);
  try {
    await client.query(mode === 'read' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

export async function connect(pool: pg.Pool, target: PostgresTarget): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (e) {
    throw new MlopsError('UNAVAILABLE', `cannot connect to the PostgreSQL store at ${target.label}: ${(e as Error).message}`);
  }
}

/**
 * Brings the schema up to date. An advisory lock serialises migrators (several daemons may
 * start at once against one database); a schema newer than this release is refused.
 */
export async function migrate(pool: pg.Pool, target: PostgresTarget): Promise<void> {
  const known = PG_MIGRATIONS.length;
  await transaction(pool, target, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mlops-workbench migrate ${target.schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS "${target.schema}"`);
    await c.query('CREATE TABLE IF NOT EXISTS mlops_schema (version INTEGER NOT NULL)');
    const rows = (await c.query<{ version: number }>('SELECT version FROM mlops_schema')).rows;
    const found = rows[0]?.version ?? 0;
    if (found > known) {
      throw new MlopsError(
        'UNAVAILABLE',
        `the PostgreSQL store at ${target.label} has schema version ${found}, but this MLOps Workbench only knows versions up to ${known}: ` +
          'it was written by a newer release. Upgrade MLOps Workbench (or the mlops CLI) to open it.',
        { found, known },
      );
    }
    for (let v = found; v < known; v++) await c.query(PG_MIGRATIONS[v]!);
    if (rows.length === 0) await c.query('INSERT INTO mlops_schema (version) VALUES ($1)', [known]);
    else if (found !== known) await c.query('UPDATE mlops_schema SET version = $1', [known]);
  });
}

/** Parses the URL, opens a pool and migrates the schema; the pool is closed again when migrating fails. */
export async function openMigratedPool(url: string): Promise<{ pool: pg.Pool; target: PostgresTarget }> {
  const target = parsePostgresUrl(url);
  const pool = createPool(target);
  try {
    await migrate(pool, target);
  } catch (e) {
    await pool.end();
    throw e;
  }
  return { pool, target };
}
