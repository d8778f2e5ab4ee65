import { execFile } from 'node:child_process';
import * as vscode from 'vscode';

/**
 * Runs the bundled `mlops` CLI for a pure command (`check`, `drift`): the core never runs in
 * the extension host. Under VS Code the Node is Electron's own binary in Node mode.
 */
export function runCli(context: vscode.ExtensionContext, cwd: string, args: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = context.asAbsolutePath('dist/cli/mlops.js');
  const env: NodeJS.ProcessEnv = { ...process.env };
  const node = process.env.MLOPS_DAEMON_NODE ?? process.execPath;
  if (process.versions.electron && node === process.execPath) env.ELECTRON_RUN_AS_NODE = '1';
  return new Promise((resolve, reject) => {
    execFile(node, [cli, ...args], { cwd, env, maxBuffer: 64 * 1024 * 1024, signal, windowsHide: true }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : err ? -1 : 0;
      if (err && code === -1) reject(err);
      else resolve({ code, stdout, stderr });
    });
  });
}
