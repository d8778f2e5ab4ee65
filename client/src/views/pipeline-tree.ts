import * as vscode from 'vscode';
import type { PlannedStep } from '../../../protocol/pipeline';
import type { RunSummary } from '../../../protocol/types';
import { buildDag, ManifestParser, topoOrder } from '../../../orchestrator/manifest';
import type { RunsSource } from '../orchestrator/orchestrator-port';
import type { PipelineState } from './pipeline-state';
import { formatAgo, formatDuration, statusIcon } from './format';

export interface StepNode {
  step: string;
  needs: string[];
  last?: RunSummary;
  planned?: PlannedStep;
  manifest: vscode.Uri;
}

/**
 * The steps of mlops.yaml in DAG order, each with its last result and what the next run would
 * do. The manifest is read through the core parser (same understanding as the language server).
 */
export class PipelineTree implements vscode.TreeDataProvider<StepNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<StepNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly parser = new ManifestParser();
  private readonly subs: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Step name → status of the step in the run going on now (live, from events). */
  private readonly live = new Map<string, RunSummary['status']>();

  constructor(
    source: RunsSource,
    private readonly state: PipelineState,
    private readonly manifest: () => vscode.Uri | undefined,
  ) {
    this.subs.push(
      source.onEvent((e) => {
        if (e.type === 'run-started') this.live.clear();
        if (e.type === 'step-started') this.live.set(e.step, 'running');
        if (e.type === 'step-finished') this.live.set(e.step, e.status);
        if (e.type === 'run-finished') this.live.clear();
        if (e.type === 'step-started') this.refreshSoon(); // the live spinner; results come with the state
      }),
      state.onDidChange(() => this.refresh()),
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  private refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, 200);
  }

  getTreeItem(n: StepNode): vscode.TreeItem {
    const item = new vscode.TreeItem(n.step);
    const liveStatus = this.live.get(n.step);
    const status = liveStatus ?? n.last?.status;
    const icon = statusIcon(status);
    item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    const lastText = liveStatus === 'running' ? 'running…' : n.last ? `${n.last.status === 'skipped' ? 'cached' : n.last.status} ${formatAgo(n.last.endedAt ?? n.last.startedAt)}${n.last.durationMs !== undefined && n.last.status !== 'skipped' ? ` (${formatDuration(n.last.durationMs)})` : ''}` : 'never run';
    const planText = n.planned ? (n.planned.action === 'skip' ? 'up to date' : n.planned.action === 'restore' ? 'will restore from cache' : `will run: ${n.planned.reason}`) : '';
    item.description = [lastText, planText].filter(Boolean).join(' · ');
    item.tooltip = new vscode.MarkdownString([`**${n.step}**`, n.needs.length ? `needs: ${n.needs.join(', ')}` : '', n.planned ? `next run: ${n.planned.action} (${n.planned.reason})` : '', n.planned ? `\`${n.planned.cmd}\`` : ''].filter(Boolean).join('\n\n'));
    item.contextValue = 'mlops.step';
    item.command = { command: 'mlops.revealStep', title: 'Open in manifest', arguments: [n] };
    item.id = `step:${n.step}`;
    return item;
  }

  async getChildren(n?: StepNode): Promise<StepNode[]> {
    if (n) return [];
    const uri = this.manifest();
    if (!uri) return [];
    const doc = await vscode.workspace.openTextDocument(uri);
    const parsed = this.parser.parseSync(doc.getText());
    const steps = ((parsed.value as { steps?: Record<string, unknown> } | null)?.steps ?? {}) as Record<string, unknown>;
    const names = Object.keys(steps);
    const edges = buildDag(parsed.value);
    const order = topoOrder(names, edges);
    const { last: lastByStep, plan } = await this.state.get();
    return order.map((step) => ({
      step,
      needs: edges.filter((e) => e.from === step).map((e) => e.to),
      last: lastByStep.get(step),
      planned: plan.get(step),
      manifest: uri,
    }));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
