/**
 * The deployment commands. Each takes a tree node (context menus), an argument object (tests,
 * the monitor's buttons, other commands) or nothing (the palette, which then asks), and returns
 * what it did. With `confirm: true` nothing modal is shown (tests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MlopsError } from '../../../protocol/errors';
import type { DeploymentStatus } from '../../../protocol/serving';
import { RegistryClient } from '../../../orchestrator/registry/client';
import type { Ctx } from '../ctx';
import { log } from '../log';
import { requireTrust } from '../orchestrator/trust';
import { canaryProgress, stableVersion } from './deployment-format';
import { askWeight, busyVersions, manifestVersion, pickDeployment, pickVersion } from './deployment-picks';
import type { DeploymentsConnection } from './deployments-connection';
import type { DeploymentNode, DeploymentsTree } from './deployments-tree';
import type { MonitorPanel } from './monitor-panel';
import { deploymentOfRequest, requestFile, type ResponseDocuments } from './request-documents';
import { registerTrafficCommands } from './traffic-commands';
import { buildTestRequest, exampleRow, formatJson, responseText, sendTestRequest, type TestResponse } from './test-request';

/** A deployment named by a tree node, `{name}` or a plain string. */
export type DeploymentArg = DeploymentNode | { name: string } | string;
export type DeployArgs = { name: string; version?: number };
export type CanaryArgs = { name: string; version?: number; weight?: number };
/** `send: true` or a `body` sends at once (the prefilled request when no body) instead of opening the document. */
export type SendArgs = { name: string; body?: unknown; send?: boolean };

interface Deps {
  source: DeploymentsConnection;
  tree: DeploymentsTree;
  responses: ResponseDocuments;
  openMonitor(name: string): Promise<MonitorPanel | undefined>;
}

/** What every deployment command uses: trust and error handling, the target deployment, the registry. */
export interface CommandKit {
  command<A extends unknown[], R>(id: string, what: string, fn: (...args: A) => Promise<R | undefined>): void;
  target(arg: DeploymentArg | undefined, title: string, filter: (d: DeploymentStatus) => boolean, none: string): Promise<DeploymentStatus | undefined>;
  registry(): Promise<RegistryClient>;
  withProgress<T>(title: string, fn: () => Promise<T>): Promise<T>;
  afterChange(): void;
}

function nameOf(arg: DeploymentArg | undefined): string | undefined {
  if (!arg) return undefined;
  if (typeof arg === 'string') return arg;
  if ('kind' in arg) return arg.deployment.name;
  return typeof arg.name === 'string' ? arg.name : undefined;
}

const confirmed = (arg: unknown): boolean => typeof arg === 'object' && arg !== null && (arg as { confirm?: unknown }).confirm === true;

export function registerDeploymentCommands(ctx: Ctx, deps: Deps): void {
  const { source, tree, responses } = deps;

  /** Runs a command body: trust first; an expected failure shows one message (and is logged), and the command returns undefined. */
  const command = <A extends unknown[], R>(id: string, what: string, fn: (...args: A) => Promise<R | undefined>) =>
    ctx.registerCommand(id, async (...args: A) => {
      if (!requireTrust(what)) return undefined;
      try {
        return await fn(...args);
      } catch (e) {
        const msg = (e as Error)?.message ?? String(e);
        log().error(`${id}: ${e instanceof MlopsError ? msg : ((e as Error)?.stack ?? msg)}`);
        void vscode.window.showErrorMessage(`MLOps: ${msg}`, 'Show Log').then((b) => b && log().show());
        return undefined;
      }
    });

  /** The deployment the argument names (fresh from the daemon), or a pick among those `filter` accepts. */
  async function target(arg: DeploymentArg | undefined, title: string, filter: (d: DeploymentStatus) => boolean, none: string): Promise<DeploymentStatus | undefined> {
    await source.client();
    const name = nameOf(arg);
    if (name) return source.get(name);
    return pickDeployment(await source.list(), title, filter, none);
  }

  const registry = async () => new RegistryClient(await source.client());
  const serving = (d: DeploymentStatus) => d.state === 'serving' || d.state === 'starting';

  async function withProgress<T>(title: string, fn: () => Promise<T>): Promise<T> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: ${title}` }, fn);
  }

  function afterChange(): void {
    tree.refresh();
  }

  ctx.registerCommand('mlops.refreshDeployments', () => tree.refresh());
  registerTrafficCommands({ command, target, registry, withProgress, afterChange }, source, deps.openMonitor);

  command('mlops.deployModel', 'Deploying a model', async (arg?: DeploymentArg | DeployArgs): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Deploy which deployment of mlops.yaml?', () => true, 'mlops.yaml declares no deployments. Add one under `deployments:` (a name and the model it serves).');
    if (!d) return undefined;
    let version = typeof arg === 'object' && arg && !('kind' in arg) ? (arg as DeployArgs).version : undefined;
    if (version === undefined && !confirmed(arg)) {
      const { model, versions } = await (await registry()).getModel(d.model);
      const suggested = manifestVersion(source.declared()[d.name], model);
      version = await pickVersion(versions, { title: `MLOps: Deploy which version of ${d.model} to ${d.name}?`, suggested: suggested.version, why: suggested.why });
      if (version === undefined) return undefined;
    }
    const res = await withProgress(`deploying ${d.name}${version !== undefined ? ` (${d.model} v${version})` : ''}…`, async () => (await source.client()).call('POST /api/deployments/deploy', { name: d.name, ...(version !== undefined ? { version } : {}) }));
    afterChange();
    void vscode.window.showInformationMessage(`MLOps: ${res.name} serves ${res.model} v${stableVersion(res) ?? version ?? '?'}${res.url ? ` at ${res.url}` : ''}.`, 'Send Test Request', 'Open Live Monitor').then((b) => {
      if (b === 'Send Test Request') void vscode.commands.executeCommand('mlops.sendTestRequest', { name: res.name });
      if (b === 'Open Live Monitor') void deps.openMonitor(res.name);
    });
    return res;
  });

  command('mlops.startCanary', 'Starting a canary', async (arg?: DeploymentArg | CanaryArgs): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Start a canary on which deployment?', serving, 'no deployment is serving; deploy one first (MLOps: Deploy Model…).');
    if (!d) return undefined;
    const given = typeof arg === 'object' && arg && !('kind' in arg) ? (arg as CanaryArgs) : undefined;
    let version = given?.version;
    if (version === undefined) {
      const { versions } = await (await registry()).getModel(d.model);
      version = await pickVersion(versions, { title: `MLOps: Canary of which version of ${d.model} (v${stableVersion(d) ?? '?'} is stable)?`, exclude: busyVersions(d) });
      if (version === undefined) return undefined;
    }
    let weight = given?.weight;
    if (weight === undefined && !confirmed(arg)) {
      weight = await askWeight(source.declared()[d.name]?.rollout?.canary?.weight ?? 10, version);
      if (weight === undefined) return undefined;
    }
    const res = await withProgress(`starting canary v${version} on ${d.name}…`, async () => (await source.client()).call('POST /api/deployments/canary', { name: d.name, version: version!, ...(weight !== undefined ? { weight } : {}) }));
    afterChange();
    const p = canaryProgress(res);
    void vscode.window.showInformationMessage(`MLOps: ${res.name}: canary v${version} started${p ? ` — ${p.description}` : ''}.`, 'Open Live Monitor').then((b) => b && deps.openMonitor(res.name));
    return res;
  });

  command('mlops.promoteCanary', 'Promoting a canary', async (arg?: DeploymentArg): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Promote the canary of which deployment?', (x) => !!x.canary, 'no canary is running.');
    if (!d) return undefined;
    const res = await (await source.client()).call('POST /api/deployments/promote', { name: d.name });
    afterChange();
    void vscode.window.showInformationMessage(`MLOps: ${res.name}: v${stableVersion(res) ?? d.canary?.version} now takes all traffic (v${stableVersion(d) ?? '?'} is kept for Roll Back).`);
    return res;
  });

  command('mlops.rollbackDeployment', 'Rolling back a deployment', async (arg?: DeploymentArg): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Roll back which deployment?', (x) => !!x.canary || x.previousVersion !== undefined, 'no deployment has a canary or an earlier version to roll back to.');
    if (!d) return undefined;
    const from = stableVersion(d);
    const res = await withProgress(`rolling back ${d.name}…`, async () => (await source.client()).call('POST /api/deployments/rollback', { name: d.name }));
    afterChange();
    const now = stableVersion(res);
    const split = d.versions.filter((v) => v.role === 'ab').map((v) => `v${v.version}`);
    void vscode.window.showInformationMessage(
      d.canary ? `MLOps: ${res.name}: canary v${d.canary.version} dropped; v${now ?? from} serves all traffic.`
        : split.length ? `MLOps: ${res.name}: A/B split of ${split.join(' and ')} ended; v${now} serves all traffic.`
          : `MLOps: ${res.name} rolled back: v${from} → v${now}.`,
      'Show History',
    ).then((b) => b && vscode.commands.executeCommand('mlops.showDeploymentHistory', { name: res.name }));
    return res;
  });

  command('mlops.undeploy', 'Stopping a deployment', async (arg?: DeploymentArg | { name: string; confirm?: boolean }): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Stop which deployment?', serving, 'no deployment is serving.');
    if (!d) return undefined;
    if (!confirmed(arg)) {
      const ok = await vscode.window.showWarningMessage(`Stop ${d.name}?`, { modal: true, detail: `${d.url ?? 'Its endpoint'} stops answering once the requests in flight finish. Deploy it again to serve.` }, 'Stop');
      if (ok !== 'Stop') return undefined;
    }
    const res = await withProgress(`stopping ${d.name}…`, async () => (await source.client()).call('POST /api/deployments/undeploy', { name: d.name }));
    afterChange();
    void vscode.window.showInformationMessage(`MLOps: ${d.name} stopped.`);
    return res;
  });

  command('mlops.copyEndpointUrl', 'Copying an endpoint URL', async (arg?: DeploymentArg): Promise<string | undefined> => {
    const d = await target(arg, 'MLOps: Copy the URL of which deployment?', (x) => !!x.url, 'no deployment is serving.');
    if (!d) return undefined;
    if (!d.url) {
      void vscode.window.showInformationMessage(`MLOps: ${d.name} is ${d.state}; it has a URL once it serves.`);
      return undefined;
    }
    await vscode.env.clipboard.writeText(d.url);
    void vscode.window.showInformationMessage(`MLOps: copied ${d.url} (POST /v2/models/${d.model}/infer or /predict; bearer token in .mlops/token).`);
    return d.url;
  });

  command('mlops.showDeploymentHistory', 'Showing deployment history', async (arg?: DeploymentArg): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: History of which deployment?', () => true, 'mlops.yaml declares no deployments.');
    if (!d) return undefined;
    const rows = d.history.map((e) => `| ${new Date(e.at).toLocaleString()} | ${e.action} | ${e.target !== undefined ? `v${e.target}` : ''} | ${e.version !== undefined ? `v${e.version}` : ''} | ${e.actor} | ${(e.reason ?? '').replace(/\|/g, '\\|')} |`);
    const doc = await vscode.workspace.openTextDocument({
      language: 'markdown',
      content: [`# Rollout history of ${d.name} (${d.model})`, '', rows.length ? '| when | action | about | stable after | by | why |\n| --- | --- | --- | --- | --- | --- |' : '_Nothing has happened yet._', ...rows, ''].join('\n'),
    });
    await vscode.window.showTextDocument(doc, { preview: true });
    return d;
  });

  command('mlops.openDeploymentMonitor', 'Opening the live monitor', async (arg?: DeploymentArg): Promise<MonitorPanel | undefined> => {
    const d = await target(arg, 'MLOps: Monitor which deployment?', () => true, 'mlops.yaml declares no deployments.');
    return d ? deps.openMonitor(d.name) : undefined;
  });

  /**
   * From the palette or the tree: opens the deployment's request document (prefilled the first
   * time). From the document (CodeLens, editor title): sends it. With `{name, body}`: sends
   * `body` (or the prefilled request) at once and returns the response (tests).
   */
  command('mlops.sendTestRequest', 'Sending a test request', async (arg?: DeploymentArg | vscode.Uri | SendArgs): Promise<TestResponse | vscode.TextEditor | undefined> => {
    const active = vscode.window.activeTextEditor?.document;
    const doc = arg instanceof vscode.Uri ? await vscode.workspace.openTextDocument(arg) : !arg && active && deploymentOfRequest(source.workspace, active.uri) ? active : undefined;
    if (doc) {
      const name = deploymentOfRequest(source.workspace, doc.uri);
      if (!name) throw new MlopsError('BAD_REQUEST', `${doc.uri.fsPath} is not a test request of a deployment`);
      return send(name, parseDocument(doc));
    }
    const d = await target(arg as DeploymentArg | undefined, 'MLOps: Send a test request to which deployment?', serving, 'no deployment is serving; deploy one first (MLOps: Deploy Model…).');
    if (!d) return undefined;
    const given = typeof arg === 'object' && !('kind' in arg) ? (arg as SendArgs) : undefined;
    if (given?.send || given?.body !== undefined) return send(d.name, given.body ?? (await prefilled(d)));
    const file = requestFile(source.workspace, d.name);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, formatJson(await prefilled(d)) + '\n');
    }
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
    void vscode.window.setStatusBarMessage(`MLOps: edit the request, then ▶ Send to ${d.name} (above the first line)`, 8000);
    return editor;
  });

  /** The request prefilled from the stable version's signature. */
  async function prefilled(d: DeploymentStatus): Promise<unknown> {
    const stable = stableVersion(d);
    if (stable === undefined) throw new MlopsError('CONFLICT', `${d.name} serves no version yet`);
    const reg = await registry();
    const v = (await reg.getModel(d.model)).versions.find((x) => x.version === stable);
    if (!v?.signature) throw new MlopsError('NOT_FOUND', `${d.model} v${stable} has no signature to build a request from; write one by hand: {"inputs": [{"name", "datatype", "shape", "data"}]}`);
    return buildTestRequest(v, await exampleRow(reg.http, source.workspace, v).catch(() => undefined));
  }

  function parseDocument(doc: vscode.TextDocument): unknown {
    try {
      return JSON.parse(doc.getText());
    } catch (e) {
      throw new MlopsError('BAD_REQUEST', `the request in ${path.basename(doc.uri.fsPath)} is not valid JSON: ${(e as Error).message}`);
    }
  }

  async function send(name: string, body: unknown): Promise<TestResponse> {
    const d = await source.get(name);
    if (!d.url) throw new MlopsError('CONFLICT', `${name} is ${d.state}; deploy it first`);
    const url = `${d.url}/v2/models/${encodeURIComponent(d.model)}/infer`;
    const r = await sendTestRequest(url, body, d.auth === 'token' ? source.token() : undefined);
    const uri = responses.set(name, responseText(r, name));
    // The `.jsonc` path makes it JSON with comments: the status lines are comments.
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
    if (r.ok) void vscode.window.setStatusBarMessage(`MLOps: ${name} answered ${r.status} in ${r.latencyMs.toFixed(1)} ms`, 8000);
    else void vscode.window.showErrorMessage(`MLOps: ${name} refused the request (HTTP ${r.status}): ${r.error}`);
    return r;
  }
}
