/**
 * `mlops run / runs / show / logs / status / cancel / daemon` end to end: the CLI in this
 * process, the daemon as a real detached process (TypeScript sources under tsx) in a temp
 * workspace with a tiny inline pipeline.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunDetail, RunSummary } from '../../protocol/types';
import { runCli, stopWorkspaceDaemon, type CliResult } from './cli-harness';
import { defaultEntry, findDaemon } from '../../orchestrator/daemon/launcher';
import { mlopsPaths, runPidsFile } from '../../orchestrator/daemon/paths';
import { groupMembers, isAlive } from '../../orchestrator/daemon/proc';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';

const MANIFEST = `version: 1
project: cli-test
params:
  lr: 0.1
steps:
  prepare:
    cmd: node prepare.js
    deps: [prepare.js, data.txt]
    outs: [out/features.txt]
  train:
    needs: [prepare]
    cmd: node train.js \${params.lr}
    deps: [train.js, out/features.txt]
    params: [lr]
    outs: [out/model.txt]
  slow:
    cmd: node -e "setTimeout(() => console.log('slow done'), 2500)"
  sleeper:
    cmd: echo sleeping; sleep 60
  ticker:
    cmd: for i in 1 2 3; do echo tick $i; sleep 0.3; done; printf 'no newline at the end'
  broken:
    cmd: echo about to fail >&2; exit 3
`;

const FILES: Record<string, string> = {
  'mlops.yaml': MANIFEST,
  'data.txt': '1\n2\n3\n',
  'prepare.js': `const fs = require('fs'); fs.mkdirSync('out', { recursive: true });
const rows = fs.readFileSync('data.txt', 'utf8').trim().split('\\n');
fs.writeFileSync('out/features.txt', rows.map((r) => r * 2).join('\\n'));
console.log('prepared ' + rows.length + ' rows');`,
  'train.js': `const fs = require('fs'); const lr = Number(process.argv[2]);
for (let epoch = 1; epoch <= 3; epoch++) console.log('mlops:metric loss=' + (1 / (epoch * lr * 10)).toFixed(4) + ' step=' + epoch);
fs.writeFileSync('out/model.txt', 'model lr=' + lr);
console.error('trained with lr ' + lr);`,
};

let ws: string;
before(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-cli-run-'));
  for (const [f, text] of Object.entries(FILES)) fs.writeFileSync(path.join(ws, f), text);
});
after(async () => {
  await stopWorkspaceDaemon(ws);
  fs.rmSync(ws, { recursive: true, force: true });
});

const cli = (...args: string[]): Promise<CliResult> => runCli(args, ws);

/** The CLI as its own process (what a second terminal does). */
function cliProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...defaultEntry(), ...args], { cwd: ws, env: { ...process.env, NODE_TEST_CONTEXT: undefined } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function planRows(r: CliResult): string[][] {
  assert.match(r.out[0]!, /^STEP\s+ACTION\s+REASON$/);
  return r.out.slice(1).map((l) => l.split(/\s{2,}/));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('mlops run', () => {
  let firstRun: string;

  it('--dry-run prints the plan as an aligned table, starting the daemon on demand', async () => {
    // A daemon.json left by a crash (dead pid) must not fool the launcher.
    fs.mkdirSync(path.join(ws, '.mlops'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.mlops/daemon.json'), JSON.stringify({ pid: 2 ** 22 + 7, port: 1, workspace: ws, startedAt: 0, version: '0', node: 'v0' }));
    const r = await cli('run', 'train', '--dry-run');
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(planRows(r), [
      ['prepare', 'run', 'no previous run'],
      ['train', 'run', 'upstream will run: prepare'],
    ]);
    // Columns line up: ACTION starts at the same offset on every line.
    const col = r.out[0]!.indexOf('ACTION');
    for (const l of r.out.slice(1)) assert.match(l.slice(col), /^run /);
    assert.ok(await findDaemon(ws));
  });

  it('runs the pipeline, streams step output and prints a summary; exit 0', async () => {
    const r = await cli('run', 'train');
    assert.equal(r.code, 0, [...r.out, ...r.err].join('\n'));
    const text = r.out.join('\n');
    firstRun = /^run ([0-9a-f]{32}) started: 2 steps \(2 to run, 0 cached\)$/m.exec(text)?.[1]!;
    assert.ok(firstRun, text);
    assert.match(text, /^prepare \| prepared 3 rows$/m);
    assert.match(text, /^train \| trained with lr 0\.1$/m);
    assert.match(text, /^\[prepare\] succeeded in \S+$/m);
    const summary = r.out.slice(r.out.indexOf('') + 1);
    assert.match(summary[0]!, new RegExp(`^run ${firstRun.slice(0, 8)} succeeded in \\S+$`));
    assert.match(summary[1]!, /^STEP\s+STATUS\s+DURATION\s+METRICS$/);
    assert.match(summary[2]!, /^prepare\s+succeeded\s+\S+$/);
    assert.match(summary[3]!, /^train\s+succeeded\s+\S+\s+loss=0\.3333$/);
    assert.ok(fs.existsSync(path.join(ws, 'out/model.txt')));
  });

  it('re-run: every step is skip (cached), in the plan and in the run', async () => {
    const plan = await cli('run', 'train', '--dry-run');
    assert.deepEqual(planRows(plan), [
      ['prepare', 'skip (cached)', 'cached'],
      ['train', 'skip (cached)', 'cached'],
    ]);
    const r = await cli('run', 'train');
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out.join('\n'), /2 steps \(0 to run, 2 cached\)/);
    assert.match(r.out.join('\n'), /^\[train\] skipped: cached$/m);
    assert.match(r.out.join('\n'), /^train\s+skipped\s+0ms\s*/m);
    const json = await cli('run', 'train', '--dry-run', '--json');
    assert.deepEqual((json.json[0] as { steps: { step: string; action: string }[] }).steps.map((s) => [s.step, s.action]), [['prepare', 'skip'], ['train', 'skip']]);
  });

  it('--dry-run says why a step would run again', async () => {
    const params = await cli('run', 'train', '--dry-run', '--param', 'lr=0.2');
    assert.deepEqual(planRows(params), [
      ['prepare', 'skip (cached)', 'cached'],
      ['train', 'run', 'params changed: lr 0.1→0.2'],
    ]);
    fs.appendFileSync(path.join(ws, 'data.txt'), '4\n');
    try {
      const deps = await cli('run', 'train', '--dry-run');
      assert.deepEqual(planRows(deps)[0], ['prepare', 'run', 'deps changed: data.txt']);
    } finally {
      fs.writeFileSync(path.join(ws, 'data.txt'), FILES['data.txt']!);
    }
    const bad = await cli('run', '--dry-run', '--param', 'nokey');
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.err, ['mlops: --param nokey: expected KEY=VALUE']);
  });

  it('runs --json, runs, show (by prefix) and logs', async () => {
    const list = await cli('runs', '--json');
    assert.equal(list.code, 0);
    const { runs, total } = list.json[0] as { runs: RunSummary[]; total: number };
    assert.equal(total, 2);
    assert.deepEqual(runs.map((r) => [r.kind, r.status]), [['pipeline', 'succeeded'], ['pipeline', 'succeeded']]);
    assert.equal(runs[1]!.id, firstRun);

    const table = await cli('runs');
    assert.match(table.out[0]!, /^ID\s+NAME\s+STATUS\s+STARTED\s+DURATION\s+METRICS$/);
    assert.match(table.out[2]!, new RegExp(`^${firstRun.slice(0, 8)}\\s+cli-test: train\\s+succeeded\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\S+\\s+loss=0\\.3333$`));

    const show = await cli('show', firstRun.slice(0, 6));
    assert.equal(show.code, 0, show.err.join('\n'));
    const text = show.out.join('\n');
    assert.match(text, new RegExp(`^run:\\s+${firstRun}$`, 'm'));
    assert.match(text, /^status:\s+succeeded/m);
    assert.match(text, /^params:\n {2}lr {2}0\.1$/m);
    assert.match(text, /^ {2}train\s+succeeded\s+\S+\s+loss=0\.3333$/m);
    assert.match(text, /^artifacts:\n {2}PATH\s+SIZE\s+SHA256\n {2}out\/features\.txt\s+5\s+[0-9a-f]{12}$/m);
    const detail = (await cli('show', firstRun, '--json')).json[0] as RunDetail;
    assert.deepEqual(detail.children.map((c) => c.name), ['prepare', 'train']);
    assert.equal(detail.latestMetrics.loss, 0.3333);

    const logs = await cli('logs', firstRun.slice(0, 8));
    assert.equal(logs.code, 0, logs.err.join('\n'));
    assert.equal(logs.out[0], '==> prepare <==');
    assert.ok(logs.out.includes('prepared 3 rows'));
    assert.ok(logs.out.includes('==> train <=='));
    const trainLog = await cli('logs', firstRun, 'train');
    assert.ok(trainLog.out.includes('trained with lr 0.1'));
    assert.ok(!trainLog.out.includes('prepared 3 rows'));
    // A step run id selects its step.
    const bystep = await cli('logs', detail.children[1]!.id.slice(0, 10));
    assert.deepEqual(bystep.out, trainLog.out);

    const missing = await cli('show', 'fffffff');
    assert.equal(missing.code, 2);
    assert.deepEqual(missing.err, ['mlops: no run id starts with fffffff']);
    const notAnId = await cli('logs', 'xyz');
    assert.equal(notAnId.code, 2);
    const traversal = await cli('logs', firstRun, '../../token');
    assert.equal(traversal.code, 2);
    assert.match(traversal.err[0]!, /^mlops: step: not a step name/);
  });

  it('refuses a second run while one is active, naming it; the store stays intact', async () => {
    const [a, b] = await Promise.all([cliProcess('run', 'slow'), new Promise((r) => setTimeout(r, 700)).then(() => cliProcess('run', 'slow'))]);
    const [winner, loser] = a.code === 0 ? [a, b] : [b, a];
    assert.equal(winner.code, 0, winner.stderr);
    assert.match(winner.stdout, /^slow \| slow done$/m);
    const active = /^run ([0-9a-f]{32}) started/m.exec(winner.stdout)![1]!;
    assert.equal(loser.code, 1, loser.stdout + loser.stderr);
    assert.equal(loser.stdout, '');
    assert.match(loser.stderr, new RegExp(`^mlops: a pipeline run is already active in this workspace: ${active} .*mlops cancel ${active}`));
    assert.equal(loser.stderr.trim().split('\n').length, 1);
    const store = await openSqliteStore(mlopsPaths(ws).dir);
    try {
      assert.equal(await store.integrityCheck(), 'ok');
      assert.equal(await store.countRuns({ parentId: null }), 3);
    } finally {
      await store.close();
    }
  });

  it('cancel ends a running step and its whole process group', async () => {
    const started = await cli('run', 'sleeper', '--no-follow', '--json');
    assert.equal(started.code, 0, started.err.join('\n'));
    const { runId } = started.json[0] as { runId: string };
    const pidsFile = runPidsFile(mlopsPaths(ws), runId);
    const pgid = await waitFor('the step to start', () => (fs.existsSync(pidsFile) ? Number(fs.readFileSync(pidsFile, 'utf8').split(' ')[0]) : undefined));
    await waitFor('sleep to run', () => groupMembers(pgid).length >= 1 || undefined);
    const status = await cli('status', '--json');
    assert.equal((status.json[0] as { activeRun: { id: string } }).activeRun.id, runId);

    const r = await cli('cancel', runId.slice(0, 8));
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.out, [`run ${runId.slice(0, 8)} cancelled`]);
    assert.deepEqual(groupMembers(pgid), []);
    assert.ok(!fs.existsSync(pidsFile));
    const again = await cli('cancel', runId);
    assert.equal(again.code, 1);
    assert.deepEqual(again.out, [`run ${runId.slice(0, 8)} is not active (cancelled); nothing to cancel`]);
    const log = await cli('logs', runId, 'sleeper');
    assert.ok(log.out.includes('sleeping'));
  });

  it('logs --follow prints a running step until it ends; a failed run exits 1', async () => {
    const started = await cli('run', 'ticker', '--no-follow');
    assert.equal(started.code, 0, started.err.join('\n'));
    const runId = /^run ([0-9a-f]{32}) started/.exec(started.out[0]!)![1]!;
    assert.equal(started.out[1], `follow it with: mlops logs ${runId.slice(0, 8)} --follow`);
    const followed = await cli('logs', runId.slice(0, 8), '--follow');
    assert.equal(followed.code, 0, followed.err.join('\n'));
    // The runner's own `[mlops] …` notes are in the log too (one may follow an unterminated line).
    const mine = (lines: string[], prefix: string) => lines.filter((l) => !l.startsWith(`${prefix}[mlops]`)).map((l) => l.replace(/\[mlops\].*$/, ''));
    assert.deepEqual(mine(followed.out, 'ticker | '), ['ticker | tick 1', 'ticker | tick 2', 'ticker | tick 3', 'ticker | no newline at the end']);
    const one = await cli('logs', runId, 'ticker', '--follow');
    assert.deepEqual(mine(one.out, ''), ['tick 1', 'tick 2', 'tick 3', 'no newline at the end']);

    const failed = await cli('run', 'broken');
    assert.equal(failed.code, 1);
    const text = failed.out.join('\n');
    assert.match(text, /^broken \| about to fail$/m);
    assert.match(text, /^\[broken\] failed \(exit 3\) in \S+: exited with code 3$/m);
    assert.match(text, /^run [0-9a-f]{8} failed in \S+: step broken failed: exited with code 3$/m);
    assert.match(text, /^broken\s+failed \(exit 3\)\s+\S+$/m);
  });

  it('status, daemon status/stop, and reads without a daemon', async () => {
    const s = await cli('status');
    assert.match(s.out[1]!, /^daemon:\s+running \(pid \d+, http:\/\/127\.0\.0\.1:\d+, node v/);
    assert.match(s.out[2]!, /^active run:\s+none$/);
    assert.match(s.out[3]!, /^last run:\s+[0-9a-f]{8} cli-test: broken failed/);
    const ds = await cli('daemon', 'status', '--json');
    assert.equal(ds.code, 0);
    const pid = (ds.json[0] as { pid: number }).pid;
    assert.equal((await cli('daemon', 'start')).out[0]!.startsWith(`already running: pid ${pid}`), true);

    const stop = await cli('daemon', 'stop');
    assert.deepEqual(stop.out, [`stopped (pid ${pid})`]);
    assert.ok(!isAlive(pid));
    const gone = await cli('daemon', 'status');
    assert.equal(gone.code, 3);
    assert.deepEqual(gone.out, ['not running']);

    // Reads open the store in-process and start nothing.
    const list = await cli('runs', '--json');
    assert.equal((list.json[0] as { total: number }).total, 6);
    const sleeperRun = (list.json[0] as { runs: RunSummary[] }).runs.find((r) => r.name === 'cli-test: sleeper')!;
    assert.equal((await cli('logs', sleeperRun.id, 'sleeper')).out[0], '[mlops] $ echo sleeping; sleep 60');
    assert.match((await cli('status')).out[1]!, /^daemon:\s+not running/);
    assert.equal(await findDaemon(ws), undefined);
  });

  it('exits 3 with one line when the daemon cannot be reached or started', async () => {
    const saved = process.env.MLOPS_DAEMON_NODE;
    process.env.MLOPS_DAEMON_NODE = path.join(ws, 'no-such-node');
    try {
      const r = await cli('run', '--dry-run');
      assert.equal(r.code, 3);
      assert.equal(r.err.length, 1);
      assert.match(r.err[0]!, /^mlops: cannot start the orchestrator daemon .*no-such-node.*ENOENT/);
    } finally {
      if (saved === undefined) delete process.env.MLOPS_DAEMON_NODE;
      else process.env.MLOPS_DAEMON_NODE = saved;
    }
  });
});
