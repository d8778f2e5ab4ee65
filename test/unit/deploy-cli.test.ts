/**
 * Issue 7 end to end through the CLI on a temp copy of the penguins sample: a real daemon
 * (sources under tsx), a real model server process per deployment, real ONNX inference.
 * Deploy the production model and check its answers against the held-out labels (v2 infer
 * and /predict), canary a second version that auto-promotes under load, canary a version
 * that fails at inference and watch it auto-roll back under 64 connections at over half the
 * measured maximum with no failed client request, roll back one step under load, batch
 * predictions from a CSV, undeploy, and the errors an operator sees.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DaemonEvent } from '../../protocol/api';
import type { AuditEntry, ModelVersion } from '../../protocol/registry';
import type { DeploymentStatus } from '../../protocol/serving';
import { stopWorkspaceDaemon } from './cli-harness';
import {
  CLASSES, DEPLOYMENT, FEATURES, MODEL, REPO, cli, daemonClient, failures, heldOut, load, penguinsWorkspace, register, rowRecord, status, text, train, waitForEvent,
} from './deploy-support';

let ws: string;
let port: number;
const savedHome = process.env.MLOPS_HOME;
const versions: Record<'v1' | 'v2' | 'broken' | 'unloadable', ModelVersion> = {} as never;
const figures: Record<string, number> = {};

type Decision = Extract<DaemonEvent, { type: 'deployment-decision' }>;
const isDecision = (e: DaemonEvent): e is Decision => e.type === 'deployment-decision';

before(async () => {
  ({ ws, port } = await penguinsWorkspace('mlops-deploy-cli-'));
  process.env.MLOPS_HOME = REPO; // steps and model servers borrow onnxruntime-node from the workbench
  delete process.env.MLOPS_TOKEN;
  versions.v1 = await register(ws, await train(ws));
  versions.v2 = await register(ws, await train(ws, '-p', 'lr=0.05'));
  const brokenRun = await train(ws, 'broken');
  versions.broken = await register(ws, brokenRun, 'models/broken.onnx');
  versions.unloadable = await register(ws, brokenRun, 'models/unloadable.onnx');
  const alias = await cli(ws, 'models', 'alias', `${MODEL}@production`, '1');
  assert.equal(alias.code, 0, text(alias));
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  if (savedHome === undefined) delete process.env.MLOPS_HOME;
  else process.env.MLOPS_HOME = savedHome;
  fs.rmSync(ws, { recursive: true, force: true });
});

describe('mlops deploy / canary / rollback / predict on the penguins sample', () => {
  let url: string;
  let token: string;
  let row: Record<string, number>;

  it('deploys the production model and answers like the held-out labels (v2 infer and /predict)', async () => {
    const r = await cli(ws, 'deploy', DEPLOYMENT);
    assert.equal(r.code, 0, text(r));
    assert.equal(r.out[0], `${DEPLOYMENT}: deployed; serving v1 (stable 100%) at http://127.0.0.1:${port}`);
    const d = await status(ws);
    assert.equal(d.state, 'serving');
    url = d.url!;
    token = (await daemonClient(ws)).token;

    const { header, rows } = heldOut(ws);
    row = rowRecord(header, rows[0]!);
    const species = rows.map((r) => r[header.indexOf('species')]!);
    const data = rows.flatMap((r) => FEATURES.map((f) => Number(r[header.indexOf(f)])));
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const v2 = await fetch(`${url}/v2/models/${DEPLOYMENT}/infer`, { method: 'POST', headers: auth, body: JSON.stringify({ inputs: [{ name: 'input', shape: [rows.length, 9], datatype: 'FP32', data }] }) });
    assert.equal(v2.status, 200, await v2.clone().text());
    const body = (await v2.json()) as { model_version: string; outputs: { name: string; data: number[] }[] };
    assert.equal(body.model_version, '1');
    const labels = body.outputs.find((o) => o.name === 'label')!.data.map((i) => CLASSES[i]);
    const accuracy = labels.filter((l, i) => l === species[i]).length / rows.length;
    assert.ok(accuracy >= 0.95, `v2 infer accuracy ${accuracy}`);
    assert.equal(accuracy, versions.v1.metrics.accuracy, 'the same accuracy the evaluate step logged for v1');

    const predict = await fetch(`${url}/predict`, { method: 'POST', headers: auth, body: JSON.stringify({ dataframe_split: { columns: header, data: rows.map((r) => r.map((c) => (/^[\d.]+$/.test(c) ? Number(c) : c))) } }) });
    assert.equal(predict.status, 200);
    assert.deepEqual(((await predict.json()) as { predictions: string[] }).predictions, labels);

    const denied = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify({ instances: [row] }) });
    assert.equal(denied.status, 401, 'the deployment requires the workspace token');
  });

  it('batch-predicts the held-out CSV: one prediction per row, streamed through /predict', async () => {
    const r = await cli(ws, 'predict', DEPLOYMENT, '--input', 'data/prepared/test.csv', '--output', 'preds.csv', '--batch', '10', '--keep', 'id,species');
    assert.equal(r.code, 0, text(r));
    assert.match(r.err.at(-1)!, /^predict: 86 rows scored by penguins-api \(v1\) in [\d.]+ s → preds\.csv$/);
    const out = fs.readFileSync(path.join(ws, 'preds.csv'), 'utf8').trim().split('\n');
    assert.equal(out[0], 'id,species,prediction');
    assert.equal(out.length, 87);
    const right = out.slice(1).filter((l) => l.split(',')[1] === l.split(',')[2]).length;
    assert.ok(right / 86 >= 0.95, `${right} of 86 right`);

    fs.writeFileSync(path.join(ws, 'bad.csv'), `${heldOut(ws).header.join(',')}\n${heldOut(ws).rows[0]!.join(',')}\n1,2,3\n`);
    const bad = await cli(ws, 'predict', DEPLOYMENT, '--input', 'bad.csv', '--output', 'bad-preds.csv');
    assert.equal(bad.code, 2);
    assert.match(text(bad), /bad\.csv: data row 2 has 3 fields where the header has 11; nothing was written/);
    assert.ok(!fs.existsSync(path.join(ws, 'bad-preds.csv')));
    fs.writeFileSync(path.join(ws, 'text.csv'), 'bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,island_Biscoe,island_Dream,island_Torgersen,sex_FEMALE,sex_MALE\nlong,1,1,1,1,0,0,1,0\n');
    const typed = await cli(ws, 'predict', DEPLOYMENT, '--input', 'text.csv');
    assert.equal(typed.code, 2, text(typed));
    assert.match(text(typed), /text\.csv, row 1: the deployment answered 400: .*bill_length_mm/);
  });

  it('refuses bad requests with clear messages (exit 2 for usage, 1 for a state conflict)', async () => {
    const cases: [string[], number, RegExp][] = [
      [['deploy', 'nope'], 2, /no deployment "nope" in mlops\.yaml \(it declares: penguins-api\)/],
      [['deploy', DEPLOYMENT, '99'], 2, /penguins-classifier has no version 99 in the registry \(it has v1, v2, v3, v4\)/],
      [['deploy', DEPLOYMENT, 'two'], 2, /"two" is not a version number/],
      [['canary', DEPLOYMENT, '1'], 1, /v1 is already the stable version of penguins-api/],
      [['canary', DEPLOYMENT, '2', '--weight', '0'], 2, /--weight must be a whole percent from 1 to 99/],
      [['canary', 'nope', '2'], 2, /no deployment "nope"/],
      [['deployments', 'promote', DEPLOYMENT], 1, /penguins-api has no canary to promote \(v1 serves all traffic\)/],
      [['rollback', DEPLOYMENT], 1, /no earlier version to roll back to/],
      [['predict', DEPLOYMENT, '--input', 'missing.csv'], 2, /--input missing\.csv: no such file/],
      [['predict', DEPLOYMENT, '--input', 'data/prepared/test.csv', '--batch', '0'], 2, /--batch must be a whole number of rows from 1 to 100000/],
      [['deployments', 'nope'], 2, /no deployment "nope"/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(ws, ...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${text(r)}`);
      assert.match(text(r), message, args.join(' '));
    }
    const unloadable = await cli(ws, 'canary', DEPLOYMENT, String(versions.unloadable.version));
    assert.equal(unloadable.code, 2, text(unloadable));
    assert.match(text(unloadable), /penguins-api: cannot serve penguins-classifier v1 \+ v4: .*NoSuchOperator.*; v1 keeps serving/);
    const d = await status(ws);
    assert.deepEqual(d.versions.map((v) => [v.version, v.role, v.weight]), [[1, 'stable', 100]]);
  });

  it('a canary of v2 is promoted automatically after 200 of its requests, with no failed request', async () => {
    const run = load(url, token, row, { connections: 8, duration: 60 });
    const decision = await waitForEvent(ws, isDecision, 60_000, async () => {
      const r = await cli(ws, 'canary', DEPLOYMENT, '2');
      assert.equal(r.code, 0, text(r));
      assert.match(r.out[0]!, /canary started; serving v1 \(stable 90%\) \+ v2 \(canary 10%\)/);
    });
    run.stop();
    const result = await run.done;
    assert.deepEqual([decision.decision, decision.version], ['promote', 2], decision.reason);
    assert.equal(failures(result), 0, `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`);
    figures.promoteRequests = result.requests.total;
    const d = await status(ws);
    assert.deepEqual(d.versions.map((v) => [v.version, v.role, v.weight]), [[2, 'stable', 100]]);
    assert.equal(d.previousVersion, 1);
    assert.deepEqual(d.history.slice(0, 2).map((e) => [e.action, e.version, e.target, e.actor]), [['auto-promote', 2, 2, 'canary-policy'], ['canary', 1, 2, 'local']]);
  });

  it('a canary that fails at inference is rolled back automatically under 64 connections at over half the max rate, with no failed request', async () => {
    const max = await load(url, token, row, { connections: 64, duration: 3 }).done;
    assert.equal(failures(max), 0);
    figures.maxReqPerSec = max.requests.average;
    const rate = Math.ceil(max.requests.average * 0.75);
    const run = load(url, token, row, { connections: 64, duration: 60, overallRate: rate });
    await new Promise((r) => setTimeout(r, 500)); // load is flowing before the canary starts
    const decision = await waitForEvent(ws, isDecision, 60_000, async () => {
      const r = await cli(ws, 'canary', DEPLOYMENT, String(versions.broken.version));
      assert.equal(r.code, 0, text(r));
    });
    await new Promise((r) => setTimeout(r, 1000)); // and keeps flowing after the decision
    run.stop();
    const result = await run.done;
    figures.rollbackTargetRate = rate;
    figures.rollbackReqPerSec = result.requests.average;
    figures.rollbackRequests = result.requests.total;
    figures.rollbackFailures = failures(result);
    assert.deepEqual([decision.decision, decision.version], ['rollback', versions.broken.version]);
    assert.match(decision.reason, /error rate/);
    assert.equal(failures(result), 0, `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`);
    assert.ok(result.requests.average >= max.requests.average * 0.5, `${result.requests.average} req/s under the canary vs max ${max.requests.average}`);
    const d = await status(ws);
    assert.deepEqual(d.versions.map((v) => [v.version, v.role, v.weight]), [[2, 'stable', 100]]);
    assert.deepEqual([d.history[0]!.action, d.history[0]!.target, d.history[0]!.actor], ['auto-rollback', versions.broken.version, 'canary-policy']);
  });

  it('mlops rollback goes back one stable version under load with no failed request', async () => {
    const run = load(url, token, row, { connections: 32, duration: 4 });
    await new Promise((r) => setTimeout(r, 1000));
    const r = await cli(ws, 'rollback', DEPLOYMENT, '--json');
    assert.equal(r.code, 0, text(r));
    const d = r.json[0] as DeploymentStatus;
    assert.deepEqual(d.versions.map((v) => [v.version, v.role]), [[1, 'stable']]);
    const result = await run.done;
    figures.manualRollbackRequests = result.requests.total;
    assert.equal(failures(result), 0, `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`);
    const list = await cli(ws, 'deployments');
    assert.match(list.out.join('\n'), /^NAME\s+STATE\s+ENDPOINT\s+VERSION\s+ROLE\s+WEIGHT\s+HEALTH\s+REQ\/S\s+ERRORS\s+P99\npenguins-api\s+serving\s+http:\/\/127\.0\.0\.1:\d+\s+v1\s+stable\s+100%\s+ready/);
  });

  it('follows its alias: production moving to v2 starts a canary of v2, promoted by hand', async () => {
    const moved = await cli(ws, 'models', 'alias', `${MODEL}@production`, '2');
    assert.equal(moved.code, 0, text(moved));
    const deadline = Date.now() + 15_000;
    let d = await status(ws);
    while (!d.canary && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      d = await status(ws);
    }
    assert.equal(d.canary?.version, 2, 'a canary of the new production version');
    assert.deepEqual([d.history[0]!.action, d.history[0]!.actor, d.history[0]!.reason], ['canary', 'alias-follow', 'penguins-classifier@production moved to v2']);
    const r = await cli(ws, 'deployments', 'promote', DEPLOYMENT);
    assert.equal(r.code, 0, text(r));
    assert.equal(r.out[0], `${DEPLOYMENT}: canary promoted; serving v2 (stable 100%) at ${url}`);
  });

  it('records every action and decision in the audit log and the history', async () => {
    const log = await cli(ws, 'audit', 'log', '--json', '--limit', '100');
    const entries = (log.json[0] as { entries: AuditEntry[] }).entries.filter((e) => e.target === `deployment:${DEPLOYMENT}` && e.action.startsWith('deployment.'));
    assert.deepEqual(entries.map((e) => [e.action, e.actor]).reverse(), [
      ['deployment.deploy', 'local'],
      ['deployment.canary', 'local'],
      ['deployment.promote', 'canary-policy'],
      ['deployment.canary', 'local'],
      ['deployment.rollback', 'canary-policy'],
      ['deployment.rollback', 'local'],
      ['deployment.canary', 'alias-follow'],
      ['deployment.promote', 'local'],
    ]);
    const verify = await cli(ws, 'audit', 'verify');
    assert.equal(verify.code, 0, text(verify));
    const show = await cli(ws, 'deployments', DEPLOYMENT);
    assert.match(show.out.join('\n'), /TIME\s+ACTION\s+STABLE\s+TARGET\s+ACTOR\s+REASON\n.*promote\s+v2\s+v2\s+local\s*\n.*canary\s+v1\s+v2\s+alias-follow\s+penguins-classifier@production moved to v2\n.*rollback\s+v1\s+v2\s+local/);
  });

  it('undeploys: the port closes and the deployment stays stopped', async () => {
    const r = await cli(ws, 'undeploy', DEPLOYMENT);
    assert.equal(r.code, 0, text(r));
    await assert.rejects(fetch(`${url}/v2/health/live`));
    const d = await status(ws);
    assert.equal(d.state, 'stopped');
    assert.equal(d.history[0]!.action, 'undeploy');
    const again = await cli(ws, 'undeploy', DEPLOYMENT);
    assert.equal(again.code, 1);
    assert.match(text(again), /penguins-api is not deployed/);
    const canary = await cli(ws, 'canary', DEPLOYMENT, '2');
    assert.match(text(canary), /penguins-api is not running; deploy it first: mlops deploy penguins-api/);
    process.stderr.write(`deploy-cli load figures: ${JSON.stringify(figures)}\n`);
  });
});
