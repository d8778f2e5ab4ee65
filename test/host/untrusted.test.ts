import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { activateExtension, mlopsDiagnostics, note, waitFor, workspaceUri } from './util';

/**
 * Runs only in the second host session, with Workspace Trust on and the folder untrusted
 * (scripts/run-host-tests.mjs with VSCODE_TEST_UNTRUSTED=1): the extension activates in
 * restricted mode (`untrustedWorkspaces: limited`), keeps validating, and runs nothing.
 */
describe('untrusted workspace (Workspace Trust on, folder not trusted)', () => {
  it('is really untrusted, and the extension still activates', async () => {
    assert.strictEqual(vscode.workspace.isTrusted, false);
    const api = await activateExtension();
    assert.ok(api.client, 'the language client started');
  });

  it('still validates the manifest', async () => {
    const uri = workspaceUri('untrusted-check', 'mlops.yaml');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('version: 1\nproject: u\nsteps:\n  a:\n    cmd: echo a\n    needs: [b]\n'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const d = await waitFor('a diagnostic', () => mlopsDiagnostics(uri)[0]);
    assert.match(d.message, /Unknown step "b"/);
  });

  it('refuses to run anything and says why', async () => {
    const shown: string[] = [];
    const original = vscode.window.showWarningMessage;
    // Capture the message the user would see (the real one is modal-free and would just sit there).
    (vscode.window as { showWarningMessage: unknown }).showWarningMessage = (msg: string) => {
      shown.push(msg);
      return Promise.resolve(undefined);
    };
    try {
      // Commands are disabled by `enablement: isWorkspaceTrusted`: executing them is refused outright.
      const refusal = await vscode.commands.executeCommand('mlops.runPipeline').then(() => undefined, (e: Error) => e.message);
      const started = await vscode.commands.executeCommand('mlops.startOrchestrator').then((r) => r, (e: Error) => e.message);
      note(`runPipeline: ${refusal ?? 'returned without running'}; startOrchestrator: ${JSON.stringify(started)}; messages: ${JSON.stringify(shown)}`);
      // The fixture is copied without run state, so any run or daemon would have created .mlops/.
      assert.ok(!fs.existsSync(workspaceUri('.mlops').fsPath), 'no daemon was started and nothing ran');
      assert.ok(refusal !== undefined || shown.some((m) => /untrusted workspace/.test(m)), 'the refusal is explained');
    } finally {
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = original;
    }
  });
});
