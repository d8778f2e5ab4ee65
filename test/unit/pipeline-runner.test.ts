// PipelineRunner end to end on tiny inline manifests: real processes, real SQLite in temp dirs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MlopsError } from '../../protocol/errors';
import type { PipelineEvent, RunRequest } from '../../protocol/pipeline';
import { PipelineRunner, type PipelineRunnerOptions } from '../../orchestrator/pipelines';
import { openSqliteStore, type SqliteStore } from '../../orchestrator/store/sqlite-store';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(yaml: string, files: Record<string, string> = {}, opts: Partial<PipelineRunnerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-runner-'));
  writeFileSync(join(dir, 'mlops.yaml'), yaml);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  const store: SqliteStore = await openSqliteStore(join(dir, '.mlops'));
  const runner = new PipelineRunner({ workspace: dir, store, killGraceMs: 1000, ...opts });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const events: PipelineEvent[] = [];
  runner.on((e) => events.push(e));
  const run = async (req: RunRequest = {}) => {
    const started = await runner.start(req);
    const status = await started.done;
    const detail = (await store.getRun(started.runId))!;
    const child = (name: string) => detail.children.find((c) => c.name === name)!;
    return { ...started, status, detail, child };
  };
  const count = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).length : 0);
  const reasons = async (req: RunRequest = {}) => Object.fromEntries((await runner.plan(req)).steps.map((s) => [s.step, `${s.action}: ${s.reason}`]));
  return { dir, store, runner, run, count, reasons, events };
}

/** Files hashed less than ~100 ms after they changed are hashed again next time; wait that out. */
const settle = () => sleep(150);

const CHAIN = `version: 1
project: chain
params:
  lr: 0.1
steps:
  prepare:
    cmd: echo run >> prepare.count && cp data.txt prepared.txt
    deps: [data.txt]
    outs: [prepared.txt]
  train:
    cmd: echo run >> train.count && cat prepared.txt > model.txt && echo lr=\${params.lr} >> model.txt
    deps: [prepared.txt]
    params: [lr]
    outs: [model.txt]
`;

describe('PipelineRunner: skipping and restoring', () => {
  test('a no-op re-run spawns nothing and says cached', async () => {
    const w = await setup(CHAIN, { 'data.txt': 'hello\n' });
    assert.deepEqual(await w.reasons(), { prepare: 'run: no previous run', train: 'run: upstream will run: prepare' });
    const first = await w.run();
    assert.equal(first.status, 'succeeded');
    assert.equal(readFileSync(join(w.dir, 'model.txt'), 'utf8'), 'hello\nlr=0.1\n');
    await settle();
    assert.deepEqual(await w.reasons(), { prepare: 'skip: cached', train: 'skip: cached' });
    const second = await w.run();
    assert.equal(second.status, 'succeeded');
    assert.equal(w.count('prepare.count') + w.count('train.count'), 2, 'no step process on the re-run');
    assert.deepEqual(second.detail.children.map((c) => [c.name, c.status, c.message]), [['prepare', 'skipped', 'cached'], ['train', 'skipped', 'cached']]);
    assert.equal(second.detail.message, '2 steps: 0 ran, 2 skipped');
    assert.deepEqual(second.detail.artifacts.map((a) => a.path).sort(), ['model.txt', 'prepared.txt']);
  });

  test('a dep edited with the same size and mtime (touch -d) still re-runs the step', async () => {
    const w = await setup(CHAIN, { 'data.txt': 'aaaa\n' });
    await settle();
    await w.run();
    await settle();
    const f = join(w.dir, 'data.txt');
    const mtime = statSync(f).mtimeMs;
    const ns = statSync(f, { bigint: true }).mtimeNs;
    writeFileSync(f, 'bbbb\n');
    execFileSync('touch', ['-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, f]);
    assert.equal(statSync(f).mtimeMs, mtime);
    assert.deepEqual(await w.reasons(), { prepare: 'run: deps changed: data.txt', train: 'run: upstream will run: prepare' });
    const r = await w.run();
    assert.equal(r.child('prepare').status, 'succeeded');
    assert.equal(w.count('prepare.count'), 2);
    assert.match(readFileSync(join(w.dir, 'model.txt'), 'utf8'), /^bbbb/);
  });

  test('a deleted out is restored from the cache without spawning; dependants stay cached', async () => {
    const w = await setup(CHAIN, { 'data.txt': 'data\n' });
    await w.run();
    rmSync(join(w.dir, 'prepared.txt'));
    assert.deepEqual(await w.reasons(), { prepare: 'restore: outs restored from cache', train: 'skip: cached' });
    const r = await w.run();
    assert.equal(r.status, 'succeeded');
    assert.equal(w.count('prepare.count'), 1, 'prepare did not run again');
    assert.equal(readFileSync(join(w.dir, 'prepared.txt'), 'utf8'), 'data\n');
    assert.deepEqual([r.child('prepare').status, r.child('prepare').message], ['skipped', 'outs restored from cache']);
    assert.deepEqual([r.child('train').status, r.child('train').message], ['skipped', 'cached']);
    // The restored file is a writable copy: editing it leaves the cache intact.
    appendFileSync(join(w.dir, 'prepared.txt'), 'edited\n');
    rmSync(join(w.dir, 'prepared.txt'));
    await w.run();
    assert.equal(readFileSync(join(w.dir, 'prepared.txt'), 'utf8'), 'data\n');
  });

  test('a param override changes the fingerprint and says params changed: lr 0.1→0.05', async () => {
    const w = await setup(CHAIN, { 'data.txt': 'd\n' });
    const base = await w.run();
    assert.deepEqual(await w.reasons({ params: { lr: '0.05' } }), { prepare: 'skip: cached', train: 'run: params changed: lr 0.1→0.05' });
    const over = await w.run({ params: { lr: '0.05' } });
    assert.equal(over.detail.params.lr, '0.05');
    assert.notEqual(over.child('train').tags['mlops.fingerprint'], base.child('train').tags['mlops.fingerprint']);
    assert.equal(readFileSync(join(w.dir, 'model.txt'), 'utf8'), 'd\nlr=0.05\n');
    // Back to the default: that result is still in the cache, so it comes back without a run.
    assert.deepEqual(await w.reasons(), { prepare: 'skip: cached', train: 'restore: outs restored from cache' });
    await w.run();
    assert.equal(w.count('train.count'), 2);
    assert.equal(readFileSync(join(w.dir, 'model.txt'), 'utf8'), 'd\nlr=0.1\n');
    await assert.rejects(w.runner.plan({ params: { lrr: '1' } }), (e: unknown) => e instanceof MlopsError && e.code === 'BAD_REQUEST' && /unknown param "lrr"; did you mean "lr"\?/.test(e.message));
  });

  test('an upstream that re-ran but produced the same outs leaves its dependants cached', async () => {
    const w = await setup(CHAIN, { 'data.txt': 'same\n' });
    await w.run();
    const r = await w.run({ steps: ['prepare'], force: true });
    assert.equal(r.child('prepare').status, 'succeeded');
    const again = await w.run();
    assert.deepEqual(again.detail.children.map((c) => c.message), ['cached', 'cached']);
    // A change in the env of prepare makes it run; its out is identical, so train is re-planned as cached.
    writeFileSync(join(w.dir, 'mlops.yaml'), CHAIN.replace('deps: [data.txt]', 'deps: [data.txt]\n    env: {X: "1"}'));
    assert.deepEqual(await w.reasons(), { prepare: 'run: env changed: X', train: 'run: upstream will run: prepare' });
    const r2 = await w.run();
    assert.deepEqual([r2.child('prepare').status, r2.child('train').status, r2.child('train').message], ['succeeded', 'skipped', 'cached']);
    assert.equal(w.count('train.count'), 1);
  });

  test('a failed run resumes: what succeeded is skipped, the failed step runs again', async () => {
    const yaml = CHAIN.replace('cat prepared.txt > model.txt', 'test -f ok && cat prepared.txt > model.txt');
    const w = await setup(yaml, { 'data.txt': 'x\n' });
    const r1 = await w.run();
    assert.equal(r1.status, 'failed');
    assert.equal(r1.detail.message, 'step train failed: exited with code 1');
    writeFileSync(join(w.dir, 'ok'), '');
    const r2 = await w.run();
    assert.equal(r2.status, 'succeeded');
    assert.deepEqual([r2.child('prepare').message, r2.child('train').status], ['cached', 'succeeded']);
    assert.equal(r2.child('train').tags['mlops.reason'], 'no previous run');
  });
});

describe('PipelineRunner: scheduling and failures', () => {
  test('a failed step stops its dependants, not its independent siblings', async () => {
    const w = await setup(`version: 1
project: p
steps:
  a: {cmd: "exit 3"}
  b: {cmd: "true", needs: [a]}
  c: {cmd: "true", needs: [b]}
  d: {cmd: "sleep 0.3 && echo done > d.txt"}
`);
    const r = await w.run();
    assert.equal(r.status, 'failed');
    const rows = Object.fromEntries(r.detail.children.map((c) => [c.name, `${c.status}: ${c.message ?? ''}`]));
    assert.deepEqual(rows, { a: 'failed: exited with code 3', b: 'skipped: upstream failed: a', c: 'skipped: upstream failed: a', d: 'succeeded: ' });
    assert.equal(r.child('a').exitCode, 3);
    assert.ok(existsSync(join(w.dir, 'd.txt')));
  });

  test('no more than maxParallel steps run at once', async () => {
    const step = (i: number) => `  s${i}: {cmd: "node -e 'console.log(Date.now())' > t${i} && sleep 0.3 && node -e 'console.log(Date.now())' >> t${i}"}`;
    const w = await setup(`version: 1\nproject: p\nsteps:\n${[1, 2, 3, 4, 5].map(step).join('\n')}\n`, {}, { maxParallel: 2 });
    const r = await w.run();
    assert.equal(r.status, 'succeeded');
    const spans = [1, 2, 3, 4, 5].map((i) => readFileSync(join(w.dir, `t${i}`), 'utf8').trim().split('\n').map(Number) as [number, number]);
    let most = 0;
    for (const [s] of spans) most = Math.max(most, spans.filter(([a, b]) => a <= s && s < b).length);
    assert.equal(most, 2, `at most 2 overlapping: ${JSON.stringify(spans)}`);
  });

  test('stdout metric lines and the metrics file are recorded as series on the step and the pipeline run', async () => {
    const w = await setup(`version: 1
project: p
steps:
  train:
    cmd: |
      for i in 1 2 3; do echo "mlops:metric loss=0.$i step=$i"; done
      echo '{"accuracy": 0.97}' > m.json
    metrics: m.json
`);
    const r = await w.run();
    const hist = await w.store.getMetricHistory(r.child('train').id, 'loss');
    assert.deepEqual(hist.map((p) => [p.value, p.step]), [[0.1, 1], [0.2, 2], [0.3, 3]]);
    assert.equal(r.detail.latestMetrics.accuracy, 0.97);
    assert.equal(r.detail.latestMetrics.loss, 0.3);
    assert.ok(w.events.some((e) => e.type === 'metric' && e.key === 'loss' && e.step === 2));
  });

  test('a garbage metrics file: the step succeeds with a warning message', async () => {
    const w = await setup(`version: 1
project: p
steps:
  s: {cmd: "mkdir -p metrics && echo 'not json' > metrics/x.json", metrics: metrics/x.json}
`);
    const r = await w.run();
    assert.equal(r.child('s').status, 'succeeded');
    assert.match(r.child('s').message!, /^metrics file metrics\/x\.json is not valid JSON: /);
  });

  test('a step that exits 137 and a step that times out fail with clear messages', async () => {
    const w = await setup(`version: 1
project: p
steps:
  killed: {cmd: "kill -9 $$"}
  slow: {cmd: "sleep 30", timeout: 1s}
`);
    const r = await w.run();
    assert.deepEqual([r.child('killed').status, r.child('killed').message, r.child('killed').exitCode], ['failed', 'killed by SIGKILL (exit 137)', 137]);
    assert.deepEqual([r.child('slow').status, r.child('slow').message], ['failed', 'timed out after 1s']);
  });

  test('retries with backoff until the step succeeds', async () => {
    const w = await setup(`version: 1
project: p
steps:
  flaky:
    cmd: n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ $n -ge 2 ]
    retries: {limit: 3, backoff: 100ms}
`);
    const r = await w.run();
    assert.equal(r.child('flaky').status, 'succeeded');
    assert.deepEqual(w.events.filter((e) => e.type === 'step-started').map((e) => e.type === 'step-started' && e.attempt), [1, 2, 3]);
  });

  test('interpolated params are shell-quoted: no injection; params and ids reach the env', async () => {
    const w = await setup(`version: 1
project: p
params:
  msg: "a b; touch injected"
  quote: "it's \\"$HOME\\" \`id\`"
steps:
  s:
    cmd: printf '%s|' \${params.msg} \${params.quote} "$MLOPS_PARAM_MSG" > out.txt; printf '%s' "$MLOPS_RUN_ID $MLOPS_PARENT_RUN_ID $MLOPS_HOME" > env.txt
    outs: [out.txt]
`, {}, { env: { MLOPS_HOME: '/opt/mlops' } });
    const r = await w.run();
    assert.equal(r.status, 'succeeded', r.detail.message);
    assert.equal(existsSync(join(w.dir, 'injected')), false, 'the param did not run as a command');
    assert.equal(readFileSync(join(w.dir, 'out.txt'), 'utf8'), `a b; touch injected|it's "$HOME" \`id\`|a b; touch injected|`);
    assert.equal(readFileSync(join(w.dir, 'env.txt'), 'utf8'), `${r.child('s').id} ${r.runId} /opt/mlops`);
  });
});

describe('PipelineRunner: one run at a time, cancel, refusals', () => {
  test('cancel kills the process group and marks the rest cancelled', async () => {
    const w = await setup(`version: 1
project: p
steps:
  long: {cmd: "sh -c 'sleep 1000 & echo $! > gc.pid; wait' & wait"}
  after: {cmd: "true", needs: [long]}
`);
    const started = await w.runner.start();
    assert.equal(w.runner.activeRunId(), started.runId);
    while (!existsSync(join(w.dir, 'gc.pid')) || readFileSync(join(w.dir, 'gc.pid'), 'utf8').trim() === '') await sleep(10);
    const pgid = w.events.find((e) => e.type === 'step-started')!;
    assert.equal(await w.runner.cancel('0'.repeat(32)), false);
    assert.equal(await w.runner.cancel(started.runId), true);
    assert.equal(await started.done, 'cancelled');
    assert.ok(pgid.type === 'step-started' && pgid.pid);
    assert.throws(() => process.kill(-(pgid.type === 'step-started' ? pgid.pid! : 0), 0), { code: 'ESRCH' });
    assert.throws(() => process.kill(Number(readFileSync(join(w.dir, 'gc.pid'), 'utf8')), 0), { code: 'ESRCH' });
    const d = (await w.store.getRun(started.runId))!;
    assert.equal(d.status, 'cancelled');
    assert.deepEqual(d.children.map((c) => c.status), ['cancelled', 'cancelled']);
    assert.equal(w.runner.activeRunId(), undefined);
  });

  test('a second start while a run is active is refused with CONFLICT naming the run', async () => {
    const w = await setup(`version: 1\nproject: p\nsteps:\n  s: {cmd: "sleep 5"}\n`);
    const [a, b] = await Promise.allSettled([w.runner.start(), w.runner.start()]);
    assert.equal(a.status, 'fulfilled');
    const runId = a.status === 'fulfilled' ? a.value.runId : '';
    const conflict = (e: unknown) =>
      e instanceof MlopsError && e.code === 'CONFLICT' &&
      new RegExp(`^a pipeline run is already active in this workspace: ${runId} \\(started \\d+s ago\\); follow it with \`mlops logs ${runId} --follow\` or stop it with \`mlops cancel ${runId}\`$`).test(e.message);
    assert.equal(b.status, 'rejected');
    assert.ok(conflict(b.status === 'rejected' && b.reason), String(b.status === 'rejected' && b.reason?.message));
    await assert.rejects(w.runner.start(), conflict);
    // Another runner on the same workspace (another process, in effect) is refused through the lock file.
    const other = new PipelineRunner({ workspace: w.dir, store: w.store });
    await assert.rejects(other.start(), conflict);
    await w.runner.cancel(runId);
    if (a.status === 'fulfilled') await a.value.done;
    assert.equal(await w.store.countRuns({ kind: 'pipeline' }), 1);
    // Once it ended, a new run starts.
    writeFileSync(join(w.dir, 'mlops.yaml'), `version: 1\nproject: p\nsteps:\n  s: {cmd: "true"}\n`);
    assert.equal((await w.run()).status, 'succeeded');
  });

  test('an invalid manifest is refused before anything runs, listing the errors', async () => {
    const w = await setup(`version: 1
project: p
steps:
  a: {cmd: "echo \${params.missing}"}
  b: {cmd: "true", needs: [nope]}
`);
    await assert.rejects(w.runner.start(), (e: unknown) => {
      assert.ok(e instanceof MlopsError);
      assert.equal(e.code, 'INVALID_MANIFEST');
      const lines = e.message.split('\n').slice(1);
      assert.equal(lines.length, 2);
      assert.ok(lines.every((l) => /^mlops\.yaml:\d+:\d+ \S/.test(l)), e.message);
      return true;
    });
    assert.equal(await w.store.countRuns(), 0);
    assert.equal(existsSync(join(w.dir, '.mlops/run.lock')), false, 'the lock was released');
  });

  test('records tags, params, dataset hashes and artifacts with hashes', async () => {
    const w = await setup(`version: 1
project: tracked
params: {k: 3}
datasets:
  raw: {path: data/raw.csv}
steps:
  s: {cmd: "mkdir -p out && cp data/raw.csv out/copy.csv", deps: [data], outs: [out]}
`, { 'data/raw.csv': 'a\n1\n' });
    const r = await w.run({ actor: 'ana', experiment: 'exp1' });
    assert.equal(r.detail.experiment, 'exp1');
    assert.equal(r.detail.kind, 'pipeline');
    assert.equal(r.detail.tags['mlops.actor'], 'ana');
    assert.match(r.detail.tags['mlops.manifest.hash']!, /^[0-9a-f]{64}$/);
    assert.equal(r.detail.tags['mlops.git.commit'], undefined, 'no repository, no git fields');
    assert.deepEqual(r.detail.params, { k: '3' });
    const sha = execFileSync('sha256sum', [join(w.dir, 'data/raw.csv')], { encoding: 'utf8' }).split(' ')[0];
    assert.deepEqual(r.detail.datasetHashes, { raw: sha });
    assert.equal(r.detail.artifacts.length, 1);
    assert.equal(r.detail.artifacts[0]!.path, 'out');
    assert.equal(r.detail.artifacts[0]!.size, 4);
    assert.equal(r.child('s').parentId, r.runId);
    assert.equal(r.child('s').kind, 'step');
  });

  test('git commit, branch and dirty flag come from the repository', async () => {
    const w = await setup(`version: 1\nproject: p\nsteps:\n  s: {cmd: "true"}\n`, { 'tracked.txt': 'v1\n' });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: w.dir, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('add', 'mlops.yaml', 'tracked.txt');
    git('commit', '-q', '-m', 'init');
    const head = git('rev-parse', 'HEAD').trim();
    const clean = await w.run();
    assert.deepEqual([clean.detail.gitCommit, clean.detail.gitDirty, clean.detail.tags['mlops.git.branch'], clean.detail.tags['mlops.git.dirty']], [head, false, 'main', 'false']);
    writeFileSync(join(w.dir, 'tracked.txt'), 'v2\n');
    const dirty = await w.run();
    assert.equal(dirty.detail.gitDirty, true);
  });
});

