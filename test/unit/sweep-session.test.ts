/**
 * Sweeps through the real pipeline runner (in this process) on a tiny inline workspace:
 * trials as child runs with their params, upstream computed once, parallel trials in their
 * own sandboxes, pruning recorded and recomputable from the stored series, the best trial
 * tagged, and stop + resume continuing from the recorded trials.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SweepStatus } from '../../protocol/sweep';
import type { RunStatus } from '../../protocol/types';
import { PipelineRunner } from '../../orchestrator/pipelines';
import { openSqliteStore, type SqliteStore } from '../../orchestrator/store/sqlite-store';
import { checkPruneRecord, SweepManager, SWEEP_TAGS } from '../../orchestrator/sweeps';
import { seriesOf } from '../../orchestrator/sweeps/trials';

const MANIFEST = `version: 1
project: sweep-test
params:
  x: 0.5
  y: 1
  mode: a
  seed: 1
  epochs: 8
steps:
  prepare:
    cmd: node prepare.js \${params.seed}
    deps: [prepare.js]
    params: [seed]
    outs: [data/base.txt]
  train:
    needs: [prepare]
    cmd: node train.js \${params.x} \${params.y} \${params.mode} \${params.epochs}
    deps: [train.js, data/base.txt]
    params: [x, y, mode, epochs, seed]
    outs: [out/model.txt]
sweeps:
  grid:
    step: train
    method: grid
    objective: {metric: loss, goal: minimize}
    space: {y: {int: [1, 3]}, mode: {choice: [a, b]}}
    trials: 10
    parallel: 2
  tpe:
    step: train
    method: tpe
    objective: {metric: loss, goal: minimize}
    space: {x: {uniform: [0, 1]}, y: {int: [1, 3]}}
    trials: 14
    parallel: 3
    seed: 5
    prune: {median: {warmup_steps: 2, startup_trials: 3}}
  hb:
    step: train
    method: random
    objective: {metric: loss, goal: minimize}
    space: {x: {uniform: [0, 1]}}
    trials: 10
    parallel: 2
    seed: 3
    prune: {hyperband: {reduction_factor: 3, min_resource: 1, max_resource: 9}}
  upstream-param:
    step: train
    objective: {metric: loss, goal: minimize}
    space: {seed: {int: [1, 3]}}
`;

const FILES: Record<string, string> = {
  'mlops.yaml': MANIFEST,
  'prepare.js': `const fs = require('fs'); fs.mkdirSync('data', { recursive: true }); fs.writeFileSync('data/base.txt', 'base ' + process.argv[2]);`,
  // The loss falls with the epochs towards (x − 0.3)² + 0.1·y (+0.05 for mode b): bad params stay bad.
  'train.js': `const fs = require('fs');
const [x, y, mode, epochs] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4], Number(process.argv[5])];
if (!fs.existsSync('data/base.txt')) { console.error('no data/base.txt here'); process.exit(2); }
const floor = (x - 0.3) ** 2 + 0.1 * y + (mode === 'b' ? 0.05 : 0);
let e = 0;
const tick = () => {
  e++;
  console.log('mlops:metric loss=' + (floor + 1 / e).toFixed(6) + ' step=' + e);
  if (e < epochs) return setTimeout(tick, 40);
  fs.mkdirSync('out', { recursive: true });
  fs.writeFileSync('out/model.txt', JSON.stringify({ x, y, mode, pid: process.pid, cwd: process.cwd() }));
};
tick();`,
};

let ws: string;
let store: SqliteStore;
let runner: PipelineRunner;
let sweeps: SweepManager;
const logLines: string[] = [];

before(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-sweep-'));
  for (const [f, text] of Object.entries(FILES)) fs.writeFileSync(path.join(ws, f), text);
  store = await openSqliteStore(path.join(ws, '.mlops'));
  runner = new PipelineRunner({ workspace: ws, store, maxParallel: 2, killGraceMs: 1000 });
  sweeps = new SweepManager({ workspace: ws, store, runner: () => runner, log: { info: (m) => logLines.push(m), error: (m) => logLines.push(m) } });
});
after(async () => {
  await store.close();
  fs.rmSync(ws, { recursive: true, force: true });
});

async function runToEnd(name: string, over: { trials?: number; fresh?: boolean } = {}): Promise<{ runId: string; status: RunStatus; resumed: boolean; sweep: SweepStatus }> {
  const { result, done } = await sweeps.start({ name, ...over });
  assert.ok(done, result.message);
  const status = await done;
  return { runId: result.runId, status, resumed: result.resumed, sweep: await sweeps.status(result.runId) };
}

/** Every prune of a sweep recomputed from the store's series. */
async function checkPrunes(s: SweepStatus): Promise<number> {
  const byNumber = new Map(s.trials.map((t) => [t.number, t.runId]));
  const series = new Map<number, Map<number, number>>();
  for (const [n, id] of byNumber) series.set(n, seriesOf(await store.getMetricHistory(id, s.objective.metric)));
  let n = 0;
  for (const t of s.trials.filter((x) => x.state === 'pruned')) {
    assert.ok(t.prune, `trial ${t.number} has its prune record`);
    const run = await store.getRun(t.runId);
    assert.deepEqual(JSON.parse(run!.tags[SWEEP_TAGS.prune]!), t.prune, 'the record is stored on the trial run');
    assert.deepEqual(checkPruneRecord(t.prune, s.objective.goal, (k) => series.get(k)), [], `trial ${t.number}: ${JSON.stringify(t.prune)}`);
    if (t.prune.rule === 'median') {
      // The basis is exactly the trials that had completed before the decision.
      for (const b of t.prune.basis) {
        const other = s.trials.find((x) => x.number === b.trial)!;
        assert.equal(other.state, 'complete');
        assert.ok(other.startedAt + (other.durationMs ?? 0) <= t.prune.at + 5, `trial ${b.trial} had ended when trial ${t.number} was pruned`);
      }
    }
    n++;
  }
  return n;
}

describe('sweeps through the pipeline runner', () => {
  it('grid: every point once, trials as child runs with their params, outs in their own sandboxes', async () => {
    const { runId, status, sweep } = await runToEnd('grid');
    assert.equal(status, 'succeeded', sweep.message);
    const run = (await store.getRun(runId))!;
    assert.equal(run.kind, 'sweep');
    assert.equal(run.tags[SWEEP_TAGS.sweep], 'grid');
    const trials = run.children.filter((c) => c.kind === 'trial');
    const upstream = run.children.filter((c) => c.kind === 'pipeline');
    assert.equal(upstream.length, 1, 'the upstream steps run once, before the trials');
    assert.equal((await store.getRun(upstream[0]!.id))!.children[0]!.status, 'succeeded');
    // 3 × 2 grid points although 10 trials were asked for.
    assert.equal(trials.length, 6);
    assert.equal(sweep.budget, 6);
    assert.deepEqual(new Set(trials.map((t) => `${t.params.y}/${t.params.mode}`)).size, 6);
    for (const t of trials) {
      assert.equal(t.parentId, runId);
      assert.equal(t.status, 'succeeded');
      assert.deepEqual(Object.keys(t.params).sort(), ['epochs', 'mode', 'seed', 'x', 'y'], 'swept and fixed params are recorded');
      const detail = (await store.getRun(t.id))!;
      assert.deepEqual(detail.children.map((c) => [c.name, c.kind, c.status]), [['train', 'step', 'succeeded']]);
      // The trial's out is in its sandbox, with its params; the step ran there.
      const number = Number(t.tags[SWEEP_TAGS.number]);
      const model = JSON.parse(fs.readFileSync(path.join(ws, '.mlops', 'sweeps', runId, `trial-${number}`, 'out', 'model.txt'), 'utf8'));
      assert.deepEqual([String(model.y), model.mode], [t.params.y, t.params.mode]);
      assert.equal(fs.realpathSync(model.cwd), fs.realpathSync(path.join(ws, '.mlops', 'sweeps', runId, `trial-${number}`)));
      assert.deepEqual(detail.artifacts.map((a) => a.path), [`.mlops/sweeps/${runId}/trial-${number}/out/model.txt`]);
    }
    assert.equal(fs.existsSync(path.join(ws, 'out')), false, 'trials never write the workspace');
    // Best: y = 1, mode a; tagged on the trial and the sweep.
    assert.deepEqual(sweep.best?.params, { y: '1', mode: 'a' });
    const best = trials.find((t) => t.id === sweep.best!.runId)!;
    assert.equal(best.tags[SWEEP_TAGS.best], 'true');
    assert.equal(trials.filter((t) => t.tags[SWEEP_TAGS.best]).length, 1, 'only the best trial is tagged');
    assert.equal(run.tags[SWEEP_TAGS.bestTrial], best.id);
    assert.ok(Math.abs(run.latestMetrics.best_loss! - sweep.best!.value) < 1e-12);
    // Running it again: nothing left to do; the upstream stays cached.
    const again = await sweeps.start({ name: 'grid' });
    assert.equal(again.result.started, false);
    assert.match(again.result.message, /nothing to do/);
  });

  it('tpe + median pruning, stopped and resumed: continues from the recorded trials; every prune recomputes from the store', async () => {
    const { result, done } = await sweeps.start({ name: 'tpe' });
    assert.equal(result.resumed, false);
    const runId = result.runId;
    // Stop once a few trials have finished (some are running then).
    for (let i = 0; i < 400; i++) {
      const s = await sweeps.status(runId);
      if (s.counts.complete + s.counts.pruned >= 5) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(await sweeps.stop(runId), true);
    assert.equal(await done, 'cancelled');
    const stopped = await sweeps.status(runId);
    assert.equal(stopped.status, 'cancelled');
    assert.match(stopped.message ?? '', /run the sweep again to resume/);
    assert.ok(stopped.counts.discarded >= 1, `trials killed by the stop: ${JSON.stringify(stopped.counts)}`);
    const finishedBefore = stopped.trials.filter((t) => ['complete', 'pruned', 'failed'].includes(t.state));
    for (const t of stopped.trials.filter((x) => x.state === 'discarded')) assert.equal(t.status, 'cancelled');

    const resumed = await runToEnd('tpe');
    assert.equal(resumed.runId, runId, 'the same sweep run continues');
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.status, 'succeeded');
    const s = resumed.sweep;
    const finished = s.trials.filter((t) => ['complete', 'pruned', 'failed'].includes(t.state));
    assert.equal(finished.length, 14, 'the budget counts finished trials only');
    // Trials recorded before the stop are kept as they were; numbers go on after the highest.
    for (const t of finishedBefore) assert.deepEqual(s.trials.find((x) => x.number === t.number)?.params, t.params);
    assert.equal(new Set(s.trials.map((t) => t.number)).size, s.trials.length);
    assert.ok(Math.min(...s.trials.filter((t) => !stopped.trials.some((x) => x.number === t.number)).map((t) => t.number)) > Math.max(...stopped.trials.map((t) => t.number)));
    const upstream = (await store.getRun(runId))!.children.filter((c) => c.kind === 'pipeline');
    assert.equal(upstream.length, 2, 'each start checks the upstream');
    assert.deepEqual((await store.getRun(upstream[1]!.id))!.children.map((c) => [c.name, c.status, c.message]), [['prepare', 'skipped', 'cached']]);
    const pruned = await checkPrunes(s);
    assert.ok(pruned >= 1, `at least one trial pruned: ${JSON.stringify(s.counts)}`);
    for (const t of s.trials.filter((x) => x.state === 'pruned')) assert.match(t.message ?? '', /^pruned at step \d+: best loss so far .* is worse than the median/);
    // Importance: x drives the loss far more than y does.
    assert.equal(s.importance[0]?.param, 'x', JSON.stringify(s.importance));
  });

  it('hyperband pruning records recompute from the stored series', async () => {
    const { status, sweep } = await runToEnd('hb');
    assert.equal(status, 'succeeded', sweep.message);
    const pruned = await checkPrunes(sweep);
    console.log(`hyperband: ${pruned} of ${sweep.trials.length} trials pruned`);
    assert.ok(pruned >= 1, JSON.stringify(sweep.counts));
    assert.equal(sweep.prune, 'hyperband (η=3, resources 1..9)');
  });

  it('refuses a sweep over a param an upstream step uses, and an unknown sweep', async () => {
    await assert.rejects(sweeps.start({ name: 'upstream-param' }), /step "prepare" \(upstream of "train"\) uses too/);
    await assert.rejects(sweeps.start({ name: 'tpee' }), /no sweep "tpee" in mlops.yaml; did you mean "tpe"\?/);
  });
});
