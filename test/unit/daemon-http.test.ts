/**
 * A real daemon process (the CLI's `daemon run`, from the TypeScript sources) in a temp
 * workspace: authentication on every route, the 127.0.0.1-only binding, request limits,
 * log path validation, server-sent events, reuse and exclusivity, and a clean stop.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DaemonEvent } from '../../protocol/api';
import { DaemonClient } from '../../orchestrator/api-client';
import { routeKeys } from '../../orchestrator/daemon/http-server';
import { defaultEntry, ensureDaemon, stopDaemon, type DaemonConnection } from '../../orchestrator/daemon/launcher';
import { mlopsPaths } from '../../orchestrator/daemon/paths';
import { isAlive } from '../../orchestrator/daemon/proc';

const MANIFEST = `version: 1
project: http-test
steps:
  hello:
    cmd: node -e "console.log('hello from ' + process.env.MLOPS_RUN_ID); console.log('sent at ' + Date.now())"
`;

let ws: string;
let conn: DaemonConnection;
let client: DaemonClient;
let startMs: number;

before(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-daemon-http-'));
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), MANIFEST);
  const t0 = performance.now();
  conn = await ensureDaemon(ws, { timeoutMs: 20_000, env: { MLOPS_DAEMON_HEARTBEAT_MS: '200' } });
  startMs = performance.now() - t0;
  client = new DaemonClient(conn.url, conn.token);
});

after(async () => {
  if (conn && isAlive(conn.pid)) {
    await stopDaemon(ws, { timeoutMs: 5000 }).catch(() => undefined);
    if (isAlive(conn.pid)) process.kill(conn.pid, 'SIGKILL');
  }
  fs.rmSync(ws, { recursive: true, force: true });
});

function rawRequest(opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: conn.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('daemon process', () => {
  it('starts, writes daemon.json and a 0600 token', (t) => {
    t.diagnostic(`daemon start (spawn → healthy, tsx sources): ${startMs.toFixed(0)} ms`);
    const paths = mlopsPaths(ws);
    assert.equal(fs.statSync(paths.token).mode & 0o777, 0o600);
    const info = JSON.parse(fs.readFileSync(paths.daemonJson, 'utf8'));
    assert.equal(info.pid, conn.pid);
    assert.equal(info.port, conn.port);
    assert.equal(info.workspace, fs.realpathSync(ws) === ws ? ws : info.workspace);
    assert.equal(info.node, process.version);
    assert.match(fs.readFileSync(paths.lock, 'utf8'), new RegExp(`^${conn.pid} `));
    assert.notEqual(conn.pid, process.pid);
  });

  it('refuses every route without the token or with a wrong one (401), before routing', async () => {
    const routes = routeKeys();
    assert.ok(routes.length >= 20, `only ${routes.length} routes`);
    assert.ok(routes.some((r) => r.path === '/api/events') && routes.some((r) => r.path === '/api/pipeline/run') && routes.some((r) => r.path.startsWith('/api/2.0/mlflow/')));
    const badHeaders: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: 'Bearer ' + '0'.repeat(64) },
      { authorization: 'Bearer ' + conn.token.slice(0, 63) },
      { authorization: 'Bearer ' + conn.token + 'x' },
      { authorization: 'Basic ' + Buffer.from('x:' + conn.token).toString('base64') },
      { authorization: conn.token },
    ];
    for (const r of [...routes, { method: 'GET', path: '/api/no-such-route' }]) {
      for (const headers of badHeaders) {
        const res = await fetch(conn.url + r.path, { method: r.method, headers: { ...headers, 'content-type': 'application/json' }, body: r.method === 'GET' ? undefined : '{}' });
        assert.equal(res.status, 401, `${r.method} ${r.path} with ${JSON.stringify(headers)}`);
        const body = (await res.json()) as { error?: { code: string }; error_code?: string };
        if (r.path.startsWith('/api/2.0/mlflow/')) assert.equal(body.error_code, 'UNAUTHENTICATED');
        else assert.equal(body.error?.code, 'UNAUTHORIZED', `${r.method} ${r.path}`);
      }
    }
    // The daemon is still up: nothing above reached a handler (not even /api/daemon/stop).
    assert.equal((await client.health()).pid, conn.pid);
  });

  it('serves every registered route with the token', async () => {
    for (const r of routeKeys()) {
      // Not these: they stop the daemon, stream forever, or start a run (the next test does).
      if (['/api/daemon/stop', '/api/events', '/api/pipeline/run'].includes(r.path)) continue;
      const res = await fetch(conn.url + r.path, { method: r.method, headers: { authorization: `Bearer ${conn.token}` }, body: r.method === 'GET' ? undefined : '{}' });
      assert.notEqual(res.status, 401, `${r.method} ${r.path}`);
      const body = await res.text();
      // Missing arguments are fine (400/404 naming them); an unknown route is not.
      assert.doesNotMatch(body, /no endpoint/, `${r.method} ${r.path}`);
    }
  });

  it('listens on 127.0.0.1 only', async () => {
    const hex = conn.port.toString(16).toUpperCase().padStart(4, '0');
    const listening = (file: string) => {
      try {
        return fs.readFileSync(file, 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[1]?.endsWith(`:${hex}`) && f[3] === '0A').map((f) => f[1]);
      } catch {
        return [];
      }
    };
    if (fs.existsSync('/proc/net/tcp')) {
      assert.deepEqual(listening('/proc/net/tcp'), [`0100007F:${hex}`]);
      assert.deepEqual(listening('/proc/net/tcp6'), []);
    }
    const refused = (host: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect({ host, port: conn.port }, () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
    // Other loopback addresses and every non-loopback interface address of this machine.
    const others = ['127.0.0.2', ...Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address)];
    for (const host of others) assert.notEqual(await refused(host), 'connected', host);
    assert.equal(await refused('127.0.0.1'), 'connected');
  });

  it('caps bodies (413), rejects bad JSON (400), unknown endpoints (404) and foreign Host headers (403)', async () => {
    const auth = { authorization: `Bearer ${conn.token}`, 'content-type': 'application/json' };
    const big = Buffer.alloc(17 * 1024 * 1024, 0x20);
    const tooBig = await rawRequest({ method: 'POST', path: '/api/runs/log-metrics', headers: auth, body: big });
    assert.equal(tooBig.status, 413);
    assert.equal(JSON.parse(tooBig.body).error.code, 'PAYLOAD_TOO_LARGE');
    const badJson = await rawRequest({ method: 'POST', path: '/api/pipeline/plan', headers: auth, body: '{"steps": [' });
    assert.equal(badJson.status, 400);
    assert.match(JSON.parse(badJson.body).error.message, /not valid JSON/);
    const unknown = await rawRequest({ path: '/api/nope', headers: auth });
    assert.equal(unknown.status, 404);
    const wrongMethod = await rawRequest({ method: 'GET', path: '/api/pipeline/run', headers: auth });
    assert.equal(wrongMethod.status, 404);
    assert.match(JSON.parse(wrongMethod.body).error.message, /use POST/);
    const rebound = await rawRequest({ path: '/api/health', headers: { ...auth, host: 'evil.example:80' } });
    assert.equal(rebound.status, 403);
    assert.equal((await rawRequest({ path: '/api/health', headers: { ...auth, host: `localhost:${conn.port}` } })).status, 200);
  });

  it('streams a run as server-sent events, with heartbeats, and serves its log', async (t) => {
    const stream = client.events();
    await stream.ready;
    const seen: DaemonEvent[] = [];
    let outputAt = 0;
    let sentAt = 0;
    const posted = performance.now();
    const { runId } = await client.run({});
    let startedAfter = 0;
    for await (const e of stream) {
      seen.push(e);
      if (e.type === 'run-started') startedAfter = performance.now() - posted;
      if (e.type === 'step-output' && /sent at (\d+)/.test(e.text)) {
        outputAt = Date.now();
        sentAt = Number(/sent at (\d+)/.exec(e.text)![1]);
      }
      if (e.type === 'run-finished') break;
    }
    stream.close();
    t.diagnostic(`SSE: run-started ${startedAfter.toFixed(1)} ms after POST; step stdout line → client ${outputAt - sentAt} ms`);
    const types = seen.filter((e) => 'runId' in e && e.runId === runId).map((e) => e.type);
    assert.deepEqual([types[0], types.at(-1)], ['run-started', 'run-finished']);
    assert.ok(types.includes('step-started') && types.includes('step-finished') && types.includes('step-output'), types.join(','));
    assert.ok(seen.some((e) => e.type === 'runs-changed'));

    const log = await client.logs(runId, 'hello');
    assert.match(log.text, /hello from [0-9a-f]{32}/);
    assert.equal(log.done, true);
    assert.equal(log.offset, Buffer.byteLength(log.text));
    const tail = await client.logs(runId, 'hello', log.offset);
    assert.deepEqual(tail, { text: '', offset: log.offset, done: true });

    // Heartbeats: a quiet stream still gets a comment every MLOPS_DAEMON_HEARTBEAT_MS (200 ms here).
    const res = await fetch(conn.url + '/api/events', { headers: { authorization: `Bearer ${conn.token}` } });
    const reader = res.body!.getReader();
    let text = '';
    const until = Date.now() + 3000;
    while (!text.includes(': ping') && Date.now() < until) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.match(text, /: ping/);
  });

  it('refuses log paths that leave the run folder', async () => {
    const { runs } = await client.runs({ parentId: 'none', limit: 1 });
    const runId = runs[0]!.id;
    const token = conn.token;
    const attempts: [string, string][] = [
      [runId, '../../token'],
      [runId, '..'],
      [runId, '../logs/hello'],
      [runId, 'hello/../../../token'],
      [runId, '%2e%2e/%2e%2e/token'],
      [runId, '/etc/passwd'],
      [runId, 'nosuchstep'],
      ['../../token', 'hello'],
      ['..', 'hello'],
      [`${runId}/../${runId}`, 'hello'],
      ['0'.repeat(32), 'hello'],
    ];
    for (const [id, step] of attempts) {
      const qs = new URLSearchParams({ id, step });
      for (const url of [`/api/runs/logs?${qs}`, `/api/runs/logs?id=${id}&step=${step}`]) {
        const res = await rawRequest({ path: url, headers: { authorization: `Bearer ${token}` } });
        assert.ok(res.status === 400 || res.status === 404, `${url}: ${res.status} ${res.body}`);
        assert.ok(!res.body.includes(token.slice(0, 16)), url);
      }
    }
  });

  it('is reused by ensureDaemon, and a second daemon process for the workspace refuses to start', async () => {
    const again = await ensureDaemon(ws);
    assert.equal(again.pid, conn.pid);
    assert.equal(again.port, conn.port);
    const r = spawnSync(process.execPath, [...defaultEntry(), 'daemon', 'run', ws], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`another orchestrator daemon \\(pid ${conn.pid}\\) already serves this workspace`));
    assert.equal((await client.health()).pid, conn.pid);
  });

  it('stops on POST /api/daemon/stop: tells SSE clients, removes daemon.json and the lock, exits', async () => {
    const stream = client.events();
    await stream.ready;
    assert.deepEqual(await client.stopDaemon(), { stopping: true });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    assert.deepEqual(types, ['daemon-stopping']);
    const deadline = Date.now() + 10_000;
    while (isAlive(conn.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!isAlive(conn.pid));
    const paths = mlopsPaths(ws);
    assert.ok(!fs.existsSync(paths.daemonJson));
    assert.ok(!fs.existsSync(paths.lock));
    assert.equal(await ensureDaemon(ws, { startIfMissing: false }), undefined);
  });
});
