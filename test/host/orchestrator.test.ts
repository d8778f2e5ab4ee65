import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../client/src/extension';
import type { RunOutcome } from '../../client/src/commands/run-commands';
import type { ExperimentNode } from '../../client/src/views/experiments-tree';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';
import { activateExtension, note, screenshot, waitFor, workspaceUri } from './util';

/** Walks the Experiments tree the way a user expands it. */
async function children(api: MlopsApi, node?: ExperimentNode): Promise<ExperimentNode[]> {
  return (await api.experiments!.getChildren(node)) ?? [];
}

describe('orchestrator from the extension (real VS Code, real daemon, real training)', () => {
  let api: MlopsApi;
  let first: RunOutcome;

  before(async () => {
    api = await activateExtension();
    assert.ok(api.orchestrator, 'the orchestrator is wired for a file workspace');
  });

  after(async () => {
    // The daemon is detached on purpose (runs survive reloads): stop it so the test leaves nothing behind.
    await api?.orchestrator?.stop();
  });

  it('runs the sample pipeline from the ▶ Run pipeline CodeLens and trains a real model', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceUri('mlops.yaml'));
    await vscode.window.showTextDocument(doc);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const run = lenses.find((l) => l.command?.title === '$(play) Run pipeline')?.command;
    assert.ok(run, `a Run pipeline lens: ${lenses.map((l) => l.command?.title).join(' | ')}`);
    first = (await vscode.commands.executeCommand<RunOutcome>(run.command, ...(run.arguments ?? [])))!;
    assert.ok(first, 'the command returned the run');
    assert.strictEqual(first.status, 'succeeded');
    const info = JSON.parse(fs.readFileSync(workspaceUri('.mlops', 'daemon.json').fsPath, 'utf8')) as { pid: number; node: string };
    note(`daemon pid ${info.pid} started by the extension runs on Node ${info.node}; extension host Node ${process.version}`);
    assert.strictEqual(info.node, process.version, 'the daemon runs on the extension host\'s own Node (native SQLite loads there)');
    const detail = await api.orchestrator!.getRun(first.runId);
    assert.deepStrictEqual(detail.children.map((c) => [c.name, c.status]), [['prepare', 'succeeded'], ['train', 'succeeded'], ['evaluate', 'succeeded']]);
    assert.ok(detail.latestMetrics.accuracy >= 0.95, `accuracy ${detail.latestMetrics.accuracy}`);
    assert.ok(fs.existsSync(workspaceUri('models', 'penguins.onnx').fsPath), 'the ONNX model was written');
  });

  it('shows the run in the Experiments tree with its metrics', async () => {
    await vscode.commands.executeCommand('mlops.experiments.focus');
    const exps = await waitFor('an experiment', async () => {
      const e = await children(api);
      return e.length ? e : undefined;
    });
    assert.deepStrictEqual(exps.map((e) => e.kind === 'experiment' && e.name), ['penguins']);
    const runs = await children(api, exps[0]);
    const runNode = runs.find((r) => r.kind === 'run' && r.run.id === first.runId);
    assert.ok(runNode, 'the run is listed');
    const groups = await children(api, runNode);
    const metrics = await children(api, groups.find((g) => g.kind === 'group' && g.group === 'metrics'));
    const acc = metrics.find((m) => m.kind === 'entry' && m.label === 'accuracy');
    assert.ok(acc && acc.kind === 'entry' && Number(acc.value) >= 0.95, `accuracy entry ${JSON.stringify(acc)}`);
    const item = api.experiments!.getTreeItem(runNode);
    assert.match(String(item.description), /^succeeded · .* · accuracy 0\.9\d+/);
  });

  it('shows each step with its last result in the Pipeline tree and the CodeLens', async () => {
    const steps = await api.pipeline!.getChildren();
    assert.deepStrictEqual(steps.map((s) => s.step), ['prepare', 'train', 'evaluate']);
    assert.deepStrictEqual(steps.map((s) => s.last?.status), ['succeeded', 'succeeded', 'succeeded']);
    assert.deepStrictEqual(steps.map((s) => s.planned?.action), ['skip', 'skip', 'skip']);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', workspaceUri('mlops.yaml'));
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.ok(titles.includes('$(play) Run pipeline'), titles.join(' | '));
    assert.strictEqual(titles.filter((t) => t === '$(play) Run to here').length, 3);
    assert.ok(titles.some((t) => /^✓ succeeded · accuracy 0\.9\d+/.test(t)), titles.join(' | '));
    await vscode.commands.executeCommand('workbench.view.extension.mlops');
    await screenshot('orchestrator');
    // The same views in the dark theme, for the README's tour.
    const cfg = vscode.workspace.getConfiguration();
    const before = cfg.inspect<string>('workbench.colorTheme')?.globalValue;
    await cfg.update('workbench.colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
    await screenshot('orchestrator-dark');
    await cfg.update('workbench.colorTheme', before, vscode.ConfigurationTarget.Global);
  });

  it('shows a step\'s log from the Pipeline view', async () => {
    const steps = await api.pipeline!.getChildren();
    await vscode.commands.executeCommand('mlops.showStepLogs', steps.find((s) => s.step === 'evaluate'));
    const editor = await waitFor('the log editor', () => (vscode.window.activeTextEditor?.document.uri.scheme === 'mlops-log' ? vscode.window.activeTextEditor : undefined));
    const text = editor.document.getText();
    assert.match(text, /mlops:metric accuracy=0\.9\d+/);
    assert.match(text, /ONNX vs JS max \|Δp\|/);
  });

  it('skips every unchanged step on a second run', async () => {
    const again = (await vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline'))!;
    assert.strictEqual(again.status, 'succeeded');
    const run = await api.orchestrator!.getRun(again.runId);
    assert.deepStrictEqual(run.children.map((c) => [c.name, c.status, c.message]), [['prepare', 'skipped', 'cached'], ['train', 'skipped', 'cached'], ['evaluate', 'skipped', 'cached']]);
  });

  it('pages through 10,000 runs in the Experiments tree, to the 10,000th', async function () {
    this.timeout(180_000);
    // Seed straight into the workspace's store (WAL: the daemon keeps serving meanwhile).
    const store = await openSqliteStore(workspaceUri('.mlops').fsPath);
    const seeded = Date.now();
    try {
      const base = Date.now() - 10_000_000;
      for (let i = 0; i < 10_000; i++) {
        await store.createRun({ experiment: 'load-test', name: `seed-${i}`, kind: 'pipeline', status: 'succeeded', startedAt: base + i * 1000 });
      }
    } finally {
      await store.close();
    }
    const seedMs = Date.now() - seeded;
    api.experiments!.refresh();
    const exp = (await children(api)).find((e) => e.kind === 'experiment' && e.name === 'load-test');
    assert.ok(exp && exp.kind === 'experiment' && exp.runCount === 10_000, `the experiment lists 10,000 runs: ${JSON.stringify(exp)}`);
    const t0 = Date.now();
    let nodes = await children(api, exp);
    let pages = 1;
    while (nodes.at(-1)?.kind === 'more') {
      api.experiments!.loadMore('load-test');
      nodes = await children(api, exp);
      pages++;
    }
    const pagingMs = Date.now() - t0;
    const runs = nodes.filter((n) => n.kind === 'run');
    assert.strictEqual(runs.length, 10_000);
    const last = runs.at(-1)!;
    assert.ok(last.kind === 'run' && last.run.name === 'seed-0', 'the 10,000th (oldest) run is reached');
    note(`seeded 10,000 runs in ${seedMs} ms; paged to the 10,000th in ${pagingMs} ms over ${pages} pages (${(pagingMs / pages).toFixed(1)} ms a page)`);
  });
});
