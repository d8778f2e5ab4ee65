import * as vscode from 'vscode';
import type { OrchestratorConnection } from '../orchestrator/connection';

export const LOG_SCHEME = 'mlops-log';

export function logUri(runId: string, step: string): vscode.Uri {
  return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${runId}/${step}.log` });
}

/** Step logs as read-only documents, fetched from the daemon (which reads `.mlops/runs/<id>/logs`). */
export class LogDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly conn: OrchestratorConnection) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const [, runId, file] = uri.path.split('/');
    const step = file.replace(/\.log$/, '');
    let text = '';
    let offset = 0;
    // Read in pages until the end; the daemon caps each answer.
    for (let i = 0; i < 1000; i++) {
      const page = await this.conn.logs(runId, step, offset);
      text += page.text;
      if (page.offset === offset) break;
      offset = page.offset;
    }
    return text;
  }
}
