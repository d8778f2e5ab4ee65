import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'libsql';
import { MlopsError } from '../../protocol/errors';
import type { MetricPoint } from '../../protocol/types';
import { MIGRATIONS } from '../../orchestrator/store/migrations';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';
import type { Store } from '../../orchestrator/store/store';
import { forEachBackend } from './store-backends';

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mlops-store-'));
  tempDirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

function isCode(code: MlopsError['code'], pattern?: RegExp) {
  return (err: unknown) => err instanceof MlopsError && err.code === code && (!pattern || pattern.test(err.message));
}

const point = (key: string, value: number, step: number, timestamp = 1000 + step): MetricPoint => ({ key, value, step, timestamp });

// The same tests for both backends: see store-backends.ts.
forEachBackend('Store', (backend) => {
  let store: Store;
  /** A new, empty store of this backend. */
  const freshStore = async (): Promise<Store> => {
    const dir = join(await tempDir(), '.mlops');
    await backend.prepare(dir);
    return backend.openStore(dir);
  };
  before(async () => {
    store = await freshStore();
  });
  after(() => store.close());

  test('creates a run with a 32-hex id and reads it back in full', async () => {
    const id = await store.createRun({
      experiment: 'churn', name: 'train', kind: 'pipeline', params: { lr: '0.05' }, tags: { owner: 'ana' },
      gitCommit: 'abc123', gitDirty: true, startedAt: 5000,
    });
    assert.match(id, /^[0-9a-f]{32}$/);
    const run = await store.getRun(id);
    assert.deepEqual(run, {
      id, experiment: 'churn', name: 'train', kind: 'pipeline', status: 'running', startedAt: 5000,
      gitCommit: 'abc123', gitDirty: true, params: { lr: '0.05' }, tags: { owner: 'ana' }, latestMetrics: {},
      children: [], artifacts: [], datasetHashes: {},
    });
    assert.equal(await store.getRun('0'.repeat(32)), undefined);
  });

  test('experiments: default "0", get-or-create is idempotent, counts runs', async () => {
    assert.deepEqual(await store.getExperiment({ id: '0' }), { id: '0', name: 'Default', runCount: 0 });
    const a = await store.getOrCreateExperiment('exp-a');
    assert.deepEqual(await store.getOrCreateExperiment('exp-a'), a);
    await store.createRun({ experiment: 'exp-a', name: 'r', kind: 'step', startedAt: 42 });
    assert.deepEqual(await store.getExperiment({ name: 'exp-a' }), { ...a, runCount: 1, lastRunAt: 42 });
    assert.equal(await store.getExperiment({ id: 'nope' }), undefined);
    const names = (await store.listExperiments()).map((e) => e.name);
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('exp-a') && names.includes('Default'));
  });

  test('updateRun patches fields and derives the duration; unknown run is NOT_FOUND', async () => {
    const id = await store.createRun({ experiment: 'upd', name: 'r', kind: 'step', status: 'queued', startedAt: 1000 });
    await store.updateRun(id, { status: 'failed', endedAt: 4500, exitCode: 2, message: 'boom' });
    const run = await store.getRun(id);
    assert.equal(run?.status, 'failed');
    assert.equal(run?.durationMs, 3500);
    assert.equal(run?.exitCode, 2);
    assert.equal(run?.message, 'boom');
    await assert.rejects(store.updateRun('f'.repeat(32), { status: 'failed' }), isCode('NOT_FOUND'));
  });

  test('lists with filters, paging, counts and ordering by start time or metric', async () => {
    const exp = 'listing';
    const parent = await store.createRun({ experiment: exp, name: 'sweep', kind: 'sweep', startedAt: 100 });
    const auc = [0.7, 0.9, undefined, 0.8, NaN];
    const trials: string[] = [];
    for (let i = 0; i < auc.length; i++) {
      const id = await store.createRun({ experiment: exp, name: `t${i}`, kind: 'trial', parentId: parent, startedAt: 200 + i });
      if (auc[i] !== undefined) await store.logMetrics(id, [point('val_auc', auc[i]!, 0)]);
      await store.updateRun(id, { status: i % 2 ? 'succeeded' : 'failed', endedAt: 300 + i });
      trials.push(id);
    }
    const names = async (q: Parameters<Store['listRuns']>[0]) => (await store.listRuns(q)).map((r) => r.name);

    assert.deepEqual(await names({ experiment: exp }), ['t4', 't3', 't2', 't1', 't0', 'sweep']);
    assert.deepEqual(await names({ experiment: exp, desc: false, limit: 2, offset: 1 }), ['t0', 't1']);
    assert.equal(await store.countRuns({ experiment: exp }), 6);
    assert.deepEqual(await names({ experiment: exp, parentId: null }), ['sweep']);
    assert.deepEqual(await names({ parentId: parent, status: 'succeeded' }), ['t3', 't1']);
    assert.equal(await store.countRuns({ parentId: parent, status: ['succeeded', 'failed'] }), 5);
    assert.deepEqual(await names({ experiment: exp, kind: 'sweep' }), ['sweep']);
    // Missing metric and NaN sort last in both directions.
    assert.deepEqual((await names({ parentId: parent, orderBy: { metric: 'val_auc' } })).slice(0, 3), ['t1', 't3', 't0']);
    assert.deepEqual((await names({ parentId: parent, orderBy: { metric: 'val_auc' }, desc: false })).slice(0, 3), ['t0', 't3', 't1']);
    const [top] = await store.listRuns({ parentId: parent, orderBy: { metric: 'val_auc' }, limit: 1 });
    assert.deepEqual(top?.latestMetrics, { val_auc: 0.9 });

    assert.deepEqual((await store.listChildren(parent)).map((r) => r.id), trials);
    assert.deepEqual((await store.getRun(parent))?.children.map((r) => r.name), ['t0', 't1', 't2', 't3', 't4']);
    await assert.rejects(store.createRun({ experiment: exp, name: 'x', kind: 'trial', parentId: 'a'.repeat(32) }), isCode('NOT_FOUND'));
  });

  test('params are immutable, tags are upserted and deletable', async () => {
    const id = await store.createRun({ experiment: 'pt', name: 'r', kind: 'step', params: { lr: '0.1' } });
    await store.logParams(id, { lr: '0.1', epochs: '3' });
    await assert.rejects(store.logParams(id, { lr: '0.2' }), isCode('CONFLICT', /lr/));
    await store.setTags(id, { a: '1', b: '2' });
    await store.setTags(id, { a: '3' });
    await store.deleteTag(id, 'b');
    const run = await store.getRun(id);
    assert.deepEqual(run?.params, { lr: '0.1', epochs: '3' });
    assert.deepEqual(run?.tags, { a: '3' });
    await assert.rejects(store.setTags('b'.repeat(32), { a: '1' }), isCode('NOT_FOUND'));
  });

  test('metric history is ordered by step then time; latest is the highest step', async () => {
    const id = await store.createRun({ experiment: 'm', name: 'r', kind: 'step' });
    await store.logMetrics(id, [point('loss', 0.5, 2), point('loss', 0.9, 0), point('loss', NaN, 1), point('acc', Infinity, 0)]);
    await store.logMetrics(id, [point('loss', 0.4, 2, 5000), point('loss', 1.0, 1, 9000)]);
    assert.deepEqual(await store.getMetricHistory(id, 'loss'), [
      point('loss', 0.9, 0), point('loss', NaN, 1), point('loss', 1.0, 1, 9000), point('loss', 0.5, 2), point('loss', 0.4, 2, 5000),
    ]);
    assert.deepEqual(await store.getLatestMetrics(id), [point('acc', Infinity, 0), point('loss', 0.4, 2, 5000)]);
    assert.deepEqual((await store.getRun(id))?.latestMetrics, { acc: Infinity, loss: 0.4 });
    await assert.rejects(store.getMetricHistory('c'.repeat(32), 'loss'), isCode('NOT_FOUND'));
  });

  test('a batch of 10k points goes in one call; a failing batch writes nothing', async () => {
    const id = await store.createRun({ experiment: 'm', name: 'big', kind: 'step', params: { seed: '1' } });
    const points = Array.from({ length: 10_000 }, (_, i) => point(`k${i % 4}`, i, Math.floor(i / 4)));
    await store.logMetrics(id, points);
    assert.equal((await store.getMetricHistory(id, 'k3')).length, 2500);
    assert.equal((await store.getRun(id))?.latestMetrics.k3, 9999);

    await assert.rejects(store.logBatch(id, { metrics: [point('late', 1, 0)], tags: { t: 'x' }, params: { seed: '2' } }), isCode('CONFLICT'));
    assert.deepEqual(await store.getMetricHistory(id, 'late'), []);
    assert.deepEqual((await store.getRun(id))?.tags, {});
  });

  test('artifacts and dataset hashes are recorded per run, upserted by path/name', async () => {
    const id = await store.createRun({ experiment: 'a', name: 'r', kind: 'step' });
    await store.recordArtifacts(id, [{ path: 'models/m.onnx', hash: 'h1', size: 10 }, { path: 'data/f.csv', hash: 'h2', size: 20 }]);
    await store.recordArtifacts(id, [{ path: 'models/m.onnx', hash: 'h3', size: 11 }]);
    await store.recordDatasetHashes(id, { customers: 'd1' });
    const run = await store.getRun(id);
    assert.deepEqual(run?.artifacts, [{ path: 'data/f.csv', hash: 'h2', size: 20 }, { path: 'models/m.onnx', hash: 'h3', size: 11 }]);
    assert.deepEqual(run?.datasetHashes, { customers: 'd1' });
  });

  test('step cache: the newest entry for a step and fingerprint wins', async () => {
    assert.equal(await store.getStepCache('train', 'fp1'), undefined);
    await store.putStepCache({ stepName: 'train', fingerprint: 'fp1', runId: 'r1', outs: [{ path: 'm', hash: 'h1', size: 1 }] });
    await store.putStepCache({ stepName: 'train', fingerprint: 'fp1', runId: 'r2', outs: [{ path: 'm', hash: 'h2', size: 2 }] });
    await store.putStepCache({ stepName: 'train', fingerprint: 'fp2', runId: 'r3', outs: [] });
    const hit = await store.getStepCache('train', 'fp1');
    assert.equal(hit?.runId, 'r2');
    assert.deepEqual(hit?.outs, [{ path: 'm', hash: 'h2', size: 2 }]);
    assert.equal(typeof hit?.createdAt, 'number');
    assert.equal((await store.getStepCache('train', 'fp2'))?.runId, 'r3');
  });

  test('file-hash cache returns only known paths and takes updates', async () => {
    const a = { path: 'data/a.csv', size: 10, mtimeMs: 1700000000123.456, ctimeMs: 1700000000123.5, ino: 2 ** 40 + 7, hash: 'ha' };
    await store.putFileHashes([a, { ...a, path: 'data/b.csv', hash: 'hb' }]);
    await store.putFileHashes([{ ...a, size: 11, hash: 'ha2' }]);
    const got = await store.getFileHashes(['data/a.csv', 'data/missing.csv']);
    assert.deepEqual([...got.keys()], ['data/a.csv']);
    assert.deepEqual(got.get('data/a.csv'), { ...a, size: 11, hash: 'ha2' });
    assert.equal((await store.getFileHashes([])).size, 0);
  });

  test('markInterrupted ends queued and running runs only', async () => {
    const s = await freshStore();
    const running = await s.createRun({ experiment: 'i', name: 'a', kind: 'step' });
    const queued = await s.createRun({ experiment: 'i', name: 'b', kind: 'step', status: 'queued' });
    const done = await s.createRun({ experiment: 'i', name: 'c', kind: 'step', status: 'succeeded' });
    assert.deepEqual((await s.markInterrupted('daemon restarted')).sort(), [running, queued].sort());
    const r = await s.getRun(running);
    assert.equal(r?.status, 'interrupted');
    assert.equal(r?.message, 'daemon restarted');
    assert.equal(typeof r?.endedAt, 'number');
    assert.equal((await s.getRun(done))?.status, 'succeeded');
    assert.deepEqual(await s.markInterrupted(), []);
    await s.close();
  });

  test('integrity check says ok', async () => {
    assert.equal(await store.integrityCheck(), 'ok');
  });
});

describe('SqliteStore files', () => {
  test('data survives close and reopen', async () => {
    const dir = await tempDir();
    const first = await openSqliteStore(dir);
    const id = await first.createRun({ experiment: 'keep', name: 'r', kind: 'step' });
    await first.logMetrics(id, [point('loss', 0.1, 0)]);
    await first.close();
    const second = await openSqliteStore(dir);
    assert.deepEqual((await second.getRun(id))?.latestMetrics, { loss: 0.1 });
    assert.equal(await second.integrityCheck(), 'ok');
    await second.close();
  });

  test('a database from a newer release is refused with a clear message', async () => {
    const dir = await tempDir();
    await (await openSqliteStore(dir)).close();
    const raw = new Database(join(dir, 'store.db'));
    raw.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    await assert.rejects(
      openSqliteStore(dir),
      isCode('UNAVAILABLE', new RegExp(`schema version ${MIGRATIONS.length + 1}.*only knows versions up to ${MIGRATIONS.length}.*newer release`)),
    );
  });

  test('two processes writing the same file at once wait for each other instead of failing', async () => {
    const dir = await tempDir(); // fresh: both writers also race to create and migrate it
    const storeModule = resolve(__dirname, '../../orchestrator/store/sqlite-store.ts');
    const writer = `(async () => {
      const { openSqliteStore } = require(${JSON.stringify(storeModule)});
      const store = await openSqliteStore(${JSON.stringify(dir)});
      const id = await store.createRun({ experiment: 'concurrent', name: process.argv[1], kind: 'step' });
      for (let b = 0; b < 40; b++) {
        const points = Array.from({ length: 250 }, (_, i) => ({ key: 'x', value: i, step: b * 250 + i, timestamp: Date.now() }));
        await store.logMetrics(id, points);
        await store.setTags(id, { batch: String(b) });
      }
      await store.close();
    })().catch((err) => { console.error(err); process.exit(1); });`;
    const run = (name: string) =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', writer, name], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => done({ code, stderr }));
      });
    const results = await Promise.all([run('w1'), run('w2'), run('w3')]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);

    const store = await openSqliteStore(dir);
    const runs = await store.listRuns({ experiment: 'concurrent' });
    assert.equal(runs.length, 3);
    for (const r of runs) {
      assert.equal((await store.getMetricHistory(r.id, 'x')).length, 10_000);
      assert.deepEqual(r.tags, { batch: '39' });
    }
    assert.equal(await store.integrityCheck(), 'ok');
    await store.close();
  });
});
