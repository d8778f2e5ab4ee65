/**
 * Serving in the IDE: the Deployments view (endpoints → versions with traffic share, health and
 * live figures, a canary's progress), the deploy / canary / promote / roll back / stop commands,
 * test requests, the Live Monitor and notifications of automatic canary decisions.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { requireTrust } from '../orchestrator/trust';
import { panelOptions } from '../webviews/html';
import { DecisionNotifications } from './decision-notifications';
import { registerDeploymentCommands } from './deployment-commands';
import { DeploymentsConnection } from './deployments-connection';
import { DeploymentsTree } from './deployments-tree';
import { MONITOR_VIEW_TYPE, MonitorPanel } from './monitor-panel';
import { RESPONSE_SCHEME, RequestCodeLens, ResponseDocuments } from './request-documents';

export type { DeploymentNode, DeploymentsTree } from './deployments-tree';
export type { MonitorPanel } from './monitor-panel';
export type { TestResponse } from './test-request';

/** What the host tests reach: the tree, the open monitors and the notifications shown. */
export interface DeploymentsApi {
  tree: DeploymentsTree;
  monitor(name: string): MonitorPanel | undefined;
  readonly notifications: readonly string[];
  /** Those of them shown as warnings (automatic rollbacks). */
  readonly warnings: readonly string[];
}

export function registerDeployments(ctx: Ctx, conn: OrchestratorConnection, extensionUri: vscode.Uri): DeploymentsApi {
  const source = new DeploymentsConnection(conn);
  const tree = ctx.push(new DeploymentsTree(source));
  const view = ctx.push(vscode.window.createTreeView('mlops.deployments', { treeDataProvider: tree, showCollapseAll: true }));
  tree.attach(view);
  const responses = ctx.push(new ResponseDocuments());
  ctx.push(vscode.workspace.registerTextDocumentContentProvider(RESPONSE_SCHEME, responses));
  ctx.push(vscode.languages.registerCodeLensProvider([{ scheme: 'file', pattern: '**/.mlops/test-requests/*.json' }], new RequestCodeLens(source.workspace)));
  const decisions = ctx.push(new DecisionNotifications(conn.onEvent));

  const monitors = new Map<string, MonitorPanel>();
  ctx.push({ dispose: () => [...monitors.values()].forEach((m) => m.dispose()) });
  async function openMonitor(name: string): Promise<MonitorPanel | undefined> {
    if (!requireTrust('Monitoring a deployment')) return undefined;
    const open = monitors.get(name);
    if (open) {
      open.panel.reveal();
      await open.reload();
      return open;
    }
    const panel = vscode.window.createWebviewPanel(MONITOR_VIEW_TYPE, `Live Monitor: ${name}`, vscode.ViewColumn.Active, { ...panelOptions(extensionUri), retainContextWhenHidden: false });
    const m = adopt(panel, name);
    await m.reload();
    return m;
  }
  function adopt(panel: vscode.WebviewPanel, name: string): MonitorPanel {
    const m = new MonitorPanel(panel, source, name, extensionUri);
    monitors.set(name, m);
    m.onDidDispose(() => monitors.get(name) === m && monitors.delete(name));
    return m;
  }
  // A monitor open when the window reloaded comes back for the same deployment (the page keeps its name).
  ctx.push(
    vscode.window.registerWebviewPanelSerializer(MONITOR_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        const name = (state as { name?: unknown } | undefined)?.name;
        if (typeof name !== 'string' || monitors.has(name) || !vscode.workspace.isTrusted) {
          panel.dispose();
          return;
        }
        panel.webview.options = panelOptions(extensionUri);
        const m = adopt(panel, name);
        // Only reattach (never start a daemon on reload); the monitor loads once it is connected.
        if (!conn.connected) await conn.attachIfRunning();
        await m.reload();
      },
    }),
  );

  registerDeploymentCommands(ctx, { source, tree, responses, openMonitor });
  return { tree, monitor: (name) => monitors.get(name), notifications: decisions.shown, warnings: decisions.warnings };
}
