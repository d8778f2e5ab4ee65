import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { isManifest } from '../language-client';
import { log } from '../log';

/** Summary returned by `mlops.validateWorkspace` (and shown to the user). */
export interface ValidationSummary {
  manifests: number;
  errors: number;
  warnings: number;
  /** Manifests VS Code cannot open as text (binary files). */
  unreadable: string[];
}

async function findManifests(): Promise<vscode.Uri[]> {
  return vscode.workspace.findFiles('**/{mlops.yaml,*.mlops.yaml}', '**/{node_modules,.mlops,.git}/**', 200);
}

/** Waits until the language server has published diagnostics for a document version. */
function diagnosticsSettled(uri: vscode.Uri, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) done();
    });
    function done() {
      clearTimeout(timer);
      sub.dispose();
      resolve();
    }
  });
}

export function registerManifestCommands(ctx: Ctx): void {
  ctx.registerCommand('mlops.openManifest', async () => {
    const found = await findManifests();
    if (found.length === 0) {
      const pick = await vscode.window.showInformationMessage('No mlops.yaml in this workspace.', 'Create mlops.yaml');
      if (pick && vscode.workspace.workspaceFolders?.[0]) {
        const uri = vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, 'mlops.yaml');
        await vscode.workspace.fs.writeFile(uri, Buffer.from('version: 1\nproject: my-project\nparams: {}\nsteps: {}\n'));
        await vscode.window.showTextDocument(uri);
      }
      return;
    }
    const uri = found.length === 1 ? found[0] : (await vscode.window.showQuickPick(found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u }))))?.uri;
    if (uri) await vscode.window.showTextDocument(uri);
  });

  ctx.registerCommand('mlops.validateWorkspace', async (): Promise<ValidationSummary> => {
    const found = await findManifests();
    const uris: vscode.Uri[] = [];
    const unreadable: string[] = [];
    for (const uri of found) {
      const already = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString() && isManifest(d));
      const settled = already ? Promise.resolve() : diagnosticsSettled(uri, 30_000);
      try {
        await vscode.workspace.openTextDocument(uri);
        uris.push(uri);
        await settled;
      } catch (e) {
        // VS Code will not open binary files as text: say so instead of failing the whole check.
        unreadable.push(vscode.workspace.asRelativePath(uri));
        log().warn(`cannot open ${uri.fsPath}: ${(e as Error).message}`);
      }
    }
    let errors = 0;
    let warnings = 0;
    for (const uri of uris) {
      for (const d of vscode.languages.getDiagnostics(uri)) {
        if (d.source !== 'mlops') continue;
        if (d.severity === vscode.DiagnosticSeverity.Error) errors++;
        else if (d.severity === vscode.DiagnosticSeverity.Warning) warnings++;
      }
    }
    const summary = { manifests: uris.length, errors, warnings, unreadable };
    const text = `MLOps: ${uris.length} manifest${uris.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}` +
      (unreadable.length ? `; not text, skipped: ${unreadable.join(', ')}.` : '.');
    if (errors > 0) {
      void vscode.window.showErrorMessage(text, 'Show Problems').then((b) => b && vscode.commands.executeCommand('workbench.actions.view.problems'));
    } else void vscode.window.showInformationMessage(text);
    return summary;
  });
}
