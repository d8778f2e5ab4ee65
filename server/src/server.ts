import {
  CodeActionKind,
  createConnection,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type CancellationToken,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { validateManifestSync } from '../../orchestrator/manifest';
import { ServerStatusRequest } from '../../protocol/lsp';
import { Analysis } from './services/analysis';
import { CodeActionService } from './services/code-actions';
import { CompletionService } from './services/completion';
import { FileProbe } from './services/file-probe';
import { foldingRanges } from './services/folding';
import { formatManifest } from './services/formatting';
import { HoverService } from './services/hover';
import { NavigationService } from './services/navigation';
import { SEMANTIC_LEGEND, semanticTokens } from './services/semantic-tokens';
import { ValidationScheduler } from './services/validation-scheduler';

const SERVER_VERSION = '0.1.0';

/** Settings the client passes at start-up (see client/src/config.ts). */
interface InitOptions {
  maxProblems?: number;
}

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const files = new FileProbe();
const validation = new ValidationScheduler(connection, files);
const completion = new CompletionService(files);
const hover = new HoverService(files);
const navigation = new NavigationService(files);
const codeActions = new CodeActionService();

connection.onInitialize((params): InitializeResult => {
  const opts = (params.initializationOptions ?? {}) as InitOptions;
  if (typeof opts.maxProblems === 'number' && opts.maxProblems > 0) validation.maxProblems = opts.maxProblems;
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      completionProvider: { triggerCharacters: ['.', '{', '/', '[', ','], resolveProvider: true },
      hoverProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      documentSymbolProvider: { label: 'MLOps manifest' },
      workspaceSymbolProvider: true,
      foldingRangeProvider: true,
      documentLinkProvider: { resolveProvider: false },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      documentFormattingProvider: true,
      semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: true, range: true },
    },
    serverInfo: { name: 'mlops-language-server', version: SERVER_VERSION },
  };
});

// Compile the schema validator while the editor is still opening files, not on the first check.
connection.onInitialized(() => void setImmediate(() => validateManifestSync('version: 1\nproject: warm-up\nsteps:\n  a: {cmd: x, retries: -1}\n')));

connection.onRequest(ServerStatusRequest, () => ({ version: SERVER_VERSION, ...validation.status() }));

documents.onDidOpen((e) => validation.schedule(e.document));
documents.onDidChangeContent((e) => validation.schedule(e.document));
documents.onDidClose((e) => {
  validation.close(e.document.uri);
  analyses.delete(e.document.uri);
});
connection.onDidChangeWatchedFiles(() => files.clear());

/** The analysis of a document's current version, built once per version and shared by all requests. */
const analyses = new Map<string, { version: number; analysis: Analysis }>();
function analysisOf(uri: string): Analysis | undefined {
  const doc = documents.get(uri);
  if (!doc) return undefined;
  // TextDocuments updates documents in place: compare versions, not objects.
  const cached = analyses.get(uri);
  if (cached && cached.version === doc.version) return cached.analysis;
  if (doc.getText().includes('\0')) return undefined; // binary data: nothing to help with
  const analysis = new Analysis(doc, () => validation.parsedNow(doc)!);
  analyses.set(uri, { version: doc.version, analysis });
  return analysis;
}

/**
 * Runs a request against the current version of a document. A request cancelled while it
 * waited in the queue is not computed at all; a failure is logged and answered with `fallback`
 * (a user-facing ResponseError, such as a refused rename, is passed on).
 */
function on<P extends { textDocument: { uri: string } }, R>(what: string, fallback: R, fn: (a: Analysis, p: P) => R) {
  return (params: P, token?: CancellationToken): R => {
    if (token?.isCancellationRequested) return fallback;
    const a = analysisOf(params.textDocument.uri);
    if (!a) return fallback;
    try {
      return fn(a, params);
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      connection.console.error(`${what} failed for ${params.textDocument.uri}: ${(e as Error)?.stack ?? e}`);
      return fallback;
    }
  };
}

connection.onCompletion(on('completion', null, (a, p) => completion.complete(a, p.position)));
connection.onCompletionResolve((item) => {
  const uri = (item.data as { uri?: string } | undefined)?.uri;
  try {
    return completion.resolve(uri ? analysisOf(uri) : undefined, item);
  } catch (e) {
    connection.console.error(`completion resolve failed: ${(e as Error)?.stack ?? e}`);
    return item;
  }
});
connection.onHover(on('hover', null, (a, p) => hover.hover(a, p.position)));
connection.onDefinition(on('definition', null, (a, p) => navigation.definition(a, p.position)));
connection.onReferences(on('references', null, (a, p) => navigation.references(a, p.position, p.context.includeDeclaration)));
connection.onPrepareRename(on('prepareRename', null, (a, p) => navigation.prepareRename(a, p.position)));
connection.onRenameRequest(on('rename', null, (a, p) => navigation.rename(a, p.position, p.newName)));
connection.onDocumentSymbol(on('documentSymbol', [], (a) => navigation.documentSymbols(a)));
connection.onWorkspaceSymbol((p, token) => {
  if (token.isCancellationRequested) return [];
  try {
    const open = documents.all().flatMap((d) => analysisOf(d.uri) ?? []);
    return navigation.workspaceSymbols(open, p.query);
  } catch (e) {
    connection.console.error(`workspaceSymbol failed: ${(e as Error)?.stack ?? e}`);
    return [];
  }
});
connection.onDocumentLinks(on('documentLink', [], (a) => navigation.documentLinks(a)));
connection.onFoldingRanges(on('foldingRange', [], (a) => foldingRanges(a.text)));
connection.onCodeAction(on('codeAction', [], (a, p) => codeActions.actions(a, p.context.diagnostics)));
connection.onDocumentFormatting((p, token) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || token.isCancellationRequested) return [];
  try {
    return formatManifest(doc, p.options);
  } catch (e) {
    connection.console.error(`formatting failed for ${p.textDocument.uri}: ${(e as Error)?.stack ?? e}`);
    return [];
  }
});
connection.languages.semanticTokens.on(on('semanticTokens', { data: [] }, (a) => semanticTokens(a)));
connection.languages.semanticTokens.onRange(
  on('semanticTokens/range', { data: [] }, (a, p) => semanticTokens(a, { start: a.doc.offsetAt(p.range.start), end: a.doc.offsetAt(p.range.end) })),
);

// Never let one bad document take the server down: log and keep serving.
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${(e as Error)?.stack ?? e}`));

documents.listen(connection);
connection.listen();
