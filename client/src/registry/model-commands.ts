/**
 * The registry commands of the IDE. Each takes a tree node (context menus), an argument object
 * (tests, other commands) or nothing (the palette, which then asks), and returns what it did.
 * With `confirm: true` in the argument object nothing modal is shown (used by tests).
 */
import * as vscode from 'vscode';
import { MlopsError } from '../../../protocol/errors';
import type { AliasEvent, AuditVerification, GateReport, ModelVersion, PromotionRequest } from '../../../protocol/registry';
import type { RunSummary } from '../../../protocol/types';
import { loadManifest } from '../../../orchestrator/pipelines/load';
import { planRollback } from '../../../orchestrator/registry/alias-history';
import { gateTable } from '../../../orchestrator/registry/gates';
import type { Ctx } from '../ctx';
import { log } from '../log';
import { requireTrust } from '../orchestrator/trust';
import type { ExperimentNode } from '../views/experiments-tree';
import { modelDocUri } from './model-documents';
import type { ModelNode, ModelsTree } from './models-tree';
import type { RegistryConnection } from './registry-connection';

type VersionArg = { model: string; version: number };
export type SetAliasArgs = VersionArg & { alias?: string; confirm?: boolean };
export type SetAliasOutcome = { gates: GateReport; event?: AliasEvent; request?: PromotionRequest; refused?: string };

const COMMON_ALIASES = ['staging', 'production', 'champion', 'challenger'];

export function registerModelCommands(ctx: Ctx, registry: RegistryConnection, tree: ModelsTree): void {
  /** Runs a command body; an expected failure shows one message (and is logged) and the command returns undefined. */
  const command = <A extends unknown[], R>(id: string, what: string, fn: (...args: A) => Promise<R | undefined>) =>
    ctx.registerCommand(id, async (...args: A) => {
      if (!requireTrust(what)) return undefined;
      try {
        return await fn(...args);
      } catch (e) {
        const msg = (e as Error)?.message ?? String(e);
        log().error(`${id}: ${e instanceof MlopsError ? msg : ((e as Error)?.stack ?? msg)}`);
        void vscode.window.showErrorMessage(`MLOps: ${msg.split('\n')[0]}`, ...(msg.includes('\n') ? ['Show Details'] : [])).then((b) => {
          if (b) void showText(msg, 'plaintext');
        });
        return undefined;
      }
    });
  const client = () => registry.client();

  ctx.registerCommand('mlops.refreshModels', () => tree.refresh());

  command('mlops.registerModel', 'Registering a model', async (arg?: ExperimentNode | { runId: string; model: string; artifact?: string }): Promise<ModelVersion | undefined> => {
    const c = await client();
    let runId: string | undefined;
    let model: string | undefined;
    let artifact: string | undefined;
    if (arg && !('kind' in arg)) ({ runId, model, artifact } = arg);
    else if (arg?.kind === 'run') runId = arg.run.parentId ?? arg.run.id;
    if (!runId) {
      const { runs } = await c.http.runs({ parentId: 'none', status: 'succeeded', limit: 50 });
      const pick = await vscode.window.showQuickPick(runs.map((r: RunSummary) => ({ label: `${r.name} · ${r.id.slice(0, 8)}`, description: Object.entries(r.latestMetrics).slice(0, 3).map(([k, x]) => `${k} ${x.toPrecision(4)}`).join(' '), detail: new Date(r.startedAt).toLocaleString(), id: r.id })), { title: 'MLOps: register a model from which run?' });
      if (!pick) return undefined;
      runId = pick.id;
    }
    if (!model) {
      const declared = manifestModels(registry.workspace);
      const picked = declared.length
        ? await vscode.window.showQuickPick([...declared.map((m) => ({ label: m })), { label: 'Another name…' }], { title: 'MLOps: register as which model?' })
        : { label: 'Another name…' };
      if (!picked) return undefined;
      model = picked.label !== 'Another name…' ? picked.label : await vscode.window.showInputBox({ prompt: 'Model name', validateInput: (s) => (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s) ? undefined : 'letters, digits, _ . -, starting with a letter or _') });
      if (!model) return undefined;
    }
    const v = await c.register({ model, runId, ...(artifact ? { artifact } : {}) });
    void vscode.window.showInformationMessage(`MLOps: registered ${v.model} v${v.version} from run ${v.runId.slice(0, 8)}.`, 'Open Model Card').then((b) => b && openCard(v));
    tree.refresh();
    return v;
  });

  command('mlops.setAlias', 'Setting an alias', async (arg?: ModelNode | SetAliasArgs): Promise<SetAliasOutcome | undefined> => {
    const target = await versionOf(arg);
    if (!target) return undefined;
    const quiet = isArgs(arg) && arg.confirm === true;
    const c = await client();
    const alias = (isArgs(arg) && arg.alias) || (await pickAlias(target.model, 'Point which alias at v' + target.version + '?'));
    if (!alias) return undefined;
    // The gate result comes first: the user sees it before anything moves.
    const gates = await c.checkGates(target.model, target.version, alias);
    const table = gates.checks.length ? gateTable(gates).join('\n') : 'no gates in mlops.yaml';
    if (!gates.passed) {
      const msg = `${target.model} v${target.version} fails its gates for @${alias}; the alias was not moved.`;
      if (quiet) void vscode.window.showErrorMessage(`MLOps: ${msg}`);
      else await vscode.window.showErrorMessage(msg, { modal: true, detail: table });
      return { gates, refused: msg };
    }
    if (gates.approvalsRequired > 0) {
      const msg = `@${alias} is protected: it needs ${gates.approvalsRequired} approval${gates.approvalsRequired === 1 ? '' : 's'} from someone else. Gates pass.`;
      const choice = quiet ? undefined : await vscode.window.showWarningMessage(msg, { modal: true, detail: table }, 'Request Promotion');
      if (choice !== 'Request Promotion') return { gates, refused: msg };
      const request = await c.requestPromotion(target.model, alias, target.version);
      tree.refresh();
      return { gates, request };
    }
    if (!quiet) {
      const ok = await vscode.window.showInformationMessage(`Gates pass. Point ${target.model}@${alias} at v${target.version}?`, { modal: true, detail: table }, 'Set Alias');
      if (ok !== 'Set Alias') return { gates, refused: 'cancelled' };
    }
    const res = await c.setAlias(target.model, alias, target.version);
    tree.refresh();
    return res;
  });

  command('mlops.requestPromotion', 'Requesting a promotion', async (arg?: ModelNode | (VersionArg & { alias?: string; comment?: string })): Promise<PromotionRequest | undefined> => {
    const target = await versionOf(arg);
    if (!target) return undefined;
    const c = await client();
    let alias = isArgs(arg) ? arg.alias : undefined;
    if (!alias) {
      const { model } = await c.getModel(target.model);
      const prot = Object.keys(model.protectedAliases);
      alias = prot.length === 1 ? prot[0] : await vscode.window.showQuickPick(prot, { title: `Request v${target.version} for which protected alias?` });
      if (!alias) {
        if (prot.length === 0) void vscode.window.showInformationMessage(`MLOps: ${target.model} has no protected aliases (approvals in mlops.yaml); use Set Alias.`);
        return undefined;
      }
    }
    const r = await c.requestPromotion(target.model, alias, target.version, isArgs(arg) ? (arg as { comment?: string }).comment : undefined);
    void vscode.window.showInformationMessage(`MLOps: request #${r.id}: ${r.model}@${r.alias} → v${r.version} needs ${r.required} approval${r.required === 1 ? '' : 's'} from someone else.`);
    tree.refresh();
    return r;
  });

  const decide = (decision: 'approve' | 'reject') => async (arg?: ModelNode | { id: number; comment?: string; confirm?: boolean }) => {
    const c = await client();
    let request: PromotionRequest | undefined = arg && 'kind' in arg && arg.kind === 'request' ? arg.request : undefined;
    if (!request && arg && 'id' in arg) request = (await c.listRequests({ status: 'pending' })).find((r) => r.id === arg.id);
    if (!request) {
      const pending = await c.listRequests({ status: 'pending' });
      if (pending.length === 0) {
        void vscode.window.showInformationMessage('MLOps: no pending promotion requests.');
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(pending.map((r) => ({ label: `#${r.id} ${r.model} v${r.version} → @${r.alias}`, description: `by ${r.requestedBy} · ${r.approvals.length}/${r.required}`, r })), { title: `${decision === 'approve' ? 'Approve' : 'Reject'} which request?` });
      request = pick?.r;
    }
    if (!request) return undefined;
    let comment = arg && 'comment' in arg ? arg.comment : undefined;
    if (decision === 'reject' && comment === undefined && !(arg && 'confirm' in arg && arg.confirm)) {
      comment = await vscode.window.showInputBox({ prompt: `Why reject #${request.id} (${request.model} v${request.version} → @${request.alias})?` });
      if (comment === undefined) return undefined;
    }
    const ref = { id: request.id };
    const res = decision === 'approve' ? await c.approve(ref, comment) : { request: await c.reject(ref, comment || undefined) };
    const moved = 'event' in res && res.event ? ` ${request.model}@${request.alias} → v${res.event.version}.` : '';
    void vscode.window.showInformationMessage(`MLOps: ${decision === 'approve' ? 'approved' : 'rejected'} request #${request.id} (${res.request.approvals.length}/${res.request.required}).${moved}`);
    tree.refresh();
    return res;
  };
  command('mlops.approvePromotion', 'Approving a promotion', decide('approve'));
  command('mlops.rejectPromotion', 'Rejecting a promotion', decide('reject'));

  command('mlops.showAliasHistory', 'Showing alias history', async (arg?: ModelNode | { model: string; alias?: string }): Promise<AliasEvent[] | undefined> => {
    const model = await modelOf(arg);
    if (!model) return undefined;
    const alias = arg && 'alias' in arg ? arg.alias : undefined;
    const events = await (await client()).history(model, alias);
    const rows = events.map((e) => `| ${new Date(e.at).toLocaleString()} | @${e.alias} | ${e.action}${e.requestId !== undefined ? ` (#${e.requestId})` : ''} | ${e.previous === undefined ? '-' : `v${e.previous}`} | ${e.version === undefined ? '(unset)' : `v${e.version}`} | ${e.actor} |`);
    await showText([`# Alias history of ${model}${alias ? `@${alias}` : ''}`, '', '| when | alias | action | from | to | by |', '| --- | --- | --- | --- | --- | --- |', ...rows, ''].join('\n'), 'markdown');
    return events;
  });

  command('mlops.rollbackAlias', 'Rolling back an alias', async (arg?: ModelNode | { model: string; alias?: string; confirm?: boolean }): Promise<AliasEvent | undefined> => {
    const model = await modelOf(arg);
    if (!model) return undefined;
    const c = await client();
    const { model: m } = await c.getModel(model);
    let alias = arg && 'alias' in arg ? arg.alias : undefined;
    if (!alias && arg && 'kind' in arg && arg.kind === 'version' && arg.version.aliases.length === 1) alias = arg.version.aliases[0];
    alias ??= await vscode.window.showQuickPick(Object.keys(m.aliases), { title: `Roll back which alias of ${model}?` });
    if (!alias) return undefined;
    const plan = planRollback((await c.history(model, alias)).reverse(), () => true);
    if (!plan.ok) throw new MlopsError('CONFLICT', `${model}@${alias} cannot be rolled back: ${plan.reason}`);
    if (!(arg && 'confirm' in arg && arg.confirm)) {
      const ok = await vscode.window.showWarningMessage(`Roll ${model}@${alias} back from v${m.aliases[alias]} to v${plan.to}?`, { modal: true }, 'Roll Back');
      if (ok !== 'Roll Back') return undefined;
    }
    const e = await c.rollback(model, alias);
    void vscode.window.showInformationMessage(`MLOps: ${model}@${alias} rolled back: v${e.previous} → v${e.version}.`);
    tree.refresh();
    return e;
  });

  command('mlops.openModelCard', 'Opening a model card', async (arg?: ModelNode | VersionArg): Promise<vscode.TextDocument | undefined> => {
    const target = await versionOf(arg);
    return target ? openCard(target) : undefined;
  });

  command('mlops.compareModelVersions', 'Comparing model versions', async (arg?: ModelNode | (VersionArg & { other?: number })) => {
    const target = await versionOf(arg);
    if (!target) return undefined;
    let other = isArgs(arg) ? (arg as { other?: number }).other : undefined;
    if (other === undefined) {
      const { versions } = await (await client()).getModel(target.model);
      const pick = await vscode.window.showQuickPick(versions.filter((v) => v.version !== target.version).map((v) => ({ label: `v${v.version}`, description: v.aliases.map((a) => `@${a}`).join(' '), n: v.version })), { title: `Compare ${target.model} v${target.version} with…` });
      if (!pick) return undefined;
      other = pick.n;
    }
    const [a, b] = [Math.min(other, target.version), Math.max(other, target.version)];
    await vscode.commands.executeCommand('vscode.diff', modelDocUri(target.model, a, 'summary'), modelDocUri(target.model, b, 'summary'), `${target.model}: v${a} ↔ v${b}`);
    return { model: target.model, left: a, right: b };
  });

  command('mlops.verifyAuditLog', 'Verifying the audit log', async (): Promise<AuditVerification | undefined> => {
    const r = await (await client()).verifyAudit();
    if (r.ok) void vscode.window.showInformationMessage(`MLOps: audit log OK — ${r.entries} entries, chain intact, head matches its anchor.`);
    else {
      const lines = r.problems.map((p) => `${p.seq !== undefined ? `entry ${p.seq}: ` : ''}${p.problem}`);
      void vscode.window.showErrorMessage(`MLOps: the audit log FAILED verification: ${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''}`, 'Show Details').then((b) => b && showText(lines.join('\n'), 'plaintext'));
    }
    return r;
  });

  // The source run of a version: its metric charts (the Experiments view lists it too).
  ctx.registerCommand('mlops.revealModelRun', async (runId: string) => {
    await vscode.commands.executeCommand('mlops.experiments.focus');
    return vscode.commands.executeCommand('mlops.openRunCharts', runId);
  });

  async function openCard(v: VersionArg): Promise<vscode.TextDocument> {
    const doc = await vscode.workspace.openTextDocument(modelDocUri(v.model, v.version, 'card'));
    await Promise.resolve(vscode.languages.setTextDocumentLanguage(doc, 'markdown')).catch(() => doc);
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  }

  async function versionOf(arg: ModelNode | VersionArg | undefined): Promise<VersionArg | undefined> {
    if (arg && 'kind' in arg && arg.kind === 'version') return { model: arg.version.model, version: arg.version.version };
    if (arg && 'model' in arg && typeof arg.model === 'string' && 'version' in arg && typeof arg.version === 'number') return { model: arg.model, version: arg.version };
    const model = await modelOf(arg as ModelNode | undefined);
    if (!model) return undefined;
    const { versions } = await (await client()).getModel(model);
    const pick = await vscode.window.showQuickPick(versions.map((v) => ({ label: `v${v.version}`, description: [v.aliases.map((a) => `@${a}`).join(' '), ...Object.entries(v.metrics).slice(0, 2).map(([k, x]) => `${k} ${x.toPrecision(4)}`)].join(' '), n: v.version })), { title: `${model}: which version?` });
    return pick ? { model, version: pick.n } : undefined;
  }

  async function modelOf(arg: ModelNode | { model: string } | undefined): Promise<string | undefined> {
    if (arg && 'kind' in arg) {
      if (arg.kind === 'model' || arg.kind === 'version') return arg.model.name;
      if (arg.kind === 'request') return arg.request.model;
    }
    if (arg && 'model' in arg && typeof arg.model === 'string') return arg.model;
    const models = await (await client()).listModels();
    if (models.length === 1) return models[0]!.name;
    return vscode.window.showQuickPick(models.map((m) => m.name), { title: 'Which model?' });
  }

  async function pickAlias(model: string, title: string): Promise<string | undefined> {
    const { model: m } = await (await client()).getModel(model);
    const names = [...new Set([...Object.keys(m.aliases), ...Object.keys(m.protectedAliases), ...COMMON_ALIASES])];
    const items = names.map((a) => ({ label: a, description: [m.aliases[a] !== undefined ? `now v${m.aliases[a]}` : '', m.protectedAliases[a] ? `protected: ${m.protectedAliases[a]} approval(s)` : ''].filter(Boolean).join(' · ') }));
    const pick = await vscode.window.showQuickPick([...items, { label: 'Another alias…', description: '' }], { title });
    if (!pick) return undefined;
    if (pick.label !== 'Another alias…') return pick.label;
    return vscode.window.showInputBox({ prompt: 'Alias name', validateInput: (s) => (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s) ? undefined : 'letters, digits, _ . -, starting with a letter or _') });
  }
}

function isArgs(arg: unknown): arg is Record<string, unknown> & VersionArg {
  return typeof arg === 'object' && arg !== null && !('kind' in arg);
}

/** The model names declared in mlops.yaml (none when it is missing or invalid). */
function manifestModels(workspace: string): string[] {
  try {
    return Object.keys(loadManifest(workspace).manifest.models ?? {});
  } catch {
    return [];
  }
}

async function showText(content: string, language: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content, language });
  await vscode.window.showTextDocument(doc, { preview: true });
}
