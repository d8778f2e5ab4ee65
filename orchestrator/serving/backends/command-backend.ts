/**
 * A version served by a long-lived process of any language, speaking JSON lines:
 *
 *   stdin  {"id": "7", "columns": ["f1", "f2"], "rows": [[1, 2], [3, 4]]}
 *   stdout {"id": "7", "predictions": ["a", "b"]}   or   {"id": "7", "error": "why"}
 *
 * (an error line may add `"status": 4xx` to blame the input). Several requests are in flight at
 * once, matched by id. The process is ready once it answers a request with no rows. When it
 * dies, requests in flight fail with 503, it is restarted with a growing delay, and the owner
 * is told (`version-restarted`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as readline from 'node:readline';
import type { ServedVersion, VersionHealth } from '../../../protocol/serving';
import { HttpError, messageOf } from '../http-error';
import type { ParsedRequest, Row } from '../requests';
import { servingSchema, tableRows, tensorRows, type ServingSchema } from '../schema';
import { LOG_ROWS, type BackendAnswer, type BackendEvents, type ModelBackend } from './backend';

export interface CommandTimings {
  /** How long the process may take to answer its readiness probe. */
  readyMs: number;
  /** How long one request may take. */
  requestMs: number;
  /** First and largest restart delay; it doubles per crash and resets after `stableMs` up. */
  backoffMs: number;
  maxBackoffMs: number;
  stableMs: number;
}

export const DEFAULT_COMMAND_TIMINGS: CommandTimings = { readyMs: 30_000, requestMs: 30_000, backoffMs: 200, maxBackoffMs: 10_000, stableMs: 30_000 };

interface Pending {
  resolve(predictions: unknown[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Environment variables a model process must not see (the server's own secret). */
const PRIVATE_ENV = ['MLOPS_SERVING_TOKEN'];

export async function loadCommandBackend(version: ServedVersion, events: BackendEvents, timings = DEFAULT_COMMAND_TIMINGS): Promise<ModelBackend> {
  if (!version.command?.trim()) throw new Error(`version ${version.version} has flavor "command" but no command`);
  const backend = new CommandBackend(version, events, timings);
  await backend.start();
  return backend;
}

class CommandBackend implements ModelBackend {
  readonly platform = 'command';
  readonly schema: ServingSchema;
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private state: VersionHealth = 'loading';
  private closed = false;
  private backoff: number;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stderrTail: string[] = [];
  /** Requests waiting for a restart to finish (resolved on ready; on close they see state failed). */
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly version: ServedVersion,
    private readonly events: BackendEvents,
    private readonly timings: CommandTimings,
  ) {
    this.schema = servingSchema(version.signature);
    this.backoff = timings.backoffMs;
  }

  health(): VersionHealth {
    return this.state;
  }

  /** Spawns the process and waits for its answer to an empty request. */
  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, MLOPS_MODEL_PATH: this.version.artifactPath };
    for (const k of PRIVATE_ENV) delete env[k];
    // Its own process group, so close() also stops whatever the shell line started.
    const child = spawn('/bin/sh', ['-c', this.version.command!], { cwd: this.version.cwd, env, stdio: 'pipe', detached: true });
    this.child = child;
    this.startedAt = Date.now();
    this.stderrTail = [];
    child.stdin.on('error', () => undefined); // EPIPE after a crash: the exit handler reports it
    readline.createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      process.stderr.write(`[model ${this.version.model} v${this.version.version}] ${line}\n`);
      this.stderrTail.push(line);
      if (this.stderrTail.length > 5) this.stderrTail.shift();
    });
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`could not start "${this.version.command}": ${err.message}`)));
      child.once('exit', (code, signal) => reject(new Error(`"${this.version.command}" exited (${signal ?? `code ${code}`}) before it was ready${this.tail()}`)));
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([this.ask([], [], this.timings.readyMs), exited]);
    } catch (err) {
      this.kill(child);
      throw new Error(`version ${this.version.version}: ${messageOf(err)}`);
    }
    child.once('exit', (code, signal) => this.onExit(child, signal ?? `code ${code}`));
    this.state = 'ready';
    for (const w of this.readyWaiters.splice(0)) w();
  }

  private whenReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new HttpError(503, `the model process of version ${this.version.version} did not come back within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  async run(req: ParsedRequest): Promise<BackendAnswer> {
    let columns: string[] | undefined;
    let rows: Row[];
    if (req.kind === 'predict') {
      ({ columns, rows } = tableRows(req.table, this.schema));
    } else {
      if (req.inputs.length !== 1) throw new HttpError(400, `a command model takes one input of rows; got ${req.inputs.length} inputs`);
      const input = req.inputs[0]!;
      const all = tensorRows(input, Number.MAX_SAFE_INTEGER);
      if (!all) throw new HttpError(400, `input "${input.name}": a command model takes rows, shape [N, features]; got rank ${input.shape.length}`);
      rows = all;
      columns = this.schema.featureNames?.length === input.shape[1] ? this.schema.featureNames : undefined;
    }
    const names = columns ?? Array.from({ length: rows[0]?.length ?? 0 }, (_, i) => `f${i}`);
    // A request arriving while the process restarts waits for it (up to the request timeout)
    // rather than failing: only the requests in flight when it died are lost.
    if (this.state === 'restarting') await this.whenReady(this.timings.requestMs);
    if (this.state !== 'ready') throw new HttpError(503, `the model process of version ${this.version.version} is ${this.state}`);
    const predictions = await this.ask(names, rows, this.timings.requestMs);
    const allNumbers = predictions.every((p) => typeof p === 'number');
    return {
      outputs: [{ name: 'predictions', shape: [predictions.length], datatype: allNumbers ? 'FP64' : 'BYTES', data: predictions }],
      predictions,
      columns: names,
      rows: rows.length > LOG_ROWS ? rows.slice(0, LOG_ROWS) : rows,
      rowCount: rows.length,
    };
  }

  private ask(columns: string[], rows: Row[], timeoutMs: number): Promise<unknown[]> {
    const child = this.child;
    if (!child) return Promise.reject(new HttpError(503, 'the model process is not running'));
    const id = String(++this.nextId);
    return new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HttpError(504, `the model process did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin.write(JSON.stringify({ id, columns, rows }) + '\n');
    });
  }

  private onLine(line: string): void {
    let msg: { id?: unknown; predictions?: unknown; error?: unknown; status?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      process.stderr.write(`[model ${this.version.model} v${this.version.version}] stdout (not JSON): ${line}\n`);
      return;
    }
    const p = typeof msg.id === 'string' || typeof msg.id === 'number' ? this.pending.get(String(msg.id)) : undefined;
    if (!p) return;
    this.pending.delete(String(msg.id));
    clearTimeout(p.timer);
    if (msg.error !== undefined) {
      const status = typeof msg.status === 'number' && msg.status >= 400 && msg.status < 500 ? msg.status : 500;
      p.reject(new HttpError(status, `the model failed: ${String(msg.error)}`));
    } else if (!Array.isArray(msg.predictions)) p.reject(new HttpError(500, 'the model process answered without a "predictions" list'));
    else p.resolve(msg.predictions);
  }

  private onExit(child: ChildProcessWithoutNullStreams, how: string): void {
    if (child !== this.child) return;
    this.child = undefined;
    const reason = `the model process exited (${how})${this.tail()}`;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new HttpError(503, `${reason} while answering`));
    }
    if (this.closed) return;
    this.state = 'restarting';
    if (Date.now() - this.startedAt > this.timings.stableMs) this.backoff = this.timings.backoffMs;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.timings.maxBackoffMs);
    this.events.restarted(`${reason}; restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    if (this.closed) return;
    try {
      await this.start();
    } catch (err) {
      if (this.closed) return;
      // Failed to come back: try again later, with the longer delay.
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.timings.maxBackoffMs);
      this.events.restarted(`restart failed: ${messageOf(err)}; trying again in ${delay} ms`);
      this.restartTimer = setTimeout(() => void this.restart(), delay);
    }
  }

  private tail(): string {
    return this.stderrTail.length ? `: ${this.stderrTail.join(' | ')}` : '';
  }

  private kill(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals = 'SIGTERM'): void {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = 'failed';
    clearTimeout(this.restartTimer);
    for (const w of this.readyWaiters.splice(0)) w();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end(); // a well-behaved model exits on end of input
    const term = setTimeout(() => this.kill(child), 1000);
    const kill = setTimeout(() => this.kill(child, 'SIGKILL'), 4000);
    await gone;
    clearTimeout(term);
    clearTimeout(kill);
  }
}
