import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../client/src/commands/run-commands';
import type { DeploymentNode, MonitorPanel, TestResponse } from '../../client/src/deployments';
import type { MlopsApi } from '../../client/src/extension';
import type { MonitorRenderedState } from '../../protocol/deployment-monitor';
import type { ModelVersion } from '../../protocol/registry';
import type { DeploymentStatus } from '../../protocol/serving';
import { DaemonClient } from '../../orchestrator/api-client';
import { RegistryClient } from '../../orchestrator/registry/client';
import { BROKEN_STEP, BROKEN_STEP_YAML } from '../unit/deploy-broken-step';
import { activateExtension, note, screenshot as requestScreenshot, waitFor, workspaceUri } from './util';

const MODEL = 'penguins-classifier';
const DEPLOYMENT = 'penguins-api';

/** util.screenshot waits for the PNG to exist: remove an earlier session's file first. */
async function screenshot(name: string): Promise<void> {
  const shot = process.env.VSCODE_TEST_SCREENSHOT;
  if (shot) fs.rmSync(shot.replace(/workbench\.png$/, `${name}.png`), { force: true });
  await requestScreenshot(name);
}

/**
 * Serving from the IDE on the penguins sample, in a real VS Code with the real daemon, real
 * model server processes and real ONNX inference: deploy the version @production points at
 * (moved through an approved request, as the manifest protects it), a test request prefilled
 * from the signature and a refused one, a canary taking 10 % that the model server promotes
 * by itself after the manifest's 200 requests under real load, the notification of that
 * decision, the Live Monitor's charts, a canary that fails at inference rolled back by itself
 * under load with no failed client request and a warning, an A/B split shown as 50/50, a
 * shadow mirroring to that broken version with no failed client request, the
 * rollbacks (end of the split, then one version back) and Stop. Run on its own:
 * MLOPS_HOST_SUITE=deployments.
 */
/** Room for the monitor in screenshots: no bottom panel, no sidebars, no toasts. */
async function clearChrome(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
  await vscode.commands.executeCommand('notifications.clearAll');
}

describe('deployments from the extension (real VS Code, real daemon, real model server)', function () {
  this.timeout(180_000);
  let api: MlopsApi;
  let owner: RegistryClient;
  let token: string;
  const versions: ModelVersion[] = [];
  let monitor: MonitorPanel | undefined;
  /** The version whose model fails at inference (registered by the canary rollback test; mirrored to later). */
  let brokenVersion: number | undefined;

  async function endpoint(): Promise<Extract<DeploymentNode, { kind: 'endpoint' }>> {
    api.deployments!.tree.refresh();
    const roots = await api.deployments!.tree.getChildren();
    const n = roots.find((r) => r.kind === 'endpoint' && r.deployment.name === DEPLOYMENT);
    assert.ok(n && n.kind === 'endpoint', `${DEPLOYMENT} is listed: ${roots.map((r) => r.deployment.name).join(', ')}`);
    return n;
  }
  /**
   * Clients posting the prefilled request in a loop until stopped, with a breath between
   * requests (live traffic, not a benchmark); counts what was sent and what failed.
   */
  function traffic(url: string, clients: number): { stop(): Promise<{ sent: number; failed: number }> } {
    const body = fs.readFileSync(workspaceUri('.mlops', 'test-requests', `${DEPLOYMENT}.json`).fsPath, 'utf8');
    let stopped = false;
    let sent = 0;
    let failed = 0;
    const t0 = Date.now();
    const client = async () => {
      while (!stopped && Date.now() - t0 < 90_000) {
        const res = await fetch(`${url}/v2/models/${MODEL}/infer`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
        sent++;
        if (!res.ok) failed++;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const all = Promise.all(Array.from({ length: clients }, client));
    return {
      async stop() {
        stopped = true;
        await all;
        return { sent, failed };
      },
    };
  }
  /** Version label → description, and the canary line, as the tree shows them now. */
  async function treeRows(): Promise<{ endpoint: string; versions: Record<string, string>; canary?: string }> {
    const e = await endpoint();
    const item = api.deployments!.tree.getTreeItem(e);
    const rows: Record<string, string> = {};
    let canary: string | undefined;
    for (const c of await api.deployments!.tree.getChildren(e)) {
      const it = api.deployments!.tree.getTreeItem(c);
      if (c.kind === 'version') rows[String(it.label)] = String(it.description);
      if (c.kind === 'canary') canary = `${it.label} · ${it.description}`;
    }
    return { endpoint: String(item.description), versions: rows, canary };
  }
  async function train(params?: Record<string, string>): Promise<ModelVersion> {
    const run = params ? await vscode.commands.executeCommand<RunOutcome>('mlops.rerunWithParams', params) : await vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline');
    assert.strictEqual(run?.status, 'succeeded');
    const v = await vscode.commands.executeCommand<ModelVersion>('mlops.registerModel', { runId: run.runId, model: MODEL });
    assert.ok(v, 'Register Model from Run returned the version');
    versions.push(v);
    return v;
  }

  before(async () => {
    api = await activateExtension();
    assert.ok(api.deployments, 'the Deployments view is wired');
    await api.orchestrator!.start();
    const conn = JSON.parse(fs.readFileSync(workspaceUri('.mlops', 'daemon.json').fsPath, 'utf8')) as { port: number };
    token = fs.readFileSync(workspaceUri('.mlops', 'token').fsPath, 'utf8').trim();
    owner = new RegistryClient(new DaemonClient(`http://127.0.0.1:${conn.port}`, token));
  });

  after(async () => {
    monitor?.dispose();
    await vscode.commands.executeCommand('mlops.undeploy', { name: DEPLOYMENT, confirm: true }).then(undefined, () => undefined);
    await api?.orchestrator?.stop();
  });

  it('lists the manifest deployment as stopped before anything is deployed', async () => {
    const rows = await treeRows();
    assert.match(rows.endpoint, new RegExp(`^${MODEL} · stopped$`));
    assert.deepStrictEqual(rows.versions, {});
  });

  it('deploys the version @production points at, and shows it with 100 % of traffic', async () => {
    const v1 = await train();
    // @production is protected in mlops.yaml: another identity requests it, the IDE approves.
    const { token: bobToken } = await owner.createToken(`bob-${Date.now()}`, 'editor');
    const bob = new RegistryClient(new DaemonClient(owner.http.baseUrl, bobToken));
    const req = await bob.requestPromotion(MODEL, 'production', v1.version, 'first release');
    await vscode.commands.executeCommand('mlops.approvePromotion', { id: req.id });
    const t0 = Date.now();
    const d = await vscode.commands.executeCommand<DeploymentStatus>('mlops.deployModel', { name: DEPLOYMENT, confirm: true });
    note(`deployed v${v1.version} in ${Date.now() - t0} ms at ${d?.url}`);
    assert.strictEqual(d?.state, 'serving', JSON.stringify(d));
    assert.match(d.url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    const rows = await waitFor('v1 ready in the tree', async () => {
      const r = await treeRows();
      return /ready/.test(r.versions[`v${v1.version}`] ?? '') ? r : undefined;
    });
    assert.strictEqual(rows.endpoint, `${d.url} · ${MODEL} · serving`);
    assert.match(rows.versions[`v${v1.version}`]!, /^stable · 100 % · ready/);
  });

  it('sends a test request prefilled from the signature, and shows the server\'s message for a bad one', async () => {
    // The document the command opens: a v2 request with the signature's input, datatype and shape, a real row.
    const t0 = Date.now();
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('mlops.sendTestRequest', { name: DEPLOYMENT });
    assert.ok(editor, 'the request document is open');
    note(`request document prefilled and open in ${Date.now() - t0} ms`);
    const body = JSON.parse(editor.document.getText()) as { inputs: { name: string; datatype: string; shape: number[]; data: number[][]; parameters?: { feature_names: string } }[] };
    assert.deepStrictEqual([body.inputs[0]!.name, body.inputs[0]!.datatype, body.inputs[0]!.shape], ['input', 'FP32', [1, 9]]);
    assert.match(body.inputs[0]!.parameters?.feature_names ?? '', /^bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, island_Biscoe/);
    assert.ok(body.inputs[0]!.data[0]!.some((x) => x > 100), `a real row, not zeros: ${JSON.stringify(body.inputs[0]!.data)}`);
    const t1 = Date.now();
    const ok = await vscode.commands.executeCommand<TestResponse>('mlops.sendTestRequest', editor.document.uri);
    note(`sent from the document and the response shown in ${Date.now() - t1} ms`);
    assert.strictEqual(ok?.status, 200, JSON.stringify(ok));
    const outputs = (ok.body as { outputs: { name: string; data: unknown[] }[] }).outputs;
    assert.deepStrictEqual(outputs.map((o) => o.name).sort(), ['label', 'probabilities']);
    assert.strictEqual(ok.version, String(versions[0]!.version));
    note(`test request: ${ok.status} in ${ok.latencyMs.toFixed(1)} ms, label ${JSON.stringify(outputs.find((o) => o.name === 'label')?.data)}`);
    const shown = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'mlops-response');
    assert.match(shown?.getText() ?? '', /^\/\/ penguins-api: POST http:\/\/127\.0\.0\.1:\d+\/v2\/models\/penguins-classifier\/infer\n\/\/ 200 OK in [\d.]+ ms · served by v\d+/);
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await screenshot('deployment-test-request');
    const bad = await vscode.commands.executeCommand<TestResponse>('mlops.sendTestRequest', { name: DEPLOYMENT, body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] } });
    assert.strictEqual(bad?.status, 400);
    assert.match(bad.error ?? '', /input "input": expected shape \[N, ?9\], got \[1, ?3\]/);
  });

  it('starts a canary of a second version with the manifest\'s 10 %, shown as 90/10 with its progress', async () => {
    const v2 = await train({ epochs: '400' });
    const d = await vscode.commands.executeCommand<DeploymentStatus>('mlops.startCanary', { name: DEPLOYMENT, version: v2.version, confirm: true });
    assert.strictEqual(d?.canary?.version, v2.version, JSON.stringify(d));
    const rows = await waitFor('the canary ready in the tree', async () => {
      const r = await treeRows();
      return /ready/.test(r.versions[`v${v2.version}`] ?? '') ? r : undefined;
    });
    assert.match(rows.versions[`v${versions[0]!.version}`]!, /^stable · 90 % · ready/);
    assert.match(rows.versions[`v${v2.version}`]!, /^canary · 10 % · ready/);
    assert.match(rows.canary ?? '', new RegExp(`^canary v${v2.version}: 0/200 requests · 10 % of traffic · rolls back if errors > 2 % or p99 > 150 ms$`));
  });

  it('promotes the canary by itself under load, says so in a notification, and the Live Monitor charts the traffic', async () => {
    const [v1, v2] = versions as [ModelVersion, ModelVersion];
    const d = await (await api.orchestrator!.start()).call('GET /api/deployments/get', { name: DEPLOYMENT });
    const body = fs.readFileSync(workspaceUri('.mlops', 'test-requests', `${DEPLOYMENT}.json`).fsPath, 'utf8');
    const decided = new Promise<{ decision: string; reason: string }>((resolve) => {
      const sub = api.orchestrator!.onEvent((e) => {
        if (e.type === 'deployment-decision' && e.deployment === DEPLOYMENT) {
          sub.dispose();
          resolve(e);
        }
      });
    });
    // Four clients in a loop until the decision: ~10 % of the requests reach the canary.
    let stop = false;
    let sent = 0;
    let failed = 0;
    const t0 = Date.now();
    const client = async () => {
      while (!stop && Date.now() - t0 < 90_000) {
        const res = await fetch(`${d.url}/v2/models/${MODEL}/infer`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
        sent++;
        if (!res.ok) failed++;
        // A breath between requests: live traffic, not a benchmark (the monitor needs a few seconds of samples).
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const load = Promise.all([client(), client(), client(), client()]);
    monitor = await vscode.commands.executeCommand<MonitorPanel>('mlops.openDeploymentMonitor', { name: DEPLOYMENT });
    assert.ok(monitor, 'the Live Monitor opened');
    const state = await waitFor('both versions charted', async () => {
      const s = await monitor!.requestState().catch(() => undefined);
      const thr = s?.charts.find((c) => c.key === 'throughput');
      return thr && thr.series.length >= 2 && thr.series.every((x) => x.points >= 3) ? s : undefined;
    }, 60_000);
    // The monitor alone, then the view beside it while the canary still runs (unless it was promoted already).
    await clearChrome();
    monitor.panel.reveal(vscode.ViewColumn.One);
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    await screenshot('deployment-monitor');
    await vscode.commands.executeCommand('workbench.view.extension.mlops');
    for (const other of ['mlops.pipeline', 'mlops.experiments', 'mlops.models']) await vscode.commands.executeCommand(`${other}.removeView`).then(undefined, (e) => note(`hiding ${other}: ${e}`));
    const loads = api.deployments!.tree.loads;
    await vscode.commands.executeCommand('mlops.deployments.focus');
    // Wide enough for the versions' live figures: the editor gives up room to the sidebar.
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.decreaseViewWidth');
    api.deployments!.tree.refresh();
    await waitFor('the view redrawn', () => (api.deployments!.tree.loads > loads ? true : undefined), 10_000);
    await screenshot('deployments-view');
    const decision = await decided;
    stop = true;
    await load;
    note(`${sent} requests (${failed} failed) in ${Date.now() - t0} ms; decision: ${decision.decision} (${decision.reason})`);
    assert.strictEqual(failed, 0);
    assert.strictEqual(decision.decision, 'promote', `the canary was ${decision.decision === 'rollback' ? 'rolled back' : decision.decision}: ${decision.reason}`);
    assert.ok(api.deployments!.notifications.some((n) => n.startsWith(`${DEPLOYMENT}: canary v${v2.version} promoted`)), api.deployments!.notifications.join('\n'));

    const latency = state.charts.find((c) => c.key === 'latency')!;
    assert.deepStrictEqual(latency.series.map((s) => s.label).sort(), [`v${v1.version} p50`, `v${v1.version} p99`, `v${v2.version} p50`, `v${v2.version} p99`].sort());
    assert.ok(latency.series.every((s) => s.points > 0), JSON.stringify(latency));
    assert.ok(state.charts.find((c) => c.key === 'errors')!.series.every((s) => s.points > 0));
    assert.deepStrictEqual(state.cspViolations, []);
    assert.strictEqual(state.state, 'serving');

    const after = await waitFor('v2 stable in the tree', async () => {
      const r = await treeRows();
      return /^stable · 100 %/.test(r.versions[`v${v2.version}`] ?? '') && !r.canary ? r : undefined;
    });
    note(`tree after promotion: ${JSON.stringify(after.versions)}`);
    const promoted = await waitFor('the monitor showing the promotion', async () => {
      const s: MonitorRenderedState | undefined = await monitor!.requestState().catch(() => undefined);
      return s && s.versions.some((r) => r.startsWith(`v${v2.version} stable 100 %`)) ? s : undefined;
    });
    assert.strictEqual(promoted.canary, undefined);
  });

  it('rolls back a canary that fails at inference by itself under load: no failed request, a warning, the tree back to 100 %', async () => {
    const [, v2] = versions as [ModelVersion, ModelVersion];
    // A `broken` step whose ONNX model loads and has the right signature, but fails at run time.
    fs.writeFileSync(workspaceUri('steps', 'broken.mjs').fsPath, BROKEN_STEP);
    const manifestFile = workspaceUri('mlops.yaml').fsPath;
    const manifest = fs.readFileSync(manifestFile, 'utf8');
    fs.writeFileSync(manifestFile, manifest.replace('\nmodels:\n', `\n${BROKEN_STEP_YAML}\nmodels:\n`));
    const run = await vscode.commands.executeCommand<RunOutcome>('mlops.runStep', 'broken');
    assert.strictEqual(run?.status, 'succeeded', JSON.stringify(run));
    const broken = await vscode.commands.executeCommand<ModelVersion>('mlops.registerModel', { runId: run.runId, model: MODEL, artifact: 'models/broken.onnx' });
    assert.ok(broken, 'the broken model was registered');
    brokenVersion = broken.version;
    const d = await (await api.orchestrator!.start()).call('GET /api/deployments/get', { name: DEPLOYMENT });
    const decided = new Promise<{ decision: string; version: number; reason: string }>((resolve) => {
      const sub = api.orchestrator!.onEvent((e) => {
        if (e.type === 'deployment-decision' && e.deployment === DEPLOYMENT) {
          sub.dispose();
          resolve(e);
        }
      });
    });
    await vscode.commands.executeCommand('notifications.clearAll');
    const load = traffic(d.url!, 4);
    await new Promise((r) => setTimeout(r, 500)); // traffic flows before the canary starts
    const t0 = Date.now();
    const started = await vscode.commands.executeCommand<DeploymentStatus>('mlops.startCanary', { name: DEPLOYMENT, version: broken.version, confirm: true });
    assert.strictEqual(started?.canary?.version, broken.version, JSON.stringify(started));
    const decision = await decided;
    const decidedMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 1000)); // and keeps flowing after the decision
    const { sent, failed } = await load.stop();
    note(`broken canary v${broken.version}: ${decision.decision} after ${decidedMs} ms (${decision.reason}); ${sent} client requests, ${failed} failed`);
    assert.deepStrictEqual([decision.decision, decision.version], ['rollback', broken.version]);
    assert.match(decision.reason, /^error rate 1 > 0\.02 after \d+ requests$/);
    assert.strictEqual(failed, 0, 'the requests the canary failed were answered by the stable version');
    const warning = `${DEPLOYMENT}: canary v${broken.version} rolled back — ${decision.reason}`;
    assert.ok(api.deployments!.warnings.includes(warning), `warnings shown: ${api.deployments!.warnings.join(' | ')}`);
    const rows = await waitFor('the tree back to the stable version alone', async () => {
      const r = await treeRows();
      return Object.keys(r.versions).length === 1 && !r.canary && /^stable · 100 % · ready/.test(r.versions[`v${v2.version}`] ?? '') ? r : undefined;
    });
    note(`tree after the rollback: ${JSON.stringify(rows.versions)}`);
    fs.writeFileSync(manifestFile, manifest);
  });

  it('splits traffic A/B through the command, refuses a one-version split with the daemon\'s reason, and shows 50 % each, live', async () => {
    const [v1, v2] = versions as [ModelVersion, ModelVersion];
    const errors: string[] = [];
    const original = vscode.window.showErrorMessage;
    (vscode.window as { showErrorMessage: unknown }).showErrorMessage = (msg: string) => {
      errors.push(msg);
      return Promise.resolve(undefined);
    };
    try {
      const refused = await vscode.commands.executeCommand<DeploymentStatus>('mlops.splitTraffic', { name: DEPLOYMENT, weights: { [v1.version]: 1 } });
      assert.strictEqual(refused, undefined);
    } finally {
      (vscode.window as { showErrorMessage: unknown }).showErrorMessage = original;
    }
    assert.match(errors.join('\n'), /^MLOps: weights needs at least two versions, e\.g\. \{"1": 50, "2": 50\}$/);
    const d = (await vscode.commands.executeCommand<DeploymentStatus>('mlops.splitTraffic', { name: DEPLOYMENT, weights: { [v1.version]: 1, [v2.version]: 1 } }))!;
    assert.deepStrictEqual(d?.versions.map((v) => [v.version, v.role, v.weight]), [[v1.version, 'ab', 50], [v2.version, 'ab', 50]]);
    const load = traffic(d.url!, 2);
    try {
      await clearChrome();
      await vscode.commands.executeCommand('workbench.view.extension.mlops');
      await vscode.commands.executeCommand('mlops.deployments.focus');
      const rows = await waitFor('both arms ready with traffic in the tree', async () => {
        const r = await treeRows();
        const arms = [r.versions[`v${v1.version}`] ?? '', r.versions[`v${v2.version}`] ?? ''];
        // Each arm's rate is over its last 5 s: wait until both have been taking traffic that long.
        const rates = arms.map((x) => Number(/^A\/B · 50 % · ready · ([\d.]+) req\/s/.exec(x)?.[1] ?? 0));
        return rates.every((x) => x > 0) && Math.max(...rates) < 1.5 * Math.min(...rates) ? r : undefined;
      }, 20_000);
      note(`tree during the A/B split: ${JSON.stringify(rows.versions)}`);
      assert.match(rows.endpoint, /· serving$/);
      assert.strictEqual(rows.canary, undefined);
      // The picture shows what the view drew after a fresh listing, not an earlier poll.
      const loads = api.deployments!.tree.loads;
      api.deployments!.tree.refresh();
      await waitFor('the view redrawn', () => (api.deployments!.tree.loads > loads ? true : undefined), 10_000);
      await screenshot('deployments-ab-split');
    } finally {
      const { sent, failed } = await load.stop();
      note(`${sent} requests during the split, ${failed} failed`);
      assert.strictEqual(failed, 0);
    }
  });

  it('mirrors to a shadow that fails at inference without a client noticing, shown as mirrored in the tree, and stops it', async () => {
    assert.ok(brokenVersion !== undefined, 'the broken version was registered');
    const started = await vscode.commands.executeCommand<DeploymentStatus>('mlops.startShadow', { name: DEPLOYMENT, version: brokenVersion });
    assert.deepStrictEqual(started?.versions.filter((v) => v.role === 'shadow').map((v) => [v.version, v.weight]), [[brokenVersion, 0]], JSON.stringify(started));
    const load = traffic(started.url!, 2);
    try {
      const rows = await waitFor('the shadow ready and mirroring in the tree', async () => {
        const r = await treeRows();
        const rate = Number(/^shadow · mirrored · ready · ([\d.]+) req\/s/.exec(r.versions[`v${brokenVersion}`] ?? '')?.[1] ?? 0);
        return rate > 0 ? r : undefined;
      }, 20_000);
      note(`tree with the shadow: ${JSON.stringify(rows.versions)}`);
      // The arms keep their traffic; the shadow's failures are its own (the broken model fails every request).
      assert.match(rows.versions[`v${brokenVersion}`]!, /· 100 % errors ·/);
      for (const v of versions) assert.match(rows.versions[`v${v.version}`]!, /^A\/B · 50 % · ready · [\d.]+ req\/s · 0 % errors/);
      // The endpoint's menu offers Stop Shadow (package.json matches `.shadow`).
      assert.match(String(api.deployments!.tree.getTreeItem(await endpoint()).contextValue), /^mlops\.deployment\.serving.*\.ab\.shadow$/);
      const loads = api.deployments!.tree.loads;
      api.deployments!.tree.refresh();
      await waitFor('the view redrawn', () => (api.deployments!.tree.loads > loads ? true : undefined), 10_000);
      await screenshot('deployments-shadow');
    } finally {
      const { sent, failed } = await load.stop();
      note(`${sent} requests while mirroring to the broken v${brokenVersion}, ${failed} failed`);
      assert.strictEqual(failed, 0, 'no client saw the shadow fail');
    }
    const stopped = await vscode.commands.executeCommand<DeploymentStatus>('mlops.stopShadow', { name: DEPLOYMENT });
    assert.ok(stopped && !stopped.versions.some((v) => v.role === 'shadow'), JSON.stringify(stopped));
    assert.strictEqual(stopped.history[0]?.reason, 'stopped mirroring');
    const rows = await treeRows();
    assert.deepStrictEqual(Object.keys(rows.versions).sort(), versions.map((v) => `v${v.version}`).sort());
  });

  it('rolls back: first the split ends, then one version back; then stops the deployment', async () => {
    const [v1, v2] = versions as [ModelVersion, ModelVersion];
    const ended = await vscode.commands.executeCommand<DeploymentStatus>('mlops.rollbackDeployment', { name: DEPLOYMENT });
    assert.deepStrictEqual(ended?.versions.map((v) => [v.version, v.role, v.weight]), [[v2.version, 'stable', 100]], JSON.stringify(ended));
    assert.match(ended.history[0]?.reason ?? '', /^ended the A\/B split v\d+ 50% \+ v\d+ 50%$/);
    const back = await vscode.commands.executeCommand<DeploymentStatus>('mlops.rollbackDeployment', { name: DEPLOYMENT });
    assert.strictEqual(back?.versions.find((v) => v.role === 'stable')?.version, v1.version, JSON.stringify(back));
    assert.strictEqual(back.history[0]?.action, 'rollback');
    const stopped = await vscode.commands.executeCommand<DeploymentStatus>('mlops.undeploy', { name: DEPLOYMENT, confirm: true });
    assert.strictEqual(stopped?.state, 'stopped');
    const rows = await treeRows();
    assert.match(rows.endpoint, /· stopped$/);
    await assert.rejects(fetch(`${back.url}/v2/health/live`), 'the endpoint no longer answers');
  });
});
