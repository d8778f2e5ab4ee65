/**
 * Data validation and drift in the IDE: `mlops.showDriftReport` (pick a reference and a
 * current file, see the report in a webview) and `mlops.checkData` (dataset expectations as
 * Problems on the manifest lines that declare them, refreshed when mlops.yaml is saved and
 * when a run stops on a data check). Both run the bundled CLI; the core stays out of the
 * extension host.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DriftReport } from '../../../protocol/data';
import type { Ctx } from '../ctx';
import { log } from '../log';
import { panelOptions } from '../webviews/html';
import { runCli } from './cli';
import { DataProblems } from './data-problems';
import { DRIFT_VIEW_TYPE, DriftReportPanel } from './drift-panel';

export { DriftReportPanel } from './drift-panel';
export { DataProblems } from './data-problems';

const DATA_FILES = { 'Data files': ['csv', 'tsv', 'json', 'jsonl', 'ndjson', 'parquet'] };

async function pickFile(title: string, near?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: DATA_FILES, defaultUri: near ?? vscode.workspace.workspaceFolders?.[0]?.uri, openLabel: 'Select' });
  return picked?.[0];
}

/** Registers the drift and data-check commands; returns the open panel and the Problems source for tests. */
export function registerDrift(ctx: Ctx): { readonly panel: DriftReportPanel | undefined; readonly problems: DataProblems | undefined } {
  const context = ctx.extension;
  let panel: DriftReportPanel | undefined;
  const folder = vscode.workspace.workspaceFolders?.[0];
  const problems = folder && folder.uri.scheme === 'file' ? ctx.push(new DataProblems(context, folder)) : undefined;
  ctx.push({ dispose: () => panel?.dispose() });

  /** MLOps: Show Drift Report… — with (reference, current) URIs, or two file pickers. Returns the panel. */
  ctx.registerCommand('mlops.showDriftReport', async (refArg?: vscode.Uri, curArg?: vscode.Uri) => {
    const reference = refArg instanceof vscode.Uri ? refArg : await pickFile('MLOps: Drift Report — pick the REFERENCE data');
    if (!reference) return undefined;
    const current = curArg instanceof vscode.Uri ? curArg : await pickFile('MLOps: Drift Report — pick the CURRENT data', reference);
    if (!current) return undefined;
    const cwd = folder?.uri.fsPath ?? path.dirname(reference.fsPath);
    const shown = (u: vscode.Uri) => (folder ? path.relative(folder.uri.fsPath, u.fsPath) : path.basename(u.fsPath));
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: comparing ${shown(current)} with ${shown(reference)}…`, cancellable: true }, (_p, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return runCli(context, cwd, ['drift', '--reference', reference.fsPath, '--current', current.fsPath, '--json'], abort.signal).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    });
    if (result.code !== 0 && result.code !== 1) {
      if (result.code !== -1 || !/abort/i.test(result.stderr)) {
        log().error(`mlops drift failed (exit ${result.code}): ${result.stderr}`);
        void vscode.window.showErrorMessage(`MLOps: drift report failed: ${result.stderr.trim().replace(/^mlops: /, '') || `exit ${result.code}`}`, 'Show Log').then((b) => b && log().show());
      }
      return undefined;
    }
    const report = JSON.parse(result.stdout) as DriftReport;
    report.reference.path = shown(reference);
    report.current.path = shown(current);
    if (panel) {
      panel.panel.reveal();
      panel.show(report);
      return panel;
    }
    const opened = new DriftReportPanel(vscode.window.createWebviewPanel(DRIFT_VIEW_TYPE, 'Drift Report', vscode.ViewColumn.Active, panelOptions(context.extensionUri)), report, context.extensionUri);
    panel = opened;
    opened.onDidDispose(() => {
      if (panel === opened) panel = undefined;
    });
    return opened;
  });

  /** MLOps: Check Data Expectations — Problems on the manifest; returns the report. */
  ctx.registerCommand('mlops.checkData', async () => {
    if (!problems) return undefined;
    const report = await problems.check();
    if (report && !report.success) {
      const n = report.datasets.reduce((s, d) => s + d.results.filter((r) => !r.success).length + (d.error ? 1 : 0), 0);
      void vscode.window.showWarningMessage(`MLOps: ${n} data expectation${n === 1 ? '' : 's'} failed.`, 'Show Problems').then((b) => b && vscode.commands.executeCommand('workbench.actions.view.problems'));
    }
    return report;
  });

  if (problems && vscode.workspace.isTrusted) {
    const refresh = () => void problems.check().catch((e: Error) => log().warn(`data check: ${e.message}`));
    ctx.push(vscode.workspace.onDidSaveTextDocument((d) => path.basename(d.uri.fsPath) === 'mlops.yaml' && refresh()));
    refresh();
  }

  return {
    get panel() {
      return panel;
    },
    get problems() {
      return problems;
    },
  };
}
