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

  it('refuses every deployment command with the reason, and serves nothing', async () => {
    const shown: string[] = [];
    const original = vscode.window.showWarningMessage;
    (vscode.window as { showWarningMessage: unknown }).showWarningMessage = (msg: string) => {
      shown.push(msg);
      return Promise.resolve(undefined);
    };
    // Arguments that would act at once in a trusted workspace (no pick, no confirmation).
    const name = 'penguins-api';
    const calls: [string, unknown][] = [
      ['mlops.deployModel', { name, version: 1, confirm: true }],
      ['mlops.startCanary', { name, version: 2, weight: 10 }],
      ['mlops.splitTraffic', { name, weights: { 1: 50, 2: 50 } }],
      ['mlops.startShadow', { name, version: 2 }],
      ['mlops.stopShadow', { name }],
      ['mlops.rollbackDeployment', { name }],
      ['mlops.undeploy', { name, confirm: true }],
      ['mlops.sendTestRequest', { name, send: true }],
    ];
    try {
      for (const [id, arg] of calls) {
        const before = shown.length;
        const outcome = await vscode.commands.executeCommand(id, arg).then((r) => ({ result: r }), (e: Error) => ({ refusal: e.message }));
        const said = shown.slice(before);
        note(`${id}: ${'refusal' in outcome ? `refused: ${outcome.refusal}` : `returned ${JSON.stringify(outcome.result)}`}; messages: ${JSON.stringify(said)}`);
        if ('result' in outcome) {
          assert.strictEqual(outcome.result, undefined, `${id} did nothing`);
          assert.ok(said.some((m) => /untrusted workspace/.test(m)), `${id} explains the refusal: ${JSON.stringify(said)}`);
        }
      }
      assert.ok(!fs.existsSync(workspaceUri('.mlops', 'deployments').fsPath), 'no deployment was started');
      assert.ok(!fs.existsSync(workspaceUri('.mlops').fsPath), 'no daemon was started');
    } finally {
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = original;
    }
  });
});
