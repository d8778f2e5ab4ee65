import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';

const ROOT = path.resolve(__dirname, '../..');

/** LSP 3.18 lets a diagnostic message be markup; ours are plain strings. */
export function messageOf(d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}

/**
 * Drives the real language server process over stdio with LSP messages, the way an editor
 * does: spawn, initialize, open and change documents, collect published diagnostics.
 */
export class LspSession {
  readonly conn: ProtocolConnection;
  private readonly proc: ChildProcess;
  private readonly published: PublishDiagnosticsParams[] = [];
  private waiters: (() => void)[] = [];
  stderr = '';

  constructor(initOptions: Record<string, unknown> = {}) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/src/server.ts'), '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (b) => (this.stderr += String(b)));
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      this.published.push(p);
      for (const w of this.waiters.splice(0)) w();
    });
    this.conn.listen();
    this.initOptions = initOptions;
  }

  private initOptions: Record<string, unknown>;

  async start(): Promise<void> {
    const res = await this.conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: this.initOptions });
    if (!res.capabilities.textDocumentSync) throw new Error('server did not announce text sync');
    await this.conn.sendNotification(InitializedNotification.type, {});
  }

  open(uri: string, text: string, version = 1): void {
    void this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'yaml', version, text } });
  }

  /** Replaces a range (LSP positions) in the document. */
  change(uri: string, version: number, edits: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }[]): void {
    void this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: edits });
  }

  /** Every diagnostics publication so far, in order. */
  publications(uri: string): PublishDiagnosticsParams[] {
    return this.published.filter((p) => p.uri === uri);
  }

  /** Waits for diagnostics for `uri` that satisfy `pred` (default: any publication for `version`). */
  async diagnostics(uri: string, pred: (p: PublishDiagnosticsParams) => boolean = () => true, timeoutMs = 30_000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = [...this.published].reverse().find((p) => p.uri === uri && pred(p));
      if (hit) return hit.diagnostics;
      if (this.proc.exitCode !== null) throw new Error(`server exited (${this.proc.exitCode}): ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  get alive(): boolean {
    return this.proc.exitCode === null;
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest(ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
      await this.conn.sendNotification(ExitNotification.type);
    } catch {
      // already gone
    }
    this.conn.dispose();
    if (this.proc.exitCode === null) this.proc.kill();
  }
}
