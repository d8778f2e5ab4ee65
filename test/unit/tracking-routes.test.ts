import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MlopsError } from '../../protocol/errors';
import type { RunDetail, RunSummary } from '../../protocol/types';
import { openSqliteStore, type SqliteStore } from '../../orchestrator/store/sqlite-store';
import { errorResponse, trackingRoutes, type Route, type RouteContext } from '../../orchestrator/tracking/routes';

let dir: string;
let store: SqliteStore;
let ctx: RouteContext;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlops-routes-'));
  store = await openSqliteStore(dir);
  ctx = { store, actor: 'tester' };
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function find(method: Route['method'], path: string): Route {
  const route = trackingRoutes.find((r) => r.method === method && r.path === path);
  assert.ok(route, `no route ${method} ${path}`);
  return route;
}
const get = (path: string, query: Record<string, string> = {}) => find('GET', path).handle(ctx, undefined, new URLSearchParams(query));
const post = (path: string, body: unknown) => find('POST', path).handle(ctx, body, new URLSearchParams());
const mlflow = (p: string) => `/api/2.0/mlflow/${p}`;

/** Asserts an MlopsError with `code` whose message names `field`. */
async function rejects(promise: Promise<unknown>, code: MlopsError['code'], field?: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof MlopsError, `expected MlopsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (field) assert.ok(err.message.includes(field), `message "${err.message}" should name ${field}`);
    return true;
  });
}

test('route table: unique method+path, MLflow routes flagged for MLflow errors', () => {
  const keys = trackingRoutes.map((r) => `${r.method} ${r.path}`);
  assert.equal(new Set(keys).size, keys.length);
  for (const r of trackingRoutes) assert.equal(Boolean(r.mlflowErrors), r.path.startsWith('/api/2.0/mlflow/'), r.path);
});

describe('our routes', () => {
  let runId: string;
  before(async () => {
    const parent = await store.createRun({ experiment: 'ours', name: 'pipe', kind: 'pipeline', startedAt: 1 });
    for (let i = 0; i < 3; i++) {
      const id = await store.createRun({ experiment: 'ours', name: `s${i}`, kind: 'step', parentId: parent, startedAt: 10 + i });
      await store.logMetrics(id, [{ key: 'auc', value: [0.5, 0.9, 0.7][i]!, step: 0, timestamp: 1 }]);
      if (i === 1) await store.updateRun(id, { status: 'succeeded', endedAt: 20 });
    }
    runId = parent;
  });

  test('GET /api/runs filters, pages and orders', async () => {
    const page = (await get('/api/runs', { experiment: 'ours', limit: '2', offset: '1' })) as { runs: RunSummary[]; total: number };
    assert.equal(page.total, 4);
    assert.deepEqual(page.runs.map((r) => r.name), ['s1', 's0']);
    const top = (await get('/api/runs', { parentId: 'none', experiment: 'ours' })) as { runs: RunSummary[] };
    assert.deepEqual(top.runs.map((r) => r.name), ['pipe']);
    const byAuc = (await get('/api/runs', { parentId: runId, orderBy: 'metrics.auc', status: 'running,succeeded' })) as { runs: RunSummary[] };
    assert.deepEqual(byAuc.runs.map((r) => r.name), ['s1', 's2', 's0']);
    const asc = (await get('/api/runs', { experiment: 'ours', desc: 'false', kind: 'step' })) as { runs: RunSummary[] };
    assert.deepEqual(asc.runs.map((r) => r.name), ['s0', 's1', 's2']);
  });

  test('GET /api/runs rejects bad filters, naming the parameter', async () => {
    await rejects(get('/api/runs', { limit: '0' }), 'BAD_REQUEST', 'limit');
    await rejects(get('/api/runs', { offset: '-1' }), 'BAD_REQUEST', 'offset');
    await rejects(get('/api/runs', { status: 'running,done' }), 'BAD_REQUEST', 'status');
    await rejects(get('/api/runs', { kind: 'job' }), 'BAD_REQUEST', 'kind');
    await rejects(get('/api/runs', { orderBy: 'name' }), 'BAD_REQUEST', 'orderBy');
    await rejects(get('/api/runs', { desc: 'maybe' }), 'BAD_REQUEST', 'desc');
  });

  test('GET /api/runs/get returns the detail; unknown is NOT_FOUND', async () => {
    const run = (await get('/api/runs/get', { id: runId })) as RunDetail;
    assert.equal(run.name, 'pipe');
    assert.deepEqual(run.children.map((c) => c.name), ['s0', 's1', 's2']);
    await rejects(get('/api/runs/get', { id: 'f'.repeat(32) }), 'NOT_FOUND');
    await rejects(get('/api/runs/get'), 'BAD_REQUEST', 'id');
  });

  test('POST log-metrics, log-params, set-tags then read back', async () => {
    const before = Date.now();
    const res = await post('/api/runs/log-metrics', {
      runId,
      metrics: [{ key: 'loss', value: 0.5, step: 1, timestamp: 111 }, { key: 'loss', value: 'NaN', step: '2' }, { key: 'lr', value: 0.1 }],
    });
    assert.deepEqual(res, { logged: 3 });
    const { metrics } = (await get('/api/runs/metrics', { id: runId, key: 'loss' })) as { metrics: { value: number; step: number; timestamp: number }[] };
    assert.deepEqual(metrics.map((m) => [m.value, m.step]), [[0.5, 1], [NaN, 2]]);
    assert.ok(metrics[1]!.timestamp >= before, 'timestamp defaults to now');
    assert.deepEqual(((await get('/api/runs/metrics', { id: runId, key: 'lr' })) as { metrics: { step: number }[] }).metrics[0]?.step, 0);

    assert.deepEqual(await post('/api/runs/log-params', { runId, params: { lr: 0.1, opt: 'adam', amp: true } }), {});
    assert.deepEqual(await post('/api/runs/set-tags', { runId, tags: { note: 'first' } }), {});
    const run = (await get('/api/runs/get', { id: runId })) as RunDetail;
    assert.deepEqual(run.params, { lr: '0.1', opt: 'adam', amp: 'true' });
    assert.deepEqual(run.tags, { note: 'first' });
    await rejects(post('/api/runs/log-params', { runId, params: { lr: 0.2 } }), 'CONFLICT', 'lr');
  });

  test('POST routes reject bad input naming the field, and unknown runs', async () => {
    await rejects(post('/api/runs/log-metrics', null), 'BAD_REQUEST', 'body');
    await rejects(post('/api/runs/log-metrics', { metrics: [] }), 'BAD_REQUEST', 'runId');
    await rejects(post('/api/runs/log-metrics', { runId, metrics: {} }), 'BAD_REQUEST', 'metrics');
    await rejects(post('/api/runs/log-metrics', { runId, metrics: [{ key: 'a', value: 1 }, { key: 'b', value: 'high' }] }), 'BAD_REQUEST', 'metrics[1].value');
    await rejects(post('/api/runs/log-metrics', { runId, metrics: [{ key: 'a', value: null }] }), 'BAD_REQUEST', 'metrics[0].value');
    await rejects(post('/api/runs/log-metrics', { runId, metrics: [{ key: '', value: 1 }] }), 'BAD_REQUEST', 'metrics[0].key');
    await rejects(post('/api/runs/log-metrics', { runId, metrics: [{ key: 'k'.repeat(251), value: 1 }] }), 'BAD_REQUEST', 'metrics[0].key');
    await rejects(post('/api/runs/log-metrics', { runId, metrics: [{ key: 'a', value: 1, step: 1.5 }] }), 'BAD_REQUEST', 'metrics[0].step');
    await rejects(post('/api/runs/log-metrics', { runId: 'e'.repeat(32), metrics: [{ key: 'a', value: 1 }] }), 'NOT_FOUND');
    await rejects(post('/api/runs/log-params', { runId, params: [1] }), 'BAD_REQUEST', 'params');
    await rejects(post('/api/runs/log-params', { runId, params: { x: { nested: 1 } } }), 'BAD_REQUEST', 'params.x');
    await rejects(post('/api/runs/set-tags', { runId, tags: { 'bad:key': 'v' } }), 'BAD_REQUEST', 'tags key');
    await rejects(get('/api/runs/metrics', { id: 'e'.repeat(32), key: 'loss' }), 'NOT_FOUND');
  });

  test('errors render as {error: {code, message}}', async () => {
    const err = await get('/api/runs/get', { id: 'f'.repeat(32) }).catch((e: unknown) => e);
    const res = errorResponse(find('GET', '/api/runs/get'), err);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: { code: 'NOT_FOUND', message: `run ${'f'.repeat(32)} not found` } });
    assert.equal(errorResponse(undefined, new Error('secret')).status, 500);
  });
});

describe('MLflow REST 2.0 routes', () => {
  type MlflowRun = {
    info: Record<string, unknown> & { run_id: string; status: string };
    data: { metrics: { key: string; value: number | string; timestamp: number; step: number }[]; params: { key: string; value: string }[]; tags: { key: string; value: string }[] };
  };
  let experimentId: string;
  let runId: string;

  test('experiments/create and get-by-name', async () => {
    const created = (await post(mlflow('experiments/create'), { name: 'mlflow-exp' })) as { experiment_id: string };
    assert.deepEqual(Object.keys(created), ['experiment_id']);
    experimentId = created.experiment_id;
    assert.match(experimentId, /^\d+$/);
    const got = (await get(mlflow('experiments/get-by-name'), { experiment_name: 'mlflow-exp' })) as { experiment: Record<string, unknown> };
    assert.deepEqual(got.experiment, { experiment_id: experimentId, name: 'mlflow-exp', artifact_location: '', lifecycle_stage: 'active', tags: [] });

    const dup = await post(mlflow('experiments/create'), { name: 'mlflow-exp' }).catch((e: unknown) => e);
    assert.deepEqual(errorResponse(find('POST', mlflow('experiments/create')), dup).body, {
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: "Experiment 'mlflow-exp' already exists.",
    });
    const missing = await get(mlflow('experiments/get-by-name'), { experiment_name: 'nope' }).catch((e: unknown) => e);
    assert.deepEqual(errorResponse(find('GET', mlflow('experiments/get-by-name')), missing), {
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Could not find experiment with name 'nope'" },
    });
    await rejects(post(mlflow('experiments/create'), { name: 7 }), 'BAD_REQUEST', 'name');
  });

  test('runs/create returns {run: {info, data}} in MLflow shape', async () => {
    const res = (await post(mlflow('runs/create'), {
      experiment_id: experimentId,
      run_name: 'first',
      start_time: 1_700_000_000_000,
      tags: [{ key: 'mlflow.source.name', value: 'train.py' }, { key: 'mlflow.source.git.commit', value: 'c0ffee' }],
    })) as { run: MlflowRun };
    runId = res.run.info.run_id;
    assert.match(runId, /^[0-9a-f]{32}$/);
    assert.deepEqual(res.run.info, {
      run_id: runId, run_uuid: runId, run_name: 'first', experiment_id: experimentId, user_id: 'tester',
      status: 'RUNNING', start_time: 1_700_000_000_000, artifact_uri: '', lifecycle_stage: 'active',
    });
    assert.deepEqual(res.run.data.metrics, []);
    assert.deepEqual(res.run.data.params, []);
    assert.deepEqual(
      [...res.run.data.tags].sort((a, b) => a.key.localeCompare(b.key)),
      [
        { key: 'mlflow.runName', value: 'first' },
        { key: 'mlflow.source.git.commit', value: 'c0ffee' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.user', value: 'tester' },
      ],
    );
    const stored = await store.getRun(runId);
    assert.equal(stored?.gitCommit, 'c0ffee');
    assert.equal(stored?.experiment, 'mlflow-exp');
    assert.equal(stored?.status, 'running');
  });

  test('runs/create: default experiment, nesting via mlflow.parentRunId, artifact URI, errors', async () => {
    const child = (await post(mlflow('runs/create'), { tags: [{ key: 'mlflow.parentRunId', value: runId }] })) as { run: MlflowRun };
    assert.equal(child.run.info.experiment_id, '0');
    assert.match(String(child.run.info.run_name), /^run-[0-9a-f]{8}$/);
    assert.equal((await store.getRun(child.run.info.run_id))?.parentId, runId);
    const withRoot = (await find('POST', mlflow('runs/create')).handle({ ...ctx, artifactRoot: '/ws/.mlops/runs' }, {}, new URLSearchParams())) as { run: MlflowRun };
    assert.equal(withRoot.run.info.artifact_uri, `file:///ws/.mlops/runs/${withRoot.run.info.run_id}/artifacts`);
    await rejects(post(mlflow('runs/create'), { experiment_id: '999' }), 'NOT_FOUND', '999');
    await rejects(post(mlflow('runs/create'), { experiment_id: experimentId, tags: [{ key: 'mlflow.parentRunId', value: 'c'.repeat(32) }] }), 'NOT_FOUND');
    await rejects(post(mlflow('runs/create'), { experiment_id: experimentId, start_time: 'yesterday' }), 'BAD_REQUEST', 'start_time');
    await rejects(post(mlflow('runs/create'), { experiment_id: experimentId, tags: [{ value: 'x' }] }), 'BAD_REQUEST', 'tags[0].key');
  });

  test('log-metric, log-parameter, set-tag, log-batch then runs/get', async () => {
    assert.deepEqual(await post(mlflow('runs/log-metric'), { run_id: runId, key: 'loss', value: 0.7, timestamp: 5, step: 0 }), {});
    assert.deepEqual(await post(mlflow('runs/log-metric'), { run_uuid: runId, key: 'loss', value: 'NaN', timestamp: '6', step: '1' }), {});
    assert.deepEqual(await post(mlflow('runs/log-parameter'), { run_id: runId, key: 'lr', value: '0.01' }), {});
    assert.deepEqual(await post(mlflow('runs/set-tag'), { run_id: runId, key: 'team', value: 'ml' }), {});
    assert.deepEqual(
      await post(mlflow('runs/log-batch'), {
        run_id: runId,
        metrics: [{ key: 'acc', value: 0.9, timestamp: 7, step: 3 }, { key: 'acc', value: 0.8, timestamp: 8, step: 2 }],
        params: [{ key: 'epochs', value: '10' }, { key: 'lr', value: '0.01' }],
        tags: [{ key: 'team', value: 'ml-platform' }],
      }),
      {},
    );
    const { run } = (await get(mlflow('runs/get'), { run_id: runId })) as { run: MlflowRun };
    assert.deepEqual(run.data.metrics, [{ key: 'acc', value: 0.9, timestamp: 7, step: 3 }, { key: 'loss', value: 'NaN', timestamp: 6, step: 1 }]);
    assert.deepEqual([...run.data.params].sort((a, b) => a.key.localeCompare(b.key)), [{ key: 'epochs', value: '10' }, { key: 'lr', value: '0.01' }]);
    assert.ok(run.data.tags.some((t) => t.key === 'team' && t.value === 'ml-platform'));

    const history = (await get(mlflow('metrics/get-history'), { run_id: runId, metric_key: 'acc' })) as { metrics: { step: number }[] };
    assert.deepEqual(history.metrics.map((m) => m.step), [2, 3]);
  });

  test('log routes validate like MLflow', async () => {
    const logMetric = (body: Record<string, unknown>) => post(mlflow('runs/log-metric'), { run_id: runId, key: 'm', value: 1, timestamp: 1, ...body });
    await rejects(logMetric({ value: true }), 'BAD_REQUEST', 'value');
    await rejects(logMetric({ value: 'lots' }), 'BAD_REQUEST', 'value');
    await rejects(logMetric({ key: '' }), 'BAD_REQUEST', 'key');
    await rejects(logMetric({ key: 'x'.repeat(251) }), 'BAD_REQUEST', 'key');
    await rejects(logMetric({ step: 0.5 }), 'BAD_REQUEST', 'step');
    await rejects(logMetric({ run_id: undefined }), 'BAD_REQUEST', 'run_id');
    await rejects(logMetric({ run_id: 'd'.repeat(32) }), 'NOT_FOUND');
    // Changing a logged param is INVALID_PARAMETER_VALUE in MLflow.
    const changed = await post(mlflow('runs/log-parameter'), { run_id: runId, key: 'lr', value: '0.02' }).catch((e: unknown) => e);
    assert.equal((errorResponse(find('POST', mlflow('runs/log-parameter')), changed).body as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
    await rejects(post(mlflow('runs/log-batch'), { run_id: runId, metrics: tooMany }), 'BAD_REQUEST', 'metrics');
    await rejects(post(mlflow('runs/log-batch'), { run_id: runId, params: [{ key: 'p', value: 'x'.repeat(6001) }] }), 'BAD_REQUEST', 'params[0].value');
    await rejects(post(mlflow('runs/set-tag'), { run_id: runId, key: 'k' }), 'BAD_REQUEST', 'value');
  });

  test('runs/update maps statuses and returns {run_info}', async () => {
    const res = (await post(mlflow('runs/update'), { run_id: runId, status: 'FINISHED', end_time: 1_700_000_360_000 })) as { run_info: Record<string, unknown> };
    assert.equal(res.run_info.status, 'FINISHED');
    assert.equal(res.run_info.end_time, 1_700_000_360_000);
    const stored = await store.getRun(runId);
    assert.equal(stored?.status, 'succeeded');
    assert.equal(stored?.durationMs, 360_000);

    const other = ((await post(mlflow('runs/create'), { experiment_id: experimentId })) as { run: MlflowRun }).run.info.run_id;
    for (const [mlflowStatus, ours] of [['KILLED', 'cancelled'], ['FAILED', 'failed'], ['SCHEDULED', 'queued'], ['RUNNING', 'running']] as const) {
      await post(mlflow('runs/update'), { run_id: other, status: mlflowStatus });
      assert.equal((await store.getRun(other))?.status, ours);
    }
    assert.equal(typeof (await store.getRun(other))?.endedAt, 'number', 'a terminal status without end_time ends the run now');
    await rejects(post(mlflow('runs/update'), { run_id: other, status: 'DONE' }), 'BAD_REQUEST', 'status');
    await rejects(post(mlflow('runs/update'), { run_id: 'a'.repeat(32), status: 'FAILED' }), 'NOT_FOUND');
  });

  test('runs/get of an unknown run renders RESOURCE_DOES_NOT_EXIST', async () => {
    const err = await get(mlflow('runs/get'), { run_id: 'b'.repeat(32) }).catch((e: unknown) => e);
    assert.deepEqual(errorResponse(find('GET', mlflow('runs/get')), err), {
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run '${'b'.repeat(32)}' not found` },
    });
    await rejects(get(mlflow('runs/get')), 'BAD_REQUEST', 'run_id');
  });
});
