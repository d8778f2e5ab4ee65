import * as vscode from 'vscode';
import type { CompareData, CompareFromView, CompareRenderedState, CompareToView, SeriesPoint } from '../../../protocol/webview';
import { log } from '../log';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { loadComparison, toSeries } from './compare-data';
import { webviewHtml } from './html';
import { PanelChannel } from './panel-channel';

export const COMPARE_VIEW_TYPE = 'mlops.compareRuns';

/** Live points are batched: a run logging every iteration costs one message per interval. */
const APPEND_EVERY_MS = 250;
/** After a compared run ends, reload it (final metrics, status) once the store has settled. */
const RELOAD_DELAY_MS = 300;

/**
 * One Compare Runs panel: loads the runs and every metric history from the daemon, hands
 * them to the page (media/src/compare.ts) and keeps them live from daemon events.
 */
export class ComparePanel implements vscode.Disposable {
  private readonly channel: PanelChannel<CompareToView, CompareFromView, CompareRenderedState>;
  private readonly subs: vscode.Disposable[] = [];
  private data: CompareData | undefined;
  private loading: Promise<void> = Promise.resolve();
  private buffered = new Map<string, (SeriesPoint & { key: string })[]>();
  private appendTimer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  private _runIds: string[];

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly conn: OrchestratorConnection,
    runIds: string[],
    extensionUri: vscode.Uri,
  ) {
    this._runIds = [...new Set(runIds)];
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'mlops.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, { title: 'Compare Runs', script: 'compare', styles: ['webview.css', 'compare.css'] });
    this.channel = new PanelChannel(panel, 'Compare Runs', (m) => {
      if (m.type === 'ready') this.sendAll();
    });
    this.subs.push(
      this.channel,
      conn.onEvent((e) => {
        // A metric lands on the step run and its pipeline run: either may be compared.
        if (e.type === 'metric') {
          const y = (e.value as number | null) ?? Number.NaN; // NaN arrives as JSON null
          for (const id of [e.runId, e.stepRunId]) if (this.has(id)) this.buffer(id, { key: e.key, x: e.step, y });
        }
        if ((e.type === 'run-finished' && this.has(e.runId)) || (e.type === 'step-finished' && this.has(e.stepRunId))) this.reloadSoon();
      }),
      // Restored at a window reload before the daemon was reachable: load once it is.
      conn.onDidChangeState(() => {
        if (conn.connected && !this.data) this.reloadSoon();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    this.updateTitle();
  }

  get runIds(): readonly string[] {
    return this._runIds;
  }

  private has(runId: string): boolean {
    return this._runIds.includes(runId);
  }

  private updateTitle(): void {
    this.panel.title = `Compare Runs (${this._runIds.length})`;
  }

  /** Shows other runs in this panel. */
  async show(runIds: string[]): Promise<void> {
    this._runIds = [...new Set(runIds)];
    this.updateTitle();
    await this.reload();
  }

  /** Fetches everything again and redraws; resolves once the page has the data (if it is up). */
  reload(): Promise<void> {
    const ids = [...this._runIds];
    this.status(`Loading ${ids.length} runs…`);
    const run = async () => {
      try {
        const data = await loadComparison(this.conn, ids);
        if (ids.join() !== this._runIds.join()) return; // superseded by a newer show()
        this.data = data;
        this.buffered.clear();
        this.channel.post({ type: 'data', data });
      } catch (e) {
        if (!this.conn.connected) {
          this.status('The orchestrator is not running: start it (MLOps: Start Orchestrator) to see these runs.');
          return;
        }
        log().error(`Compare Runs: loading ${ids.join(', ')} failed: ${(e as Error)?.stack ?? e}`);
        this.status(`Could not load the runs: ${(e as Error)?.message ?? e}`, true);
      }
    };
    this.loading = this.loading.then(run, run);
    return this.loading;
  }

  private lastStatus: CompareToView | undefined;

  /** Shown instead of the charts while there is no data; kept for a page rebuilt meanwhile. */
  private status(text: string, error = false): void {
    this.lastStatus = { type: 'status', text, error };
    this.channel.post(this.lastStatus);
  }

  private sendAll(): void {
    if (this.data) this.channel.post({ type: 'data', data: this.data });
    else this.channel.post(this.lastStatus ?? { type: 'status', text: `Loading ${this._runIds.length} runs…` });
  }

  private buffer(runId: string, p: SeriesPoint & { key: string }): void {
    const list = this.buffered.get(runId) ?? [];
    list.push(p);
    this.buffered.set(runId, list);
    // Keep the host copy current too: a page rebuilt after being hidden gets the points.
    const series = this.data?.series;
    if (series) {
      const runSeries = (series[p.key] ??= []);
      let s = runSeries.find((x) => x.runId === runId);
      if (!s) runSeries.push((s = toSeries(runId, [])));
      const last = s.points[s.points.length - 1];
      const at = !last || last.x < p.x ? -1 : s.points.findIndex((q) => q.x >= p.x);
      if (at < 0) s.points.push({ x: p.x, y: p.y });
      else if (s.points[at].x === p.x) s.points[at] = { x: p.x, y: p.y };
      else s.points.splice(at, 0, { x: p.x, y: p.y });
      const run = this.data?.runs.find((r) => r.id === runId);
      if (run) run.metrics[p.key] = p.y;
    }
    this.appendTimer ??= setTimeout(() => {
      this.appendTimer = undefined;
      for (const [id, points] of this.buffered) this.channel.post({ type: 'appendPoints', runId: id, points });
      this.buffered.clear();
    }, APPEND_EVERY_MS);
  }

  private reloadSoon(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.reload();
    }, RELOAD_DELAY_MS);
  }

  /** What the page has drawn, read back from its DOM and Chart.js instances (for tests). */
  async requestState(): Promise<CompareRenderedState> {
    await this.loading;
    return this.channel.requestState();
  }

  /** Resolves when any pending load has reached the page. */
  async settled(): Promise<void> {
    await this.loading;
    await this.channel.whenReady();
  }

  private isDisposed = false;

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    if (this.appendTimer) clearTimeout(this.appendTimer);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
