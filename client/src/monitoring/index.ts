/**
 * Deployment monitoring in the IDE: an alert from the daemon (`{type: 'alert'}` on its event
 * stream) shows as a notification — a warning when it fires, a note when it clears — whose
 * button leads to what explains it: **Open Report** (the drift report) for drift rules, **Open
 * Live Monitor** for latency and error rules, **Show Accuracy** (`mlops monitor NAME`: accuracy
 * per version against registration, the A/B verdict) for `accuracy_drop`; and **MLOps: Show Deployment Drift Report…** opens the drift webview on a
 * deployment's latest saved check (or runs one with the bundled CLI first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AlertEvent, DeploymentDriftResult } from '../../../protocol/monitoring';
import type { Ctx } from '../ctx';
import { DriftReportPanel } from '../drift';
import { runCli } from '../drift/cli';
import { DRIFT_VIEW_TYPE } from '../drift/drift-panel';
import { log } from '../log';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { panelOptions } from '../webviews/html';

/** What tests read: every alert received and the notification shown for it. */
export interface MonitoringApi {
  readonly alerts: { event: AlertEvent; shown: string; buttons: string[] }[];
  readonly panel: DriftReportPanel | undefined;
  /** What Show Accuracy does: `mlops monitor NAME` into the *MLOps Monitor* output channel; returns the text shown. */
  showAccuracy(deployment: string): Promise<string | undefined>;
}

const OPEN_REPORT = 'Open Report';
const OPEN_LIVE_MONITOR = 'Open Live Monitor';
const SHOW_ACCURACY = 'Show Accuracy';

/** The button that explains an alert, from the metric its rule reads. */
function buttonFor(e: AlertEvent): string {
  const metric = /^\s*([A-Za-z_]\w*)/.exec(e.when)?.[1];
  if (metric === 'error_rate' || metric === 'p99_ms') return OPEN_LIVE_MONITOR;
  if (metric === 'accuracy_drop') return SHOW_ACCURACY;
  return OPEN_REPORT;
}

export function registerMonitoring(ctx: Ctx, conn: OrchestratorConnection): MonitoringApi {
  const alerts: MonitoringApi['alerts'] = [];
  let panel: DriftReportPanel | undefined;
  let figures: vscode.OutputChannel | undefined;
  const folder = vscode.workspace.workspaceFolders?.[0];
  ctx.push({ dispose: () => panel?.dispose() });
  ctx.push({ dispose: () => figures?.dispose() });

  /** `mlops monitor NAME` in an output channel: live accuracy per version, registration, A/B. */
  const showFigures = async (deployment: string): Promise<string | undefined> => {
    if (!folder) return undefined;
    const r = await runCli(ctx.extension, folder.uri.fsPath, ['monitor', deployment]).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (r.code !== 0) {
      void vscode.window.showErrorMessage(`MLOps: mlops monitor ${deployment} failed: ${r.stderr.trim().replace(/^mlops: /, '') || `exit ${r.code}`}`);
      return undefined;
    }
    figures ??= vscode.window.createOutputChannel('MLOps Monitor');
    figures.clear();
    figures.append(r.stdout);
    figures.show(true);
    return r.stdout;
  };

  const show = (result: DeploymentDriftResult): DriftReportPanel => {
    const report = { ...result.report, current: { ...result.report.current, path: `${result.deployment}: last ${result.requests} requests` } };
    if (panel) {
      panel.panel.reveal();
      panel.show(report);
      return panel;
    }
    const opened = new DriftReportPanel(vscode.window.createWebviewPanel(DRIFT_VIEW_TYPE, 'Drift Report', vscode.ViewColumn.Active, panelOptions(ctx.extension.extensionUri)), report, ctx.extension.extensionUri);
    panel = opened;
    opened.onDidDispose(() => {
      if (panel === opened) panel = undefined;
    });
    return opened;
  };

  const latest = (deployment: string): string | undefined => {
    if (!folder) return undefined;
    const dir = path.join(folder.uri.fsPath, '.mlops', 'deployments', deployment, 'reports');
    try {
      const files = fs.readdirSync(dir).filter((f) => /^drift-.*\.json$/.test(f)).sort();
      return files.length ? path.join(dir, files[files.length - 1]!) : undefined;
    } catch {
      return undefined;
    }
  };

  /** MLOps: Show Deployment Drift Report… — (deployment, reportPath?) or a pick; runs a check when none is saved. */
  ctx.registerCommand('mlops.showDeploymentDrift', async (nameArg?: string, reportArg?: string) => {
    if (!folder) return undefined;
    let name = typeof nameArg === 'string' ? nameArg : undefined;
    if (!name) {
      const list = await conn.start().then((c) => c.call('GET /api/deployments', undefined)).catch(() => ({ deployments: [] }));
      name = await vscode.window.showQuickPick(list.deployments.map((d) => d.name), { title: 'MLOps: drift report of which deployment?' });
      if (!name) return undefined;
    }
    let file = typeof reportArg === 'string' ? reportArg : undefined;
    if (!file) {
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: checking drift of ${name}…` }, () => runCli(ctx.extension, folder.uri.fsPath, ['drift', name!, '--json']).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message })));
      if (r.code !== 0 && r.code !== 1) {
        file = latest(name);
        if (!file) {
          log().error(`mlops drift ${name} failed (exit ${r.code}): ${r.stderr}`);
          void vscode.window.showErrorMessage(`MLOps: drift check of ${name} failed: ${r.stderr.trim().replace(/^mlops: /, '') || `exit ${r.code}`}`);
          return undefined;
        }
      } else return show(JSON.parse(r.stdout) as DeploymentDriftResult);
    }
    return show(JSON.parse(fs.readFileSync(file, 'utf8')) as DeploymentDriftResult);
  });

  ctx.push(
    conn.onEvent((e) => {
      if (e.type !== 'alert') return;
      log().info(`alert ${e.state}: ${e.message}`);
      if (e.state === 'firing') {
        const buttons = [buttonFor(e)];
        const shown = `MLOps alert: ${e.message}${e.version !== undefined && buttons[0] !== OPEN_REPORT ? ` on v${e.version}` : ''}`;
        alerts.push({ event: e, shown, buttons });
        void vscode.window.showWarningMessage(shown, ...buttons).then((b) => {
          if (b === OPEN_REPORT) void vscode.commands.executeCommand('mlops.showDeploymentDrift', e.deployment, e.reportPath ?? latest(e.deployment));
          if (b === OPEN_LIVE_MONITOR) void vscode.commands.executeCommand('mlops.openDeploymentMonitor', { name: e.deployment });
          if (b === SHOW_ACCURACY) void showFigures(e.deployment);
        });
      } else {
        const shown = `MLOps: ${e.message}`;
        alerts.push({ event: e, shown, buttons: [] });
        void vscode.window.showInformationMessage(shown);
      }
    }),
  );

  return {
    alerts,
    get panel() {
      return panel;
    },
    showAccuracy: showFigures,
  };
}
