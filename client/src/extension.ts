import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { registerManifestCommands } from './commands/manifest-commands';
import { Ctx } from './ctx';
import { createLanguageClient } from './language-client';
import { log } from './log';

/** What activate() returns: used by the host tests to reach the extension's parts. */
export interface MlopsApi {
  client: LanguageClient;
}

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<MlopsApi> {
  ctx = new Ctx(context);
  log().info(`MLOps Workbench activating (VS Code ${vscode.version}, Node ${process.version}, trusted: ${vscode.workspace.isTrusted})`);
  const client = createLanguageClient(context);
  ctx.push({ dispose: () => void client.stop() });
  registerManifestCommands(ctx);
  ctx.registerCommand('mlops.showLog', () => log().show());
  try {
    await client.start();
  } catch (e) {
    log().error(`language server failed to start: ${(e as Error)?.stack ?? e}`);
    void vscode.window.showErrorMessage(`MLOps: the language server did not start (${(e as Error)?.message ?? e}).`, 'Show Log').then((b) => b && log().show());
  }
  return { client };
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}
