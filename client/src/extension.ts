import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { registerManifestCommands } from './commands/manifest-commands';
import { registerRunCommands } from './commands/run-commands';
import { registerViewCommands } from './commands/view-commands';
import { Ctx } from './ctx';
import { registerDrift } from './drift';
import { registerExport } from './export';
import { registerDeployments, type DeploymentsApi } from './deployments';
import { registerMonitoring, type MonitoringApi } from './monitoring';
import { createLanguageClient } from './language-client';
import { log } from './log';
import { OrchestratorConnection } from './orchestrator/connection';
import { registerModels, type ModelsTree } from './registry';
import { ManifestCodeLens } from './views/codelens';
import { ExperimentsTree } from './views/experiments-tree';
import { LOG_SCHEME, LogDocuments } from './views/log-documents';
import { PipelineState } from './views/pipeline-state';
import { PipelineTree } from './views/pipeline-tree';
import { createStatusBar } from './views/status-bar';
import { registerSweeps } from './sweeps';
import { registerWebviews } from './webviews';

/** What activate() returns: used by the host tests to reach the extension's parts. */
export interface MlopsApi {
  client: LanguageClient;
  orchestrator?: OrchestratorConnection;
  experiments?: ExperimentsTree;
  pipeline?: PipelineTree;
  models?: ModelsTree;
  deployments?: DeploymentsApi;
  monitoring?: MonitoringApi;
}

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<MlopsApi> {
  ctx = new Ctx(context);
  log().info(`MLOps Workbench activating (VS Code ${vscode.version}, Node ${process.version}, trusted: ${vscode.workspace.isTrusted})`);
  const client = createLanguageClient(context);
  ctx.push({ dispose: () => void client.stop() });
  registerManifestCommands(ctx);
  registerDrift(ctx);
  registerExport(ctx);
  ctx.registerCommand('mlops.showLog', () => log().show());
  const api: MlopsApi = { client };

  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder && folder.uri.scheme === 'file') Object.assign(api, wireOrchestrator(ctx, context, folder));
  if (api.orchestrator) Object.assign(api, registerModels(ctx, api.orchestrator));
  if (api.orchestrator) api.deployments = registerDeployments(ctx, api.orchestrator, context.extensionUri);
  if (api.orchestrator) api.monitoring = registerMonitoring(ctx, api.orchestrator);

  try {
    await client.start();
  } catch (e) {
    log().error(`language server failed to start: ${(e as Error)?.stack ?? e}`);
    void vscode.window.showErrorMessage(`MLOps: the language server did not start (${(e as Error)?.message ?? e}).`, 'Show Log').then((b) => b && log().show());
  }
  return api;
}

/** The orchestrator side: connection, trees, CodeLens, status bar and the run commands. */
function wireOrchestrator(c: Ctx, context: vscode.ExtensionContext, folder: vscode.WorkspaceFolder): Pick<MlopsApi, 'orchestrator' | 'experiments' | 'pipeline'> {
  const conn = c.push(new OrchestratorConnection(folder.uri.fsPath, context.asAbsolutePath(path.join('dist', 'cli', 'mlops.js'))));
  const manifest = () => vscode.Uri.joinPath(folder.uri, 'mlops.yaml');
  void vscode.workspace.fs.stat(manifest()).then(
    () => vscode.commands.executeCommand('setContext', 'mlops.hasManifest', true),
    () => vscode.commands.executeCommand('setContext', 'mlops.hasManifest', false),
  );
  const experiments = c.push(new ExperimentsTree(conn));
  const pipelineState = c.push(new PipelineState(conn));
  const pipeline = c.push(new PipelineTree(conn, pipelineState, manifest));
  c.push(vscode.window.createTreeView('mlops.experiments', { treeDataProvider: experiments, showCollapseAll: true, canSelectMany: true }));
  c.push(vscode.window.createTreeView('mlops.pipeline', { treeDataProvider: pipeline }));
  const lens = c.push(new ManifestCodeLens(pipelineState));
  c.push(vscode.languages.registerCodeLensProvider([{ scheme: 'file', pattern: '**/mlops.yaml' }], lens));
  c.push(vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, new LogDocuments(conn)));
  c.push(createStatusBar(conn));
  registerRunCommands(c, conn);
  registerViewCommands(c, conn, experiments);
  registerWebviews(c, conn, context.extensionUri);
  registerSweeps(c, conn, context.extensionUri);
  c.push(conn.onDidChangeState(() => void vscode.commands.executeCommand('setContext', 'mlops.orchestratorRunning', conn.connected)));
  // After a window reload a run may still be going on: reattach to the daemon if it is up.
  if (vscode.workspace.isTrusted) void conn.attachIfRunning();
  return { orchestrator: conn, experiments, pipeline };
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}
