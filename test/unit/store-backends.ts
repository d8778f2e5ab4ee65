/**
 * Runs one store test suite against every backend: SQLite (always) and PostgreSQL (when
 * MLOPS_TEST_POSTGRES_URL names a server; scripts/start-test-postgres.sh starts one, and
 * scripts/test-all.sh does so before the unit tests). Without it the PostgreSQL suite is
 * skipped with a message saying so, except in CI, where it fails instead: CI must run it.
 *
 * Each workspace a suite prepares gets its own PostgreSQL schema (dropped afterwards), named
 * in its `.mlops/config.json` as `storeUrl`, so the suites open their stores the way the
 * daemon does (orchestrator/store/open-store.ts) and never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe } from 'node:test';
import Database from 'libsql';
import pg from 'pg';
import type { RegistryStore } from '../../orchestrator/registry/registry-store';
import { openRegistryStore, openStore, readConfig } from '../../orchestrator/store/open-store';
import type { Store } from '../../orchestrator/store/store';

export const POSTGRES_URL_ENV = 'MLOPS_TEST_POSTGRES_URL';

export type BackendName = 'SQLite' | 'PostgreSQL';

export interface BackendContext {
  readonly name: BackendName;
  /** Points the workspace whose `.mlops/` is `mlopsDir` at a new, empty store of this backend. */
  prepare(mlopsDir: string): Promise<void>;
  openStore(mlopsDir: string): Promise<Store>;
  openRegistryStore(mlopsDir: string): Promise<RegistryStore>;
  /** Raw SQL on the workspace's store, `?` placeholders, for tests that tamper with it as an intruder would. */
  sql<R = Record<string, unknown>>(mlopsDir: string, query: string, args?: unknown[]): Promise<R[]>;
}

/** Registers `body` once per backend (`only` limits it, for what one backend alone has). */
export function forEachBackend(title: string, body: (b: BackendContext) => void, only?: BackendName): void {
  if (only !== 'PostgreSQL') describe(`${title} [SQLite]`, () => body(sqliteBackend()));
  if (only === 'SQLite') return;
  const url = process.env[POSTGRES_URL_ENV];
  if (url) {
    describe(`${title} [PostgreSQL]`, () => body(postgresBackend(url)));
  } else if (process.env.CI) {
    describe(`${title} [PostgreSQL]`, () => {
      before(() => {
        throw new Error(`${POSTGRES_URL_ENV} is not set in CI: scripts/test-all.sh starts PostgreSQL with scripts/start-test-postgres.sh before the unit tests`);
      });
      body(postgresBackend('postgres://unset'));
    });
  } else {
    describe(`${title} [PostgreSQL]`, { skip: `${POSTGRES_URL_ENV} is not set; run: eval "$(bash scripts/start-test-postgres.sh start)"` }, () => undefined);
  }
}

function workspaceOf(mlopsDir: string) {
  return { dir: mlopsDir, workspace: path.dirname(mlopsDir) };
}

function sqliteBackend(): BackendContext {
  return {
    name: 'SQLite',
    async prepare(mlopsDir) {
      fs.mkdirSync(mlopsDir, { recursive: true });
    },
    openStore: (dir) => openStore(workspaceOf(dir)),
    openRegistryStore: (dir) => openRegistryStore(workspaceOf(dir)),
    async sql<R>(dir: string, query: string, args: unknown[] = []) {
      const db = new Database(path.join(dir, 'store.db'));
      try {
        const stmt = db.prepare(query);
        return (stmt.reader ? stmt.all(args) : (stmt.run(args), [])) as R[];
      } finally {
        db.close();
      }
    },
  };
}

function postgresBackend(baseUrl: string): BackendContext {
  const schemas: string[] = [];
  let pool: pg.Pool | undefined;
  const admin = () => (pool ??= new pg.Pool({ connectionString: baseUrl, max: 2 }));
  after(async () => {
    if (schemas.length === 0 && !pool) return;
    for (const s of schemas) await admin().query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin().end();
  });
  const schemaOf = (dir: string): string => {
    const url = readConfig(dir).storeUrl;
    if (!url) throw new Error(`${dir} was not prepared for PostgreSQL`);
    return new URL(url).searchParams.get('schema')!;
  };
  return {
    name: 'PostgreSQL',
    async prepare(mlopsDir) {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      const url = new URL(baseUrl);
      url.searchParams.set('schema', schema);
      fs.mkdirSync(mlopsDir, { recursive: true });
      fs.writeFileSync(path.join(mlopsDir, 'config.json'), JSON.stringify({ storeUrl: url.toString() }), { mode: 0o600 });
    },
    openStore: (dir) => openStore(workspaceOf(dir)),
    openRegistryStore: (dir) => openRegistryStore(workspaceOf(dir)),
    async sql<R>(dir: string, query: string, args: unknown[] = []) {
      const c = await admin().connect();
      try {
        await c.query(`SET search_path TO "${schemaOf(dir)}"`);
        let n = 0;
        return (await c.query(query.replace(/\?/g, () => `$${++n}`), args)).rows as R[];
      } finally {
        c.release();
      }
    },
  };
}
