import * as vscode from 'vscode';
import { parse } from 'yaml';
import { exportTargetOf, type ExportTarget } from '../../../orchestrator/export/parity';
import type { Ctx } from '../ctx';
import { log } from '../log';
import { EXPORT_SCHEME, ExportDocuments, exportUri } from './export-documents';

export { EXPORT_SCHEME, exportUri } from './export-documents';

/** The manifest to export: the active mlops.yaml editor, else the workspace's mlops.yaml. */
function manifestUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.scheme === 'file' && /(^|\/)(.+\.)?mlops\.yaml$/.test(active.path)) return active;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? vscode.Uri.joinPath(folder.uri, 'mlops.yaml') : undefined;
}

async function pickTarget(manifest: vscode.Uri): Promise<ExportTarget | undefined> {
  try {
    const doc = await vscode.workspace.openTextDocument(manifest);
    const target = exportTargetOf(parse(doc.getText()));
    if (target) return target;
  } catch {
    // An unparsable manifest still gets the quick pick; the view then says what is wrong.
  }
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Argo Workflows', description: 'Workflow YAML', target: 'argo' as const },
      { label: 'Kubeflow Pipelines', description: 'v2 pipeline spec (IR YAML)', target: 'kfp' as const },
    ],
    { title: 'Export the pipeline to… (set export.target in mlops.yaml to skip this)' },
  );
  return picked?.target;
}

/** `mlops.showExport`: the exported workflow beside the manifest, updated as the manifest is edited. */
export function registerExport(c: Ctx): void {
  const docs = c.push(new ExportDocuments());
  c.push(vscode.workspace.registerTextDocumentContentProvider(EXPORT_SCHEME, docs));
  c.registerCommand('mlops.showExport', async (arg?: unknown, target?: ExportTarget) => {
    const manifest = manifestUri(arg);
    if (!manifest) return void vscode.window.showWarningMessage('MLOps: open a folder with an mlops.yaml to export its pipeline.');
    const chosen = target ?? (await pickTarget(manifest));
    if (!chosen) return undefined;
    try {
      const doc = await vscode.workspace.openTextDocument(exportUri(manifest, chosen));
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: true });
      return doc.uri;
    } catch (e) {
      log().error(`export of ${manifest.toString()} failed: ${(e as Error)?.stack ?? e}`);
      void vscode.window.showErrorMessage(`MLOps: could not export ${manifest.fsPath} (${(e as Error)?.message ?? e}).`, 'Show Log').then((b) => b && log().show());
      return undefined;
    }
  });
}
