/**
 * Finding or starting the workspace's orchestrator daemon, for the CLI and the extension.
 *
 * The daemon is a separate, detached Node process (`mlops daemon run <workspace>`) so a
 * training run outlives the terminal or the VS Code window that started it. Which Node runs
 * it: `nodePath` if given, else the current `process.execPath`. Inside VS Code that is the
 * Electron binary, which behaves as plain Node when started with ELECTRON_RUN_AS_NODE=1.
 * That is enough because the only native module the daemon loads, libsql, is an N-API
 * addon: N-API is ABI-stable across Node versions, so one prebuilt binary loads in any
 * Node >= 18, the system Node 20 of the CLI, the test VS Code's Node 24 and Electron alike
 * (a V8-ABI module such as better-sqlite3 would need a build per runtime).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DaemonApi, DaemonInfo } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import { DaemonClient } from '../api-client/client';
import { readDaemonInfo } from './daemon-info';
import { DAEMON_HOST } from './http-server';
import { lockHolder } from './lock';
import { mlopsPaths, type MlopsPaths } from './paths';
import { isAlive } from './proc';
import { ensureToken, readToken } from './token';

/** A reachable daemon: its health answer (DaemonInfo + active runs at that moment), plus how to call it. */
export type DaemonHealth = DaemonApi['GET /api/health']['res'];
export interface DaemonConnection extends DaemonHealth {
  token: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

export interface LaunchOptions {
  /** Node binary for the daemon; default `process.execPath` (with ELECTRON_RUN_AS_NODE=1 under Electron). */
  nodePath?: string;
  /** The bundled CLI (`dist/cli/mlops.js`) to start as `node <cliPath> daemon run <workspace>`. */
  cliPath?: string;
  /**
   * Node arguments before `daemon run <workspace>`, overriding `cliPath`; e.g. tests run the
   * sources: `['--import', 'tsx', 'orchestrator/cli/main.ts']`. Default: see `defaultEntry`.
   */
  entry?: string[];
  /** Extra environment for the daemon (and so for its steps). */
  env?: Record<string, string>;
  /** How long to wait for a new daemon to answer; default 10 s. */
  timeoutMs?: number;
  /** When false, only look for a running daemon; resolve undefined if there is none. Default true. */
  startIfMissing?: boolean;
}

const HEALTH_TIMEOUT_MS = 2000;

/** The running, answering daemon of `workspace`, or undefined (no daemon.json, dead pid, no answer). */
export async function findDaemon(workspace: string): Promise<DaemonConnection | undefined> {
  const paths = mlopsPaths(workspace);
  const info = readDaemonInfo(paths.daemonJson);
  const token = readToken(paths.token);
  if (!info || !token || !isAlive(info.pid)) return undefined;
  const url = `http://${DAEMON_HOST}:${info.port}`;
  try {
    const health = await new DaemonClient(url, token, { timeoutMs: HEALTH_TIMEOUT_MS }).health();
    // The port may have been reused by another daemon (another workspace) after a crash.
    if (health.pid !== info.pid || path.resolve(health.workspace) !== paths.workspace) return undefined;
    return { ...health, token, url };
  } catch {
    return undefined;
  }
}

export function ensureDaemon(workspace: string, opts: LaunchOptions & { startIfMissing: false }): Promise<DaemonConnection | undefined>;
export function ensureDaemon(workspace: string, opts?: LaunchOptions): Promise<DaemonConnection>;
/**
 * Reuses the workspace's live daemon, or starts one (detached, its output to
 * `.mlops/daemon.log`) and waits until it answers. Concurrent callers are fine: every
 * daemon but one loses the workspace lock and exits, and all callers find the winner.
 */
export async function ensureDaemon(workspace: string, opts: LaunchOptions = {}): Promise<DaemonConnection | undefined> {
  const paths = mlopsPaths(workspace);
  const found = await findDaemon(paths.workspace);
  if (found || opts.startIfMissing === false) return found;

  // A live lock holder that does not answer is a daemon shutting down (a stop cancels its run
  // first, which can take seconds): let it finish, or our new daemon would lose the lock.
  const stopping = lockHolder(paths.lock);
  if (stopping !== undefined && isAlive(stopping)) await waitGone(stopping, opts.timeoutMs ?? 10_000);

  fs.mkdirSync(paths.dir, { recursive: true });
  ensureToken(paths.token); // before the spawn, so a racing daemon and we agree on one token
  const { command, args, env } = daemonCommand(paths.workspace, opts);
  const logFd = fs.openSync(paths.daemonLog, 'a');
  let exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  let spawnError: Error | undefined;
  try {
    const child = spawn(command, args, { cwd: paths.workspace, env, detached: true, stdio: ['ignore', logFd, logFd], windowsHide: true });
    child.on('error', (e) => (spawnError = e));
    child.on('exit', (code, signal) => (exit = { code, signal, at: Date.now() }));
    child.unref();
  } finally {
    fs.closeSync(logFd);
  }

  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (let wait = 10; Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
    await delay(wait);
    const up = await findDaemon(paths.workspace);
    if (up) return up;
    if (spawnError) throw new MlopsError('UNAVAILABLE', `cannot start the orchestrator daemon (${command}): ${spawnError.message}`);
    // Our daemon exited: fine if it lost the lock to another one that is still coming up.
    if (exit && Date.now() - exit.at > 3000 && lockHolder(paths.lock) === undefined) break;
  }
  throw startFailure(paths, timeoutMs, exit);
}

/**
 * Asks the daemon to stop and waits until its process is gone (SIGTERM after `timeoutMs`
 * if it does not go). Resolves to the stopped daemon's info, or undefined if none ran.
 */
export async function stopDaemon(workspace: string, opts: { timeoutMs?: number } = {}): Promise<DaemonInfo | undefined> {
  const paths = mlopsPaths(workspace);
  const info = readDaemonInfo(paths.daemonJson);
  const running = await findDaemon(paths.workspace);
  if (!running) {
    // Not answering: a hung daemon still holding the lock is stopped by signal.
    const pid = lockHolder(paths.lock);
    if (pid === undefined || info?.pid !== pid) return undefined;
    process.kill(pid, 'SIGTERM');
    await waitGone(pid, opts.timeoutMs ?? 10_000);
    return info;
  }
  await new DaemonClient(running.url, running.token).stopDaemon().catch(() => undefined);
  if (!(await waitGone(running.pid, opts.timeoutMs ?? 10_000))) {
    process.kill(running.pid, 'SIGTERM');
    await waitGone(running.pid, 5000);
  }
  return running;
}

/** The command that starts the daemon: [node binary, argv, environment]. */
export function daemonCommand(workspace: string, opts: LaunchOptions = {}): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT; // set when we run under `node --test`; not meant for the daemon
  const command = opts.nodePath ?? process.execPath;
  if (process.versions.electron && command === process.execPath) env.ELECTRON_RUN_AS_NODE = '1';
  const entry = opts.entry ?? (opts.cliPath ? [opts.cliPath] : defaultEntry());
  return { command, args: [...entry, 'daemon', 'run', workspace], env };
}

/**
 * Where the CLI lives relative to this code: bundled, both `dist/cli/mlops.js` and
 * `dist/client/extension.js` find `dist/cli/mlops.js`; from sources (tsx) it is
 * `orchestrator/cli/main.ts`, run with tsx's loader.
 */
export function defaultEntry(): string[] {
  if (__filename.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(__filename).resolve('tsx')).href;
    return ['--import', tsx, path.resolve(__dirname, '../cli/main.ts')];
  }
  return [path.resolve(__dirname, '../cli/mlops.js')];
}

function startFailure(paths: MlopsPaths, timeoutMs: number, exit: { code: number | null; signal: NodeJS.Signals | null } | undefined): MlopsError {
  const holder = lockHolder(paths.lock);
  let how = exit ? `it exited (${exit.signal ?? `code ${exit.code}`})` : `it did not answer within ${Math.round(timeoutMs / 1000)} s`;
  if (exit && holder !== undefined) how += `; process ${holder} holds ${paths.lock} but does not answer (stop it and retry)`;
  const last = lastLines(paths.daemonLog, 20);
  const why = last.filter((l) => /ERROR|Error/.test(l)).at(-1) ?? last.at(-1);
  return new MlopsError('UNAVAILABLE', `the orchestrator daemon did not start: ${how}. See ${paths.daemonLog}${why ? ` (last: ${why.trim()})` : ''}`, { log: last });
}

function lastLines(file: string, n: number): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n);
  } catch {
    return [];
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await delay(25);
  }
  return true;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
