/**
 * Runs one step as a process: `/bin/sh -c <cmd>` in its own process group, output appended to
 * the step log and streamed live (coalesced), `mlops:metric` lines and the metrics file turned
 * into metric points, with timeout, retries (exponential backoff) and cancellation that takes
 * the whole group down. Nothing here touches the store: the runner owns recording.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import type { MetricPoint } from '../../protocol/types';
import { formatDuration } from './duration';
import { LiveOutput } from './live-output';
import { MetricLineParser, type ParsedMetric } from './metric-lines';
import { readMetricsFile } from './metrics-file';
import { groupAlive, signalGroup, waitGroupGone } from './process-group';

/** SIGTERM first so a step can save its work; SIGKILL when it ignores that. */
export const KILL_GRACE_MS = 5000;
/** After the shell exits, how long leftovers may hold the pipes before they are killed. */
const LEFTOVER_GRACE_MS = 500;
const MAX_BACKOFF_MS = 5 * 60_000;
/** The log stream buffers at most this much before the step's pipes are paused. */
const LOG_HIGH_WATER = 1024 * 1024;

export interface ExecSpec {
  cmd: string;
  /** Absolute working folder. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Absolute path of the step log (appended to). */
  logFile: string;
  timeoutMs?: number;
  retry: { limit: number; backoffMs: number };
  /** The step's metrics JSON: absolute path and the path shown in messages. */
  metricsFile?: { abs: string; shown: string };
  killGraceMs?: number;
}

export interface ExecHooks {
  signal?: AbortSignal;
  /** Before each attempt (the runner deletes stale outs here). */
  beforeAttempt?(attempt: number): Promise<void>;
  onAttempt?(attempt: number, pid: number | undefined): void;
  onOutput?(stream: 'stdout' | 'stderr', text: string): void;
  onMetrics?(points: MetricPoint[]): void;
}

export interface ExecResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  exitCode?: number;
  /** Why it failed, plus warnings (a broken metrics file), `; `-joined. */
  message?: string;
  attempts: number;
  durationMs: number;
}

interface Attempt {
  outcome: 'ok' | 'failed' | 'cancelled';
  exitCode?: number;
  message?: string;
}

/** Appends to the log with backpressure; `line` writes the orchestrator's own notes. */
class LogSink {
  readonly stream: WriteStream;
  constructor(file: string) {
    this.stream = createWriteStream(file, { flags: 'a', highWaterMark: LOG_HIGH_WATER });
    // A failing disk must not crash the daemon; the step's outcome stays its exit code.
    this.stream.on('error', () => undefined);
  }
  line(text: string): void {
    this.stream.write(`[mlops] ${text}\n`);
  }
  async close(): Promise<void> {
    await new Promise<void>((r) => this.stream.end(r));
  }
}

function signalExit(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Shells report a child killed by a signal as 128 + its number; say which signal. */
function describeExit(code: number | null, signal: NodeJS.Signals | null): { exitCode?: number; message: string } {
  if (signal) {
    const exitCode = signalExit(signal);
    return { exitCode, message: `killed by ${signal} (exit ${exitCode})` };
  }
  const c = code ?? -1;
  if (c > 128 && c <= 128 + 64) {
    const name = Object.entries(constants.signals).find(([, n]) => n === c - 128)?.[0];
    if (name) return { exitCode: c, message: `killed by ${name} (exit ${c})` };
  }
  return { exitCode: c, message: `exited with code ${c}` };
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function runAttempt(spec: ExecSpec, hooks: ExecHooks, log: LogSink, attempt: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const grace = spec.killGraceMs ?? KILL_GRACE_MS;
    const child = spawn('/bin/sh', ['-c', spec.cmd], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgid = child.pid;
    const live = new LiveOutput((stream, text) => hooks.onOutput?.(stream, text));
    const parser = new MetricLineParser((points: ParsedMetric[]) => {
      const timestamp = Date.now();
      hooks.onMetrics?.(points.map((p) => ({ ...p, timestamp })));
    });
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    let stopping: 'timeout' | 'cancel' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let leftoverTimer: NodeJS.Timeout | undefined;
    let finished = false;

    const stop = (why: 'timeout' | 'cancel') => {
      if (stopping || pgid === undefined) return;
      stopping = why;
      signalGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), grace);
    };
    const timeout = spec.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), spec.timeoutMs) : undefined;
    const onAbort = () => stop('cancel');
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    if (hooks.signal?.aborted) onAbort();

    const pipes = [child.stdout!, child.stderr!];
    const resume = () => pipes.forEach((p) => p.resume());
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      // Never hold a step's output: pause its pipes while the log file catches up.
      if (!log.stream.write(chunk)) {
        pipes.forEach((p) => p.pause());
        log.stream.once('drain', resume);
      }
      if (stream === 'stdout') parser.push(chunk);
      live.push(stream, chunk);
    };
    child.stdout!.on('data', onData('stdout'));
    child.stderr!.on('data', onData('stderr'));

    const finish = async () => {
      if (finished) return;
      finished = true;
      clearTimeout(timeout);
      clearTimeout(leftoverTimer);
      hooks.signal?.removeEventListener('abort', onAbort);
      parser.end();
      live.close();
      if (pgid !== undefined && !(await waitGroupGone(pgid, 20))) {
        // Leftovers of a step that exited normally: they would be orphans; end them.
        signalGroup(pgid, 'SIGKILL');
        await waitGroupGone(pgid, grace + 5000);
      }
      clearTimeout(killTimer);
      if (spawnError) return resolve({ outcome: 'failed', message: `could not start /bin/sh: ${spawnError.message}` });
      const { exitCode, message } = describeExit(exit?.code ?? null, exit?.signal ?? null);
      if (stopping === 'cancel') return resolve({ outcome: 'cancelled', exitCode, message: 'cancelled' });
      if (stopping === 'timeout') return resolve({ outcome: 'failed', exitCode, message: `timed out after ${formatDuration(spec.timeoutMs!)}` });
      if (exitCode === 0) return resolve({ outcome: 'ok', exitCode });
      resolve({ outcome: 'failed', exitCode, message });
    };

    child.on('error', (e) => {
      spawnError = e;
      void finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Background children may keep the pipes open after the shell is gone: give them a
      // moment to finish writing, then end them so the step can complete.
      leftoverTimer = setTimeout(() => {
        if (pgid !== undefined && groupAlive(pgid)) {
          log.line(`step exited but processes it started are still running: killing process group ${pgid}`);
          signalGroup(pgid, 'SIGKILL');
        }
      }, stopping ? grace : LEFTOVER_GRACE_MS);
    });
    child.on('close', () => void finish());
    hooks.onAttempt?.(attempt, pgid);
  });
}

/** Runs the step with its retries; resolves once no process of it remains. */
export async function execStep(spec: ExecSpec, hooks: ExecHooks = {}): Promise<ExecResult> {
  const started = Date.now();
  await mkdir(dirname(spec.logFile), { recursive: true });
  const log = new LogSink(spec.logFile);
  const attempts = spec.retry.limit + 1;
  let last: Attempt = { outcome: 'failed', message: 'not started' };
  let n = 0;
  try {
    try {
      if (!statSync(spec.cwd).isDirectory()) throw new Error('not a folder');
    } catch {
      last = { outcome: 'failed', message: `working folder ${spec.cwd} does not exist` };
      log.line(last.message!);
      return { status: 'failed', message: last.message, attempts: 0, durationMs: Date.now() - started };
    }
    for (n = 1; n <= attempts; n++) {
      if (hooks.signal?.aborted) {
        last = { outcome: 'cancelled', message: 'cancelled' };
        break;
      }
      await hooks.beforeAttempt?.(n);
      // A metrics file left by an earlier run must not pass for this one's.
      if (spec.metricsFile) await rm(spec.metricsFile.abs, { force: true });
      log.line(`${attempts > 1 ? `attempt ${n} of ${attempts}: ` : ''}$ ${spec.cmd}`);
      last = await runAttempt(spec, hooks, log, n);
      if (last.outcome !== 'failed' || n === attempts) break;
      const delay = Math.min(spec.retry.backoffMs * 2 ** (n - 1), MAX_BACKOFF_MS);
      log.line(`attempt ${n} failed (${last.message}); retrying${delay ? ` in ${formatDuration(delay)}` : ''}`);
      if (delay && !(await sleep(delay, hooks.signal))) {
        last = { outcome: 'cancelled', exitCode: last.exitCode, message: 'cancelled' };
        break;
      }
    }
    const messages: string[] = [];
    if (last.outcome === 'failed') messages.push(`${last.message}${n > 1 ? ` (after ${n} attempts)` : ''}`);
    if (last.outcome === 'cancelled') messages.push('cancelled');
    if (spec.metricsFile && last.outcome !== 'cancelled') {
      const r = await readMetricsFile(spec.metricsFile.abs, spec.metricsFile.shown);
      if (r.points.length) {
        const timestamp = Date.now();
        hooks.onMetrics?.(r.points.map((p) => ({ ...p, timestamp })));
      }
      // A failed step often never writes its metrics: not worth a second complaint.
      if (r.warning && !(last.outcome === 'failed' && r.warning.endsWith('was not written'))) {
        log.line(`warning: ${r.warning}`);
        messages.push(r.warning);
      }
    }
    log.line(last.outcome === 'ok' ? `succeeded in ${formatDuration(Date.now() - started)}` : messages[0] ?? last.outcome);
    const status = last.outcome === 'ok' ? 'succeeded' : last.outcome;
    return { status, exitCode: last.exitCode, message: messages.length ? messages.join('; ') : undefined, attempts: n > attempts ? attempts : n, durationMs: Date.now() - started };
  } finally {
    await log.close();
  }
}
