/**
 * kill -9 of the daemon in the middle of a run: on restart the store is intact, the run is
 * `interrupted` (not left running), the orphaned step process group is killed, every metric
 * the tracking API acknowledged is kept, and the next run skips the step that had finished.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, it } from 'node:test';
import { DaemonClient } from '../../orchestrator/api-client';
import { main } from '../../orchestrator/cli/main';
import type { Output } from '../../orchestrator/cli/output';
import { ensureDaemon, findDaemon, stopDaemon, type DaemonConnection } from '../../orchestrator/daemon/launcher';
import { mlopsPaths, runPidsFile } from '../../orchestrator/daemon/paths';
import { groupMembers, isAlive } from '../../orchestrator/daemon/proc';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';

const MANIFEST = `version: 1
project: crash-test
steps:
  first:
    cmd: node first.js
    deps: [first.js]
    outs: [out/first.txt]
  second:
    needs: [first]
    cmd: node second.js
    deps: [second.js, out/first.txt]
    outs: [out/second.txt]
`;

// While hang.flag exists, second logs one metric point per request forever, noting each
// acknowledged step number, and keeps a grandchild (sleep) in its process group.
const SECOND = `const fs = require('fs');
const { spawn } = require('child_process');
if (!fs.existsSync('hang.flag')) { fs.writeFileSync('out/second.txt', 'done'); console.log('second done'); process.exit(0); }
spawn('sleep', ['300'], { stdio: 'ignore' });
const url = process.env.MLOPS_TRACKING_URI + '/api/runs/log-metrics';
const headers = { authorization: 'Bearer ' + process.env.MLOPS_TOKEN, 'content-type': 'application/json' };
setInterval(() => {}, 1000);
(async () => {
  for (let i = 1; ; i++) {
    const body = JSON.stringify({ runId: process.env.MLOPS_RUN_ID, metrics: [{ key: 'loss', value: 1 / i, step: i }] });
    let res;
    try { res = await fetch(url, { method: 'POST', headers, body }); } catch { return; }
    if (!res.ok) throw new Error('HTTP ' + res.status);
    fs.appendFileSync('acked.txt', i + '\\n');
  }
})();
`;

let ws: string;
const io = { out: [] as string[], err: [] as string[], json: [] as unknown[] };
const output: Output = { out: (l) => io.out.push(l), err: (l) => io.err.push(l), json: (v) => io.json.push(v) };
async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[]; json: unknown[] }> {
  io.out = [];
  io.err = [];
  io.json = [];
  const code = await main(args, output, ws);
  return { code, out: io.out, err: io.err, json: io.json };
}

before(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-daemon-crash-'));
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), MANIFEST);
  fs.writeFileSync(path.join(ws, 'first.js'), `require('fs').mkdirSync('out', { recursive: true }); require('fs').writeFileSync('out/first.txt', 'one'); console.log('first done');`);
  fs.writeFileSync(path.join(ws, 'second.js'), SECOND);
  fs.writeFileSync(path.join(ws, 'hang.flag'), '');
});

after(async () => {
  const d = await findDaemon(ws);
  await stopDaemon(ws, { timeoutMs: 5000 }).catch(() => undefined);
  if (d && isAlive(d.pid)) process.kill(d.pid, 'SIGKILL');
  fs.rmSync(ws, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const acked = () => (fs.existsSync(path.join(ws, 'acked.txt')) ? fs.readFileSync(path.join(ws, 'acked.txt'), 'utf8').trim().split('\n').map(Number) : []);

it('survives kill -9 mid-run: interrupted run, no orphans, acknowledged metrics kept, resumable', async (t) => {
  const before: DaemonConnection = await ensureDaemon(ws, { timeoutMs: 20_000 });
  const started = await cli('run', '--no-follow', '--json');
  assert.equal(started.code, 0, started.err.join('\n'));
  const { runId } = started.json[0] as { runId: string };

  // second is running, logging metrics through the API, with a grandchild in its group.
  const pidsFile = runPidsFile(mlopsPaths(ws), runId);
  const pgid = await waitFor('second to start', () => fs.existsSync(pidsFile) && /second/.test(fs.readFileSync(pidsFile, 'utf8')) && Number(fs.readFileSync(pidsFile, 'utf8').split(' ')[0]));
  await waitFor('acknowledged metrics', () => acked().length >= 30);
  await waitFor('the grandchild', () => groupMembers(pgid).length >= 2);

  process.kill(before.pid, 'SIGKILL');
  await waitFor('the daemon to die', () => !isAlive(before.pid));
  const ackedBeforeKill = acked();
  // The step outlived its daemon: exactly what must not stay that way.
  assert.ok(groupMembers(pgid).length >= 2, 'the step group should still be alive right after the kill');
  assert.ok(fs.existsSync(mlopsPaths(ws).daemonJson), 'a killed daemon leaves daemon.json behind');
  assert.equal(await findDaemon(ws), undefined);

  const t0 = performance.now();
  const afterKill = await ensureDaemon(ws, { timeoutMs: 20_000 });
  t.diagnostic(`restart after kill -9 (stale daemon.json and lock): ${(performance.now() - t0).toFixed(0)} ms`);
  assert.notEqual(afterKill.pid, before.pid);
  assert.deepEqual(groupMembers(pgid), [], 'orphaned step processes are killed at start-up');
  assert.ok(!fs.existsSync(pidsFile));
  assert.match(fs.readFileSync(mlopsPaths(ws).daemonLog, 'utf8'), new RegExp(`killed orphaned step "second" of run ${runId} \\(process group ${pgid}\\)`));

  const client = new DaemonClient(afterKill.url, afterKill.token);
  const run = await client.getRun(runId);
  assert.equal(run.status, 'interrupted');
  assert.match(run.message ?? '', /interrupted/);
  assert.ok(run.endedAt);
  assert.deepEqual(run.children.map((c) => [c.name, c.status]), [['first', 'succeeded'], ['second', 'interrupted']]);

  const second = run.children[1]!;
  const logged = new Set((await client.metricHistory(second.id, 'loss')).map((p) => p.step));
  const lost = ackedBeforeKill.filter((s) => !logged.has(s));
  assert.deepEqual(lost, [], `acknowledged metric points lost: ${lost.length} of ${ackedBeforeKill.length}`);

  const store = await openSqliteStore(mlopsPaths(ws).dir);
  try {
    assert.equal(await store.integrityCheck(), 'ok');
  } finally {
    await store.close();
  }

  // Resume: first had finished and is skipped; second runs (and now ends normally).
  fs.rmSync(path.join(ws, 'hang.flag'));
  const plan = await cli('run', '--dry-run');
  assert.deepEqual(plan.out.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2)), [['first', 'skip (cached)'], ['second', 'run']]);
  const resumed = await cli('run');
  assert.equal(resumed.code, 0, [...resumed.out, ...resumed.err].join('\n'));
  assert.match(resumed.out.join('\n'), /^first\s+skipped\s/m);
  assert.match(resumed.out.join('\n'), /^second\s+succeeded\s/m);
  assert.equal((await findDaemon(ws))?.pid, afterKill.pid);
});

it('SIGTERM during a run cancels it, kills its steps, and removes daemon.json and the lock', async () => {
  const d = await ensureDaemon(ws, { timeoutMs: 20_000 });
  fs.writeFileSync(path.join(ws, 'hang.flag'), '');
  const started = await cli('run', '--force', '--no-follow', '--json');
  assert.equal(started.code, 0, started.err.join('\n'));
  const { runId } = started.json[0] as { runId: string };
  const pidsFile = runPidsFile(mlopsPaths(ws), runId);
  const pgid = await waitFor('second to start', () => fs.existsSync(pidsFile) && /second/.test(fs.readFileSync(pidsFile, 'utf8')) && Number(fs.readFileSync(pidsFile, 'utf8').split(' ')[0]));
  await waitFor('the grandchild', () => groupMembers(pgid).length >= 2);

  process.kill(d.pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => !isAlive(d.pid));
  assert.deepEqual(groupMembers(pgid), []);
  const paths = mlopsPaths(ws);
  assert.ok(!fs.existsSync(paths.daemonJson));
  assert.ok(!fs.existsSync(paths.lock));
  assert.ok(!fs.existsSync(pidsFile));

  const store = await openSqliteStore(paths.dir);
  try {
    const run = await store.getRun(runId);
    assert.equal(run?.status, 'cancelled');
    assert.deepEqual(run?.children.map((c) => [c.name, c.status]), [['first', 'succeeded'], ['second', 'cancelled']]);
    assert.equal(await store.integrityCheck(), 'ok');
  } finally {
    await store.close();
  }
});
