import * as vscode from 'vscode';
import type { DriftFromView, DriftRenderedState, DriftReport, DriftToView } from '../../../protocol/data';
import { webviewHtml } from '../webviews/html';
import { PanelChannel } from '../webviews/panel-channel';

export const DRIFT_VIEW_TYPE = 'mlops.driftReport';

/** One drift report in a webview (media/src/drift.ts): the report is sent whenever the page (re)loads. */
export class DriftReportPanel implements vscode.Disposable {
  private readonly channel: PanelChannel<DriftToView, DriftFromView, DriftRenderedState>;
  private readonly subs: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private report: DriftReport,
    extensionUri: vscode.Uri,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'mlops.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, { title: 'Drift Report', script: 'drift', styles: ['webview.css', 'drift.css'] });
    this.channel = new PanelChannel(panel, 'Drift Report', (m) => {
      if (m.type === 'ready') this.channel.post({ type: 'report', report: this.report });
    });
    this.subs.push(this.channel, panel.onDidDispose(() => this.dispose()));
    this.updateTitle();
  }

  get current(): DriftReport {
    return this.report;
  }

  show(report: DriftReport): void {
    this.report = report;
    this.updateTitle();
    this.channel.post({ type: 'report', report });
  }

  /** What the page shows (host tests). */
  requestState(): Promise<DriftRenderedState> {
    return this.channel.requestState();
  }

  private updateTitle(): void {
    this.panel.title = `Drift: ${this.report.drifted}/${this.report.tested} columns`;
  }

  dispose(): void {
    for (const s of this.subs.splice(0)) s.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
