import * as vscode from 'vscode';
import type { DaemonEvent } from '../../../protocol/api';
import type { RunPlan, RunRequest } from '../../../protocol/pipeline';
import type { Experiment, MetricPoint, RunDetail, RunSummary } from '../../../protocol/types';
import { DaemonClient } from '../../../orchestrator/api-client';
import { ensureDaemon, stopDaemon } from '../../../orchestrator/daemon/launcher';
import { config } from '../config';
import { log } from '../log';
import type { RunsSource } from './orchestrator-port';

export type ConnectionState = 'stopped' | 'starting' | 'running' | 'error';

/**
 * The extension's link to the workspace's orchestrator daemon: starts it on demand (detached,
 * so runs survive a window reload), then follows its event stream and reconnects when the
 * stream drops. Everything the views read goes through here.
 */
export class OrchestratorConnection implements RunsSource, vscode.Disposable {
  private readonly events = new vscode.EventEmitter<DaemonEvent>();
  private readonly stateChanged = new vscode.EventEmitter<void>();
  readonly onEvent = this.events.event;
  readonly onDidChangeState = this.stateChanged.event;
  private client: DaemonClient | undefined;
  private _state: ConnectionState = 'stopped';
  private stopStream: (() => void) | undefined;
  private disposed = false;
  lastError: string | undefined;
  /** Runs going on now (run ids), kept from events for the status bar. */
  readonly activeRuns = new Set<string>();

  constructor(
    readonly workspace: string,
    private readonly cliPath: string,
  ) {}

  get state(): ConnectionState {
    return this._state;
  }

  get connected(): boolean {
    return this._state === 'running' && !!this.client;
  }

  private setState(s: ConnectionState): void {
    this._state = s;
    this.stateChanged.fire();
  }

  /** Connects to the running daemon or starts one. Callers check Workspace Trust first. */
  async start(): Promise<DaemonClient> {
    if (this.client && this._state === 'running') return this.client;
    this.setState('starting');
    try {
      const info = await ensureDaemon(this.workspace, { cliPath: this.cliPath, env: { MLOPS_MAX_PARALLEL: String(config.maxParallel) } });
      this.client = new DaemonClient(info.url, info.token);
      for (const id of info.activeRuns) this.activeRuns.add(id);
      log().info(`orchestrator daemon pid ${info.pid} on 127.0.0.1:${info.port} (Node ${info.node})`);
      this.follow();
      this.setState('running');
      return this.client;
    } catch (e) {
      this.lastError = (e as Error)?.message ?? String(e);
      log().error(`orchestrator failed to start: ${(e as Error)?.stack ?? e}`);
      this.client = undefined;
      this.setState('error');
      throw e;
    }
  }

  /** Reconnects to an already running daemon without starting one (e.g. after a window reload). */
  async attachIfRunning(): Promise<boolean> {
    try {
      const info = await ensureDaemon(this.workspace, { cliPath: this.cliPath, startIfMissing: false });
      if (!info) return false;
      await this.start();
      return true;
    } catch {
      return false;
    }
  }

  private follow(): void {
    this.stopStream?.();
    const client = this.client!;
    const controller = new AbortController();
    this.stopStream = () => controller.abort();
    void (async () => {
      try {
        for await (const e of client.events(controller.signal)) {
          if (e.type === 'run-started') this.activeRuns.add(e.runId);
          if (e.type === 'run-finished') this.activeRuns.delete(e.runId);
          this.events.fire(e);
        }
      } catch (e) {
        if (controller.signal.aborted || this.disposed) return;
        log().warn(`orchestrator event stream ended: ${(e as Error)?.message ?? e}`);
      }
      if (controller.signal.aborted || this.disposed) return;
      // The daemon went away (stopped, crashed): say so; the next command restarts it.
      this.client = undefined;
      this.activeRuns.clear();
      this.setState('stopped');
    })();
  }

  /** Stops the daemon and waits until its process is gone (so a start right after cannot race it). */
  async stop(): Promise<void> {
    this.stopStream?.();
    this.client = undefined;
    this.activeRuns.clear();
    await stopDaemon(this.workspace).catch((e) => log().warn(`stopping the orchestrator: ${(e as Error)?.message ?? e}`));
    this.setState('stopped');
  }

  private need(): DaemonClient {
    if (!this.client) throw new Error('the orchestrator is not running');
    return this.client;
  }

  listExperiments(): Promise<Experiment[]> {
    return this.need().experiments().then((r) => r.experiments);
  }

  listRuns(query: Parameters<RunsSource['listRuns']>[0]): Promise<{ runs: RunSummary[]; total: number }> {
    return this.need().runs(query);
  }

  getRun(id: string): Promise<RunDetail> {
    return this.need().getRun(id);
  }

  plan(req: RunRequest): Promise<RunPlan> {
    return this.need().plan(req);
  }

  async run(req: RunRequest): Promise<{ runId: string; plan: RunPlan }> {
    return (await this.start()).run(req);
  }

  async cancel(runId: string): Promise<boolean> {
    return (await this.need().cancel(runId)).cancelled;
  }

  metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    return this.need().metricHistory(runId, key);
  }

  logs(id: string, step: string, offset: number): Promise<{ text: string; offset: number; done: boolean }> {
    return this.need().logs(id, step, offset);
  }

  dispose(): void {
    this.disposed = true;
    this.stopStream?.();
    this.events.dispose();
    this.stateChanged.dispose();
  }
}
