import * as vscode from 'vscode';
import type { RunRequest } from '../../../protocol/pipeline';
import type { RunStatus } from '../../../protocol/types';
import { ManifestParser } from '../../../orchestrator/manifest';
import type { Ctx } from '../ctx';
import { log } from '../log';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { requireTrust } from '../orchestrator/trust';
import { logUri } from '../views/log-documents';

/** Result of the run commands, for tests and callers: the run id and how it ended. */
export interface RunOutcome {
  runId: string;
  status: RunStatus;
}

/** Streams every step's output of the runs started here into one output channel. */
function attachRunOutput(conn: OrchestratorConnection, ctx: Ctx): vscode.OutputChannel {
  const channel = ctx.push(vscode.window.createOutputChannel('MLOps Runs'));
  ctx.push(
    conn.onEvent((e) => {
      if (e.type === 'run-started') {
        channel.appendLine(`── run ${e.runId} started: ${e.plan.steps.map((s) => `${s.step} ${s.action}${s.action === 'run' ? ` (${s.reason})` : ''}`).join(', ')}`);
      } else if (e.type === 'step-output') {
        for (const line of e.text.replace(/\n$/, '').split('\n')) channel.appendLine(`[${e.step}] ${line}`);
      } else if (e.type === 'step-finished') {
        channel.appendLine(`── ${e.step}: ${e.status}${e.exitCode !== undefined ? ` (exit ${e.exitCode})` : ''}${e.message ? ` — ${e.message}` : ''}`);
      } else if (e.type === 'run-finished') {
        channel.appendLine(`── run ${e.runId} ${e.status}${e.message ? `: ${e.message}` : ''}`);
      }
    }),
  );
  return channel;
}

export function registerRunCommands(ctx: Ctx, conn: OrchestratorConnection): void {
  const output = attachRunOutput(conn, ctx);

  /** Starts a run and follows it with a cancellable progress notification until it ends. */
  async function runWithProgress(req: RunRequest, title: string): Promise<RunOutcome | undefined> {
    if (!requireTrust('Running the pipeline')) return undefined;
    let started: { runId: string };
    try {
      started = await conn.run(req);
    } catch (e) {
      void vscode.window.showErrorMessage(`MLOps: ${(e as Error).message}`, 'Show Log').then((b) => b && log().show());
      return undefined;
    }
    const { runId } = started;
    output.show(true);
    const status = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MLOps: ${title}`, cancellable: true },
      (progress, token) =>
        new Promise<RunStatus>((resolve) => {
          token.onCancellationRequested(() => void conn.cancel(runId).catch(() => undefined));
          const sub = conn.onEvent((e) => {
            if (!('runId' in e) || e.runId !== runId) return;
            if (e.type === 'step-started') progress.report({ message: `${e.step}…` });
            if (e.type === 'step-finished') progress.report({ message: `${e.step} ${e.status}` });
            if (e.type === 'run-finished') {
              sub.dispose();
              resolve(e.status);
            }
          });
          // The run may have finished before we subscribed (all steps cached).
          void conn.getRun(runId).then((r) => {
            if (r.status !== 'running' && r.status !== 'queued') {
              sub.dispose();
              resolve(r.status);
            }
          }, () => undefined);
        }),
    );
    if (status === 'failed') {
      const run = await conn.getRun(runId).catch(() => undefined);
      const failed = run?.children.find((c) => c.status === 'failed');
      void vscode.window
        .showErrorMessage(`MLOps: run ${runId.slice(0, 8)} failed${failed ? ` in step "${failed.name}": ${failed.message ?? `exit ${failed.exitCode}`}` : ''}.`, 'Show Log')
        .then((b) => b && failed && vscode.window.showTextDocument(logUri(runId, failed.name)));
    } else if (status === 'succeeded') {
      void vscode.window.showInformationMessage(`MLOps: run ${runId.slice(0, 8)} succeeded.`);
    }
    return { runId, status };
  }

  ctx.registerCommand('mlops.runPipeline', (req?: RunRequest) => runWithProgress(req ?? {}, 'running the pipeline'));
  // Re-run with Params…: one input box per param, prefilled from the manifest's defaults.
  ctx.registerCommand('mlops.rerunWithParams', async (given?: Record<string, string>) => {
    if (given) return runWithProgress({ params: given }, 'running with params');
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'mlops.yaml'));
    const value = new ManifestParser().parseSync(doc.getText()).value as { params?: Record<string, unknown> } | null;
    const params = value?.params ?? {};
    const names = Object.keys(params);
    if (names.length === 0) {
      void vscode.window.showInformationMessage('MLOps: the manifest declares no params.');
      return undefined;
    }
    const overrides: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      const current = Array.isArray(params[name]) ? (params[name] as unknown[]).join(',') : String(params[name]);
      const v = await vscode.window.showInputBox({ title: `Re-run with params (${i + 1}/${names.length})`, prompt: `${name} (default ${current})`, value: current, ignoreFocusOut: true });
      if (v === undefined) return undefined; // Escape cancels the whole re-run
      if (v !== current) overrides[name] = v;
    }
    return runWithProgress({ params: overrides }, Object.keys(overrides).length ? `running with ${Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(', ')}` : 'running the pipeline');
  });
  ctx.registerCommand('mlops.runStep', async (step?: string | { step: string }) => {
    const name = typeof step === 'string' ? step : step?.step ?? (await pickStep(conn));
    return name ? runWithProgress({ steps: [name] }, `running ${name}`) : undefined;
  });
  ctx.registerCommand('mlops.cancelRun', async (runId?: string) => {
    const id = runId ?? [...conn.activeRuns][0];
    if (!id) {
      void vscode.window.showInformationMessage('MLOps: no run is in progress.');
      return false;
    }
    const ok = await conn.cancel(id);
    void vscode.window.showInformationMessage(ok ? `MLOps: run ${id.slice(0, 8)} cancelled.` : `MLOps: run ${id.slice(0, 8)} had already ended.`);
    return ok;
  });
  ctx.registerCommand('mlops.showRunLogs', async (runId?: string | { run?: { id: string } }) => {
    const id = typeof runId === 'string' ? runId : runId?.run?.id ?? (await pickRun(conn));
    if (!id) return;
    const run = await conn.getRun(id);
    const steps = run.children.filter((c) => c.status !== 'skipped');
    const step = steps.length === 1 ? steps[0].name : (await vscode.window.showQuickPick(steps.map((c) => ({ label: c.name, description: c.status }))))?.label;
    if (step) await vscode.window.showTextDocument(logUri(id, step), { preview: false });
  });
  ctx.registerCommand('mlops.startOrchestrator', async () => {
    if (!requireTrust('Starting the orchestrator')) return false;
    await conn.start();
    return true;
  });
  ctx.registerCommand('mlops.stopOrchestrator', () => conn.stop());
  ctx.registerCommand('mlops.showOrchestratorLog', async () => {
    const uri = vscode.Uri.file(`${conn.workspace}/.mlops/daemon.log`);
    await vscode.window.showTextDocument(uri, { preview: false });
  });
}

async function pickStep(conn: OrchestratorConnection): Promise<string | undefined> {
  const plan = await conn.plan({}).catch(() => undefined);
  const items = (plan?.steps ?? []).map((s) => ({ label: s.step, description: `${s.action}: ${s.reason}` }));
  return (await vscode.window.showQuickPick(items, { placeHolder: 'Step to run (with what it needs)' }))?.label;
}

async function pickRun(conn: OrchestratorConnection): Promise<string | undefined> {
  const { runs } = await conn.listRuns({ parentId: 'none', limit: 50, offset: 0 });
  return (await vscode.window.showQuickPick(runs.map((r) => ({ label: `${r.name} · ${r.id.slice(0, 8)}`, description: r.status, id: r.id }))))?.id;
}
