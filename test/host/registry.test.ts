import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import Database from 'libsql';
import type { MlopsApi } from '../../client/src/extension';
import type { RunOutcome } from '../../client/src/commands/run-commands';
import type { ModelNode, SetAliasOutcome } from '../../client/src/registry';
import type { AliasEvent, AuditVerification, ModelVersion, PromotionRequest } from '../../protocol/registry';
import { DaemonClient } from '../../orchestrator/api-client';
import { RegistryClient } from '../../orchestrator/registry/client';
import { activateExtension, note, screenshot, waitFor, workspaceUri } from './util';

const MODEL = 'penguins-classifier';

/**
 * The Models view and the registry commands on the sample project, in a real VS Code with the
 * real daemon and real training runs: register from a run, a promotion requested by another
 * identity (a named token) and approved in the IDE, a failing gate shown before anything
 * moves, a passing one, a rollback, the model card and version diff, and the audit log
 * verified before and after the store's audit table is edited by hand.
 */
describe('model registry from the extension (real VS Code, real daemon, the sample)', () => {
  let api: MlopsApi;
  let manifest: string;
  let bob: RegistryClient;
  const versions: number[] = [];

  async function children(node?: ModelNode): Promise<ModelNode[]> {
    return (await api.models!.getChildren(node)) ?? [];
  }
  async function modelNode(): Promise<ModelNode> {
    return waitFor('the model in the Models view', async () => (await children()).find((n) => n.kind === 'model' && n.model.name === MODEL));
  }
  async function versionNode(version: number): Promise<Extract<ModelNode, { kind: 'version' }>> {
    const nodes = await children(await modelNode());
    const v = nodes.find((n) => n.kind === 'version' && n.version.version === version);
    assert.ok(v && v.kind === 'version', `v${version} is listed: ${nodes.map((n) => n.kind).join(', ')}`);
    return v;
  }
  async function trainAndRegister(params?: Record<string, string>): Promise<ModelVersion> {
    const run = params ? await vscode.commands.executeCommand<RunOutcome>('mlops.rerunWithParams', params) : await vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline');
    assert.strictEqual(run?.status, 'succeeded');
    const v = await vscode.commands.executeCommand<ModelVersion>('mlops.registerModel', { runId: run.runId, model: MODEL });
    assert.ok(v, 'Register Model from Run returned the version');
    versions.push(v.version);
    return v;
  }

  before(async () => {
    api = await activateExtension();
    assert.ok(api.models, 'the Models view is wired');
    // A second gate, relative to production, so a worse model fails on purpose.
    const file = workspaceUri('mlops.yaml').fsPath;
    manifest = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, manifest.replace('      - {metric: accuracy, min: 0.9}\n', '      - {metric: accuracy, min: 0.9}\n      - {metric: accuracy, relative_to: production, tolerance: 0.005}\n'));
  });

  after(async () => {
    if (manifest) fs.writeFileSync(workspaceUri('mlops.yaml').fsPath, manifest);
    await api?.orchestrator?.stop();
  });

  it('registers the trained model from a run and shows it with its metrics and signature', async () => {
    const v = await trainAndRegister();
    assert.deepStrictEqual(v.signature?.inputs, [{ name: 'input', type: 'float32', shape: ['N', 9] }]);
    await vscode.commands.executeCommand('mlops.models.focus');
    const node = await versionNode(v.version);
    const item = api.models!.getTreeItem(node);
    assert.match(String(item.description), new RegExp(`^accuracy 0\\.9\\d+ · run ${v.runId.slice(0, 8)}$`));
    const details = await children(node);
    assert.ok(details.some((d) => d.kind === 'signature' && d.text === 'input float32[N,9] → probabilities float32[N,3], label int64[N]'));
    assert.ok(details.some((d) => d.kind === 'run'));
    assert.ok(details.some((d) => d.kind === 'metric' && d.key === 'accuracy'));
  });

  it('shows a promotion requested by another identity and approves it in the IDE', async () => {
    // The IDE acts as the workspace owner ("local"); bob is a named editor token.
    const conn = JSON.parse(fs.readFileSync(workspaceUri('.mlops', 'daemon.json').fsPath, 'utf8')) as { port: number };
    const owner = new RegistryClient(new DaemonClient(`http://127.0.0.1:${conn.port}`, fs.readFileSync(workspaceUri('.mlops', 'token').fsPath, 'utf8').trim()));
    const { token } = await owner.createToken(`bob-${Date.now()}`, 'editor');
    bob = new RegistryClient(new DaemonClient(`http://127.0.0.1:${conn.port}`, token));
    const direct = await vscode.commands.executeCommand<SetAliasOutcome>('mlops.setAlias', { model: MODEL, version: versions[0], alias: 'production', confirm: true });
    assert.ok(direct?.gates.passed && direct.refused && /protected: it needs 1 approval/.test(direct.refused), JSON.stringify(direct));
    const req = await bob.requestPromotion(MODEL, 'production', versions[0]!, 'first release');
    const requestNode = await waitFor('the pending request in the tree', async () => {
      const reqs = (await children(await modelNode())).find((n) => n.kind === 'requests');
      return reqs ? (await children(reqs)).find((n) => n.kind === 'request' && n.request.id === req.id) : undefined;
    });
    assert.match(String(api.models!.getTreeItem(await versionNode(versions[0]!)).description), /→ @production awaiting approval 0\/1/);
    const approved = await vscode.commands.executeCommand<{ request: PromotionRequest; event?: AliasEvent }>('mlops.approvePromotion', requestNode);
    assert.strictEqual(approved?.request.status, 'approved');
    assert.strictEqual(approved?.event?.version, versions[0]);
    assert.strictEqual(approved?.event?.actor, 'local');
    assert.match(String(api.models!.getTreeItem(await versionNode(versions[0]!)).description), /^@production · accuracy/);
  });

  it('Set Alias… shows the gate result first and refuses a worse model', async () => {
    const worse = await trainAndRegister({ epochs: '1', lr: '0.00001' });
    const out = await vscode.commands.executeCommand<SetAliasOutcome>('mlops.setAlias', { model: MODEL, version: worse.version, alias: 'staging', confirm: true });
    assert.ok(out, 'the command reports its outcome');
    assert.strictEqual(out.gates.passed, false);
    assert.strictEqual(out.event, undefined);
    const relative = out.gates.checks.find((c) => c.reference);
    assert.strictEqual(relative?.passed, false);
    assert.strictEqual(relative?.reference?.version, versions[0]);
    assert.match(out.refused ?? '', /fails its gates for @staging; the alias was not moved/);
    assert.deepStrictEqual((await versionNode(worse.version)).version.aliases, []);
  });

  it('moves staging for a model that passes, then promotes it to production through a request', async () => {
    const better = await trainAndRegister({ epochs: '600' });
    const staging = await vscode.commands.executeCommand<SetAliasOutcome>('mlops.setAlias', { model: MODEL, version: better.version, alias: 'staging', confirm: true });
    assert.strictEqual(staging?.gates.passed, true);
    assert.strictEqual(staging?.event?.version, better.version);
    const req = await bob.requestPromotion(MODEL, 'production', better.version);
    const res = await vscode.commands.executeCommand<{ event?: AliasEvent }>('mlops.approvePromotion', { id: req.id });
    assert.strictEqual(res?.event?.version, better.version);
    const item = api.models!.getTreeItem(await modelNode());
    assert.match(String(item.description), new RegExp(`@production v${better.version}`));
    await vscode.commands.executeCommand('workbench.view.extension.mlops');
    await screenshot('models');
  });

  it('rolls production back and shows the alias history', async () => {
    const e = await vscode.commands.executeCommand<AliasEvent>('mlops.rollbackAlias', { model: MODEL, alias: 'production', confirm: true });
    assert.deepStrictEqual([e?.action, e?.previous, e?.version], ['rollback', versions[2], versions[0]]);
    const events = await vscode.commands.executeCommand<AliasEvent[]>('mlops.showAliasHistory', { model: MODEL, alias: 'production' });
    assert.deepStrictEqual(events?.map((x) => x.action), ['rollback', 'promote', 'promote']);
    const doc = vscode.window.activeTextEditor?.document;
    assert.match(doc?.getText() ?? '', /# Alias history of penguins-classifier@production[\s\S]*\| @production \| rollback \| v\d+ \| v\d+ \| local \|/);
  });

  it('opens the model card and compares two versions in the diff view', async () => {
    const card = await vscode.commands.executeCommand<vscode.TextDocument>('mlops.openModelCard', { model: MODEL, version: versions[0] });
    assert.match(card?.getText() ?? '', new RegExp(`^# ${MODEL} v${versions[0]}\\n`));
    assert.match(card!.getText(), /\| input \| float32 \| \[N, 9\] \|/);
    await vscode.commands.executeCommand('mlops.compareModelVersions', { model: MODEL, version: versions[0], other: versions[2] });
    const tab = await waitFor('the diff editor', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff ? input : undefined;
    });
    assert.strictEqual(tab.original.path, `/${MODEL}/${versions[0]}/summary.md`);
    assert.strictEqual(tab.modified.path, `/${MODEL}/${versions[2]}/summary.md`);
  });

  it('verifies the audit log, and detects an entry edited by hand in the store', async () => {
    const ok = await vscode.commands.executeCommand<AuditVerification>('mlops.verifyAuditLog');
    assert.strictEqual(ok?.ok, true, JSON.stringify(ok?.problems));
    note(`audit log: ${ok!.entries} entries verified`);
    const db = new Database(workspaceUri('.mlops', 'store.db').fsPath);
    try {
      db.exec(`UPDATE audit_log SET actor = 'nobody' WHERE seq = ${ok!.entries - 1}`);
    } finally {
      db.close();
    }
    const bad = await vscode.commands.executeCommand<AuditVerification>('mlops.verifyAuditLog');
    assert.strictEqual(bad?.ok, false);
    assert.deepStrictEqual(bad?.problems.map((p) => p.seq), [ok!.entries - 1]);
  });
});
