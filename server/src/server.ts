import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, type InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ServerStatusRequest } from '../../protocol/lsp';
import { ValidationScheduler } from './services/validation-scheduler';

const SERVER_VERSION = '0.1.0';

/** Settings the client passes at start-up (see client/src/config.ts). */
interface InitOptions {
  maxProblems?: number;
}

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const validation = new ValidationScheduler(connection);

connection.onInitialize((params): InitializeResult => {
  const opts = (params.initializationOptions ?? {}) as InitOptions;
  if (typeof opts.maxProblems === 'number' && opts.maxProblems > 0) validation.maxProblems = opts.maxProblems;
  return {
    capabilities: { textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental } },
    serverInfo: { name: 'mlops-language-server', version: SERVER_VERSION },
  };
});

connection.onRequest(ServerStatusRequest, () => ({ version: SERVER_VERSION, ...validation.status() }));

documents.onDidOpen((e) => void validation.validate(e.document));
documents.onDidChangeContent((e) => void validation.validate(e.document));
documents.onDidClose((e) => validation.close(e.document.uri));

// Never let one bad document take the server down: log and keep serving.
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${(e as Error)?.stack ?? e}`));

documents.listen(connection);
connection.listen();
