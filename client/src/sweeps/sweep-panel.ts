import * as vscode from 'vscode';
import type { SweepFromView, SweepRenderedState, SweepToView } from '../../../protocol/sweep';
import { log } from '../log';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { webviewHtml } from '../webviews/html';
import { PanelChannel } from '../webviews/panel-channel';
import { SweepData } from './sweep-data';

export const SWEEP_VIEW_TYPE = 'mlops.sweep';

/** Redraws wait this long after a change (trial ends come in bursts). */
const RELOAD_DELAY_MS = 400;

/**
 * One sweep's panel: the objective over trials, the trials' curves, parallel coordinates of
 * params → objective and param importance (media/src/sweep.ts), kept live from daemon events
 * while the sweep runs.
 */
export class SweepPanel implements vscode.Disposable {
  private readonly channel: PanelChannel<SweepToView, SweepFromView, SweepRenderedState>;
  private readonly subs: vscode.Disposable[] = [];
  private data: SweepData;
  private last: SweepToView | undefined;
  private loading: Promise<void> = Promise.resolve();
  private reloadTimer: NodeJS.Timeout | undefined;
  private isDisposed = false;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly conn: OrchestratorConnection,
    private _runId: string,
    extensionUri: vscode.Uri,
  ) {
    this.data = new SweepData(() => conn.start());
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'mlops.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, { title: 'Sweep', script: 'sweep', styles: ['webview.css', 'compare.css', 'sweep.css'] });
    this.channel = new PanelChannel(panel, 'Sweep', (m) => {
      if (m.type === 'ready' && this.last) this.channel.post(this.last);
      if (m.type === 'openTrial') void vscode.commands.executeCommand('mlops.openRunCharts', m.runId).then(undefined, () => undefined);
    });
    this.subs.push(
      this.channel,
      conn.onEvent((e) => {
        // Trials start and end as step events of their own runs; the sweep's end as run-finished.
        if (e.type === 'runs-changed' || e.type === 'step-finished' || (e.type === 'run-finished' && e.runId === this._runId)) this.reloadSoon();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    panel.title = 'Sweep';
  }

  get runId(): string {
    return this._runId;
  }

  /** Shows another sweep run in this panel. */
  async show(runId: string): Promise<void> {
    if (runId !== this._runId) this.data = new SweepData(() => this.conn.start());
    this._runId = runId;
    await this.reload();
  }

  /** Fetches the sweep again; resolves once the page has it (if it is up). */
  reload(): Promise<void> {
    const id = this._runId;
    const run = async () => {
      try {
        const { status, curves } = await this.data.load(id);
        if (id !== this._runId) return;
        this.panel.title = `Sweep ${status.name} · ${id.slice(0, 8)}`;
        this.last = { type: 'data', status, curves };
        this.channel.post(this.last);
      } catch (e) {
        log().error(`Sweep view: loading ${id} failed: ${(e as Error)?.stack ?? e}`);
        this.last = { type: 'status', text: this.conn.connected ? `Could not load the sweep: ${(e as Error)?.message ?? e}` : 'The orchestrator is not running: start it (MLOps: Start Orchestrator) to see this sweep.', error: this.conn.connected };
        this.channel.post(this.last);
      }
    };
    this.loading = this.loading.then(run, run);
    return this.loading;
  }

  private reloadSoon(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.reload();
    }, RELOAD_DELAY_MS);
  }

  /** What the page has drawn (for tests). */
  async requestState(): Promise<SweepRenderedState> {
    await this.loading;
    return this.channel.requestState();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
