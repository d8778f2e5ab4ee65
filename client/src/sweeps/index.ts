/**
 * Sweeps in the IDE: MLOps: Start Sweep… (pick a sweep of mlops.yaml, start or resume it,
 * follow it in a progress notification), Stop Sweep, and Show Sweep (the sweep view). A sweep
 * also shows under Experiments as a run whose children are its trials.
 */
import * as vscode from 'vscode';
import { MlopsError } from '../../../protocol/errors';
import { formatNumber } from '../../../protocol/format';
import type { SweepStartRequest, SweepStatus } from '../../../protocol/sweep';
import type { RunStatus } from '../../../protocol/types';
import type { Ctx } from '../ctx';
import { log } from '../log';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { requireTrust } from '../orchestrator/trust';
import { panelOptions } from '../webviews/html';
import { listSweeps, startSweep } from './sweep-data';
import { SWEEP_VIEW_TYPE, SweepPanel } from './sweep-panel';

export { SweepPanel } from './sweep-panel';

/** What Start Sweep… returns (tests, callers): the sweep run and how this start ended. */
export interface SweepOutcome {
  runId: string;
  status: RunStatus;
  /** It continued an earlier run of the sweep. */
  resumed: boolean;
  /** False when the latest run already had its trials. */
  started: boolean;
}

/** Progress refreshes while a sweep runs: at most this often. */
const PROGRESS_MS = 500;

function describe(s: SweepStatus): string {
  const finished = s.counts.complete + s.counts.pruned + s.counts.failed;
  const best = s.best ? ` · best ${s.objective.metric} ${formatNumber(s.best.value)} (trial-${s.best.number})` : '';
  return `${finished}/${s.budget} trials${s.counts.pruned ? ` · ${s.counts.pruned} pruned` : ''}${s.counts.running ? ` · ${s.counts.running} running` : ''}${best}`;
}

function showError(what: string, e: unknown): void {
  if (!(e instanceof MlopsError)) log().error(`${what}: ${(e as Error)?.stack ?? e}`);
  void vscode.window.showErrorMessage(`MLOps: ${what}: ${(e as Error)?.message ?? e}`, 'Show Log').then((b) => b && log().show());
}

export function registerSweeps(ctx: Ctx, conn: OrchestratorConnection, extensionUri: vscode.Uri): void {
  let panel: SweepPanel | undefined;
  ctx.push({ dispose: () => panel?.dispose() });

  async function showSweep(runId: string, preserveFocus = false): Promise<SweepPanel> {
    if (panel) {
      panel.panel.reveal(undefined, preserveFocus);
      await panel.show(runId);
      return panel;
    }
    const webview = vscode.window.createWebviewPanel(SWEEP_VIEW_TYPE, 'Sweep', { viewColumn: vscode.ViewColumn.Active, preserveFocus }, { ...panelOptions(extensionUri), retainContextWhenHidden: false });
    const p = (panel = new SweepPanel(webview, conn, runId, extensionUri));
    p.onDidDispose(() => {
      if (panel === p) panel = undefined;
    });
    await p.reload();
    return p;
  }

  async function pickSweep(client: Awaited<ReturnType<OrchestratorConnection['start']>>): Promise<string | undefined> {
    const sweeps = await listSweeps(client);
    if (sweeps.length === 0) {
      void vscode.window.showInformationMessage('MLOps: mlops.yaml declares no sweeps. Add one under `sweeps:` (a step, an objective and a search space).');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      sweeps.map((s) => ({
        label: s.name,
        description: `${s.method} · ${s.trials} trials · ${s.parallel} at a time · ${s.goal} ${s.metric}`,
        detail: s.latest ? `latest run ${s.latest.runId.slice(0, 8)}: ${s.latest.status}, ${s.latest.finished} trials finished${s.latest.finished < s.trials ? ' (starting resumes it)' : ''}` : `step ${s.step}; never run`,
      })),
      { title: 'MLOps: Start Sweep', placeHolder: 'Sweep to run (or resume)' },
    );
    return picked?.label;
  }

  /** Follows a sweep run in a cancellable notification until it ends; Cancel stops the sweep. */
  async function follow(runId: string, name: string): Promise<RunStatus> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: sweep ${name}`, cancellable: true }, (progress, token) =>
      new Promise<RunStatus>((resolve) => {
        let last = 0;
        let timer: NodeJS.Timeout | undefined;
        const report = async () => {
          timer = undefined;
          last = Date.now();
          const s = await conn.start().then((c) => c.call('GET /api/sweeps/status', { id: runId })).catch(() => undefined);
          if (!s) return;
          progress.report({ message: describe(s) });
          if (s.status !== 'running' && s.status !== 'queued') done(s.status);
        };
        const sub = conn.onEvent((e) => {
          if (e.type === 'run-finished' && e.runId === runId) return done(e.status);
          if ((e.type === 'runs-changed' || e.type === 'step-finished') && !timer) timer = setTimeout(() => void report(), Math.max(0, last + PROGRESS_MS - Date.now()));
        });
        const stateSub = conn.onDidChangeState(() => {
          if (!conn.connected) done('interrupted');
        });
        let settled = false;
        function done(status: RunStatus): void {
          if (settled) return;
          settled = true;
          sub.dispose();
          stateSub.dispose();
          if (timer) clearTimeout(timer);
          resolve(status);
        }
        token.onCancellationRequested(() => void conn.start().then((c) => c.call('POST /api/sweeps/stop', { runId })).catch(() => undefined));
        void report();
      }),
    );
  }

  ctx.registerCommand('mlops.startSweep', async (arg?: string | SweepStartRequest): Promise<SweepOutcome | undefined> => {
    if (!requireTrust('Running a sweep')) return undefined;
    let client;
    try {
      client = await conn.start();
    } catch (e) {
      showError('the orchestrator did not start', e);
      return undefined;
    }
    const req: SweepStartRequest | undefined = typeof arg === 'string' ? { name: arg } : arg?.name ? arg : undefined;
    const name = req?.name ?? (await pickSweep(client).catch((e) => (showError('could not list the sweeps', e), undefined)));
    if (!name) return undefined;
    let res;
    try {
      res = await startSweep(client, { ...req, name });
    } catch (e) {
      showError(`sweep ${name} did not start`, e);
      return undefined;
    }
    if (!res.started) {
      void vscode.window.showInformationMessage(`MLOps: ${res.message}`, 'Show Sweep').then((b) => b && showSweep(res.runId));
      const status = await client.call('GET /api/sweeps/status', { id: res.runId }).then((s) => s.status, () => 'succeeded' as RunStatus);
      return { runId: res.runId, status, resumed: false, started: false };
    }
    await showSweep(res.runId, true).catch((e) => log().warn(`Sweep view: ${(e as Error)?.message ?? e}`));
    const status = await follow(res.runId, name);
    const s = await client.call('GET /api/sweeps/status', { id: res.runId }).catch(() => undefined);
    if (status === 'succeeded' && s?.best) {
      const params = Object.entries(s.best.params).map(([k, v]) => `${k}=${Number.isFinite(Number(v)) ? formatNumber(Number(v)) : v}`).join(', ');
      void vscode.window.showInformationMessage(`MLOps: sweep ${name} finished: best trial-${s.best.number}, ${s.objective.metric} ${formatNumber(s.best.value)} (${params}).`, 'Show Sweep').then((b) => b && showSweep(res.runId));
    } else if (status === 'cancelled') {
      void vscode.window.showInformationMessage(`MLOps: sweep ${name} stopped${s ? ` (${describe(s)})` : ''}. Start it again to resume.`);
    } else if (status !== 'succeeded') {
      void vscode.window.showErrorMessage(`MLOps: sweep ${name} ${status}${s?.message ? `: ${s.message}` : ''}.`);
    }
    return { runId: res.runId, status, resumed: res.resumed, started: true };
  });

  ctx.registerCommand('mlops.stopSweep', async (runId?: string): Promise<boolean> => {
    if (!conn.connected) {
      void vscode.window.showInformationMessage('MLOps: no sweep is running (the orchestrator is not running).');
      return false;
    }
    let id = runId;
    if (!id) {
      for (const active of conn.activeRuns) if ((await conn.getRun(active).catch(() => undefined))?.kind === 'sweep') id = active;
    }
    if (!id) {
      void vscode.window.showInformationMessage('MLOps: no sweep is running.');
      return false;
    }
    try {
      const { stopped } = await (await conn.start()).call('POST /api/sweeps/stop', { runId: id });
      void vscode.window.showInformationMessage(stopped ? `MLOps: sweep run ${id.slice(0, 8)} stopped; start the sweep again to resume it.` : `MLOps: sweep run ${id.slice(0, 8)} had already ended.`);
      return stopped;
    } catch (e) {
      showError('could not stop the sweep', e);
      return false;
    }
  });

  ctx.registerCommand('mlops.showSweep', async (arg?: string | { run?: { id: string; kind?: string } }): Promise<SweepPanel | undefined> => {
    if (!conn.connected) {
      if (!requireTrust('Showing a sweep')) return undefined;
      try {
        await conn.start();
      } catch (e) {
        showError('the orchestrator did not start', e);
        return undefined;
      }
    }
    let id = typeof arg === 'string' ? arg : arg?.run?.id;
    if (!id) {
      const { runs } = await conn.listRuns({ kind: 'sweep', limit: 100, offset: 0 });
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('MLOps: no sweep has run yet. Start one with MLOps: Start Sweep….');
        return undefined;
      }
      id = runs.length === 1 ? runs[0]!.id : (await vscode.window.showQuickPick(runs.map((r) => ({ label: `${r.name} · ${r.id.slice(0, 8)}`, description: `${r.status} · ${Object.entries(r.latestMetrics).map(([k, v]) => `${k} ${formatNumber(v)}`).join(' ')}`, id: r.id })), { title: 'MLOps: Show Sweep' }))?.id;
      if (!id) return undefined;
    }
    return showSweep(id);
  });
}
