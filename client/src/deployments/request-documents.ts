/**
 * Where test requests live while a user edits them (`.mlops/test-requests/<deployment>.json`,
 * so an edited request survives a reload and can be sent again), the `▶ Send` CodeLens on
 * them, and the read-only response documents (`mlops-response:/<deployment>.jsonc`).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { mlopsPaths } from '../../../orchestrator/daemon/paths';

export const RESPONSE_SCHEME = 'mlops-response';
const REQUESTS_DIR = 'test-requests';

export function requestFile(workspace: string, deployment: string): string {
  return path.join(mlopsPaths(workspace).dir, REQUESTS_DIR, `${deployment}.json`);
}

/** The deployment a request document is for, or undefined when it is not one of ours. */
export function deploymentOfRequest(workspace: string, uri: vscode.Uri): string | undefined {
  if (uri.scheme !== 'file' || path.dirname(uri.fsPath) !== path.join(mlopsPaths(workspace).dir, REQUESTS_DIR)) return undefined;
  const name = path.basename(uri.fsPath, '.json');
  return name && uri.fsPath.endsWith('.json') ? name : undefined;
}

/** `▶ Send to penguins-api` above a test request. */
export class RequestCodeLens implements vscode.CodeLensProvider {
  constructor(private readonly workspace: string) {}

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const name = deploymentOfRequest(this.workspace, doc.uri);
    if (!name) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: `▶ Send to ${name}`, command: 'mlops.sendTestRequest', arguments: [doc.uri] }),
      new vscode.CodeLens(top, { title: 'Open Live Monitor', command: 'mlops.openDeploymentMonitor', arguments: [{ name }] }),
    ];
  }
}

/** The last response per deployment, as read-only documents refreshed on every send. */
export class ResponseDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  static uri(deployment: string): vscode.Uri {
    return vscode.Uri.from({ scheme: RESPONSE_SCHEME, path: `/${deployment} response.jsonc` });
  }

  set(deployment: string, text: string): vscode.Uri {
    const uri = ResponseDocuments.uri(deployment);
    this.texts.set(uri.path, text);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '// No response yet: send the request first.\n';
  }

  dispose(): void {
    this.changed.dispose();
  }
}
