import * as vscode from 'vscode';
import type { MonitorAction, MonitorFromView, MonitorRenderedState, MonitorToView } from '../../../protocol/deployment-monitor';
import type { DeploymentSample, DeploymentStatus } from '../../../protocol/serving';
import { log } from '../log';
import { webviewHtml } from '../webviews/html';
import { PanelChannel } from '../webviews/panel-channel';
import type { DeploymentsConnection } from './deployments-connection';

export const MONITOR_VIEW_TYPE = 'mlops.deploymentMonitor';

/** New samples are fetched this often while the panel is visible (the server samples once a second). */
const SAMPLES_MS = 1000;
/** The status (versions table, canary progress) is re-read every this many sample ticks. */
const STATUS_EVERY = 2;
/** What the page keeps: the daemon's own window. */
const WINDOW_MS = 10 * 60_000;

const COMMAND_OF: Record<MonitorAction, string> = {
  promote: 'mlops.promoteCanary',
  rollback: 'mlops.rollbackDeployment',
  sendTestRequest: 'mlops.sendTestRequest',
  showHistory: 'mlops.showDeploymentHistory',
};

/**
 * One deployment's Live Monitor (media/src/monitor.ts): latency p50/p99, throughput and error
 * rate per version over the last 10 minutes, kept live from `/samples` while it is visible and
 * from deployment events. The host keeps the samples, so a page rebuilt after being hidden
 * gets them all again.
 */
export class MonitorPanel implements vscode.Disposable {
  private readonly channel: PanelChannel<MonitorToView, MonitorFromView, MonitorRenderedState>;
  private readonly subs: vscode.Disposable[] = [];
  private samples: DeploymentSample[] = [];
  private status: DeploymentStatus | undefined;
  private lastAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private busy = false;
  private loading: Promise<void> = Promise.resolve();
  private isDisposed = false;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly source: DeploymentsConnection,
    readonly name: string,
    extensionUri: vscode.Uri,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'mlops.svg');
    panel.title = `Live Monitor: ${name}`;
    panel.webview.html = webviewHtml(panel.webview, extensionUri, { title: `Live Monitor: ${name}`, script: 'monitor', styles: ['webview.css', 'monitor.css'] });
    this.channel = new PanelChannel(panel, 'Live Monitor', (m) => {
      if (m.type === 'ready') this.sendAll();
      if (m.type === 'action') void vscode.commands.executeCommand(COMMAND_OF[m.action], { name: this.name }).then(undefined, (e) => log().warn(`Live Monitor: ${m.action}: ${(e as Error)?.message ?? e}`));
    });
    this.subs.push(
      this.channel,
      source.onEvent((e) => {
        if (e.type === 'deployments-changed' || (e.type === 'deployment-decision' && e.deployment === this.name)) void this.reloadStatus();
      }),
      source.onDidChangeState(() => {
        this.schedule();
        if (source.connected) void this.reload();
      }),
      panel.onDidChangeViewState(() => this.schedule()),
      panel.onDidDispose(() => this.dispose()),
    );
    this.schedule();
  }

  /** Loads the status and the last 10 minutes of samples; resolves once the page has them (if it is up). */
  reload(): Promise<void> {
    const run = async () => {
      // Never starts the daemon (a panel restored after a reload only reattaches).
      if (!this.source.connected) {
        this.channel.post({ type: 'status', text: 'The orchestrator is not running: start it (MLOps: Start Orchestrator) to monitor this deployment.', error: true });
        return;
      }
      try {
        const [status, samples] = await Promise.all([this.source.get(this.name), this.source.samples(this.name)]);
        this.status = status;
        this.samples = samples;
        this.lastAt = samples.length ? samples[samples.length - 1]!.at : undefined;
        this.sendAll();
      } catch (e) {
        log().error(`Live Monitor: loading ${this.name} failed: ${(e as Error)?.stack ?? e}`);
        this.channel.post({ type: 'status', text: this.source.connected ? `Could not load ${this.name}: ${(e as Error)?.message ?? e}` : 'The orchestrator is not running: start it (MLOps: Start Orchestrator) to monitor this deployment.', error: true });
      }
    };
    this.loading = this.loading.then(run, run);
    return this.loading;
  }

  private sendAll(): void {
    if (this.status) this.channel.post({ type: 'deployment', status: this.status });
    this.channel.post({ type: 'samples', samples: this.samples, reset: true });
  }

  private async reloadStatus(): Promise<void> {
    try {
      this.status = await this.source.get(this.name);
      this.channel.post({ type: 'deployment', status: this.status });
    } catch (e) {
      log().warn(`Live Monitor: ${this.name}: ${(e as Error)?.message ?? e}`);
    }
  }

  private schedule(): void {
    const want = this.panel.visible && this.source.connected && !this.isDisposed;
    if (want && !this.timer) this.timer = setInterval(() => void this.tick(), SAMPLES_MS);
    if (!want && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const fresh = await this.source.samples(this.name, this.lastAt);
      if (fresh.length) {
        this.lastAt = fresh[fresh.length - 1]!.at;
        const oldest = this.lastAt - WINDOW_MS;
        this.samples = [...this.samples.filter((s) => s.at >= oldest), ...fresh];
        this.channel.post({ type: 'samples', samples: fresh });
      }
      if (++this.ticks % STATUS_EVERY === 0) await this.reloadStatus();
    } catch (e) {
      log().warn(`Live Monitor: ${this.name}: ${(e as Error)?.message ?? e}`);
    } finally {
      this.busy = false;
    }
  }

  /** What the page has drawn (tests). */
  async requestState(): Promise<MonitorRenderedState> {
    await this.loading;
    return this.channel.requestState();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
