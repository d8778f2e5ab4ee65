import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { config } from './config';

/** Which files the language server owns: every mlops.yaml (and *.mlops.yaml), whatever language mode. */
export const MANIFEST_SELECTOR: { scheme: string; pattern?: string; language?: string }[] = [
  { scheme: 'file', pattern: '**/mlops.yaml' },
  { scheme: 'file', pattern: '**/*.mlops.yaml' },
  { scheme: 'untitled', language: 'yaml' },
];

export function isManifest(doc: vscode.TextDocument): boolean {
  return vscode.languages.match(MANIFEST_SELECTOR.filter((f) => f.scheme === 'file'), doc) > 0;
}

export function createLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath(path.join('dist', 'server', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: MANIFEST_SELECTOR.filter((f) => f.scheme === 'file'),
    initializationOptions: { maxProblems: config.maxProblems },
    // File events keep document links and the missing-dependency check current as files come and go.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*', false, true, false) },
    outputChannelName: 'MLOps Language Server',
  };
  return new LanguageClient('mlops', 'MLOps Language Server', serverOptions, clientOptions);
}
