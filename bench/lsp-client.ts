import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import {
  createProtocolConnection,
  DidChangeConfigurationNotification,
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
} from 'vscode-languageserver-protocol/node';

/**
 * A minimal editor for benchmarks: starts a language server over stdio, answers what servers
 * ask of a client (configuration, registrations, progress), and lets the bench wait for the
 * diagnostics of a document to satisfy a condition.
 */
export class BenchClient {
  readonly conn: ProtocolConnection;
  readonly proc: ChildProcess;
  private readonly latest = new Map<string, { at: number; diagnostics: Diagnostic[]; version?: number }>();
  private waiters: (() => void)[] = [];
  stderr = '';

  constructor(
    command: string,
    args: string[],
    private readonly settings: Record<string, unknown> = {},
  ) {
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (b) => (this.stderr = (this.stderr + String(b)).slice(-5000)));
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      this.latest.set(p.uri, { at: performance.now(), diagnostics: p.diagnostics, ...(p.version !== undefined ? { version: p.version } : {}) });
      for (const w of this.waiters.splice(0)) w();
    });
    // What servers ask of their client.
    this.conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => p.items.map((i) => (i.section ? (this.settings[i.section] ?? null) : null)));
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.listen();
  }

  async start(rootUri: string | null): Promise<void> {
    await this.conn.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri,
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false } },
        textDocument: { completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } }, hover: { contentFormat: ['markdown', 'plaintext'] } },
      },
      initializationOptions: {},
    });
    await this.conn.sendNotification(InitializedNotification.type, {});
    if (Object.keys(this.settings).length) await this.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: this.settings });
  }

  open(uri: string, text: string, version = 1): void {
    void this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'yaml', version, text } });
  }

  change(uri: string, version: number, range: { start: { line: number; character: number }; end: { line: number; character: number } }, text: string): void {
    void this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ range, text }] });
  }

  /**
   * Resolves with the arrival time of the first publication (after `since`, and for `version`
   * when given) whose diagnostics satisfy `pred`.
   */
  async diagnosticsWhen(uri: string, since: number, pred: (d: Diagnostic[]) => boolean, timeoutMs: number, version?: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const l = this.latest.get(uri);
      if (l && l.at >= since && (version === undefined || l.version === version) && pred(l.diagnostics)) return l.at;
      const left = deadline - performance.now();
      if (left <= 0 || this.proc.exitCode !== null) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** CPU time (user + system) the server process has used so far, in ms (10 ms resolution). */
  cpuMs(): number | undefined {
    try {
      const fields = fs.readFileSync(`/proc/${this.proc.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      // After the command name: state is field 3, utime field 14, stime field 15 (1-based, see proc(5)).
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
      return undefined;
    }
  }

  /** Resident set size of the server process, in MB. */
  rssMb(): number | undefined {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest(ShutdownRequest.type), new Promise((r) => setTimeout(r, 3000))]);
      await this.conn.sendNotification(ExitNotification.type);
    } catch {
      // already gone
    }
    this.conn.dispose();
    if (this.proc.exitCode === null) this.proc.kill();
  }
}
