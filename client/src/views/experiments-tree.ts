import * as vscode from 'vscode';
import type { RunDetail, RunStatus, RunSummary } from '../../../protocol/types';
import type { RunsSource } from '../orchestrator/orchestrator-port';
import { formatAgo, formatDuration, formatMetric, keyMetric, statusIcon } from './format';

/** Runs are fetched a page at a time: fast with 10k runs, children load on expand. */
export const RUNS_PAGE = 100;

/** What the Experiments view shows: filters and order, applied by the daemon's query (not client-side). */
export interface RunsView {
  status?: RunStatus[];
  /** `KEY:VALUE` */
  param?: string;
  /** Sort by this metric's latest value instead of start time. */
  metric?: string;
  /** Highest (or newest) first; default true. */
  desc?: boolean;
}

export type ExperimentNode =
  | { kind: 'experiment'; name: string; runCount: number }
  | { kind: 'run'; run: RunSummary }
  | { kind: 'more'; experiment: string; loaded: number; total: number }
  | { kind: 'group'; runId: string; group: 'params' | 'metrics' | 'artifacts' | 'steps'; sweep?: boolean }
  | { kind: 'entry'; runId: string; group: 'params' | 'metrics' | 'artifacts' | 'git'; label: string; value: string; path?: string }
  | { kind: 'message'; text: string };

/**
 * Experiments → runs (newest first) → params, metrics, artifacts, steps, git. Refreshed by
 * daemon events, debounced, so a run logging many metrics does not redraw on every point.
 */
export class ExperimentsTree implements vscode.TreeDataProvider<ExperimentNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ExperimentNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly pages = new Map<string, number>(); // experiment → how many runs to show
  private readonly subs: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private view: RunsView = {};
  /** Runs fetched so far per experiment (a cache for paging; `stale` after a refresh). */
  private readonly loaded = new Map<string, { runs: RunSummary[]; total: number; stale: boolean }>();
  private readonly details = new Map<string, Promise<RunDetail>>();

  constructor(private readonly source: RunsSource) {
    this.subs.push(
      source.onEvent((e) => {
        if (e.type === 'run-started' || e.type === 'run-finished' || e.type === 'step-finished' || e.type === 'runs-changed') this.refreshSoon();
      }),
      source.onDidChangeState(() => this.refresh()),
    );
  }

  /** One request per run for its four groups (params, metrics, artifacts, steps), until the next refresh. */
  private detail(runId: string): Promise<RunDetail> {
    let d = this.details.get(runId);
    if (!d) {
      d = this.source.getRun(runId);
      d.catch(() => this.details.delete(runId));
      this.details.set(runId, d);
    }
    return d;
  }

  refresh(): void {
    this.details.clear();
    for (const l of this.loaded.values()) l.stale = true;
    this.changed.fire(undefined);
  }

  private refreshSoon(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh();
    }, 300);
  }

  get runsView(): RunsView {
    return this.view;
  }

  /** Filters and sorts the runs (status, a param's value, a metric); resets paging. */
  setView(view: RunsView): void {
    this.view = view;
    this.pages.clear();
    this.loaded.clear();
    this.details.clear();
    void vscode.commands.executeCommand('setContext', 'mlops.experimentsFiltered', !!(view.status?.length || view.param || view.metric));
    this.refresh();
  }

  /** Shows one more page of runs under an experiment. */
  loadMore(experiment: string): void {
    this.pages.set(experiment, (this.pages.get(experiment) ?? RUNS_PAGE) + RUNS_PAGE);
    this.changed.fire(undefined); // keeps what is loaded: only the next page is fetched
  }

  getTreeItem(n: ExperimentNode): vscode.TreeItem {
    switch (n.kind) {
      case 'experiment': {
        const item = new vscode.TreeItem(n.name, vscode.TreeItemCollapsibleState.Expanded);
        item.description = `${n.runCount} run${n.runCount === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon('beaker');
        item.contextValue = 'mlops.experiment';
        return item;
      }
      case 'run': {
        const r = n.run;
        const item = new vscode.TreeItem(`${r.name} · ${r.id.slice(0, 8)}`, vscode.TreeItemCollapsibleState.Collapsed);
        const km = keyMetric(r.latestMetrics);
        item.description = [r.status, formatDuration(r.durationMs), km ? `${km[0]} ${formatMetric(km[1])}` : '', formatAgo(r.startedAt)].filter(Boolean).join(' · ');
        const icon = statusIcon(r.status);
        item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
        item.tooltip = new vscode.MarkdownString(`**${r.name}** \`${r.id}\`\n\n${r.status}${r.message ? ` — ${r.message}` : ''}\n\nstarted ${new Date(r.startedAt).toLocaleString()}`);
        item.contextValue = `mlops.run.${r.status}`;
        item.id = `run:${r.id}`;
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load ${Math.min(RUNS_PAGE, n.total - n.loaded)} more… (${n.loaded} of ${n.total})`);
        item.command = { command: 'mlops.experiments.loadMore', title: 'Load more', arguments: [n.experiment] };
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        return item;
      }
      case 'group': {
        const labels = { params: 'Params', metrics: 'Metrics', artifacts: 'Artifacts', steps: n.sweep ? 'Trials' : 'Steps' } as const;
        const item = new vscode.TreeItem(labels[n.group], vscode.TreeItemCollapsibleState.Collapsed);
        item.iconPath = new vscode.ThemeIcon({ params: 'symbol-parameter', metrics: 'graph-line', artifacts: 'package', steps: 'list-tree' }[n.group]);
        return item;
      }
      case 'entry': {
        const item = new vscode.TreeItem(n.label);
        item.description = n.value;
        item.contextValue = `mlops.${n.group}`;
        if (n.group === 'metrics') item.command = { command: 'mlops.openMetric', title: 'Open metric', arguments: [n.runId, n.label] };
        if (n.group === 'artifacts' && n.path) {
          const folder = vscode.workspace.workspaceFolders?.[0];
          if (folder) {
            item.resourceUri = vscode.Uri.joinPath(folder.uri, n.path);
            item.command = { command: 'vscode.open', title: 'Open', arguments: [item.resourceUri] };
          }
        }
        item.iconPath = new vscode.ThemeIcon(n.group === 'git' ? 'git-commit' : n.group === 'metrics' ? 'graph-line' : n.group === 'artifacts' ? 'file' : 'symbol-variable');
        return item;
      }
      case 'message':
        return new vscode.TreeItem(n.text);
    }
  }

  async getChildren(n?: ExperimentNode): Promise<ExperimentNode[]> {
    if (!this.source.connected) return [];
    if (!n) {
      const exps = await this.source.listExperiments();
      return exps.filter((e) => e.runCount > 0).map((e) => ({ kind: 'experiment', name: e.name, runCount: e.runCount }));
    }
    if (n.kind === 'experiment') {
      const limit = this.pages.get(n.name) ?? RUNS_PAGE;
      const v = this.view;
      const query = {
        experiment: n.name,
        parentId: 'none',
        ...(v.status?.length ? { status: v.status.join(',') } : {}),
        ...(v.param ? { param: v.param } : {}),
        ...(v.metric ? { orderBy: `metrics.${v.metric}` } : {}),
        ...(v.desc === false ? { desc: false } : {}),
      };
      // "Load more" fetches only the next page; a refresh (new run) starts the list again.
      // The daemon answers at most 1000 runs a request, so a long list comes in chunks.
      let loaded = this.loaded.get(n.name);
      if (!loaded || loaded.stale) this.loaded.set(n.name, (loaded = { runs: [], total: Infinity, stale: false }));
      while (loaded.runs.length < Math.min(limit, loaded.total)) {
        const page = await this.source.listRuns({ ...query, limit: Math.min(1000, limit - loaded.runs.length), offset: loaded.runs.length });
        loaded.total = page.total;
        loaded.runs.push(...page.runs);
        if (page.runs.length === 0) break;
      }
      const { runs, total } = loaded;
      const nodes: ExperimentNode[] = runs.map((run) => ({ kind: 'run', run }));
      if (runs.length < total) nodes.push({ kind: 'more', experiment: n.name, loaded: runs.length, total });
      return nodes;
    }
    if (n.kind === 'run') {
      // A sweep's children are its trials.
      const groups: ExperimentNode[] = (['params', 'metrics', 'artifacts', 'steps'] as const).map((group) => ({ kind: 'group', runId: n.run.id, group, ...(n.run.kind === 'sweep' ? { sweep: true } : {}) }));
      if (n.run.gitCommit) groups.push({ kind: 'entry', runId: n.run.id, group: 'git', label: 'git', value: `${n.run.gitCommit.slice(0, 10)}${n.run.gitDirty ? ' (dirty)' : ''}` });
      return groups;
    }
    if (n.kind === 'group') {
      const run = await this.detail(n.runId);
      switch (n.group) {
        case 'params':
          return Object.entries(run.params).map(([k, v]) => ({ kind: 'entry', runId: run.id, group: 'params', label: k, value: v }));
        case 'metrics':
          return Object.entries(run.latestMetrics).map(([k, v]) => ({ kind: 'entry', runId: run.id, group: 'metrics', label: k, value: formatMetric(v) }));
        case 'artifacts':
          return run.artifacts.map((a) => ({ kind: 'entry', runId: run.id, group: 'artifacts', label: a.path, value: `${a.hash.slice(0, 8)} · ${a.size} B`, path: a.path }));
        case 'steps':
          return run.children.map((c) => ({ kind: 'run', run: c }));
      }
    }
    return [];
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
