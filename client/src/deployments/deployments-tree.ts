import * as vscode from 'vscode';
import type { DeploymentStatus } from '../../../protocol/serving';
import { log } from '../log';
import { canaryProgress, endpointHealth, versionDescription, versionLabel, type ServedVersionStatus } from './deployment-format';
import type { DeploymentsSource } from './deployments-connection';

export type DeploymentNode =
  | { kind: 'endpoint'; deployment: DeploymentStatus }
  | { kind: 'version'; deployment: DeploymentStatus; version: ServedVersionStatus }
  | { kind: 'canary'; deployment: DeploymentStatus }
  | { kind: 'error'; deployment: DeploymentStatus; text: string };

/** Live figures are re-read this often while the view is visible (the model server samples once a second). */
const POLL_MS = 2000;
/** A list fetched by the poll this recently is reused by the redraw it triggers. */
const FRESH_MS = 500;

const HEALTH_ICON: Record<ReturnType<typeof endpointHealth>, [string, string?]> = {
  ok: ['pass-filled', 'testing.iconPassed'],
  busy: ['loading~spin'],
  degraded: ['warning', 'list.warningForeground'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['circle-slash', 'disabledForeground'],
};

const ROLE_ICON: Record<ServedVersionStatus['role'], [string, string?]> = {
  stable: ['circle-filled', 'testing.iconPassed'],
  canary: ['beaker', 'charts.yellow'],
  ab: ['git-compare', 'charts.blue'],
  shadow: ['mirror', 'descriptionForeground'],
};
const ROLE_TOOLTIP: Record<ServedVersionStatus['role'], string> = {
  stable: 'stable',
  canary: 'canary',
  ab: 'one arm of an A/B split (Roll Back ends the split)',
  shadow: 'shadow',
};

/**
 * Endpoints (name, model, state, URL) → the versions they serve (role, traffic share, health,
 * req/s, error rate, p99) and a running canary's progress. Manifest deployments that are not
 * running show as `stopped`. Redrawn on `deployments-changed`, and polled every 2 s while the
 * view is visible so the live figures move.
 */
export class DeploymentsTree implements vscode.TreeDataProvider<DeploymentNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DeploymentNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subs: vscode.Disposable[];
  private cache: { at: number; list: DeploymentStatus[]; json: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private visible = false;
  private polling = false;
  /** How many times the root was listed (tests wait on it: a view draws after listing). */
  loads = 0;

  constructor(private readonly source: DeploymentsSource) {
    this.subs = [
      source.onEvent((e) => {
        if (e.type === 'deployments-changed' || e.type === 'deployment-decision') this.refresh();
      }),
      source.onDidChangeState(() => {
        this.refresh();
        this.schedule();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()),
    ];
  }

  /** Follows the view's visibility: the poll runs only while someone can see the figures. */
  attach(view: vscode.TreeView<DeploymentNode>): void {
    this.visible = view.visible;
    this.subs.push(view.onDidChangeVisibility((e) => {
      this.visible = e.visible;
      this.schedule();
    }));
    this.schedule();
  }

  refresh(): void {
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  private schedule(): void {
    const want = this.visible && this.source.connected;
    if (want && !this.timer) this.timer = setInterval(() => void this.poll(), POLL_MS);
    if (!want && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Redraws only when something changed, so an idle endpoint does not flicker. */
  private async poll(): Promise<void> {
    if (this.polling || !this.source.connected) return;
    this.polling = true;
    try {
      const list = await this.source.list();
      const json = JSON.stringify(list);
      if (json === this.cache?.json) return;
      this.cache = { at: Date.now(), list, json };
      this.changed.fire(undefined);
    } catch (e) {
      log().warn(`Deployments view: ${(e as Error)?.message ?? e}`);
    } finally {
      this.polling = false;
    }
  }

  private async load(): Promise<DeploymentStatus[]> {
    if (this.cache && Date.now() - this.cache.at < FRESH_MS) return this.cache.list;
    const list = await this.source.list();
    this.cache = { at: Date.now(), list, json: JSON.stringify(list) };
    return list;
  }

  getTreeItem(n: DeploymentNode): vscode.TreeItem {
    const d = n.deployment;
    switch (n.kind) {
      case 'endpoint': {
        const item = new vscode.TreeItem(d.name, d.state === 'stopped' && !d.error ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Expanded);
        item.id = `deployment:${d.name}`;
        item.description = [d.url, d.model, d.state].filter(Boolean).join(' · ');
        const [icon, color] = HEALTH_ICON[endpointHealth(d)];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.tooltip = new vscode.MarkdownString(
          `**${d.name}** serves \`${d.model}\` (${d.strategy} rollout) — ${d.state}` +
            (d.url ? `\n\n${d.url} (auth: ${d.auth}${d.pid ? `, pid ${d.pid}` : ''})` : '') +
            (d.previousVersion !== undefined ? `\n\nRoll Back returns to v${d.previousVersion}.` : '') +
            (d.error ? `\n\n$(error) ${d.error}` : ''),
          true,
        );
        // Suffixes the menus match on (package.json `viewItem`): what Promote, Roll Back, Stop Shadow apply to.
        const split = d.versions.some((v) => v.role === 'ab');
        const shadow = d.versions.some((v) => v.role === 'shadow');
        item.contextValue = `mlops.deployment.${d.state}${d.canary ? '.canary' : ''}${d.previousVersion !== undefined ? '.rollback' : ''}${split ? '.ab' : ''}${shadow ? '.shadow' : ''}`;
        return item;
      }
      case 'version': {
        const v = n.version;
        const item = new vscode.TreeItem(versionLabel(v));
        item.id = `deployment:${d.name}/v${v.version}`;
        item.description = versionDescription(v);
        const icon = v.health === 'failed' ? ['error', 'testing.iconFailed'] : v.health !== 'ready' ? ['loading~spin'] : ROLE_ICON[v.role];
        item.iconPath = new vscode.ThemeIcon(icon[0]!, icon[1] ? new vscode.ThemeColor(icon[1]) : undefined);
        const s = v.stats;
        item.tooltip = new vscode.MarkdownString(
          `**${d.model} v${v.version}** — ${ROLE_TOOLTIP[v.role]}, ${v.role === 'shadow' ? 'a copy of every request, answers logged only' : `${v.weight} % of traffic`}, ${v.health} (${v.flavor})` +
            (s ? `\n\nlast minute: ${s.requests} requests, ${s.errors} errors, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms\n\nsince loaded: ${s.totalRequests} requests, ${s.totalErrors} errors${s.retried ? `, ${s.retried} retried on stable` : ''}` : ''),
        );
        item.contextValue = `mlops.deploymentVersion.${v.role}`;
        return item;
      }
      case 'canary': {
        const p = canaryProgress(d)!;
        const item = new vscode.TreeItem(p.label);
        item.id = `deployment:${d.name}/canary`;
        item.description = p.description;
        item.tooltip = p.tooltip;
        item.iconPath = new vscode.ThemeIcon('debug-step-over', new vscode.ThemeColor('charts.yellow'));
        item.contextValue = 'mlops.deploymentCanary';
        return item;
      }
      case 'error': {
        const item = new vscode.TreeItem(n.text);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
        item.tooltip = n.text;
        return item;
      }
    }
  }

  async getChildren(n?: DeploymentNode): Promise<DeploymentNode[]> {
    if (!n) {
      // Untrusted: nothing is served here, and the view's welcome says why.
      if (!vscode.workspace.isTrusted) return [];
      try {
        const list = await this.load();
        this.loads++;
        return list.map((deployment) => ({ kind: 'endpoint', deployment }));
      } catch (e) {
        log().warn(`Deployments view: ${(e as Error)?.message ?? e}`);
        return [];
      }
    }
    if (n.kind !== 'endpoint') return [];
    const d = n.deployment;
    const nodes: DeploymentNode[] = [];
    if (d.error) nodes.push({ kind: 'error', deployment: d, text: d.error });
    // Stable first, then canary / A/B, shadow last.
    const order = { stable: 0, canary: 1, ab: 2, shadow: 3 } as const;
    for (const version of [...d.versions].sort((a, b) => order[a.role] - order[b.role] || b.version - a.version)) nodes.push({ kind: 'version', deployment: d, version });
    if (d.canary) nodes.push({ kind: 'canary', deployment: d });
    return nodes;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
