/**
 * What only the shared PostgreSQL store has: its URL and configuration errors, a server that
 * does not answer, a schema from a newer release, and several people on one database (two
 * workspaces, two daemons' worth of connections): each sees the other's runs and models, a
 * daemon marks only its own runs interrupted, and concurrent registry writers keep version
 * numbers and the audit chain intact. The behaviour both backends share is tested in
 * sqlite-store.test.ts and registry-service.test.ts, against both.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Caller } from '../../protocol/registry';
import { MlopsError } from '../../protocol/errors';
import { ObjectCache } from '../../orchestrator/pipelines/cache';
import { sha256File } from '../../orchestrator/pipelines/hash-files';
import { ModelRegistry } from '../../orchestrator/registry/registry';
import { MIGRATIONS } from '../../orchestrator/store/migrations';
import { openPostgresStore } from '../../orchestrator/store/postgres-store';
import { PG_MIGRATIONS } from '../../orchestrator/store/postgres-migrations';
import { configuredStoreUrl, openRegistryStore, openStore } from '../../orchestrator/store/open-store';
import { runCli } from './cli-harness';
import { forEachBackend } from './store-backends';

const tmp: string[] = [];
function tempWorkspace(manifest = 'version: 1\nproject: shared\nsteps:\n  train:\n    cmd: echo train\n    outs: [m.bin]\nmodels:\n  m:\n    from: train\n    artifact: m.bin\n'): string {
  const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-pg-')));
  tmp.push(ws);
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), manifest);
  fs.mkdirSync(path.join(ws, '.mlops'));
  return ws;
}
after(() => {
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});

const isCode = (code: MlopsError['code'], re: RegExp) => (e: unknown) => e instanceof MlopsError && e.code === code && re.test(e.message);

describe('store configuration', () => {
  test('every SQLite migration has its PostgreSQL translation', () => {
    assert.equal(PG_MIGRATIONS.length, MIGRATIONS.length, 'add the translation of the new migration to orchestrator/store/postgres-migrations.ts');
  });

  test('the URL comes from MLOPS_STORE_URL, else .mlops/config.json, else SQLite; bad values say what is wrong', () => {
    const ws = tempWorkspace();
    const dir = path.join(ws, '.mlops');
    assert.equal(configuredStoreUrl(dir, {}), undefined);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ storeUrl: 'postgres://a:b@127.0.0.1:5432/x' }));
    assert.equal(configuredStoreUrl(dir, {}), 'postgres://a:b@127.0.0.1:5432/x');
    assert.equal(configuredStoreUrl(dir, { MLOPS_STORE_URL: 'postgresql://c@h/y' }), 'postgresql://c@h/y');
    assert.throws(() => configuredStoreUrl(dir, { MLOPS_STORE_URL: 'mysql://u:secret@h/db' }), isCode('BAD_REQUEST', /MLOPS_STORE_URL must be a postgres:\/\/ URL.*u:\*\*\*@h/));
    fs.writeFileSync(path.join(dir, 'config.json'), '{"storeUrl": ');
    assert.throws(() => configuredStoreUrl(dir, {}), isCode('BAD_REQUEST', /config\.json is not valid JSON/));
    fs.writeFileSync(path.join(dir, 'config.json'), '{"storeUrl": 5}');
    assert.throws(() => configuredStoreUrl(dir, {}), isCode('BAD_REQUEST', /storeUrl in .*config\.json must be a string/));
  });

  test('a schema name that is not a plain SQL name is refused before connecting', async () => {
    await assert.rejects(openPostgresStore('postgres://u:p@127.0.0.1:1/db?schema=a;drop', { owner: 'x' }), isCode('BAD_REQUEST', /schema "a;drop" .* not a plain SQL name/));
  });

  test('a server that does not answer is UNAVAILABLE, and the message keeps the password out', async () => {
    await assert.rejects(openPostgresStore('postgres://mlops:hunter2@127.0.0.1:1/db', { owner: 'x' }), (e: unknown) => {
      assert.ok(e instanceof MlopsError && e.code === 'UNAVAILABLE', String(e));
      assert.match(e.message, /cannot connect to the PostgreSQL store at postgres:\/\/mlops:\*\*\*@127\.0\.0\.1:1\/db/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  });
});

const bob: Caller = { name: 'bob', role: 'admin' };
const ana: Caller = { name: 'ana', role: 'admin' };

// PostgreSQL only: a local SQLite file belongs to one workspace, so there is nothing to share.
forEachBackend('one database, several people', (backend) => {
  let wsA: string;
  let wsB: string;
  before(async () => {
    wsA = tempWorkspace();
    wsB = tempWorkspace();
    await backend.prepare(path.join(wsA, '.mlops'));
    // The second person's workspace points at the same database and schema.
    fs.copyFileSync(path.join(wsA, '.mlops/config.json'), path.join(wsB, '.mlops/config.json'));
    // …and shares the audit key, as a team does (see the README).
    fs.writeFileSync(path.join(wsA, '.mlops/audit.key'), 'ab'.repeat(32), { mode: 0o600 });
    fs.copyFileSync(path.join(wsA, '.mlops/audit.key'), path.join(wsB, '.mlops/audit.key'));
  });
  const state = (ws: string) => ({ dir: path.join(ws, '.mlops'), workspace: ws });

  test('both see every run; each daemon marks only its own runs interrupted', async () => {
    const a = await openStore(state(wsA));
    const b = await openStore(state(wsB));
    try {
      const runA = await a.createRun({ experiment: 'team', name: 'ana-run', kind: 'pipeline' });
      const runB = await b.createRun({ experiment: 'team', name: 'bob-run', kind: 'pipeline' });
      assert.deepEqual((await b.listRuns({ experiment: 'team' })).map((r) => r.name).sort(), ['ana-run', 'bob-run']);
      assert.deepEqual(await b.markInterrupted('bob restarted'), [runB]);
      assert.equal((await a.getRun(runA))?.status, 'running', "ana's run goes on");
      assert.equal((await a.getRun(runB))?.status, 'interrupted');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('concurrent registrations from two workspaces get distinct versions and one valid audit chain', async () => {
    const stores = await Promise.all([wsA, wsB].map(async (ws) => ({ ws, runs: await openStore(state(ws)), reg: await openRegistryStore(state(ws)) })));
    try {
      const registries = await Promise.all(
        stores.map(async ({ ws, runs, reg }) => {
          fs.writeFileSync(path.join(ws, 'm.bin'), `weights of ${ws}`);
          const { hash, bytes } = await sha256File(path.join(ws, 'm.bin'));
          await new ObjectCache(ws).save('m.bin', { kind: 'file', hash, size: bytes });
          const run = await runs.createRun({ experiment: 'team', name: 'train', kind: 'pipeline', status: 'succeeded' });
          await runs.recordArtifacts(run, [{ path: 'm.bin', hash, size: bytes }]);
          return { run, registry: new ModelRegistry({ runs, store: reg, workspace: ws }) };
        }),
      );
      const N = 8;
      const versions = await Promise.all(
        registries.flatMap(({ run, registry }, i) => Array.from({ length: N }, () => registry.register(i === 0 ? ana : bob, { model: 'm', runId: run }))),
      );
      assert.deepEqual(versions.map((v) => v.version).sort((x, y) => x - y), Array.from({ length: 2 * N }, (_, i) => i + 1));
      const fromB = await registries[1]!.registry.listVersions('m');
      assert.equal(fromB.length, 2 * N);
      assert.deepEqual(new Set(fromB.map((v) => v.createdBy)), new Set(['ana', 'bob']));
      for (const { registry } of registries) {
        const check = await registry.verifyAudit();
        assert.equal(check.ok, true, JSON.stringify(check.problems));
        assert.equal(check.entries, 2 * N);
      }
    } finally {
      for (const s of stores) {
        await s.reg.close();
        await s.runs.close();
      }
    }
  });

  test('the CLI in another workspace reads the shared registry without a daemon', async () => {
    const r = await runCli(['models', 'list', '--json'], wsB);
    assert.equal(r.code, 0, r.err.join('\n'));
    const list = r.json[0] as { name: string; versionCount: number }[] | { models: { name: string; versionCount: number }[] };
    const models = Array.isArray(list) ? list : list.models;
    assert.deepEqual(models.map((m) => [m.name, m.versionCount]), [['m', 16]]);
  });

  test('a schema written by a newer release is refused with a clear message', async () => {
    await backend.sql(path.join(wsA, '.mlops'), 'UPDATE mlops_schema SET version = 99');
    await assert.rejects(openStore(state(wsA)), isCode('UNAVAILABLE', /has schema version 99, but this MLOps Workbench only knows versions up to \d+/));
    await backend.sql(path.join(wsA, '.mlops'), 'UPDATE mlops_schema SET version = ?', [PG_MIGRATIONS.length]);
  });
}, 'PostgreSQL');
