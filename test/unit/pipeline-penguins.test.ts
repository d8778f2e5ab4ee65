// The penguins sample run by the pipeline engine, end to end, from a copy in a temp folder:
// prepare → train → evaluate with real processes and onnxruntime-node (found via MLOPS_HOME),
// then a re-run that skips all three steps.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PipelineRunner } from '../../orchestrator/pipelines';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = join(REPO, 'examples', 'penguins');
// Outputs and orchestrator state a developer may have left in the repo's copy of the sample.
const GENERATED = ['.mlops', 'data/prepared', 'models', 'metrics'].map((p) => p.split('/').join(sep));
const scratch = mkdtempSync(join(tmpdir(), 'mlops-penguins-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// The steps are plain node scripts: the test runner's own settings must not leak into them.
for (const k of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT']) delete process.env[k];

test('penguins: trains, evaluates and records; a re-run skips every step as cached', async () => {
  const ws = join(scratch, 'penguins');
  cpSync(SAMPLE, ws, { recursive: true, filter: (src) => !GENERATED.some((g) => relative(SAMPLE, src) === g || relative(SAMPLE, src).startsWith(g + sep)) });
  const store = await openSqliteStore(join(ws, '.mlops'));
  try {
    const runner = new PipelineRunner({ workspace: ws, store, env: { MLOPS_HOME: REPO } });
    const first = await runner.start();
    assert.deepEqual(first.plan.steps.map((s) => [s.step, s.action]), [['prepare', 'run'], ['train', 'run'], ['evaluate', 'run']]);
    assert.equal(await first.done, 'succeeded', (await store.getRun(first.runId))?.message);
    const run = (await store.getRun(first.runId))!;
    assert.deepEqual(run.children.map((c) => [c.name, c.status]), [['prepare', 'succeeded'], ['train', 'succeeded'], ['evaluate', 'succeeded']]);
    assert.ok(run.latestMetrics.accuracy! >= 0.95, `accuracy ${run.latestMetrics.accuracy}`);
    assert.ok(run.latestMetrics.auc_macro! > 0.9);
    assert.deepEqual(Object.keys(run.datasetHashes), ['penguins']);
    assert.ok(run.artifacts.some((a) => a.path === 'models/penguins.onnx' && /^[0-9a-f]{64}$/.test(a.hash)));
    assert.equal(run.params.lr, '0.1');
    const trainRun = run.children.find((c) => c.name === 'train')!;
    assert.ok((await store.getMetricHistory(trainRun.id, 'train_loss')).length >= 30, 'the training curve is a series');

    const second = await runner.start();
    assert.deepEqual(second.plan.steps.map((s) => [s.step, s.action, s.reason]), [['prepare', 'skip', 'cached'], ['train', 'skip', 'cached'], ['evaluate', 'skip', 'cached']]);
    assert.equal(await second.done, 'succeeded');
    const again = (await store.getRun(second.runId))!;
    assert.deepEqual(again.children.map((c) => [c.name, c.status, c.message]), [['prepare', 'skipped', 'cached'], ['train', 'skipped', 'cached'], ['evaluate', 'skipped', 'cached']]);
    assert.equal(again.latestMetrics.accuracy, run.latestMetrics.accuracy, 'the cached metrics are carried onto the re-run');
  } finally {
    await store.close();
  }
});
