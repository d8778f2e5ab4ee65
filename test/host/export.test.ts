import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { activateExtension, mlopsDiagnostics, note, screenshot, waitFor, workspaceUri } from './util';

/** The visible editor showing the export of the manifest, if any. */
function exportEditor(): vscode.TextEditor | undefined {
  return vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'mlops-export');
}

describe('export: the exported workflow beside the manifest (real VS Code)', function () {
  this.timeout(60_000);
  let manifest: vscode.TextEditor;
  let original = '';

  before(async () => {
    await activateExtension();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    original = fs.readFileSync(workspaceUri('mlops.yaml').fsPath, 'utf8');
    manifest = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(workspaceUri('mlops.yaml')), vscode.ViewColumn.One);
  });

  after(async () => {
    // Leave the shared workspace as it was for the other suites, on disk and in the editor: a
    // later suite's run saves dirty documents, and a revert of whatever editor is active can miss.
    const doc = await vscode.workspace.openTextDocument(workspaceUri('mlops.yaml'));
    if (doc.getText() !== original) {
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), original);
      await vscode.workspace.applyEdit(edit);
    }
    if (doc.isDirty) await doc.save();
    assert.strictEqual(fs.readFileSync(doc.uri.fsPath, 'utf8'), original, 'mlops.yaml is back as it was');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens the Argo Workflow read-only beside the manifest', async () => {
    const uri = (await vscode.commands.executeCommand<vscode.Uri>('mlops.showExport', undefined, 'argo'))!;
    assert.strictEqual(uri.scheme, 'mlops-export');
    const view = await waitFor('the export editor', () => exportEditor());
    assert.strictEqual(view.viewColumn, vscode.ViewColumn.Two, 'beside the manifest');
    assert.strictEqual(view.document.languageId, 'yaml');
    const text = view.document.getText();
    assert.match(text, /^kind: Workflow$/m);
    assert.match(text, /^ {4}- name: train$/m);
    assert.match(text, /# WARNING \(prepare\): Step "prepare" has no container image/, 'parity notes on top');
  });

  it('follows edits to the manifest (unsaved) a moment later', async () => {
    const at = manifest.document.getText().indexOf('steps:');
    const edit = new vscode.WorkspaceEdit();
    edit.insert(manifest.document.uri, manifest.document.positionAt(at), 'export:\n  target: argo\n  image: node:20-slim\n\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const view = await waitFor('the export with the image', () => (exportEditor()?.document.getText().includes('image: node:20-slim') ? exportEditor() : undefined), 10_000);
    assert.doesNotMatch(view.document.getText(), /no container image/, 'the warning is gone once there is a default image');
    // With export.target set, the language server shows the parity notes on the step keys.
    const diags = await waitFor('parity diagnostics', () => {
      const d = mlopsDiagnostics(manifest.document.uri).filter((x) => String(typeof x.code === 'object' ? x.code.value : x.code).startsWith('export-'));
      return d.length ? d : undefined;
    });
    note(`parity diagnostics: ${diags.map((d) => `${d.code} @${d.range.start.line + 1}`).join(', ')}`);
    assert.ok(diags.every((d) => d.severity === vscode.DiagnosticSeverity.Information || d.severity === vscode.DiagnosticSeverity.Warning));
    await vscode.window.showTextDocument(manifest.document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    const line = manifest.document.positionAt(at).line;
    manifest.revealRange(new vscode.Range(line - 4, 0, line - 4, 0), vscode.TextEditorRevealType.AtTop);
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshot('export-side-by-side');
  });

  it('shows a KFP pipeline spec, and why it cannot export a broken manifest', async () => {
    await vscode.commands.executeCommand('mlops.showExport', manifest.document.uri, 'kfp');
    const kfp = await waitFor('the KFP view', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.path.endsWith('.kfp.yaml')));
    assert.match(kfp.document.getText(), /^deploymentSpec:$/m);
    const edit = new vscode.WorkspaceEdit();
    const needs = manifest.document.getText().indexOf('needs: [prepare]');
    edit.replace(manifest.document.uri, new vscode.Range(manifest.document.positionAt(needs), manifest.document.positionAt(needs + 'needs: [prepare]'.length)), 'needs: [prepair]');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('the error in the view', () => (/# Cannot export mlops\.yaml yet:[\s\S]*Unknown step "prepair"/.test(kfp.document.getText()) ? true : undefined), 10_000);
  });
});
