import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { activateExtension, mlopsDiagnostics, note, screenshot, waitFor, workspaceUri } from './util';

/** Range of `needle` inside the first occurrence of `context` (default: the needle itself). */
function rangeOf(doc: vscode.TextDocument, needle: string, context = needle): vscode.Range {
  const c = doc.getText().indexOf(context);
  assert.ok(c >= 0, `"${context}" occurs in ${doc.uri.fsPath}`);
  const at = c + context.indexOf(needle);
  return new vscode.Range(doc.positionAt(at), doc.positionAt(at + needle.length));
}

async function writeAndOpen(rel: string, text: string | Uint8Array): Promise<vscode.TextDocument> {
  const uri = workspaceUri(...rel.split('/'));
  await vscode.workspace.fs.writeFile(uri, typeof text === 'string' ? Buffer.from(text) : text);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

const BROKEN = `version: 1
project: broken
params:
  lr: 0.1
steps:
  prepare:
    cmd: node prepare.mjs \${params.lrr}
    outs: [data/features.csv]
  train:
    needs: [prepar]
    cmd: node train.mjs
    deps: [data/features.csv]
    outs: [data/features.csv]
    retries: lots
    timeoutt: 5m
models:
  clf:
    from: trainn
    artifact: model.onnx
`;

describe('manifest diagnostics (real VS Code + language server)', () => {
  before(async () => {
    await activateExtension();
  });

  it('reports no problems on the example manifest', async () => {
    const uri = workspaceUri('mlops.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    // The server publishes an empty list for a clean file; wait until it has answered at all.
    const api = await activateExtension();
    await waitFor('language server running', () => (api.client.isRunning() ? true : undefined));
    await new Promise<void>((resolve) => {
      const sub = vscode.languages.onDidChangeDiagnostics(() => { sub.dispose(); resolve(); });
      setTimeout(() => { sub.dispose(); resolve(); }, 5000);
    });
    assert.deepStrictEqual(mlopsDiagnostics(uri).map((d) => d.message), []);
  });

  it('reports every problem of a broken manifest at its exact range', async () => {
    const doc = await writeAndOpen('broken/mlops.yaml', BROKEN);
    const diags = await waitFor('diagnostics of broken/mlops.yaml', () => {
      const d = mlopsDiagnostics(doc.uri);
      return d.length >= 6 ? d : undefined;
    });
    const find = (fragment: string) => {
      const d = diags.find((x) => x.message.includes(fragment));
      assert.ok(d, `a diagnostic mentioning ${fragment}; got:\n${diags.map((x) => x.message).join('\n')}`);
      return d;
    };
    const check = (fragment: string, needle: string, context?: string) => assert.deepStrictEqual(find(fragment).range, rangeOf(doc, needle, context), fragment);
    check('unknown param "lrr"', '${params.lrr}');
    check('Unknown step "prepar"', 'prepar', '[prepar]');
    check('Unknown step "trainn"', 'trainn');
    check('Unknown property "timeoutt"', 'timeoutt');
    check('"retries" of step "train" must be', 'lots');
    const dupes = diags.filter((d) => d.message.startsWith('Output "data/features.csv" is also declared'));
    assert.strictEqual(dupes.length, 2, 'the duplicate out is reported on both steps');
    assert.ok(find('did you mean "prepare"?'));
    assert.ok(diags.every((d) => d.severity === vscode.DiagnosticSeverity.Error));
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await screenshot('diagnostics');
  });

  it('updates the diagnostics as the document is edited', async () => {
    const doc = await writeAndOpen('edit/mlops.yaml', 'version: 1\nproject: edit\nsteps:\n  a:\n    cmd: echo a\n  b:\n    cmd: echo b\n    needs: [a]\n');
    await waitFor('clean initial state', () => (mlopsDiagnostics(doc.uri).length === 0 ? true : undefined));
    // Introduce a cycle: a needs b, b needs a.
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, doc.positionAt(doc.getText().indexOf('    cmd: echo a')), '    needs: [b]\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const cyc = await waitFor('cycle diagnostics', () => {
      const d = mlopsDiagnostics(doc.uri).filter((x) => x.message.startsWith('Cycle in the pipeline'));
      return d.length === 2 ? d : undefined;
    });
    assert.ok(cyc.every((d) => d.message.includes('a → b → a') || d.message.includes('b → a → b')), cyc.map((d) => d.message).join('\n'));
    assert.deepStrictEqual(cyc.map((d) => doc.getText(d.range)).sort(), ['a', 'b']);
    // Undo by removing the line again: the problems go away.
    const fix = new vscode.WorkspaceEdit();
    const line = doc.lineAt(doc.positionAt(doc.getText().indexOf('    needs: [b]')).line);
    fix.delete(doc.uri, line.rangeIncludingLineBreak);
    assert.ok(await vscode.workspace.applyEdit(fix));
    await waitFor('diagnostics cleared', () => (mlopsDiagnostics(doc.uri).length === 0 ? true : undefined));
  });

  it('explains an empty manifest and a binary file instead of failing', async () => {
    const empty = await writeAndOpen('empty/mlops.yaml', '');
    const e = await waitFor('empty-file diagnostic', () => mlopsDiagnostics(empty.uri)[0]);
    assert.match(e.message, /The manifest is empty/);
    // Bytes that are not UTF-8 (VS Code itself refuses to open files with NUL bytes as text;
    // the language-server tests cover those).
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = 0x80 + ((i * 7919) % 128);
    const bin = await writeAndOpen('binary/mlops.yaml', bytes);
    const b = await waitFor('binary-file diagnostic', () => mlopsDiagnostics(bin.uri)[0]);
    assert.match(b.message, /binary data|not UTF-8/);
  });

  it('runs the contributed Validate Manifests command', async () => {
    const summary = await vscode.commands.executeCommand<{ manifests: number; errors: number; warnings: number }>('mlops.validateWorkspace');
    note(`validateWorkspace: ${JSON.stringify(summary)}`);
    assert.ok(summary.manifests >= 5, `found the manifests (${summary.manifests})`);
    assert.ok(summary.errors >= 9, `counted the errors of the broken files (${summary.errors})`);
  });
});
