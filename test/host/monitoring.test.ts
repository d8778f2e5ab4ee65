import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../client/src/commands/run-commands';
import type { DriftReportPanel } from '../../client/src/drift';
import type { MlopsApi } from '../../client/src/extension';
import type { AlertEvent } from '../../protocol/monitoring';
import type { ModelVersion } from '../../protocol/registry';
import type { DeploymentStatus } from '../../protocol/serving';
import type { DriftRenderedState } from '../../protocol/data';
import { startWebhookReceiver, type WebhookReceiver } from '../unit/webhook-receiver';
import { activateExtension, note, screenshot, waitFor, workspaceUri } from './util';

const MODEL = 'penguins-classifier';
const DEPLOYMENT = 'penguins-api';
const SECRET = `host-alert-secret-${process.pid}`;
const FEATURES = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'island_Biscoe', 'island_Dream', 'island_Torgersen', 'sex_FEMALE', 'sex_MALE'];

/**
 * Live monitoring as a user sees it, on the penguins sample in a real VS Code with the real
 * daemon and model server: train, register, alias, deploy through the extension's commands;
 * traffic from a shifted data set (only Gentoo, 30 % heavier) sent by this test makes the
 * scheduled drift check fire the manifest's alert: a VS Code warning with Open Report, and a
 * signed POST at a webhook receiver started here. Open Report shows the deployment's drift
 * report in the drift webview. Run on its own: MLOPS_HOST_SUITE=monitoring.
 */
describe('monitoring alerts in the IDE (real VS Code, real daemon, real model server, webhook)', function () {
  this.timeout(120_000);
  let api: MlopsApi;
  let receiver: WebhookReceiver;
  let firing: AlertEvent | undefined;
  let panel: DriftReportPanel | undefined;
  let url = '';
  let token = '';

  before(async () => {
    receiver = await startWebhookReceiver(SECRET);
    // The sample's webhook rule points at a fixed port: point it at this receiver.
    const manifest = workspaceUri('mlops.yaml').fsPath;
    const text = fs.readFileSync(manifest, 'utf8');
    const hook = 'http://127.0.0.1:9797/mlops-alerts';
    assert.ok(text.includes(hook), 'the sample declares the webhook rule');
    const anchor = '      alerts:\n';
    assert.ok(text.includes(anchor));
    fs.writeFileSync(
      manifest,
      text
        .replace(hook, receiver.url('/mlops-alerts'))
        .replace(anchor, `${anchor}        - {name: accuracy fell, when: accuracy_drop > 0.1, notify: [vscode]}\n`),
    );
    // secret_env is read from the daemon's environment, which it inherits from the extension host.
    process.env.MLOPS_ALERT_SECRET = SECRET;
    api = await activateExtension();
    assert.ok(api.monitoring, 'monitoring is wired');
    await api.orchestrator!.stop(); // a daemon started before the secret was set would not sign
    await api.orchestrator!.start();
  });

  after(async () => {
    panel?.panel.dispose();
    await vscode.commands.executeCommand('mlops.undeploy', { name: DEPLOYMENT, confirm: true }).then(undefined, () => undefined);
    await api?.orchestrator?.stop();
    await receiver.close();
    delete process.env.MLOPS_ALERT_SECRET;
  });

  it('shifted traffic to a deployment raises the alert in VS Code and at the webhook, signed', async () => {
    const run = await vscode.commands.executeCommand<RunOutcome>('mlops.runPipeline');
    assert.strictEqual(run?.status, 'succeeded');
    const v = await vscode.commands.executeCommand<ModelVersion>('mlops.registerModel', { runId: run.runId, model: MODEL });
    assert.ok(v, 'registered');
    await vscode.commands.executeCommand('mlops.setAlias', { model: MODEL, version: v.version, alias: 'staging', confirm: true });
    const d = await vscode.commands.executeCommand<DeploymentStatus>('mlops.deployModel', { name: DEPLOYMENT, version: v.version, confirm: true });
    assert.strictEqual(d?.state, 'serving', JSON.stringify(d));
    token = fs.readFileSync(workspaceUri('.mlops', 'token').fsPath, 'utf8').trim();
    url = d.url!;

    const [head, ...lines] = fs.readFileSync(workspaceUri('data', 'prepared', 'train.csv').fsPath, 'utf8').trim().split('\n');
    const cols = head!.split(',');
    const shifted = lines
      .map((l) => l.split(','))
      .filter((r) => r[cols.indexOf('species')] === 'Gentoo')
      .map((r) => Object.fromEntries(FEATURES.map((f) => [f, Number(r[cols.indexOf(f)]) * (f === 'body_mass_g' ? 1.3 : 1)])));
    const t0 = Date.now();
    // The sample checks drift every 100 requests over the last 200: send 100 of 4 rows.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${d.url}/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': `shifted-${i}` },
        body: JSON.stringify({ instances: [0, 1, 2, 3].map((k) => shifted[(i * 4 + k) % shifted.length]) }),
      });
      assert.strictEqual(res.status, 200, await res.text());
    }
    const shown = await waitFor('the alert notification in VS Code', () => api.monitoring!.alerts.find((a) => a.event.state === 'firing' && a.event.rule === 'inputs drifted'), 45_000);
    firing = shown.event;
    note(`alert shown ${Date.now() - t0} ms after the first shifted request: "${shown.shown}" [${shown.buttons.join(', ')}]`);
    assert.match(shown.shown, /^MLOps alert: penguins-api: inputs drifted \(now 0\.\d+\)$/);
    assert.deepStrictEqual(shown.buttons, ['Open Report']);
    assert.ok(firing.reportPath && fs.existsSync(firing.reportPath), 'the alert names the saved drift report');
    const hook = await waitFor('the signed POST at the webhook receiver', () => receiver.received.find((h) => h.event.state === 'firing'), 20_000);
    assert.strictEqual(hook.verified, true, 'HMAC-SHA256 of the body under the secret');
    assert.strictEqual(hook.event.rule, 'inputs drifted (pager)');
    assert.strictEqual(hook.event.deployment, DEPLOYMENT);
    assert.strictEqual(hook.event.reportPath, firing.reportPath);
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('notifications.showList');
    await screenshot('monitoring-alert');
  });

  it('Open Report shows the drift report behind the alert', async () => {
    assert.ok(firing, 'the alert fired');
    // What the notification's Open Report button runs.
    panel = await vscode.commands.executeCommand<DriftReportPanel>('mlops.showDeploymentDrift', firing.deployment, firing.reportPath);
    assert.ok(panel, 'the drift webview opened');
    assert.strictEqual(panel, api.monitoring!.panel);
    const report = panel.current;
    assert.match(report.current.path, /^penguins-api: last \d+ requests$/);
    assert.ok(report.columns.find((c) => c.column === 'body_mass_g')?.drifted, 'body mass drifted');
    let last: DriftRenderedState | string | undefined;
    const state = await waitFor<DriftRenderedState>('the drift page to draw its charts', async () => {
      const s = await panel!.requestState().catch((e: Error) => void (last = e.message));
      if (s) last = s;
      return s && s.columns.length === report.columns.length && s.charts > 0 ? s : undefined;
    }).catch((e: Error) => assert.fail(`${e.message}; last state: ${JSON.stringify(last)}; report columns: ${report.columns.map((c) => c.column).join(', ')}`));
    assert.deepStrictEqual(state.cspViolations, []);
    assert.match(state.summary, /^\d+\/9 drifted, data-set drift (true|false)$/);
    note(`drift webview from the alert: ${state.summary}`);
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshot('monitoring-report');
  });

  it('labels saying the answers were wrong raise the accuracy alert, with Show Accuracy', async () => {
    // All 400 shifted rows were Gentoo; label them Adelie: the live accuracy falls far below registration.
    const feedback = Array.from({ length: 400 }, (_, n) => ({ id: `shifted-${Math.floor(n / 4)}:${n % 4}`, label: 'Adelie' }));
    const res = await fetch(`${url}/v2/models/${DEPLOYMENT}/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ feedback }),
    });
    assert.strictEqual(res.status, 200, await res.text());
    const shown = await waitFor('the accuracy alert in VS Code', () => api.monitoring!.alerts.find((a) => a.event.state === 'firing' && a.event.rule === 'accuracy fell'), 20_000);
    note(`accuracy alert: "${shown.shown}" [${shown.buttons.join(', ')}]`);
    assert.match(shown.shown, /^MLOps alert: penguins-api: accuracy fell \(now 0\.\d+\) on v1$/);
    assert.ok(shown.event.value > 0.5, `accuracy dropped by ${shown.event.value}`);
    assert.deepStrictEqual(shown.buttons, ['Show Accuracy']);
    // What the button does: the figures behind the alert in the MLOps Monitor output channel.
    const figures = await api.monitoring!.showAccuracy(DEPLOYMENT);
    assert.match(figures ?? '', /^v1\s+400\s+accuracy 0 · F1 0\s+accuracy 0\.\d+ at registration: DEGRADED by 0\.\d+$/m, figures);
    note(`Show Accuracy: ${figures?.split('\n').find((l) => l.startsWith('v1 ') && l.includes('LABELLED') === false && l.includes('accuracy'))}`);
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshot('monitoring-accuracy');
  });
});
