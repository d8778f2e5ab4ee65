/**
 * The webviews: Compare Runs (`mlops.compareRuns`) and the Pipeline graph
 * (`mlops.showPipelineGraph`). Message shapes live in protocol/webview.ts; the pages are
 * media/src/compare.ts and media/src/graph.ts, bundled to dist/media/.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { requireTrust } from '../orchestrator/trust';
import { formatAgo, formatMetric, keyMetric } from '../views/format';
import { COMPARE_VIEW_TYPE, ComparePanel } from './compare-runs';
import { panelOptions } from './html';
import { runIdsFromArgs, type RunArg } from './run-args';
import { GRAPH_VIEW_TYPE, PipelineGraphPanel } from './pipeline-graph';

export { ComparePanel } from './compare-runs';
export { PipelineGraphPanel } from './pipeline-graph';

/** What registerWebviews gives back: the open panels (for tests and other commands). */
export interface WebviewsApi {
  readonly compare: ComparePanel | undefined;
  readonly graph: PipelineGraphPanel | undefined;
}

/** How many recent pipeline runs the Compare Runs quick pick offers. */
const PICK_LIMIT = 200;

async function pickRuns(conn: OrchestratorConnection, preselected: string[]): Promise<string[] | undefined> {
  const { runs, total } = await conn.listRuns({ parentId: 'none', kind: 'pipeline', limit: PICK_LIMIT, offset: 0 });
  if (runs.length < 2) {
    void vscode.window.showInformationMessage('MLOps: comparing needs at least two pipeline runs. Run the pipeline (with different params) first.');
    return undefined;
  }
  const items = runs.map((r) => {
    const km = keyMetric(r.latestMetrics);
    return {
      label: `${r.name} · ${r.id.slice(0, 8)}`,
      description: [r.status, km ? `${km[0]} ${formatMetric(km[1])}` : '', formatAgo(r.startedAt)].filter(Boolean).join(' · '),
      detail: Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join('  '),
      picked: preselected.includes(r.id),
      id: r.id,
    };
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: `MLOps: Compare Runs — pick two or more (${runs.length === total ? runs.length : `newest ${runs.length} of ${total}`})`,
    canPickMany: true,
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked) return undefined;
  if (picked.length < 2) {
    void vscode.window.showWarningMessage('MLOps: pick at least two runs to compare.');
    return undefined;
  }
  return picked.map((p) => p.id);
}

export function registerWebviews(ctx: Ctx, conn: OrchestratorConnection, extensionUri: vscode.Uri): WebviewsApi {
  let compare: ComparePanel | undefined;
  let graph: PipelineGraphPanel | undefined;
  ctx.push({ dispose: () => (compare?.dispose(), graph?.dispose()) });

  /** Needs the daemon (it holds the runs); starting it is gated by Workspace Trust like every command. */
  async function connect(what: string): Promise<boolean> {
    if (conn.connected) return true;
    if (!requireTrust(what)) return false;
    try {
      await conn.start();
      return true;
    } catch (e) {
      void vscode.window.showErrorMessage(`MLOps: the orchestrator did not start (${(e as Error)?.message ?? e}).`, 'Show Log').then((b) => b && vscode.commands.executeCommand('mlops.showOrchestratorLog'));
      return false;
    }
  }

  /**
   * Compare Runs: with run ids (or Experiments tree run nodes) opens them at once; otherwise a
   * multi-select quick pick of recent pipeline runs. Returns the panel (tests read its state).
   */
  ctx.registerCommand('mlops.compareRuns', async (...args: RunArg[]) => {
    if (!(await connect('Comparing runs'))) return undefined;
    let ids = runIdsFromArgs(args);
    if (ids.length < 2) {
      const picked = await pickRuns(conn, ids);
      if (!picked) return undefined;
      ids = picked;
    }
    if (compare) {
      compare.panel.reveal();
      await compare.show(ids);
      return compare;
    }
    const opened = adoptCompare(vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'Compare Runs', vscode.ViewColumn.Active, panelOptions(extensionUri)), ids);
    await opened.reload();
    return opened;
  });

  /** One run's metric charts (a metric clicked in the Experiments tree): the Compare Runs panel with one run. */
  ctx.registerCommand('mlops.openRunCharts', async (runId: string) => {
    if (!(await connect('Showing run metrics'))) return undefined;
    if (compare) {
      compare.panel.reveal();
      await compare.show([runId]);
      return compare;
    }
    const opened = adoptCompare(vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'Run Metrics', vscode.ViewColumn.Active, panelOptions(extensionUri)), [runId]);
    await opened.reload();
    return opened;
  });

  /** The manifest's DAG with status colours. Returns the panel (tests read its state). */
  ctx.registerCommand('mlops.showPipelineGraph', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showInformationMessage('MLOps: open a folder with an mlops.yaml to see its pipeline graph.');
      return undefined;
    }
    if (graph) {
      graph.panel.reveal();
      await graph.rebuild(true);
      return graph;
    }
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const opened = adoptGraph(vscode.window.createWebviewPanel(GRAPH_VIEW_TYPE, 'Pipeline Graph', column, panelOptions(extensionUri)), folder);
    await opened.rebuild(true);
    return opened;
  });

  function adoptCompare(panel: vscode.WebviewPanel, ids: string[]): ComparePanel {
    const opened = new ComparePanel(panel, conn, ids, extensionUri);
    compare = opened;
    opened.onDidDispose(() => {
      if (compare === opened) compare = undefined;
    });
    return opened;
  }

  function adoptGraph(panel: vscode.WebviewPanel, folder: vscode.WorkspaceFolder): PipelineGraphPanel {
    const opened = new PipelineGraphPanel(panel, conn, vscode.Uri.joinPath(folder.uri, 'mlops.yaml'), extensionUri);
    graph = opened;
    opened.onDidDispose(() => {
      if (graph === opened) graph = undefined;
    });
    return opened;
  }

  // Panels open at a window reload come back (the page saved its run ids in its state).
  ctx.push(
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        const ids = (state as { runIds?: unknown } | undefined)?.runIds;
        if (compare || !Array.isArray(ids) || ids.length < 2 || !ids.every((id) => typeof id === 'string')) {
          panel.dispose();
          return;
        }
        panel.webview.options = panelOptions(extensionUri);
        const opened = adoptCompare(panel, ids as string[]);
        // Only reattach (never start a daemon on reload); the panel loads once it is connected.
        if (!conn.connected && vscode.workspace.isTrusted) await conn.attachIfRunning();
        await opened.reload();
      },
    }),
  );
  ctx.push(
    vscode.window.registerWebviewPanelSerializer(GRAPH_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        const folder = vscode.workspace.workspaceFolders?.[0];
        if (graph || !folder) {
          panel.dispose();
          return;
        }
        panel.webview.options = panelOptions(extensionUri);
        await adoptGraph(panel, folder).rebuild(true);
      },
    }),
  );

  return {
    get compare() {
      return compare;
    },
    get graph() {
      return graph;
    },
  };
}
