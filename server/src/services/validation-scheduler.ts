import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CancelledError, ManifestParser, type ParsedManifest, type ValidationResult } from '../../../orchestrator/manifest';
import { ManifestChecker, validateIncremental } from '../../../orchestrator/manifest/incremental-check';
import { ManifestIndex } from '../../../orchestrator/manifest/symbols';
import { exportParityDiagnostics } from './export-parity';
import { FileProbe } from './file-probe';
import { toLspDiagnostics } from './to-lsp';

interface DocState {
  parser: ManifestParser;
  /** Per-block schema results and per-step facts, reused while their text is unchanged. */
  checker: ManifestChecker;
  running: boolean;
  lastMs?: number;
  cancel: { isCancelled: boolean };
  /** The latest completed validation, for the other services (completion, hover…). */
  last?: { version: number; result: ValidationResult };
}

/**
 * Validates each open manifest when it changes. A newer version cancels the running check
 * (the parser yields every few milliseconds, so other requests are answered meanwhile and a
 * stale check never publishes).
 */
export class ValidationScheduler {
  private readonly docs = new Map<string, DocState>();
  maxProblems = 1000;

  constructor(
    private readonly connection: Connection,
    private readonly files: FileProbe = new FileProbe(),
  ) {}

  private state(uri: string): DocState {
    let s = this.docs.get(uri);
    if (!s) {
      s = { parser: new ManifestParser(), checker: new ManifestChecker(), cancel: { isCancelled: false }, running: false };
      this.docs.set(uri, s);
    }
    return s;
  }

  latest(uri: string): { version: number; result: ValidationResult } | undefined {
    return this.docs.get(uri)?.last;
  }

  /**
   * The parse of the document as it is now, for requests. Shares the document's parser, so
   * only blocks changed since the last parse are parsed again, and the validation that follows
   * an edit reuses this very result (the parser remembers its last text).
   */
  parsedNow(doc: TextDocument): ParsedManifest {
    const last = this.docs.get(doc.uri)?.last;
    if (last?.version === doc.version && last.result.parsed) return last.result.parsed;
    return this.state(doc.uri).parser.parseSync(doc.getText());
  }

  private readonly pending = new Set<string>();

  /**
   * Validates soon, after the messages already queued behind this edit: the completion
   * request an editor sends together with a keystroke is answered before the check starts
   * (the connection handles one message per event-loop turn, hence two hops). Edits that
   * arrive meanwhile fold into one check of the newest text.
   */
  schedule(doc: TextDocument): void {
    this.closed.delete(doc.uri);
    if (this.pending.has(doc.uri)) return;
    this.pending.add(doc.uri);
    setImmediate(() =>
      setImmediate(() => {
        this.pending.delete(doc.uri);
        if (!this.closed.has(doc.uri)) void this.validate(doc);
      }),
    );
  }

  /** Documents closed since their last open (a check scheduled before the close is dropped). */
  private readonly closed = new Set<string>();

  async validate(doc: TextDocument): Promise<void> {
    const s = this.state(doc.uri);
    s.cancel.isCancelled = true;
    const cancel = { isCancelled: false };
    s.cancel = cancel;
    const version = doc.version;
    const started = Date.now();
    s.running = true;
    try {
      const fileExists = fileExistsFor(doc.uri, this.files);
      // Short slices: a request that arrives with an edit (completion while typing) waits at most one.
      const result = await validateIncremental(doc.getText(), { parser: s.parser, checker: s.checker, cancel, sliceMs: 4, ...(fileExists ? { fileExists } : {}) });
      if (cancel.isCancelled) return;
      s.running = false;
      s.lastMs = Date.now() - started;
      s.last = { version, result };
      const parity = result.parsed ? exportParityDiagnostics(doc, result.parsed) : [];
      await this.connection.sendDiagnostics({ uri: doc.uri, version, diagnostics: [...toLspDiagnostics(doc, result.diagnostics, this.maxProblems), ...parity] });
      if (result.parsed) this.warmIndex(result.parsed, cancel);
    } catch (e) {
      if (e instanceof CancelledError) return;
      s.running = false;
      this.connection.console.error(`validation of ${doc.uri} failed: ${(e as Error)?.stack ?? e}`);
      await this.connection.sendDiagnostics({
        uri: doc.uri,
        version,
        diagnostics: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: 1, source: 'mlops', message: `The manifest could not be checked: ${(e as Error)?.message ?? e}. See the "MLOps Language Server" output.` }],
      });
    }
  }

  /**
   * While idle, reads names and references of blocks not seen before (a first open of a big
   * manifest), so the first hover or rename does not pay for it. Stops when a newer version comes.
   */
  private warmIndex(parsed: ParsedManifest, cancel: { isCancelled: boolean }): void {
    const idx = ManifestIndex.of(parsed);
    const step = () => {
      if (cancel.isCancelled) return;
      if (!idx.warm(Date.now() + 8)) setImmediate(step);
    };
    setImmediate(step);
  }

  status(): { documents: number; validating: string[]; lastValidationMs: Record<string, number> } {
    // Scheduled checks count: they start as soon as the queued requests are answered.
    const validating = [...new Set([...[...this.docs].filter(([, s]) => s.running).map(([u]) => u), ...this.pending])];
    const lastValidationMs = Object.fromEntries([...this.docs].filter(([, s]) => s.lastMs !== undefined).map(([u, s]) => [u, s.lastMs!]));
    return { documents: this.docs.size, validating, lastValidationMs };
  }

  close(uri: string): void {
    this.closed.add(uri);
    const s = this.docs.get(uri);
    if (s) s.cancel.isCancelled = true;
    this.docs.delete(uri);
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }
}

function fileExistsFor(uri: string, files: FileProbe): ((rel: string) => boolean) | undefined {
  if (!uri.startsWith('file:')) return undefined;
  const dir = path.dirname(fileURLToPath(uri));
  return (rel) => files.exists(path.resolve(dir, rel));
}
