/**
 * The orchestrator daemon: one process per workspace serving the HTTP API and running
 * pipelines. Start-up order matters for crash safety:
 *   1. take `.mlops/daemon.lock` (a live holder → CONFLICT; a dead one's lock is replaced),
 *   2. kill step process groups a killed predecessor left behind (`runs/<id>/pids`),
 *   3. open the store and mark runs left queued/running as `interrupted`,
 *   4. listen on 127.0.0.1, create the runner (it needs the port for MLOPS_TRACKING_URI),
 *   5. write `daemon.json` atomically: from here on clients can find us.
 * Stopping (SIGTERM, SIGINT, `POST /api/daemon/stop`) cancels the active run, if any: its
 * steps' process groups are killed and the run ends `cancelled`, because a run without its
 * daemon could not record its results anyway. Then the store is closed and daemon.json and
 * the lock are removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DaemonInfo } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { PipelineEvent } from '../../protocol/pipeline';
import { PipelineRunner } from '../pipelines';
import { ModelRegistry, type RegistryStore } from '../registry';
import { autoRegisterOn } from '../registry/auto-register';
import { DeploymentManager } from '../deployments/manager';
import { startDaemonMonitor } from '../monitoring/daemon-monitor';
import type { MonitorService } from '../monitoring/monitor-service';
import { openRegistryStore, openStore } from '../store/open-store';
import type { Store } from '../store/store';
import { removeDaemonInfo, writeJsonAtomic } from './daemon-info';
import { DAEMON_HOST, DaemonServer } from './http-server';
import { acquireLock, type DaemonLock } from './lock';
import { fileLogger, type Logger } from './log';
import { mlopsPaths, type MlopsPaths } from './paths';
import type { RunnerPort } from './routes';
import { reapOrphanedSteps, StepPidRecorder } from './step-pids';
import { ensureToken } from './token';
import { MLOPS_VERSION } from './version';

export interface DaemonOptions {
  /** TCP port; default 0 (a free one). */
  port?: number;
  /** Steps run at once; default: the runner's. */
  maxParallel?: number;
  heartbeatMs?: number;
  log?: Logger;
  /** How long a stop waits for the cancelled run to wind down; default 10 s. */
  stopTimeoutMs?: number;
  /** Tests may replace the runner; the daemon otherwise uses orchestrator/pipelines. */
  createRunner?: (opts: { workspace: string; store: Store; env: Record<string, string>; maxParallel?: number }) => RunnerPort;
}

export interface RunningDaemon {
  readonly info: DaemonInfo;
  readonly paths: MlopsPaths;
  readonly server: DaemonServer;
  /** Resolves once the daemon has fully stopped. */
  readonly stopped: Promise<void>;
  stop(reason: string): Promise<void>;
}

/** Starts the daemon inside this process; see the file comment for the order of things. */
export async function startDaemon(workspace: string, opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const paths = mlopsPaths(workspace);
  fs.mkdirSync(paths.runs, { recursive: true });
  const log = opts.log ?? fileLogger(paths.daemonLog);
  const token = ensureToken(paths.token);
  const lock = acquireLock(paths.lock);
  let store: Store | undefined;
  let registryStore: RegistryStore | undefined;
  let server: DaemonServer | undefined;
  try {
    log.info(`starting for ${paths.workspace} (node ${process.version}, pid ${process.pid})`);
    const reaped = await reapOrphanedSteps(paths);
    for (const r of reaped) log.warn(`killed orphaned step "${r.step}" of run ${r.runId} (process group ${r.pgid})`);
    const openedStore = (store = await openStore(paths));
    const interrupted = await openedStore.markInterrupted('interrupted: the orchestrator daemon stopped (crashed or was killed) while the run was active');
    if (interrupted.length) log.warn(`marked ${interrupted.length} run(s) left active by a previous daemon as interrupted: ${interrupted.join(', ')}`);

    const openedRegistry = (registryStore = await openRegistryStore(paths));
    const registry = new ModelRegistry({ runs: openedStore, store: openedRegistry, workspace: paths.workspace });

    let info: DaemonInfo | undefined;
    let deployments: DeploymentManager | undefined;
    let monitor: MonitorService | undefined;
    let requestStop: (reason: string) => void = () => undefined;
    const srv = (server = new DaemonServer({
      token,
      store: openedStore,
      registry,
      paths,
      log,
      heartbeatMs: opts.heartbeatMs,
      info: () => info!,
      requestStop: () => requestStop('API request'),
      deployments: () => deployments,
      monitor: () => monitor,
    }));
    const port = await srv.listen(opts.port ?? 0);
    const url = `http://${DAEMON_HOST}:${port}`;
    const runnerOpts = {
      workspace: paths.workspace,
      store: openedStore,
      // Steps log through the tracking API (clients/ read these; the runner adds MLflow's names).
      // MLOPS_HOME: the workbench install, whose node_modules samples borrow (onnxruntime-node).
      env: { MLOPS_TRACKING_URI: url, MLOPS_TOKEN: token, MLOPS_HOME: process.env.MLOPS_HOME ?? installRoot() },
      maxParallel: opts.maxParallel,
    };
    const runner: RunnerPort = opts.createRunner ? opts.createRunner(runnerOpts) : new PipelineRunner(runnerOpts);
    // The pid file is written before the event reaches any client: a kill -9 right after still leaves a record.
    const recorder = new StepPidRecorder(paths);
    runner.on((e) => {
      try {
        recorder.onEvent(e);
      } catch (err) {
        log.error('could not record step process ids', err);
      }
    });
    srv.attachRunner(runner);
    // Model servers: one process per deployment; they follow aliases when the registry changes.
    const deploymentManager = (deployments = new DeploymentManager({ paths, registry, token, log, publish: (e) => srv.events.publish(e) }));
    srv.events.subscribe((e) => {
      if (e.type === 'models-changed') deploymentManager.modelsChanged();
    });
    // Manifest models with `register: auto` get a version after each successful run of their step.
    runner.on(autoRegisterOn({
      registry, runs: openedStore, workspace: paths.workspace,
      onRegistered: (v) => {
        log.info(`registered ${v.model} v${v.version} from run ${v.runId} (register: auto)`);
        srv.events.publish({ type: 'models-changed' });
      },
      onError: (model, err) => log.error(`auto-registering ${model} failed`, err),
    }));

    info = { pid: process.pid, port, workspace: paths.workspace, startedAt: Date.now(), version: MLOPS_VERSION, node: process.version };
    writeJsonAtomic(paths.daemonJson, info);
    log.info(`listening on ${url}`);
    void deploymentManager.restore();
    // Drift checks on a schedule and alert rules over drift, live figures and feedback.
    monitor = startDaemonMonitor({ paths, registry, deployments: () => deployments, events: srv.events, log });

    let stopping: Promise<void> | undefined;
    let markStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (markStopped = resolve));
    const stop = (reason: string): Promise<void> =>
      (stopping ??= shutdown({ reason, runner, deployments: deploymentManager, server: srv, store: openedStore, registryStore: openedRegistry, lock, paths, log, timeoutMs: opts.stopTimeoutMs ?? 10_000 }).finally(markStopped));
    requestStop = (reason) => void stop(reason);
    return { info, paths, server: srv, stopped, stop };
  } catch (err) {
    await server?.close().catch(() => undefined);
    await registryStore?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    lock.release();
    throw err;
  }
}

async function shutdown(s: {
  reason: string;
  runner: RunnerPort;
  deployments: DeploymentManager;
  server: DaemonServer;
  store: Store;
  registryStore: RegistryStore;
  lock: DaemonLock;
  paths: MlopsPaths;
  log: Logger;
  timeoutMs: number;
}): Promise<void> {
  s.log.info(`stopping (${s.reason})`);
  // Clients stop finding us first, so nobody starts a run we would cancel at once.
  removeDaemonInfo(s.paths.daemonJson, process.pid);
  const active = s.runner.activeRunId();
  if (active) {
    const finished = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), s.timeoutMs);
      const off = s.runner.on((e: PipelineEvent) => {
        if (e.type === 'run-finished' && e.runId === active) {
          clearTimeout(timer);
          off();
          resolve(true);
        }
      });
    });
    s.log.info(`cancelling active run ${active}`);
    try {
      await s.runner.cancel(active);
      if (!(await finished)) s.log.warn(`run ${active} did not finish within ${s.timeoutMs} ms of its cancellation`);
    } catch (err) {
      s.log.error(`cancelling run ${active} failed`, err);
    }
  }
  // Model servers finish their in-flight requests; their desired state stays for the next start.
  await s.deployments.stopAll().catch((err) => s.log.error('stopping the model servers failed', err));
  await s.server.close().catch((err) => s.log.error('closing the HTTP server failed', err));
  await s.registryStore.close().catch((err) => s.log.error('closing the registry failed', err));
  await s.store.close().catch((err) => s.log.error('closing the store failed', err));
  s.lock.release();
  s.log.info('stopped');
}

/**
 * The workbench's install folder: this code is `dist/cli/mlops.js` (bundled) or
 * `orchestrator/daemon/daemon-main.ts` (sources); both sit two levels below it.
 */
function installRoot(): string {
  return path.resolve(__dirname, '../..');
}

/**
 * Entry of `mlops daemon run <workspace>`: runs the daemon until it is stopped, then exits
 * the process. Resolves to an exit code only when start-up fails.
 */
export async function daemonProcessMain(workspace: string, opts: DaemonOptions = {}): Promise<number> {
  // Started by VS Code as Electron-in-Node-mode: step processes must not inherit that switch.
  delete process.env.ELECTRON_RUN_AS_NODE;
  const log = opts.log ?? fileLogger(mlopsPaths(workspace).daemonLog);
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(workspace, { ...opts, log });
  } catch (err) {
    log.error('start-up failed', err);
    process.stderr.write(`mlops daemon: ${(err as Error)?.message ?? err}\n`);
    return err instanceof MlopsError && err.code === 'CONFLICT' ? 1 : 3;
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void daemon.stop(sig));
  process.on('SIGHUP', () => log.info('ignoring SIGHUP (the daemon outlives its terminal)'));
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception; stopping', err);
    void daemon.stop('crash').finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', err));
  await daemon.stopped;
  process.exit(0);
}
