// The model server as the daemon runs it (a child process with an IPC channel, the token in its
// environment), the `command` flavor with the penguins sample's Python model, a command model
// that crashes and is restarted with bounded failures, and request log rotation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServerCommand, ServerMessage } from '../../protocol/serving';
import { config, get, PENGUINS, post, readRequestLog, REPO, ROWS, startTestServer, tempDir, TOKEN, v2Body, version, writeModels } from './serving-harness';

const ENTRY = path.join(REPO, 'orchestrator/serving/model-server-entry.ts');

function spawnServer(dir: string): { child: ChildProcess; messages: ServerMessage[]; next: <T extends ServerMessage['type']>(type: T) => Promise<Extract<ServerMessage, { type: T }>>; exit: Promise<number | null> } {
  const options = { deployment: 'penguins-api', port: 0, auth: 'token', dir };
  const child = fork(ENTRY, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, MLOPS_SERVING_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (m) => {
    messages.push(m as ServerMessage);
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next = <T extends ServerMessage['type']>(type: T) =>
    new Promise<Extract<ServerMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} message; stderr: ${stderr}`)), 20_000);
      const check = (): void => {
        const i = messages.findIndex((m) => m.type === type);
        if (i >= 0) {
          clearTimeout(timer);
          resolve(messages.splice(i, 1)[0] as never);
        } else waiters.push(check);
      };
      check();
    });
  return { child, messages, next, exit };
}

const send = (child: ChildProcess, cmd: ServerCommand): void => void child.send(cmd);

describe('model server process', () => {
  test('a child with IPC: listening, configure → applied, serves, stats each second, shutdown → exit 0 with the log flushed', async () => {
    const models = await writeModels(tempDir());
    const dir = tempDir();
    const p = spawnServer(dir);
    try {
      const { port } = await p.next('listening');
      const cmdline = fs.readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8');
      assert.ok(!cmdline.includes(TOKEN), 'the token is not in argv');
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await get(`${url}/v2/health/ready`, {})).status, 503, 'not ready before a config');
      const c = config([version(1, models.good, 'stable', 100)]);
      send(p.child, { type: 'configure', config: c });
      assert.equal((await p.next('applied')).configId, c.configId);
      const r = await post(`${url}/predict`, { instances: ROWS }, { 'x-request-id': 'from-ipc-test' });
      assert.deepEqual(r.json, { predictions: ['Adelie', 'Chinstrap', 'Gentoo'] });
      assert.equal((await post(`${url}/predict`, { instances: ROWS }, { authorization: 'Bearer wrong' })).status, 401);
      const stats = await p.next('stats');
      assert.ok(stats.versions[1]);
      const bad = config([version(2, path.join(dir, 'missing.onnx'), 'stable', 100)]);
      send(p.child, { type: 'configure', config: bad });
      const failed = await p.next('apply-failed');
      assert.equal(failed.configId, bad.configId);
      assert.equal((await post(`${url}/predict`, { instances: ROWS })).status, 200, 'the old config still serves');
      send(p.child, { type: 'shutdown' });
      assert.equal(await p.exit, 0);
      assert.ok(readRequestLog(dir).some((e) => e.id === 'from-ipc-test'), 'the request log was flushed on shutdown');
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  test('SIGTERM: finishes, flushes and exits 0', async () => {
    const models = await writeModels(tempDir());
    const dir = tempDir();
    const p = spawnServer(dir);
    try {
      const { port } = await p.next('listening');
      send(p.child, { type: 'configure', config: config([version(1, models.good, 'stable', 100)]) });
      await p.next('applied');
      await post(`http://127.0.0.1:${port}/predict`, { instances: [ROWS[0]] }, { 'x-request-id': 'before-sigterm' });
      p.child.kill('SIGTERM');
      assert.equal(await p.exit, 0);
      assert.ok(readRequestLog(dir).some((e) => e.id === 'before-sigterm'));
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  test('command flavor: the Python sample model answers /predict and v2 infer; its input errors are 400', async () => {
    const s = await startTestServer();
    try {
      await s.handle.configure(
        config([
          version(1, path.join(PENGUINS, 'models/penguins.json'), 'stable', 100, { flavor: 'command', command: 'python3 serving/serve_penguins.py', cwd: PENGUINS }),
        ]),
      );
      assert.deepEqual((await post(`${s.url}/predict`, { instances: ROWS })).json, { predictions: ['Adelie', 'Chinstrap', 'Gentoo'] });
      const v2 = await post(`${s.url}/v2/models/penguins-api/infer`, v2Body(ROWS));
      assert.deepEqual(v2.json.outputs, [{ name: 'predictions', shape: [3], datatype: 'BYTES', data: ['Adelie', 'Chinstrap', 'Gentoo'] }]);
      const bad = await post(`${s.url}/predict`, { instances: [[1, 2]] });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error, /row 0 has 2 values, the model takes 9/);
      // Many in flight at once, matched by id.
      const many = await Promise.all(Array.from({ length: 30 }, (_, i) => post(`${s.url}/predict`, { instances: [ROWS[i % 3]] })));
      assert.deepEqual(many.map((r) => r.json.predictions[0]), Array.from({ length: 30 }, (_, i) => ['Adelie', 'Chinstrap', 'Gentoo'][i % 3]));
    } finally {
      await s.handle.close();
    }
  });

  test('command flavor: a crashing model is restarted; only requests in flight fail (503, counted)', async () => {
    const dir = tempDir();
    const script = path.join(dir, 'crashy.mjs');
    // Answers the row's first value doubled; a first value of -1 kills the process.
    fs.writeFileSync(
      script,
      `import * as readline from 'node:readline';
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line);
  if (req.rows.some((r) => r[0] === -1)) process.exit(3);
  setTimeout(() => process.stdout.write(JSON.stringify({ id: req.id, predictions: req.rows.map((r) => r[0] * 2) }) + '\\n'), 5);
});
`,
    );
    const s = await startTestServer({ tuning: { commandTimings: { backoffMs: 100 } } });
    try {
      await s.handle.configure(config([version(1, dir, 'stable', 100, { flavor: 'command', command: `"${process.execPath}" crashy.mjs`, cwd: dir })]));
      assert.deepEqual((await post(`${s.url}/predict`, { instances: [[21]] })).json, { predictions: [42] });
      const parallel = 4;
      let sent = 0;
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: parallel }, async () => {
          while (sent < 200) {
            const i = sent++;
            const r = await post(`${s.url}/predict`, { instances: [[i === 50 ? -1 : i]] });
            statuses.push(r.status);
            if (r.status === 200) assert.deepEqual(r.json, { predictions: [i * 2] });
          }
        }),
      );
      const failed = statuses.filter((x) => x !== 200);
      assert.ok(failed.length >= 1 && failed.length <= parallel, `${failed.length} failed: ${failed}`);
      assert.ok(failed.every((x) => x === 503));
      const restarted = await s.waitFor('version-restarted');
      assert.equal(restarted.version, 1);
      assert.match(restarted.reason, /the model process exited \(code 3\); restarting in 100 ms/);
      const metrics = (await get(`${s.url}/metrics`)).text;
      assert.match(metrics, new RegExp(`mlops_serving_requests_total\\{[^}]*version="1",code="503"\\} ${failed.length}\\n`));
      assert.deepEqual((await post(`${s.url}/predict`, { instances: [[5]] })).json, { predictions: [10] });
    } finally {
      await s.handle.close();
    }
  });

  test('the request log rotates by size and keeps a bounded number of files', async () => {
    const models = await writeModels(tempDir());
    const s = await startTestServer({ logFileBytes: 4096, logFiles: 3 });
    try {
      await s.handle.configure(config([version(1, models.good, 'stable', 100)]));
      for (let i = 0; i < 300; i++) await post(`${s.url}/predict`, { instances: [ROWS[i % 3]] }, { 'x-request-id': `rot-${i}` });
    } finally {
      await s.handle.close();
    }
    const folder = path.join(s.dir, 'requests');
    const files = fs.readdirSync(folder).sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
    assert.equal(files.length, 3, files.join(', '));
    assert.ok(Number(/\d+/.exec(files[0]!)![0]) > 3, 'older files were deleted');
    for (const f of files) assert.ok(fs.statSync(path.join(folder, f)).size <= 4096, `${f} is within the size`);
    const lines = readRequestLog(s.dir);
    assert.equal(lines[lines.length - 1].id, 'rot-299', 'the newest line is in the newest file');
    assert.ok(lines.every((l, i) => i === 0 || Number(l.id.slice(4)) === Number(lines[i - 1].id.slice(4)) + 1), 'no line lost or reordered within the kept files');
  });
});
