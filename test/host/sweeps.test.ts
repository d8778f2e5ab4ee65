import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../client/src/extension';
import type { SweepOutcome, SweepPanel } from '../../client/src/sweeps';
import type { ExperimentNode } from '../../client/src/views/experiments-tree';
import type { SweepRenderedState, SweepStatus } from '../../protocol/sweep';
import { activateExtension, note, screenshot, waitFor, workspaceUri } from './util';

/**
 * Sweeps in the real VS Code on examples/weather (run with VSCODE_TEST_WORKSPACE=examples/weather
 * MLOPS_HOST_SUITE=sweeps): a 20-trial TPE sweep, 2 trials at a time with median pruning,
 * started from the command, stopped with Stop Sweep and resumed with Start Sweep; the sweep
 * and its trials under Experiments; the sweep view. Other workspaces skip this suite.
 */
async function children(api: MlopsApi, node?: ExperimentNode): Promise<ExperimentNode[]> {
  return (await api.experiments!.getChildren(node)) ?? [];
}

function hasWeatherSweep(): boolean {
  try {
    return /^sweeps:\n {2}tune:/m.test(fs.readFileSync(workspaceUri('mlops.yaml').fsPath, 'utf8'));
  } catch {
    return false;
  }
}

describe('sweeps from the command palette (real VS Code, real daemon, real training on examples/weather)', function () {
  this.timeout(300_000);
  let api: MlopsApi;
  let runId: string;
  let panel: SweepPanel | undefined;
  const status = async (id: string): Promise<SweepStatus> => (await api.orchestrator!.start()).call('GET /api/sweeps/status', { id });

  before(async function () {
    if (!hasWeatherSweep()) return this.skip();
    api = await activateExtension();
    assert.ok(api.orchestrator, 'the orchestrator is wired for a file workspace');
  });

  after(async () => {
    panel?.dispose();
    await api?.orchestrator?.stop();
  });

  it('runs the 20-trial TPE sweep with median pruning, 2 at a time; Stop Sweep stops it and Start Sweep resumes it', async () => {
    const t0 = Date.now();
    const started = new Promise<string>((resolve) => {
      const sub = api.orchestrator!.onEvent((e) => {
        if (e.type === 'run-started') {
          sub.dispose();
          resolve(e.runId);
        }
      });
    });
    const first = vscode.commands.executeCommand<SweepOutcome>('mlops.startSweep', 'tune');
    runId = await started;
    // Stop once 6 trials have finished: two are running then, and are killed.
    const before = await waitFor('6 finished trials', async () => {
      const s = await status(runId);
      return s.counts.complete + s.counts.pruned + s.counts.failed >= 6 ? s : undefined;
    }, 120_000);
    assert.strictEqual(await vscode.commands.executeCommand<boolean>('mlops.stopSweep'), true);
    const out1 = (await first)!;
    assert.deepStrictEqual([out1.runId, out1.status, out1.resumed, out1.started], [runId, 'cancelled', false, true]);
    const stopped = await status(runId);
    assert.strictEqual(stopped.status, 'cancelled');
    const stoppedAt = Date.now() - t0;
    assert.ok(stopped.counts.discarded >= 1, `the running trials were stopped: ${JSON.stringify(stopped.counts)}`);

    const out2 = (await vscode.commands.executeCommand<SweepOutcome>('mlops.startSweep', 'tune'))!;
    assert.deepStrictEqual([out2.runId, out2.status, out2.resumed, out2.started], [runId, 'succeeded', true, true]);
    const s = await status(runId);
    const finished = s.trials.filter((t) => ['complete', 'pruned', 'failed'].includes(t.state));
    assert.strictEqual(finished.length, 20);
    assert.ok(s.counts.pruned >= 1, `at least one trial pruned: ${JSON.stringify(s.counts)}`);
    // The trials finished before the stop are kept as they were.
    for (const t of before.trials.filter((x) => x.state !== 'running')) assert.deepStrictEqual(s.trials.find((x) => x.number === t.number)?.state, t.state);
    // Each prune says against what, and the best trial is tagged.
    for (const t of s.trials.filter((x) => x.state === 'pruned')) assert.ok(t.prune && t.prune.rule === 'median' && t.prune.basis.length >= 5 && t.prune.step >= 5, JSON.stringify(t.prune));
    assert.ok(s.best && s.best.value < 0.7, `best ${JSON.stringify(s.best)}`);
    const bestRun = await api.orchestrator!.getRun(s.best.runId);
    assert.strictEqual(bestRun.tags['mlops.sweep.best'], 'true');
    note(`sweep ${runId.slice(0, 8)}: stopped after ${(stoppedAt / 1000).toFixed(1)} s with ${before.counts.complete + before.counts.pruned} finished; resumed to 20 in ${((Date.now() - t0) / 1000).toFixed(1)} s in all; ${s.counts.complete} complete, ${s.counts.pruned} pruned, ${s.counts.failed} failed, ${s.counts.discarded} discarded; best trial-${s.best.number} val_logloss ${s.best.value.toFixed(4)}`);
  });

  it('shows the sweep under Experiments with its trials', async () => {
    api.experiments!.refresh();
    const exp = (await children(api)).find((e) => e.kind === 'experiment' && e.name === 'weather');
    assert.ok(exp, 'the weather experiment');
    const sweepNode = (await children(api, exp)).find((n) => n.kind === 'run' && n.run.id === runId);
    assert.ok(sweepNode && sweepNode.kind === 'run' && sweepNode.run.kind === 'sweep', 'the sweep run is listed');
    const item = api.experiments!.getTreeItem(sweepNode);
    assert.match(String(item.description), /^succeeded · /);
    const groups = await children(api, sweepNode);
    const nested = await children(api, groups.find((g) => g.kind === 'group' && g.group === 'steps'));
    const trials = nested.filter((n) => n.kind === 'run' && n.run.kind === 'trial');
    assert.ok(trials.length >= 21, `the trials (and those discarded by the stop): ${trials.length}`);
    assert.ok(trials.every((n) => n.kind === 'run' && n.run.parentId === runId));
    const pruned = trials.find((n) => n.kind === 'run' && n.run.tags['mlops.trial.state'] === 'pruned');
    assert.ok(pruned && pruned.kind === 'run' && /^pruned at step \d+/.test(pruned.run.message ?? ''), 'a pruned trial says why');
    const metrics = await children(api, groups.find((g) => g.kind === 'group' && g.group === 'metrics'));
    assert.ok(metrics.some((m) => m.kind === 'entry' && m.label === 'best_val_logloss'));
  });

  it('shows the sweep view: objective over trials, curves, parallel coordinates, importance, trials', async () => {
    panel = (await vscode.commands.executeCommand<SweepPanel>('mlops.showSweep', runId))!;
    assert.ok(panel, 'the command returns the panel');
    const s = await status(runId);
    const plotted = s.trials.filter((t) => (t.state === 'complete' || t.state === 'pruned') && t.value !== undefined).length;
    const state: SweepRenderedState = await waitFor('the sweep drawn', async () => {
      const st = await panel!.requestState().catch(() => undefined);
      return st && st.runId === runId && st.objectivePoints === plotted ? st : undefined;
    });
    assert.strictEqual(state.status, 'succeeded');
    assert.strictEqual(state.prunedPoints, s.counts.pruned);
    assert.strictEqual(state.bestSoFar, s.best!.value);
    assert.deepStrictEqual(state.parallel, { axes: ['lr', 'l2', 'hidden', 'val_logloss'], lines: plotted });
    assert.deepStrictEqual([...state.importance].sort(), ['hidden', 'l2', 'lr']);
    assert.strictEqual(state.rows, 20);
    assert.deepStrictEqual(state.cspViolations, []);
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshot('sweep-view');
  });
});
