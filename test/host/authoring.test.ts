import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { activateExtension, mlopsDiagnostics, note, waitFor, workspaceUri } from './util';

/** Position `delta` characters after the `nth` occurrence of `needle`. */
function at(doc: vscode.TextDocument, needle: string, delta = 0, nth = 0): vscode.Position {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = doc.getText().indexOf(needle, i + 1);
    assert.ok(i >= 0, `"${needle}" (#${nth}) occurs in ${doc.uri.fsPath}`);
  }
  return doc.positionAt(i + delta);
}

const markdown = (h: vscode.Hover) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');

describe('authoring help on the example manifest (real VS Code + language server)', () => {
  let doc: vscode.TextDocument;

  before(async () => {
    const api = await activateExtension();
    await waitFor('language server running', () => (api.client.isRunning() ? true : undefined));
    doc = await vscode.workspace.openTextDocument(workspaceUri('mlops.yaml'));
    await vscode.window.showTextDocument(doc, { preview: false });
    // The server answers once it has the document: wait for its first hover.
    await waitFor('the server to know the manifest', async () => {
      const h = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at(doc, 'needs: [prepare]', 10));
      return h.some((x) => markdown(x).includes('step')) ? true : undefined;
    });
  });

  it('completes step names in needs and the keys a step may have', async () => {
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    // Type a new key line in the train step, ask for completion, then undo.
    const line = at(doc, '    timeout: 5m').line + 1;
    assert.ok(await editor.edit((e) => e.insert(new vscode.Position(line, 0), '    \n')));
    try {
      const keys = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(line, 4));
      const labels = keys.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      for (const k of ['retries', 'resources', 'env']) assert.ok(labels.includes(k), `offers ${k}: ${labels.join(', ')}`);
      assert.ok(!labels.includes('cmd'), 'not the keys the step already has');
      const retries = keys.items.find((i) => i.label === 'retries')!;
      const docs = typeof retries.documentation === 'string' ? retries.documentation : (retries.documentation?.value ?? '');
      assert.match(docs, /retry/i, 'documented from the schema');
    } finally {
      await vscode.commands.executeCommand('undo');
    }
    const needs = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, at(doc, 'needs: [train]', 8));
    const names = needs.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(names.includes('prepare') && !names.includes('evaluate'), `step names other than the step itself: ${names.join(', ')}`);
    note(`completion: ${labels(needs)}`);
  });

  it("hovers a reference with what it points to, and a key with the schema's documentation", async () => {
    const step = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at(doc, 'needs: [prepare]', 10));
    const text = step.map(markdown).join('\n');
    assert.match(text, /node steps\/prepare\.mjs/);
    assert.match(text, /data\/prepared\/train\.csv/);
    const key = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at(doc, '    timeout: 2m', 6));
    assert.match(key.map(markdown).join('\n'), /Maximum run time of the step/);
    const param = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at(doc, '${params.lr}', 10));
    assert.match(param.map(markdown).join('\n'), /\*\*param\*\* `lr` = `0\.1`/);
  });

  it('goes to the definition of a step used in ${…} and opens a file named in deps', async () => {
    const defs = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', doc.uri, at(doc, '${steps.prepare.outs.0}', 10));
    assert.strictEqual(defs.length, 1);
    const loc = defs[0] as vscode.Location;
    assert.strictEqual(loc.uri.toString(), doc.uri.toString());
    assert.strictEqual(doc.getText(loc.range), 'prepare');
    assert.strictEqual(loc.range.start.line, at(doc, '  prepare:\n').line);
    const file = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeDefinitionProvider', doc.uri, at(doc, '      - lib/csv.mjs', 10));
    assert.ok(file[0].uri.path.endsWith('/lib/csv.mjs'), file[0].uri.toString());
  });

  it('renames a step across the manifest and refuses a name that is taken', async () => {
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', doc.uri, at(doc, '  train:\n', 3), 'fit');
    const edits = edit.get(doc.uri);
    // The key, `needs: [train]` of evaluate, and `from: train` of the model.
    assert.strictEqual(edits.length, 3, edits.map((e) => `${e.range.start.line}:${e.newText}`).join(', '));
    assert.ok(edits.every((e) => doc.getText(e.range) === 'train' && e.newText === 'fit'));
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('vscode.executeDocumentRenameProvider', doc.uri, at(doc, '  train:\n', 3), 'evaluate')),
      /already exists/,
    );
  });

  it('offers a quick fix for a misspelt step and the fix clears the problem', async () => {
    const uri = workspaceUri('authoring-fix', 'mlops.yaml');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('version: 1\nproject: fix\nsteps:\n  prepare:\n    cmd: echo prepare\n  train:\n    cmd: echo train\n    needs: [prepar]\n'));
    try {
      const fixDoc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(fixDoc, { preview: false });
      const diag = await waitFor('the unknown-step diagnostic', () => mlopsDiagnostics(uri).find((d) => d.message.includes('Unknown step "prepar"')));
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, diag.range, vscode.CodeActionKind.QuickFix.value);
      const fix = actions.find((a) => a.title === 'Change to "prepare"');
      assert.ok(fix?.edit, `a did-you-mean fix among: ${actions.map((a) => a.title).join(', ')}`);
      assert.ok(fix.isPreferred);
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      assert.match(fixDoc.getText(), /needs: \[prepare\]/);
      await waitFor('the problem to go away', () => (mlopsDiagnostics(uri).length === 0 ? true : undefined));
      await fixDoc.save();
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(uri, '..'), { recursive: true });
    }
  });
});

function labels(l: vscode.CompletionList): string {
  return l.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label)).join(', ');
}
