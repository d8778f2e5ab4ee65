import * as vscode from 'vscode';
import type { OrchestratorConnection } from '../orchestrator/connection';

/** `$(server-process) MLOps: 1 running` — the orchestrator's state and the number of running runs. */
export function createStatusBar(conn: OrchestratorConnection): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('mlops.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'MLOps Orchestrator';
  const render = () => {
    const running = conn.activeRuns.size;
    switch (conn.state) {
      case 'running':
        item.text = running ? `$(sync~spin) MLOps: ${running} running` : '$(server-process) MLOps';
        item.tooltip = `Orchestrator running for ${conn.workspace}. Click to show the runs log.`;
        item.command = 'mlops.showOrchestratorLog';
        item.backgroundColor = undefined;
        break;
      case 'starting':
        item.text = '$(loading~spin) MLOps: starting';
        item.tooltip = 'Starting the orchestrator…';
        item.command = undefined;
        break;
      case 'error':
        item.text = '$(error) MLOps';
        item.tooltip = `Orchestrator failed: ${conn.lastError ?? 'unknown error'}. Click to retry.`;
        item.command = 'mlops.startOrchestrator';
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
      default:
        item.text = '$(circle-slash) MLOps: stopped';
        item.tooltip = vscode.workspace.isTrusted ? 'The orchestrator is not running. Click to start it.' : 'Untrusted workspace: runs are disabled.';
        item.command = 'mlops.startOrchestrator';
        item.backgroundColor = undefined;
    }
  };
  render();
  item.show();
  const subs = [conn.onDidChangeState(render), conn.onEvent((e) => (e.type === 'run-started' || e.type === 'run-finished') && render())];
  return { dispose: () => { subs.forEach((s) => s.dispose()); item.dispose(); } };
}
