import * as vscode from 'vscode';
import { ManifestParser } from '../../../orchestrator/manifest';
import type { Ctx } from '../ctx';
import { stepKeySpan } from '../webviews/graph-model';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { requireTrust } from '../orchestrator/trust';
import type { ExperimentsTree, RunsView } from '../views/experiments-tree';
import { logUri } from '../views/log-documents';
import type { StepNode } from '../views/pipeline-tree';

export function registerViewCommands(ctx: Ctx, conn: OrchestratorConnection, experiments: ExperimentsTree): void {
  ctx.registerCommand('mlops.experiments.loadMore', (experiment: string) => experiments.loadMore(experiment));
  ctx.registerCommand('mlops.refreshViews', () => experiments.refresh());

  // Filter and sort the Experiments view; the daemon applies it, so it scales to 10k runs.
  ctx.registerCommand('mlops.filterRuns', async (view?: RunsView) => {
    if (view) return experiments.setView(view);
    const current = experiments.runsView;
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Status…', id: 'status', description: current.status?.join(', ') },
        { label: 'Param equals…', id: 'param', description: current.param },
        { label: 'Sort by metric…', id: 'metric', description: current.metric ? `${current.metric} ${current.desc === false ? 'ascending' : 'descending'}` : 'start time' },
        { label: 'Clear filters and sorting', id: 'clear' },
      ],
      { title: 'MLOps: filter and sort runs' },
    );
    if (!choice) return;
    if (choice.id === 'clear') return experiments.setView({});
    if (choice.id === 'status') {
      const statuses = ['succeeded', 'failed', 'running', 'cancelled', 'interrupted'] as const;
      const picked = await vscode.window.showQuickPick(statuses.map((s) => ({ label: s, picked: current.status?.includes(s) })), { canPickMany: true, title: 'Show runs with status' });
      if (picked) experiments.setView({ ...current, status: picked.map((p) => p.label as (typeof statuses)[number]) });
    } else if (choice.id === 'param') {
      const param = await vscode.window.showInputBox({ prompt: 'Show runs whose param has this value', placeHolder: 'lr:0.05', value: current.param, validateInput: (v) => (v === '' || /^[^:]+:.*$/.test(v) ? undefined : 'write KEY:VALUE') });
      if (param !== undefined) experiments.setView({ ...current, param: param || undefined });
    } else {
      const metric = await vscode.window.showInputBox({ prompt: 'Sort runs by this metric (latest value)', placeHolder: 'accuracy', value: current.metric });
      if (metric === undefined) return;
      const order = metric ? await vscode.window.showQuickPick(['descending (highest first)', 'ascending (lowest first)'], { title: `Order by ${metric}` }) : undefined;
      experiments.setView({ ...current, metric: metric || undefined, desc: !order?.startsWith('ascending') });
    }
  });

  ctx.registerCommand('mlops.dryRun', async () => {
    if (!requireTrust('Planning a run')) return undefined;
    await conn.start();
    const plan = await conn.plan({});
    const picked = await vscode.window.showQuickPick(
      plan.steps.map((s) => ({ label: s.step, description: s.action === 'skip' ? 'skip (cached)' : s.action, detail: `${s.reason} — ${s.cmd}` })),
      { title: 'MLOps: what a run would do now', canPickMany: false },
    );
    if (picked) await vscode.commands.executeCommand('mlops.runStep', picked.label);
    return plan;
  });

  // Reveal a step's definition in the manifest (the key found by the manifest parser).
  const parser = new ManifestParser();
  ctx.registerCommand('mlops.revealStep', async (node: StepNode) => {
    const doc = await vscode.workspace.openTextDocument(node.manifest);
    const span = stepKeySpan(parser, doc.getText(), node.step);
    const selection = span ? new vscode.Selection(doc.positionAt(span.start), doc.positionAt(span.end)) : undefined;
    await vscode.window.showTextDocument(doc, selection ? { selection } : {});
  });

  // A step's log from its last run (Pipeline view).
  ctx.registerCommand('mlops.showStepLogs', async (node: StepNode) => {
    const runId = node.last?.parentId;
    if (!runId || node.last?.status === 'skipped') {
      void vscode.window.showInformationMessage(`MLOps: step "${node.step}" has no log yet${node.last?.status === 'skipped' ? ' (its last result came from the cache)' : ''}.`);
      return;
    }
    await vscode.window.showTextDocument(logUri(runId, node.step), { preview: false });
  });

  // A metric opens the run's charts (the Compare Runs panel with this one run).
  ctx.registerCommand('mlops.openMetric', (runId: string) => vscode.commands.executeCommand('mlops.openRunCharts', runId));
}
