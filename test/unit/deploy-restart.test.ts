/**
 * Deployments survive crashes: a `command`-flavor model (a Node process answering JSON lines)
 * is served; its model process is killed with SIGKILL under load and comes back with the
 * failures bounded; the model server process itself is killed and the daemon restarts it on
 * the same port; a daemon restart restores the deployment; a model server that cannot come
 * back (its port taken) ends `failed` with the reason after a bounded number of restarts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../protocol/serving';
import { DaemonClient } from '../../orchestrator/api-client/client';
import { findDaemon } from '../../orchestrator/daemon/launcher';
import { isAlive } from '../../orchestrator/daemon/proc';
import { stopWorkspaceDaemon } from './cli-harness';
import { cli, failures, freePort, text, train } from './deploy-support';
import autocannon from 'autocannon';

const NAME = 'echo-api';
let ws: string;
let port: number;

const MANIFEST = (p: number) => `version: 1
project: echo
steps:
  build:
    cmd: node build.mjs
    deps: [build.mjs]
    outs: [model/weights.json]
models:
  echo-model:
    from: build
    artifact: model/weights.json
    flavor: command
    command: node serve.mjs
deployments:
  ${NAME}:
    model: models:/echo-model/1
    port: ${p}
    auth: none
`;

// The model: each row's sum times the factor in its weights file (MLOPS_MODEL_PATH).
const SERVE = `
import { readFileSync } from 'node:fs';
import * as readline from 'node:readline';
const { factor } = JSON.parse(readFileSync(process.env.MLOPS_MODEL_PATH, 'utf8'));
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line);
  const predictions = req.rows.map((r) => r.reduce((a, b) => a + b, 0) * factor);
  process.stdout.write(JSON.stringify({ id: req.id, predictions }) + '\\n');
});
rl.on('close', () => process.exit(0));
`;

before(async () => {
  ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-deploy-restart-')));
  port = await freePort();
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), MANIFEST(port));
  fs.writeFileSync(path.join(ws, 'build.mjs'), "import { mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('model', { recursive: true });\nwriteFileSync('model/weights.json', JSON.stringify({ factor: 2 }));\n");
  fs.writeFileSync(path.join(ws, 'serve.mjs'), SERVE);
  const run = await train(ws);
  const reg = await cli(ws, 'models', 'register', 'echo-model', '--run', run.id.slice(0, 8));
  assert.equal(reg.code, 0, text(reg));
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  fs.rmSync(ws, { recursive: true, force: true });
});

async function client(): Promise<DaemonClient> {
  const d = await findDaemon(ws);
  assert.ok(d);
  return new DaemonClient(d.url, d.token);
}

async function status(): Promise<DeploymentStatus> {
  return (await client()).call('GET /api/deployments/get', { name: NAME });
}

async function until(what: string, ok: (d: DeploymentStatus) => boolean, timeoutMs = 30_000): Promise<DeploymentStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await status();
    if (ok(d)) return d;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify({ state: d.state, error: d.error, pid: d.pid })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function predict(rows: number[][]): Promise<unknown[]> {
  const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { predictions: unknown[] }).predictions;
}

function children(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

describe('deployments survive crashes', () => {
  it('serves a command-flavor model (auth: none)', async () => {
    const r = await cli(ws, 'deploy', NAME);
    assert.equal(r.code, 0, text(r));
    assert.deepEqual(await predict([[1, 2], [3, 4]]), [6, 14]);
  });

  it("kill -9 of the model's process under load: it comes back, failures are few and bounded", async () => {
    const server = (await status()).pid!;
    const [model] = children(server);
    assert.ok(model, 'the model server runs the model process');
    const result = autocannon({
      url: `http://127.0.0.1:${port}/predict`, method: 'POST', connections: 8, duration: 4,
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [[1, 2]] }),
    });
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-model, 'SIGKILL'); // its process group: the shell and node
    const load = await result;
    const failed = failures(load);
    assert.ok(load['2xx'] > 0 && failed < load.requests.total * 0.2, `${failed} of ${load.requests.total} failed`);
    assert.deepEqual(await predict([[5, 5]]), [20]);
    const [again] = children(server);
    assert.ok(again && again !== model, 'a new model process');
    process.stderr.write(`deploy-restart: model kill -9 under load: ${failed} of ${load.requests.total} requests failed\n`);
  });

  it('kill -9 of the model server: the daemon restarts it on the same port', async () => {
    const before = await status();
    process.kill(before.pid!, 'SIGKILL');
    const after = await until('restarted', (d) => d.state === 'serving' && d.pid !== undefined && d.pid !== before.pid);
    assert.equal(after.port, port);
    assert.deepEqual(await predict([[1, 1]]), [4]);
    assert.equal(after.history[0]!.action, 'deploy', 'a crash is not an operator action');
  });

  it('a daemon restart restores the deployment; the model server does not outlive its daemon', async () => {
    const server = (await status()).pid!;
    const stop = await cli(ws, 'daemon', 'stop');
    assert.equal(stop.code, 0, text(stop));
    const deadline = Date.now() + 10_000;
    while (isAlive(server) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!isAlive(server), 'the model server stopped with the daemon');
    const offline = await cli(ws, 'deployments', '--json');
    assert.equal((offline.json[0] as { deployments: DeploymentStatus[] }).deployments[0]!.state, 'stopped');
    const start = await cli(ws, 'daemon', 'start');
    assert.equal(start.code, 0, text(start));
    await until('restored', (d) => d.state === 'serving');
    assert.deepEqual(await predict([[2, 3]]), [10]);
  });

  it('a model server that cannot come back ends failed with the reason; deploy fixes it', async () => {
    const before = await status();
    const blocker = net.createServer();
    process.kill(before.pid!, 'SIGKILL');
    // Take the port the moment it is free, so every restart fails to listen.
    for (let i = 0; ; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        blocker.once('error', () => resolve(false));
        blocker.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (ok) break;
      assert.ok(i < 200, 'the port was freed');
      await new Promise((r) => setTimeout(r, 10));
    }
    try {
      const failed = await until('failed', (d) => d.state === 'failed', 40_000);
      assert.match(failed.error!, /EADDRINUSE|in use/);
      assert.match(failed.error!, /5 restarts within 5 min; gave up/);
      const list = await cli(ws, 'deployments');
      assert.match(list.out.join('\n'), /echo-api\s+FAILED/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    const r = await cli(ws, 'deploy', NAME);
    assert.equal(r.code, 0, text(r));
    assert.deepEqual(await predict([[1, 0]]), [2]);
  });
});
