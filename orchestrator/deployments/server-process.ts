/**
 * One model server process (orchestrator/serving) as the daemon drives it: a child Node
 * process with an IPC channel, started as the CLI's hidden `mlops deployments serve`, so the
 * same entry works bundled (`dist/cli/mlops.js`) and from sources under tsx (tests), exactly
 * as the daemon itself is started (see daemon/launcher.ts). Its stdout and stderr go to
 * `.mlops/deployments/<name>/server.log`. The bearer token travels in the environment, never
 * in argv (visible to every local user through `ps`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { ServerCommand, ServerMessage, ServingConfig } from '../../protocol/serving';
import { defaultEntry } from '../daemon/launcher';

export interface ServerProcessOptions {
  workspace: string;
  name: string;
  /** `.mlops/deployments/<name>` */
  dir: string;
  port: number;
  auth: 'token' | 'none';
  /** Required with `auth: token`. */
  token?: string;
  /** Node arguments before `deployments serve …`; default: the CLI entry (see daemon/launcher.ts). */
  entry?: string[];
  /** How long to wait for `listening`; default 30 s (loading onnxruntime-node on a busy machine). */
  startTimeoutMs?: number;
}

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** Log lines kept for error messages. */
const TAIL_LINES = 20;

export class ModelServerProcess {
  readonly child: ChildProcess;
  port = 0;
  private exitInfo: ExitInfo | undefined;
  private readonly messageListeners = new Set<(m: ServerMessage) => void>();
  private readonly exitListeners = new Set<(e: ExitInfo) => void>();
  readonly logFile: string;
  /** Where this process's output starts in the (shared, appended) log. */
  private logStart = 0;

  constructor(private readonly opts: ServerProcessOptions) {
    fs.mkdirSync(opts.dir, { recursive: true });
    this.logFile = path.join(opts.dir, 'server.log');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // set under `node --test`; not meant for the child
    delete env.MLOPS_SERVING_TOKEN;
    if (opts.auth === 'token') {
      if (!opts.token) throw new Error('a token is required with auth: token');
      env.MLOPS_SERVING_TOKEN = opts.token;
    }
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const entry = opts.entry ?? defaultEntry();
    const args = [...entry, 'deployments', 'serve', opts.workspace, opts.name, '--port', String(opts.port), '--auth', opts.auth];
    const logFd = fs.openSync(this.logFile, 'a');
    this.logStart = fs.fstatSync(logFd).size;
    try {
      this.child = spawn(process.execPath, args, { cwd: opts.workspace, env, stdio: ['ignore', logFd, logFd, 'ipc'], serialization: 'json', windowsHide: true });
    } finally {
      fs.closeSync(logFd);
    }
    this.child.on('message', (m: ServerMessage) => {
      for (const l of this.messageListeners) l(m);
    });
    this.child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      for (const l of this.exitListeners) l(this.exitInfo);
    });
    // A failed spawn also emits 'exit'; an IPC write to a dead child emits 'error'. Both are handled through exit.
    this.child.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): ExitInfo | undefined {
    return this.exitInfo;
  }

  onMessage(l: (m: ServerMessage) => void): () => void {
    this.messageListeners.add(l);
    return () => this.messageListeners.delete(l);
  }

  onExit(l: (e: ExitInfo) => void): () => void {
    this.exitListeners.add(l);
    return () => this.exitListeners.delete(l);
  }

  /** Resolves to the port once the server listens; rejects (and kills it) if it exits or times out first. */
  async waitListening(): Promise<number> {
    const timeoutMs = this.opts.startTimeoutMs ?? 30_000;
    const m = await this.waitFor((msg): msg is Extract<ServerMessage, { type: 'listening' }> => msg.type === 'listening', timeoutMs, 'start listening');
    this.port = m.port;
    return m.port;
  }

  /** Sends a whole config; resolves once applied, rejects with the server's reason when it is refused. */
  async configure(config: ServingConfig, timeoutMs = 60_000): Promise<void> {
    const answer = this.waitFor(
      (m): m is Extract<ServerMessage, { type: 'applied' | 'apply-failed' }> => (m.type === 'applied' || m.type === 'apply-failed') && m.configId === config.configId,
      timeoutMs,
      `apply config ${config.configId}`,
    );
    this.send({ type: 'configure', config });
    const m = await answer;
    if (m.type === 'apply-failed') throw new MlopsError('BAD_REQUEST', m.message, { configId: m.configId });
  }

  /** Asks for a graceful stop (in-flight requests finish); SIGKILL after `timeoutMs`. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    if (this.exitInfo) return;
    const gone = new Promise<void>((resolve) => this.onExit(() => resolve()));
    if (!this.send({ type: 'shutdown' })) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await gone;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exitInfo) this.child.kill(signal);
  }

  /** The last lines this process wrote to its log, for error messages. */
  logTail(n = TAIL_LINES): string[] {
    try {
      const text = fs.readFileSync(this.logFile).subarray(this.logStart).toString('utf8').trimEnd();
      return text ? text.split('\n').slice(-n) : [];
    } catch {
      return [];
    }
  }

  private send(cmd: ServerCommand): boolean {
    if (this.exitInfo || !this.child.connected) return false;
    try {
      this.child.send(cmd);
      return true;
    } catch {
      return false;
    }
  }

  private waitFor<T extends ServerMessage>(match: (m: ServerMessage) => m is T, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        offMessage();
        offExit();
      };
      const timer = setTimeout(() => {
        done();
        reject(new MlopsError('UNAVAILABLE', `the model server of ${this.opts.name} did not ${what} within ${Math.round(timeoutMs / 1000)} s; see ${this.logFile}`));
      }, timeoutMs);
      const offMessage = this.onMessage((m) => {
        if (!match(m)) return;
        done();
        resolve(m);
      });
      const offExit = this.onExit((e) => {
        done();
        reject(this.exitError(e));
      });
      if (this.exitInfo) {
        done();
        reject(this.exitError(this.exitInfo));
      }
    });
  }

  /** Why the process is gone, with the last error line of its log. */
  exitError(e: ExitInfo): MlopsError {
    const tail = this.logTail();
    const why = tail.filter((l) => /error/i.test(l)).at(-1) ?? tail.at(-1);
    return new MlopsError('UNAVAILABLE', `the model server of ${this.opts.name} exited (${e.signal ?? `code ${e.code}`})${why ? `: ${why.trim()}` : ''}`, { log: tail });
  }
}
