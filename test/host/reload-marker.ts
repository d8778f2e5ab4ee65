import * as path from 'node:path';
import * as vscode from 'vscode';

/** What the first phase of the reload test leaves for the second (see index.ts). */
export interface ReloadMarker {
  runId: string;
  passes: number;
  failures: number;
}

/** In the workspace (a temp copy), so it survives the extension host restart. */
export function RELOAD_MARKER(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace');
  return path.join(folder.uri.fsPath, '.mlops-host-reload.json');
}
