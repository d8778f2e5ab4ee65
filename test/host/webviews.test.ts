import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../client/src/commands/run-commands';
import type { MlopsApi } from '../../client/src/extension';
import type { ComparePanel, PipelineGraphPanel } from '../../client/src/webviews';
import type { CompareRenderedState, GraphRenderedState } from '../../protocol/webview';
import { activateExtension, note, screenshot as requestScreenshot, waitFor, workspaceUri } from './util';

/**
 * util.screenshot waits for the PNG to exist, so a file left by an earlier session would end
 * the wait before the runner takes the new one: remove it first.
 */
async function screenshot(name: string): Promise<void> {
  const shot = process.env.VSCODE_TEST_SCREENSHOT;
  if (shot) fs.rmSync(shot.replace(/workbench\.png$/, `${name}.png`), { force: true });
  await requestScreenshot(name);
}

/** Distinct steps of a metric's history: what one line of a chart must hold. */
async function stepCount(api: MlopsApi, runId: string, key: string): Promise<number> {
  return new Set((await api.orchestrator!.metricHistory(runId, key)).map((p) => p.step)).size;
}

/** Room for the webview in screenshots: no bottom panel, no sidebar, no toasts. */
async function clearChrome(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
  await vscode.commands.executeCommand('notifications.clearAll');
}

/** Asks the page for its state; undefined while it is being rebuilt (hidden → shown) or not yet the one wanted. */
async function stateOf<S>(panel: { requestState(): Promise<S> }, ok: (s: S) => boolean): Promise<S | undefined> {
  const s = await panel.requestState().catch(() => undefined);
  return s !== undefined && ok(s) ? s : undefined;
}

const DARK = 'Default Dark Modern';
const LIGHT = 'Default Light Modern';
const HIGH_CONTRAST = 'Default High Contrast';

async function setTheme(name: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration().update('workbench.colorTheme', name, vscode.ConfigurationTarget.Global);
}

describe('webviews: Compare Runs and the Pipeline graph (real VS Code, real daemon, real training)', function () {
  this.timeout(120_000);
  let api: MlopsApi;
  let a: RunOutcome;
  let b: RunOutcome;
  let c: RunOutcome;
  let compare: ComparePanel;
  let graph: PipelineGraphPanel;

  before(async () => {
    api = await activateExtension();
    assert.ok(api.orchestrator, 'the orchestrator is wired for a file workspace');
    // The web workbench follows the browser's (light) preference: start from VS Code's default dark theme.
    await setTheme(DARK);
    // Forced, so both runs train (and log metrics) whatever earlier suites left in the cache.
    a = (await vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline', { force: true }))!;
    b = (await vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline', { params: { lr: '0.05' }, force: true }))!;
    assert.deepStrictEqual([a?.status, b?.status], ['succeeded', 'succeeded']);
  });

  after(async () => {
    await setTheme(undefined);
    compare?.dispose();
    graph?.dispose();
    // The daemon is detached on purpose (runs survive reloads): stop it so the test leaves nothing behind.
    await api?.orchestrator?.stop();
  });

  it('Compare Runs draws one Chart.js line per run, a point per 10 epochs, and the differing params', async () => {
    compare = (await vscode.commands.executeCommand<ComparePanel>('mlops.compareRuns', [a.runId, b.runId]))!;
    assert.ok(compare, 'the command returns the panel');
    const state = await compare.requestState();
    assert.deepStrictEqual(state.columns, [a.runId, b.runId]);
    assert.strictEqual(state.onlyDifferences, true, '"only differences" is on by default');
    assert.deepStrictEqual(state.params, ['lr'], 'only lr differs between the runs');
    assert.ok(state.metrics.includes('train_loss') && !state.metrics.includes('n_test'), state.metrics.join());
    // Read from Chart.js: chart.data.datasets[i].data.length, one chart per series metric.
    const loss = state.charts.find((ch) => ch.key === 'train_loss');
    assert.ok(loss, `charts: ${state.charts.map((ch) => ch.key).join()}`);
    const expected = [await stepCount(api, a.runId, 'train_loss'), await stepCount(api, b.runId, 'train_loss')];
    assert.deepStrictEqual(loss.series.map((s) => [s.runId, s.points]), [[a.runId, expected[0]], [b.runId, expected[1]]]);
    assert.ok(expected.every((n) => n >= 30 && n <= 31), `300 epochs logged every 10: ${expected}`);
    assert.match(loss.series[0].label, new RegExp(a.runId.slice(0, 8)));
    assert.ok(state.charts.some((ch) => ch.key === 'train_accuracy'));
    assert.ok(!state.charts.some((ch) => ch.key === 'accuracy'), 'metrics logged once are in the table, not charted');
    // The best final loss is highlighted on the run that has it.
    const [ra, rb] = [await api.orchestrator!.getRun(a.runId), await api.orchestrator!.getRun(b.runId)];
    assert.strictEqual(state.best.train_loss, ra.latestMetrics.train_loss < rb.latestMetrics.train_loss ? a.runId : b.runId);
    // Parallel coordinates: lr against an objective that tells the runs apart (accuracy when it differs).
    const objective = state.parallel.objective!;
    assert.ok(objective && ra.latestMetrics[objective] !== rb.latestMetrics[objective], `objective ${objective}`);
    if (ra.latestMetrics.accuracy !== rb.latestMetrics.accuracy) assert.strictEqual(objective, 'accuracy');
    assert.deepStrictEqual(state.parallel, { objective, axes: ['lr', objective], lines: 2 });
    assert.strictEqual(state.theme, 'dark');
    assert.deepStrictEqual(state.cspViolations, [], 'nothing was blocked by the CSP');
  });

  it('Compare Runs follows a compared run while it trains (metric and run-finished events)', async () => {
    const started = new Promise<string>((resolve) => {
      const sub = api.orchestrator!.onEvent((e) => {
        if (e.type === 'run-started') {
          sub.dispose();
          resolve(e.runId);
        }
      });
    });
    const running = vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline', { params: { lr: '0.2' }, force: true });
    const id = await started;
    await vscode.commands.executeCommand('mlops.compareRuns', [a.runId, b.runId, id]);
    const early = await compare.requestState();
    note(`while running: ${early.charts.find((ch) => ch.key === 'train_loss')?.series.map((s) => s.points).join('/') ?? 'no train_loss chart yet'}`);
    c = (await running)!;
    assert.strictEqual(c.status, 'succeeded');
    const want = await stepCount(api, c.runId, 'train_loss');
    const state = await waitFor('the third run fully drawn', () =>
      stateOf(compare, (s) => s.charts.find((ch) => ch.key === 'train_loss')?.series.find((x) => x.runId === c.runId)?.points === want),
    );
    assert.deepStrictEqual(state.columns, [a.runId, b.runId, c.runId]);
    assert.deepStrictEqual(state.charts.find((ch) => ch.key === 'train_loss')!.series.map((s) => s.runId), [a.runId, b.runId, c.runId]);
    assert.strictEqual(state.parallel.lines, 3);
    await clearChrome();
    compare.panel.reveal();
    await screenshot('compare-runs-dark');
  });

  it('Pipeline graph shows the DAG with last statuses; clicking a node selects the step in mlops.yaml', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(workspaceUri('mlops.yaml')));
    await clearChrome();
    graph = (await vscode.commands.executeCommand<PipelineGraphPanel>('mlops.showPipelineGraph'))!;
    assert.ok(graph, 'the command returns the panel');
    const state: GraphRenderedState = await graph.requestState();
    assert.deepStrictEqual(state.nodes.map((n) => [n.step, n.status, n.layer]), [['prepare', 'succeeded', 0], ['train', 'succeeded', 1], ['evaluate', 'succeeded', 2]]);
    const edges = state.edges.map((e) => `${e.from}>${e.to}`);
    assert.ok(edges.length >= 2 && edges.includes('prepare>train') && edges.includes('train>evaluate'), edges.join());
    assert.ok(state.nodes[0].x < state.nodes[1].x && state.nodes[1].x < state.nodes[2].x, 'layers run left to right');
    assert.deepStrictEqual(state.cspViolations, []);

    await graph.clickNode('train');
    const editor = await waitFor('mlops.yaml with the train key selected', () => {
      const ed = vscode.window.activeTextEditor;
      return ed && ed.document.uri.path.endsWith('/mlops.yaml') && ed.document.getText(ed.selection) === 'train' ? ed : undefined;
    });
    const line = editor.document.lineAt(editor.selection.start.line).text;
    assert.strictEqual(line, '  train:', 'the selection is the step key under steps:');
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshot('pipeline-graph-dark');
  });

  it('both webviews follow a switch to a light and to a high-contrast theme', async () => {
    await setTheme(LIGHT);
    try {
      // One panel at a time, full width, for the screenshots.
      graph.dispose();
      compare.panel.reveal(vscode.ViewColumn.One);
      await waitFor('Compare Runs in front', () => (compare.panel.active && compare.panel.visible ? true : undefined));
      const light: CompareRenderedState = await waitFor('Compare Runs in the light theme', () => stateOf(compare, (s) => s.theme === 'light'));
      assert.strictEqual(light.charts.find((ch) => ch.key === 'train_loss')?.series.length, 3, 'redrawn after being hidden');
      await clearChrome();
      await screenshot('compare-runs-light');
      graph = (await vscode.commands.executeCommand<PipelineGraphPanel>('mlops.showPipelineGraph'))!;
      await waitFor('the graph in the light theme', () => stateOf(graph, (s) => s.theme === 'light' && s.nodes.length === 3));
      await screenshot('pipeline-graph-light');
      await setTheme(HIGH_CONTRAST);
      await waitFor('the graph in high contrast', () => stateOf(graph, (s) => s.theme === 'high-contrast'));
      await screenshot('pipeline-graph-hc');
      compare.panel.reveal();
      const hc = await waitFor('Compare Runs in high contrast', () => stateOf(compare, (s) => s.theme === 'high-contrast'));
      assert.deepStrictEqual([hc.charts.length, hc.cspViolations], [light.charts.length, []]);
      await screenshot('compare-runs-hc');
    } finally {
      await setTheme(DARK);
    }
    await waitFor('back to the dark theme', () => stateOf(compare, (s) => s.theme === 'dark'));
  });

  it('the graph turns a step red live when it fails (step-finished events, no reload)', async () => {
    graph.panel.reveal();
    const before = await waitFor('the graph in front', () => stateOf(graph, (s) => s.nodes.length === 3));
    assert.strictEqual(before.nodes.find((n) => n.step === 'train')?.status, 'succeeded');
    // A learning rate the step rejects: train fails, so its colour can only come from the events.
    const failed = (await vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline', { params: { lr: '-1' }, force: true }))!;
    assert.strictEqual(failed.status, 'failed');
    const state = await waitFor('train failed on the graph', () => stateOf(graph, (s) => s.nodes.find((n) => n.step === 'train')?.status === 'failed'));
    assert.strictEqual(state.nodes.find((n) => n.step === 'prepare')?.status, 'succeeded');
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await screenshot('pipeline-graph-failed');
  });
});
