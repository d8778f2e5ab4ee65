/**
 * A/B splits and shadows through the CLI on a temp copy of the penguins sample: a real daemon,
 * a real model server process, real ONNX inference. The manifest's `rollout.ab` split served
 * as declared (weights by alias and by version number), the split measured over 1200 requests,
 * a sticky header keeping each client on one version, an operator's `mlops ab`, `mlops rollback`
 * ending the split under load with no failed request, and a shadow (`mlops shadow`, then the
 * manifest's `rollout.shadow`) whose answers reach the request log and never the client.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry } from '../../protocol/registry';
import type { DeploymentStatus, RequestLogEntry } from '../../protocol/serving';
import { stopWorkspaceDaemon } from './cli-harness';
import { DEPLOYMENT, MODEL, REPO, cli, daemonClient, failures, heldOut, load, penguinsWorkspace, register, rowRecord, status, text, train } from './deploy-support';

let ws: string;
let url: string;
let token: string;
let row: Record<string, number>;
const savedHome = process.env.MLOPS_HOME;
const figures: Record<string, number | string> = {};

/** The sample's canary rollout replaced by `rollout` (YAML lines at the deployment's indentation). */
function setRollout(rollout: string): void {
  const file = path.join(ws, 'mlops.yaml');
  const manifest = fs.readFileSync(file, 'utf8');
  const next = manifest.replace(/\n {4}rollout:\n(?: {6}.*\n)+/, `\n    rollout:\n${rollout}`);
  assert.notEqual(next, manifest, 'the rollout block was replaced');
  fs.writeFileSync(file, next);
}

const versionsOf = (d: DeploymentStatus) => d.versions.map((v) => [v.version, v.role, v.weight]);

/** `n` /predict requests from `parallel` clients; `headers(i)` adds headers to request i. Counts the versions that answered. */
async function send(n: number, parallel: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<{ byVersion: Record<string, number>; failed: number; answers: { i: number; version: string }[] }> {
  const byVersion: Record<string, number> = {};
  const answers: { i: number; version: string }[] = [];
  let next = 0;
  let failed = 0;
  const body = JSON.stringify({ instances: [row] });
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      const i = next++;
      const res = await fetch(`${url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers(i) }, body });
      await res.arrayBuffer();
      if (!res.ok) failed++;
      const v = res.headers.get('x-mlops-version') ?? '?';
      byVersion[v] = (byVersion[v] ?? 0) + 1;
      answers.push({ i, version: v });
    }
  }));
  return { byVersion, failed, answers };
}

function requestLog(): RequestLogEntry[] {
  const dir = path.join(ws, '.mlops', 'deployments', DEPLOYMENT, 'requests');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RequestLogEntry));
}

before(async () => {
  ({ ws } = await penguinsWorkspace('mlops-deploy-ab-'));
  process.env.MLOPS_HOME = REPO; // steps and model servers borrow onnxruntime-node from the workbench
  delete process.env.MLOPS_TOKEN;
  await register(ws, await train(ws));
  await register(ws, await train(ws, '-p', 'lr=0.05'));
  const alias = await cli(ws, 'models', 'alias', `${MODEL}@production`, '1');
  assert.equal(alias.code, 0, text(alias));
  const { header, rows } = heldOut(ws);
  row = rowRecord(header, rows[0]!);
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  if (savedHome === undefined) delete process.env.MLOPS_HOME;
  else process.env.MLOPS_HOME = savedHome;
  fs.rmSync(ws, { recursive: true, force: true });
});

describe('A/B splits and shadows on the penguins sample', () => {
  it('deploys the manifest\'s A/B split (weights by alias and by version) with the sticky header', async () => {
    setRollout('      strategy: ab\n      ab:\n        weights: {production: 1, "2": 1}\n      sticky: X-Client\n');
    const r = await cli(ws, 'deploy', DEPLOYMENT);
    assert.equal(r.code, 0, text(r));
    assert.match(r.out[0]!, /^penguins-api: deployed; serving v1 \(ab 50%\) \+ v2 \(ab 50%\) at http:\/\/127\.0\.0\.1:\d+$/);
    const d = await status(ws);
    assert.deepEqual(versionsOf(d), [[1, 'ab', 50], [2, 'ab', 50]]);
    assert.equal(d.strategy, 'ab');
    assert.equal(d.previousVersion, 1, 'rollback goes back to the version production points at');
    assert.deepEqual(d.history.slice(0, 2).map((e) => [e.action, e.version, e.reason]), [['ab', 1, 'v1 50% + v2 50%'], ['deploy', 1, undefined]]);
    url = d.url!;
    token = (await daemonClient(ws)).token;
    const again = await cli(ws, 'deploy', DEPLOYMENT);
    assert.equal(again.code, 0, text(again));
    assert.equal((await status(ws)).history.length, d.history.length, 'deploying the same split again changes nothing');
  });

  it('splits 1200 requests 50/50 within ±5 points, every one answered', async () => {
    const r = await send(1200, 8);
    const share = (r.byVersion['2'] ?? 0) / 1200;
    figures.abShareV2 = Number(share.toFixed(3));
    assert.equal(r.failed, 0);
    assert.deepEqual(Object.keys(r.byVersion).sort(), ['1', '2']);
    // Binomial sd of the share at n = 1200 is 1.4 points: ±5 is 3.5 sd.
    assert.ok(Math.abs(share - 0.5) < 0.05, `v2 answered ${(share * 100).toFixed(1)} % of 1200 requests`);
  });

  it('keeps each client on one version by its X-Client header, and spreads clients over both', async () => {
    const clients = 40;
    const r = await send(clients * 10, 8, (i) => ({ 'X-Client': `client-${i % clients}` }));
    assert.equal(r.failed, 0);
    const seen = new Map<number, Set<string>>();
    for (const a of r.answers) {
      const c = a.i % clients;
      if (!seen.has(c)) seen.set(c, new Set());
      seen.get(c)!.add(a.version);
    }
    const switched = [...seen].filter(([, s]) => s.size > 1);
    assert.deepEqual(switched, [], 'no client reached two versions');
    const onV2 = [...seen.values()].filter((s) => s.has('2')).length;
    figures.stickyClientsOnV2 = `${onV2}/${clients}`;
    assert.ok(onV2 >= 8 && onV2 <= 32, `${onV2} of ${clients} clients on v2`);
  });

  it('mlops ab re-splits a running deployment by version or alias, and refuses bad splits clearly', async () => {
    const r = await cli(ws, 'ab', DEPLOYMENT, 'production=80', 'v2=20');
    assert.equal(r.code, 0, text(r));
    assert.equal(r.out[0], `${DEPLOYMENT}: A/B split; serving v1 (ab 80%) + v2 (ab 20%) at ${url}`);
    const cases: [string[], number, RegExp][] = [
      [['ab', DEPLOYMENT, '1=50'], 2, /an A\/B split needs at least two KEY=WEIGHT/],
      [['ab', DEPLOYMENT, '1=50', '2'], 2, /"2" is not KEY=WEIGHT/],
      [['ab', DEPLOYMENT, '1=100', '2=0'], 2, /needs at least two versions with a weight above 0/],
      [['ab', DEPLOYMENT, '1=50', 'production=50'], 2, /"1" and "production" both name v1 of penguins-classifier/],
      [['ab', DEPLOYMENT, '1=50', 'challenger=50'], 2, /penguins-classifier@challenger is not set/],
      [['ab', DEPLOYMENT, '1=50', '9=50'], 2, /penguins-classifier has no version 9 in the registry \(it has v1, v2\)/],
      [['ab', 'nope', '1=50', '2=50'], 2, /no deployment "nope"/],
      [['canary', DEPLOYMENT, '2'], 1, /an A\/B split \(v1 80% \+ v2 20%\) is running on penguins-api; end it first: mlops rollback penguins-api/],
    ];
    for (const [args, code, message] of cases) {
      const res = await cli(ws, ...args);
      assert.equal(res.code, code, `${args.join(' ')}: ${text(res)}`);
      assert.match(text(res), message, args.join(' '));
    }
    assert.deepEqual(versionsOf(await status(ws)), [[1, 'ab', 80], [2, 'ab', 20]], 'the refused splits changed nothing');
    const show = await cli(ws, 'deployments', DEPLOYMENT);
    assert.match(show.out.join('\n'), /A\/B split: v1 80% \+ v2 20%; mlops rollback penguins-api ends it\nrollback goes to: v1/);
  });

  it('mlops rollback ends the split under load: v1 alone, no failed request', async () => {
    const run = load(url, token, row, { connections: 32, duration: 4 });
    await new Promise((r) => setTimeout(r, 1000));
    const r = await cli(ws, 'rollback', DEPLOYMENT, '--json');
    assert.equal(r.code, 0, text(r));
    assert.deepEqual(versionsOf(r.json[0] as DeploymentStatus), [[1, 'stable', 100]]);
    const result = await run.done;
    figures.rollbackRequests = result.requests.total;
    assert.equal(failures(result), 0, `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`);
    const d = await status(ws);
    assert.deepEqual([d.history[0]!.action, d.history[0]!.version, d.history[0]!.reason], ['rollback', 1, 'ended the A/B split v1 80% + v2 20%']);
    assert.equal(d.strategy, 'ab', 'the manifest still declares ab');
  });

  it('mlops shadow mirrors every request to v2: clients get v1\'s answers, the log has both', async () => {
    const r = await cli(ws, 'shadow', DEPLOYMENT, '2');
    assert.equal(r.code, 0, text(r));
    assert.equal(r.out[0], `${DEPLOYMENT}: shadow started; serving v1 (stable 100%) + v2 (shadow, mirrored) at ${url}`);
    const ids = Array.from({ length: 50 }, (_, i) => `shadow-test-${i}`);
    const sent = await send(ids.length, 4, (i) => ({ 'X-Request-Id': ids[i]! }));
    assert.equal(sent.failed, 0);
    assert.deepEqual(sent.byVersion, { 1: 50 }, 'every answer came from the stable version');
    let lines: RequestLogEntry[] = [];
    const deadline = Date.now() + 5000;
    do {
      await new Promise((res) => setTimeout(res, 300)); // the log is flushed every 250 ms
      lines = requestLog().filter((e) => ids.includes(e.id));
    } while (lines.length < 100 && Date.now() < deadline);
    const byRole = (role: string) => lines.filter((e) => e.role === role);
    assert.equal(byRole('stable').length, 50);
    assert.equal(byRole('shadow').length, 50, 'one shadow line per request');
    assert.ok(byRole('shadow').every((e) => e.version === 2 && e.status === 200 && Array.isArray(e.predictions) && e.predictions.length === 1));
    assert.deepEqual(new Set(byRole('shadow').map((e) => e.id)), new Set(ids), 'the shadow lines carry the client request ids');
    const show = await cli(ws, 'deployments', DEPLOYMENT);
    assert.match(show.out.join('\n'), /shadow: v2 gets a copy of every request \(answers logged, not returned\); mlops shadow penguins-api --stop ends it/);
    assert.match(show.out.join('\n'), /\n\s+v2\s+shadow\s+mirror\s+ready/);

    for (const [args, message] of [
      [['shadow', DEPLOYMENT, '1'], /v1 already serves penguins-api \(stable 100%\); a shadow must be a version that takes no traffic/],
      [['shadow', DEPLOYMENT], /give the version to mirror to \(mlops shadow penguins-api 3\) or --stop/],
      [['ab', DEPLOYMENT, '1=50', '2=50'], /v2 is the shadow of penguins-api; stop it first/],
    ] as [string[], RegExp][]) {
      const res = await cli(ws, ...args);
      assert.notEqual(res.code, 0, args.join(' '));
      assert.match(text(res), message, args.join(' '));
    }
    const stop = await cli(ws, 'shadow', DEPLOYMENT, '--stop');
    assert.equal(stop.code, 0, text(stop));
    assert.equal(stop.out[0], `${DEPLOYMENT}: shadow stopped; serving v1 (stable 100%) at ${url}`);
  });

  it('deploys the manifest\'s shadow (models:/NAME@staging) beside the running version', async () => {
    assert.equal((await cli(ws, 'models', 'alias', `${MODEL}@staging`, '2')).code, 0);
    setRollout('      strategy: shadow\n      shadow: {model: "models:/penguins-classifier@staging"}\n');
    const r = await cli(ws, 'deploy', DEPLOYMENT, '--json');
    assert.equal(r.code, 0, text(r));
    const d = r.json[0] as DeploymentStatus;
    assert.deepEqual(versionsOf(d), [[1, 'stable', 100], [2, 'shadow', 0]]);
    assert.deepEqual([d.history[0]!.action, d.history[0]!.target], ['shadow', 2]);
    const sent = await send(20, 2);
    assert.deepEqual([sent.failed, sent.byVersion], [0, { 1: 20 }]);
  });

  it('records the splits and shadows in the audit log', async () => {
    const log = await cli(ws, 'audit', 'log', '--json', '--limit', '100');
    const entries = (log.json[0] as { entries: AuditEntry[] }).entries.filter((e) => e.target === `deployment:${DEPLOYMENT}` && e.action.startsWith('deployment.'));
    assert.deepEqual(entries.map((e) => e.action).reverse(), [
      'deployment.deploy', 'deployment.ab', 'deployment.ab', 'deployment.rollback', 'deployment.shadow', 'deployment.shadow', 'deployment.shadow',
    ]);
    const split = entries.filter((e) => e.action === 'deployment.ab').map((e) => (e.after as { ab?: unknown }).ab);
    assert.deepEqual(split, [{ 1: 80, 2: 20 }, { 1: 50, 2: 50 }], 'newest first: the operator\'s split, then the manifest\'s');
    assert.deepEqual(entries.filter((e) => e.action === 'deployment.shadow').map((e) => (e.after as { shadow?: number }).shadow), [2, undefined, 2]);
    const verify = await cli(ws, 'audit', 'verify');
    assert.equal(verify.code, 0, text(verify));
  });

  it('an operator\'s deploy stands through registry changes until the followed alias really moves', async () => {
    const r = await cli(ws, 'deploy', DEPLOYMENT, '2');
    assert.equal(r.code, 0, text(r));
    assert.equal(r.out[0], `${DEPLOYMENT}: deployed; serving v2 (stable 100%) at ${url}`, 'deploying the shadow version ends the mirroring');
    assert.equal((await cli(ws, 'models', 'alias', `${MODEL}@staging`, '1')).code, 0); // a registry change; production still on v1
    await new Promise((res) => setTimeout(res, 800)); // the daemon follows aliases 200 ms after a change
    assert.deepEqual(versionsOf(await status(ws)), [[2, 'stable', 100]], 'production did not move: v2 keeps serving');
    assert.equal((await cli(ws, 'models', 'alias', `${MODEL}@production`, '2')).code, 0); // now on what serves: nothing to do
    await new Promise((res) => setTimeout(res, 800));
    assert.equal((await status(ws)).history[0]!.action, 'deploy');
    assert.equal((await cli(ws, 'models', 'alias', `${MODEL}@production`, '1')).code, 0);
    const deadline = Date.now() + 10_000;
    let d = await status(ws);
    while (d.versions[0]?.version !== 1 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      d = await status(ws);
    }
    assert.deepEqual(versionsOf(d), [[1, 'stable', 100]]);
    assert.deepEqual([d.history[0]!.action, d.history[0]!.actor, d.history[0]!.reason], ['rollback', 'alias-follow', 'penguins-classifier@production moved to v1']);
    process.stderr.write(`deploy-ab figures: ${JSON.stringify(figures)}\n`);
  });
});
