import * as vscode from 'vscode';

/** The extension's one log channel ("MLOps Workbench" in the Output view). */
let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('MLOps Workbench', { log: true });
  return channel;
}
