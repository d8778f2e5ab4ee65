import * as vscode from 'vscode';

/**
 * Running anything (pipelines, the daemon, model servers) needs a trusted workspace: a
 * manifest from an untrusted folder could run arbitrary commands. Commands call this first.
 */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(`MLOps: ${what} is disabled in an untrusted workspace, because it would run the commands in mlops.yaml. Trust this folder to enable it.`, 'Manage Workspace Trust')
    .then((b) => b && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}
