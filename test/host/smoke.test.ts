// Smoke test of the *installed* .vsix (run by scripts/run-vsix-smoke.mjs with MLOPS_HOST_SUITE=smoke):
// the extension comes from the extensions dir, not from the repo, and must work from what it ships.
import * as assert from 'node:assert';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ValidationSummary } from '../../client/src/commands/manifest-commands';
import type { MlopsApi } from '../../client/src/extension';
import { EXT_ID, mlopsDiagnostics, note, waitFor, workspaceUri } from './util';

const inside = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

describe('smoke: the installed .vsix in a real VS Code', () => {
  let ext: vscode.Extension<MlopsApi>;

  it('is installed from the extensions dir, not loaded from the repo', () => {
    const found = vscode.extensions.getExtension<MlopsApi>(EXT_ID);
    assert.ok(found, `extension ${EXT_ID} is installed`);
    ext = found;
    const repo = process.env.MLOPS_REPO_ROOT;
    const extensionsDir = process.env.MLOPS_TEST_EXTENSIONS_DIR;
    assert.ok(repo && extensionsDir, 'the runner passes MLOPS_REPO_ROOT and MLOPS_TEST_EXTENSIONS_DIR');
    assert.ok(!inside(ext.extensionPath, repo), `extensionPath ${ext.extensionPath} is not inside the repo ${repo}`);
    assert.ok(inside(ext.extensionPath, extensionsDir), `extensionPath ${ext.extensionPath} is inside ${extensionsDir}`);
    assert.strictEqual(ext.packageJSON.devDependencies, undefined, 'the shipped package.json is the trimmed one');
    note(`${EXT_ID}@${ext.packageJSON.version} at ${ext.extensionPath}; VS Code ${vscode.version}, Node ${process.version}, remoteName=${vscode.env.remoteName}`);
  });

  it('activates on the workspace (workspaceContains:**/mlops.yaml)', async () => {
    // No activate() call: the activation event alone must start it.
    await waitFor('the extension to activate', () => (ext.isActive ? true : undefined), 30_000);
    await waitFor('the language server to run', () => (ext.exports.client.isRunning() ? true : undefined), 30_000);
  });

  it('publishes language-server diagnostics for a broken manifest', async () => {
    const uri = workspaceUri('smoke-broken', 'mlops.yaml');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('version: 1\nproject: smoke\nsteps:\n  a:\n    cmd: x\n    needs: [nope]\n'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
    const diags = await waitFor('a diagnostic for needs: [nope]', () => {
      const d = mlopsDiagnostics(uri).filter((x) => x.message.includes('Unknown step "nope"'));
      return d.length ? d : undefined;
    });
    assert.strictEqual(diags[0].severity, vscode.DiagnosticSeverity.Error);
  });

  it('runs mlops.validateWorkspace', async () => {
    const summary = await vscode.commands.executeCommand<ValidationSummary>('mlops.validateWorkspace');
    assert.ok(summary, 'the command returns its summary');
    assert.ok(summary.manifests >= 2, `checked the example and the broken manifest: ${JSON.stringify(summary)}`);
    assert.ok(summary.errors >= 1, `counted the broken manifest's error: ${JSON.stringify(summary)}`);
    note(`validateWorkspace: ${JSON.stringify(summary)}`);
  });

  it('loads the shipped native modules in the extension host (libsql, onnxruntime-node)', async () => {
    // Resolve exactly as the bundles do: from the installed dist/, so from the installed node_modules.
    const req = createRequire(path.join(ext.extensionPath, 'dist', 'client', 'extension.js'));
    for (const name of ['libsql', 'onnxruntime-node']) {
      const resolved = req.resolve(name);
      assert.ok(inside(resolved, path.join(ext.extensionPath, 'node_modules')), `${name} resolves inside the installed extension: ${resolved}`);
    }
    const Database = req('libsql') as new (file: string) => { prepare(sql: string): { get(): Record<string, unknown> }; close(): void };
    const db = new Database(':memory:');
    const version = db.prepare('select sqlite_version() as v').get().v;
    db.close();
    assert.match(String(version), /^3\.\d+\.\d+$/);
    const ort = req('onnxruntime-node') as { listSupportedBackends(): { name: string }[] };
    assert.ok(ort.listSupportedBackends().some((b) => b.name === 'cpu'), 'onnxruntime-node has its cpu backend');
    note(`Node ${process.version} (ABI ${process.versions.modules}): sqlite_version() = ${version}; onnxruntime-node loaded`);
  });

  it('starts the daemon from the installed extension and runs the sample pipeline, ONNX inference included', async () => {
    const api = ext.exports;
    try {
      const outcome = await vscode.commands.executeCommand<{ runId: string; status: string }>('mlops.runPipeline');
      assert.ok(outcome, 'the run command returned the run');
      const run = await api.orchestrator!.getRun(outcome.runId);
      assert.strictEqual(run.status, 'succeeded', run.message);
      // evaluate loads the ONNX model with onnxruntime-node found through MLOPS_HOME = the installed extension.
      assert.ok(run.latestMetrics.accuracy >= 0.95, `held-out accuracy from ONNX inference: ${run.latestMetrics.accuracy}`);
      const health = await api.orchestrator!.listExperiments();
      note(`pipeline run ${outcome.runId.slice(0, 8)} from the installed .vsix: accuracy ${run.latestMetrics.accuracy}, ${health.length} experiment(s)`);
    } finally {
      await api.orchestrator?.stop();
    }
  });
});
