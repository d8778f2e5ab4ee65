import * as vscode from 'vscode';
import type { DaemonEvent } from '../../../protocol/api';
import type { ModelVersion, PromotionRequest, RegisteredModel } from '../../../protocol/registry';
import { formatMetric, keyMetric } from '../views/format';

/** What the Models view reads: the registry over the daemon connection (a port, so the tree can be tested). */
export interface ModelsSource {
  readonly connected: boolean;
  readonly onEvent: vscode.Event<DaemonEvent>;
  readonly onDidChangeState: vscode.Event<void>;
  listModels(): Promise<RegisteredModel[]>;
  getModel(name: string): Promise<{ model: RegisteredModel; versions: ModelVersion[] }>;
  listRequests(filter: { model?: string; status?: 'pending' }): Promise<PromotionRequest[]>;
}

export type ModelNode =
  | { kind: 'model'; model: RegisteredModel }
  | { kind: 'version'; model: RegisteredModel; version: ModelVersion; pending: PromotionRequest[] }
  | { kind: 'requests'; model: string; requests: PromotionRequest[] }
  | { kind: 'request'; request: PromotionRequest }
  | { kind: 'metric'; version: ModelVersion; key: string; value: number }
  | { kind: 'run'; version: ModelVersion }
  | { kind: 'signature'; version: ModelVersion; text: string };

/**
 * Models → versions (newest first, with alias badges, key metric, source run and approval
 * state) → metrics, source run, signature; a model's pending promotion requests sit under it.
 * Refreshed by the daemon's `models-changed` events.
 */
export class ModelsTree implements vscode.TreeDataProvider<ModelNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ModelNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly source: ModelsSource) {
    this.subs = [
      source.onEvent((e) => {
        if (e.type === 'models-changed') this.refresh();
      }),
      source.onDidChangeState(() => this.refresh()),
    ];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(n: ModelNode): vscode.TreeItem {
    switch (n.kind) {
      case 'model': {
        const m = n.model;
        const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.Expanded);
        const aliases = Object.entries(m.aliases).map(([a, v]) => `@${a} v${v}`).join(' ');
        item.description = [`${m.versionCount} version${m.versionCount === 1 ? '' : 's'}`, aliases, m.pendingRequests ? `${m.pendingRequests} pending` : ''].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          `**${m.name}**${m.description ? `\n\n${m.description}` : ''}\n\n` +
            `Protected: ${Object.entries(m.protectedAliases).map(([a, k]) => `@${a} (${k} approval${k === 1 ? '' : 's'})`).join(', ') || 'none'}`,
        );
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = 'mlops.model';
        item.id = `model:${m.name}`;
        return item;
      }
      case 'version': {
        const v = n.version;
        const item = new vscode.TreeItem(`v${v.version}`, vscode.TreeItemCollapsibleState.Collapsed);
        const km = keyMetric(v.metrics);
        const pending = n.pending.map((r) => `→ @${r.alias} awaiting approval ${r.approvals.length}/${r.required}`);
        item.description = [v.aliases.map((a) => `@${a}`).join(' '), km ? `${km[0]} ${formatMetric(km[1])}` : '', `run ${v.runId.slice(0, 8)}`, ...pending].filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(
          `**${v.model} v${v.version}** \`models:/${v.model}/${v.version}\`\n\n` +
            `registered ${new Date(v.createdAt).toLocaleString()} by \`${v.createdBy}\` from run \`${v.runId}\`\n\n` +
            `${v.artifact.path} (sha256 \`${v.artifact.hash.slice(0, 12)}\`)`,
        );
        item.iconPath = new vscode.ThemeIcon(v.aliases.length ? 'tag' : 'versions', v.aliases.includes('production') ? new vscode.ThemeColor('testing.iconPassed') : undefined);
        item.contextValue = `mlops.modelVersion${v.aliases.length ? '.aliased' : ''}`;
        item.id = `model:${v.model}/${v.version}`;
        item.command = { command: 'mlops.openModelCard', title: 'Open Model Card', arguments: [n] };
        return item;
      }
      case 'requests': {
        const item = new vscode.TreeItem('Promotion requests', vscode.TreeItemCollapsibleState.Expanded);
        item.description = `${n.requests.length} pending`;
        item.iconPath = new vscode.ThemeIcon('git-pull-request');
        return item;
      }
      case 'request': {
        const r = n.request;
        const item = new vscode.TreeItem(`#${r.id} v${r.version} → @${r.alias}`);
        item.description = `by ${r.requestedBy} · ${r.approvals.length}/${r.required} approvals${r.approvals.length ? ` (${r.approvals.map((a) => a.actor).join(', ')})` : ''}`;
        item.tooltip = r.comment;
        item.iconPath = new vscode.ThemeIcon('issue-draft');
        item.contextValue = 'mlops.promotionRequest';
        return item;
      }
      case 'metric': {
        const item = new vscode.TreeItem(n.key);
        item.description = formatMetric(n.value);
        item.iconPath = new vscode.ThemeIcon('graph-line');
        return item;
      }
      case 'run': {
        const item = new vscode.TreeItem(`source run ${n.version.runId.slice(0, 8)}`);
        item.description = n.version.lineage.pipelineRunId ? `step ${n.version.lineage.runName}` : n.version.lineage.experiment;
        item.iconPath = new vscode.ThemeIcon('beaker');
        item.command = { command: 'mlops.revealModelRun', title: 'Show the source run', arguments: [n.version.lineage.pipelineRunId ?? n.version.runId] };
        return item;
      }
      case 'signature': {
        const item = new vscode.TreeItem('signature');
        item.description = n.text;
        item.iconPath = new vscode.ThemeIcon('symbol-interface');
        return item;
      }
    }
  }

  async getChildren(n?: ModelNode): Promise<ModelNode[]> {
    if (!this.source.connected) return [];
    if (!n) return (await this.source.listModels()).map((model) => ({ kind: 'model', model }));
    if (n.kind === 'model') {
      const [{ model, versions }, pending] = await Promise.all([this.source.getModel(n.model.name), this.source.listRequests({ model: n.model.name, status: 'pending' })]);
      const nodes: ModelNode[] = [];
      if (pending.length) nodes.push({ kind: 'requests', model: model.name, requests: pending });
      for (const version of versions) nodes.push({ kind: 'version', model, version, pending: pending.filter((r) => r.version === version.version) });
      return nodes;
    }
    if (n.kind === 'requests') return n.requests.map((request) => ({ kind: 'request', request }));
    if (n.kind === 'version') {
      const v = n.version;
      const nodes: ModelNode[] = [{ kind: 'run', version: v }];
      if (v.signature) {
        const t = (x: { name: string; type: string; shape?: (number | string)[] }) => `${x.name} ${x.type}${x.shape ? `[${x.shape.join(',')}]` : ''}`;
        nodes.push({ kind: 'signature', version: v, text: `${v.signature.inputs.map(t).join(', ')} → ${v.signature.outputs.map(t).join(', ')}` });
      }
      for (const [key, value] of Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b))) nodes.push({ kind: 'metric', version: v, key, value });
      return nodes;
    }
    return [];
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
