/**
 * The stdlib-only step clients against a real HTTP server: a minimal test-only dispatcher
 * (token check + trackingRoutes) standing in for the daemon, clients run as child processes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { MlopsError } from '../../protocol/errors';
import { openSqliteStore, type SqliteStore } from '../../orchestrator/store/sqlite-store';
import { errorResponse, trackingRoutes } from '../../orchestrator/tracking/routes';

const TOKEN = 'test-token-0123456789';
const NODE_CLIENT = pathToFileURL(resolve(__dirname, '../../clients/node/mlops-tracking.mjs')).href;
const PYTHON_DIR = resolve(__dirname, '../../clients/python');

let dir: string;
let store: SqliteStore;
let server: Server;
let uri: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlops-clients-'));
  store = await openSqliteStore(dir);
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = trackingRoutes.find((r) => r.method === req.method && r.path === url.pathname);
    let status = 200;
    let body: unknown;
    try {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) throw new MlopsError('UNAUTHORIZED', 'missing or wrong bearer token');
      if (!route) throw new MlopsError('NOT_FOUND', `no route ${req.method} ${url.pathname}`);
      let raw = '';
      for await (const chunk of req) raw += chunk;
      body = await route.handle({ store, actor: 'test' }, raw ? JSON.parse(raw) : undefined, url.searchParams);
    } catch (err) {
      ({ status, body } = errorResponse(route, err));
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((ok) => server.close(ok));
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a client script as a child process; async, since the server shares our event loop. */
function runChild(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MLOPS_')));
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { env: { ...base, ...env }, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr }));
  });
}

async function newRun(name: string): Promise<{ runId: string; env: Record<string, string> }> {
  const runId = await store.createRun({ experiment: 'clients', name, kind: 'step' });
  return { runId, env: { MLOPS_TRACKING_URI: uri, MLOPS_TOKEN: TOKEN, MLOPS_RUN_ID: runId } };
}

/** Same logging script for both clients: 2500 points forces batch flushes plus a flush at exit. */
async function assertLogged(runId: string) {
  const run = await store.getRun(runId);
  assert.deepEqual(run?.params, { lr: '0.05', layers: '3' });
  assert.deepEqual(run?.tags, { stage: 'test' });
  const loss = await store.getMetricHistory(runId, 'loss');
  assert.equal(loss.length, 2500);
  assert.deepEqual(loss.slice(0, 2).map((p) => [p.step, p.value]), [[0, 1], [1, 0.5]]);
  assert.deepEqual(run?.latestMetrics, { loss: 1 / 2500, acc: 0.9, bad: NaN, inf: Infinity, nostep: 2 });
  const [nostep] = await store.getMetricHistory(runId, 'nostep');
  assert.equal(nostep?.step, 0, 'no step means step 0, as in MLflow');
}

describe('node client', () => {
  const script = (body: string) => ['--input-type=module', '-e', `import * as mt from ${JSON.stringify(NODE_CLIENT)};\n${body}`];

  test('batches and flushes when the script ends', async () => {
    const { runId, env } = await newRun('node');
    const { code, stderr } = await runChild(process.execPath, script(`
      mt.logParam('lr', 0.05); mt.logParams({ layers: 3 }); mt.setTag('stage', 'test');
      for (let i = 0; i < 2500; i++) mt.logMetric('loss', 1 / (i + 1), i);
      mt.logMetrics({ acc: 0.9, bad: NaN, inf: Infinity }, 7);
      mt.log_metric('nostep', 2);
    `), env);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    await assertLogged(runId);
  });

  test('process.exit() still sends the buffer', async () => {
    const { runId, env } = await newRun('node-exit');
    const { code, stderr } = await runChild(process.execPath, script(`mt.logMetric('x', 1, 0); mt.setTag('t', 'v'); process.exit(3);`), env);
    assert.equal(code, 3, stderr);
    assert.deepEqual((await store.getRun(runId))?.latestMetrics, { x: 1 });
    assert.deepEqual((await store.getRun(runId))?.tags, { t: 'v' });
  });

  test('without the environment: a warning and no-ops; a wrong token: a warning, not a crash', async () => {
    const off = await runChild(process.execPath, script(`mt.logMetric('x', 1); mt.logParam('a', 1); await mt.flush();`), {});
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stderr.match(/not set/g)?.length, 1, off.stderr);

    const { runId, env } = await newRun('node-bad-token');
    const bad = await runChild(process.execPath, script(`mt.logMetric('x', 1);`), { ...env, MLOPS_TOKEN: 'wrong' });
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stderr, /HTTP 401/);
    assert.deepEqual((await store.getRun(runId))?.latestMetrics, {});
  });
});

describe('python client', () => {
  const python = spawnSync('python3', ['--version']).error ? undefined : 'python3';
  // -B: no __pycache__ littering clients/python.
  const script = (body: string) => ['-B', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})\nimport mlops_tracking as mt\n${body}`];

  test('batches and flushes at interpreter exit', async (t) => {
    if (!python) return t.skip('python3 not found');
    const { runId, env } = await newRun('python');
    const { code, stderr } = await runChild(python, script(`
mt.log_param("lr", 0.05); mt.log_params({"layers": 3}); mt.set_tag("stage", "test")
for i in range(2500):
    mt.log_metric("loss", 1 / (i + 1), step=i)
mt.log_metrics({"acc": 0.9, "bad": float("nan"), "inf": float("inf")}, step=7)
mt.log_metric("nostep", 2)
`), env);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    await assertLogged(runId);
  });

  test('without the environment: one warning and no-ops; a wrong token: a warning, not a crash', async (t) => {
    if (!python) return t.skip('python3 not found');
    const off = await runChild(python, script('mt.log_metric("x", 1); mt.log_param("a", 1); mt.flush()'), {});
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stderr.match(/not set/g)?.length, 1, off.stderr);

    const { runId, env } = await newRun('python-bad-token');
    const bad = await runChild(python, script('mt.log_metric("x", 1)'), { ...env, MLOPS_TOKEN: 'wrong' });
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stderr, /HTTP 401/);
    assert.deepEqual((await store.getRun(runId))?.latestMetrics, {});
  });
});
