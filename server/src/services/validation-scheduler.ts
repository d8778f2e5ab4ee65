import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CancelledError, ManifestParser, validateManifest, type ValidationResult } from '../../../orchestrator/manifest';
import { toLspDiagnostics } from './to-lsp';

interface DocState {
  parser: ManifestParser;
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

  constructor(private readonly connection: Connection) {}

  private state(uri: string): DocState {
    let s = this.docs.get(uri);
    if (!s) {
      s = { parser: new ManifestParser(), cancel: { isCancelled: false }, running: false };
      this.docs.set(uri, s);
    }
    return s;
  }

  latest(uri: string): { version: number; result: ValidationResult } | undefined {
    return this.docs.get(uri)?.last;
  }

  async validate(doc: TextDocument): Promise<void> {
    const s = this.state(doc.uri);
    s.cancel.isCancelled = true;
    const cancel = { isCancelled: false };
    s.cancel = cancel;
    const version = doc.version;
    const started = Date.now();
    s.running = true;
    try {
      const result = await validateManifest(doc.getText(), { parser: s.parser, cancel, fileExists: fileExistsFor(doc.uri) });
      if (cancel.isCancelled) return;
      s.running = false;
      s.lastMs = Date.now() - started;
      s.last = { version, result };
      await this.connection.sendDiagnostics({ uri: doc.uri, version, diagnostics: toLspDiagnostics(doc, result.diagnostics, this.maxProblems) });
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

  status(): { documents: number; validating: string[]; lastValidationMs: Record<string, number> } {
    const validating = [...this.docs].filter(([, s]) => s.running).map(([u]) => u);
    const lastValidationMs = Object.fromEntries([...this.docs].filter(([, s]) => s.lastMs !== undefined).map(([u, s]) => [u, s.lastMs!]));
    return { documents: this.docs.size, validating, lastValidationMs };
  }

  close(uri: string): void {
    const s = this.docs.get(uri);
    if (s) s.cancel.isCancelled = true;
    this.docs.delete(uri);
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }
}

function fileExistsFor(uri: string): ((rel: string) => boolean) | undefined {
  if (!uri.startsWith('file:')) return undefined;
  const dir = path.dirname(fileURLToPath(uri));
  return (rel) => fs.existsSync(path.resolve(dir, rel));
}
