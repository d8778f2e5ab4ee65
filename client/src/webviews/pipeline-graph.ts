import * as vscode from 'vscode';
import type { GraphFromView, GraphModel, GraphRenderedState, GraphToView } from '../../../protocol/webview';
import type { RunStatus } from '../../../protocol/types';
import { ManifestParser } from '../../../orchestrator/manifest';
import { log } from '../log';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { graphFromManifest, stepKeySpan } from './graph-model';
import { webviewHtml } from './html';
import { PanelChannel } from './panel-channel';

export const GRAPH_VIEW_TYPE = 'mlops.pipelineGraph';

/**
 * The Pipeline graph panel: the manifest's DAG drawn by media/src/graph.ts, nodes coloured
 * by the latest pipeline run's step statuses, updated live from daemon events and redrawn
 * when mlops.yaml changes. Clicking a node selects the step's key in the manifest.
 */
export class PipelineGraphPanel implements vscode.Disposable {
  private readonly channel: PanelChannel<GraphToView, GraphFromView, GraphRenderedState>;
  private readonly subs: vscode.Disposable[] = [];
  private readonly parser = new ManifestParser();
  /** Step → status: the latest pipeline run's, overwritten live by events. */
  private readonly statuses = new Map<string, { status: RunStatus; message?: string }>();
  private runId: string | undefined;
  private model: GraphModel | undefined;
  private building: Promise<void> = Promise.resolve();
  private textTimer: NodeJS.Timeout | undefined;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  private isDisposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly conn: OrchestratorConnection,
    private readonly manifest: vscode.Uri,
    extensionUri: vscode.Uri,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'mlops.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, { title: 'Pipeline Graph', script: 'graph', styles: ['webview.css', 'graph.css'] });
    this.channel = new PanelChannel(panel, 'Pipeline graph', (m) => {
      if (m.type === 'ready' && this.model) this.channel.post({ type: 'graph', graph: this.model });
      if (m.type === 'revealStep') void this.revealStep(m.step);
    });
    this.subs.push(
      this.channel,
      conn.onEvent((e) => {
        if (e.type === 'run-started') {
          this.runId = e.runId;
          // Steps the plan will run are queued; cached ones keep their colour until skipped.
          for (const s of e.plan.steps) if (s.action === 'run') this.setStatus(s.step, 'queued');
        }
        if (e.type === 'step-started') this.setStatus(e.step, 'running');
        if (e.type === 'step-finished') this.setStatus(e.step, e.status, e.message);
      }),
      conn.onDidChangeState(() => void this.rebuild(true)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.toString() !== this.manifest.toString()) return;
        if (this.textTimer) clearTimeout(this.textTimer);
        this.textTimer = setTimeout(() => void this.rebuild(false), 300);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private setStatus(step: string, status: RunStatus, message?: string): void {
    this.statuses.set(step, { status, message });
    const node = this.model?.nodes.find((n) => n.step === step);
    if (node) Object.assign(node, { status, message });
    this.channel.post({ type: 'stepStatus', step, status, message });
  }

  /** Reads the manifest (as edited, saved or not) and, with `fetchStatuses`, the latest run's step statuses. */
  rebuild(fetchStatuses: boolean): Promise<void> {
    const run = async () => {
      try {
        if (fetchStatuses) await this.fetchStatuses();
        const doc = await vscode.workspace.openTextDocument(this.manifest);
        this.model = { ...graphFromManifest(this.parser, doc.getText(), this.statuses), runId: this.runId };
      } catch (e) {
        log().error(`Pipeline graph: ${(e as Error)?.stack ?? e}`);
        this.model = { nodes: [], edges: [], message: `Could not read ${vscode.workspace.asRelativePath(this.manifest)}: ${(e as Error)?.message ?? e}` };
      }
      this.channel.post({ type: 'graph', graph: this.model });
    };
    this.building = this.building.then(run, run);
    return this.building;
  }

  private async fetchStatuses(): Promise<void> {
    if (!this.conn.connected) return;
    try {
      const { runs } = await this.conn.listRuns({ parentId: 'none', kind: 'pipeline', limit: 1, offset: 0 });
      if (!runs[0]) return;
      const run = await this.conn.getRun(runs[0].id);
      this.runId = run.id;
      this.statuses.clear();
      for (const c of run.children) this.statuses.set(c.name, { status: c.status, message: c.message });
    } catch (e) {
      log().warn(`Pipeline graph: no run statuses: ${(e as Error)?.message ?? e}`);
    }
  }

  /** Opens mlops.yaml beside the graph with the step's key selected. */
  async revealStep(step: string): Promise<vscode.TextEditor | undefined> {
    const doc = await vscode.workspace.openTextDocument(this.manifest);
    const span = stepKeySpan(this.parser, doc.getText(), step);
    if (!span) {
      void vscode.window.showWarningMessage(`MLOps: step "${step}" is no longer in ${vscode.workspace.asRelativePath(this.manifest)}.`);
      return undefined;
    }
    const selection = new vscode.Selection(doc.positionAt(span.start), doc.positionAt(span.end));
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString());
    const column = visible?.viewColumn ?? (this.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: column, selection, preserveFocus: false });
    editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return editor;
  }

  /** What the page has drawn, read back from its SVG (for tests). */
  async requestState(): Promise<GraphRenderedState> {
    await this.building;
    return this.channel.requestState();
  }

  /** Test hook: the page clicks the node the way a user does (DOM click → `revealStep`). */
  async clickNode(step: string): Promise<void> {
    await this.building;
    await this.channel.whenReady();
    this.channel.post({ type: 'clickNode', step });
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    if (this.textTimer) clearTimeout(this.textTimer);
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
