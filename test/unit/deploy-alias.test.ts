/**
 * Alias following while a canary runs, through the CLI on a temp copy of the penguins sample
 * (real daemon, real model server, real ONNX): the alias moves on while a canary of its
 * previous target runs; the new target waits, and rolls out as soon as that canary ends (here
 * promoted by hand), not only at the next registry change. A canary rolled back by hand whose
 * version the alias still names is not started again.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ModelVersion } from '../../protocol/registry';
import type { DeploymentStatus } from '../../protocol/serving';
import { stopWorkspaceDaemon } from './cli-harness';
import { DEPLOYMENT, MODEL, REPO, cli, penguinsWorkspace, register, status, text, train } from './deploy-support';

let ws: string;
const savedHome = process.env.MLOPS_HOME;
const v: ModelVersion[] = [];

async function until(what: string, ok: (d: DeploymentStatus) => boolean, timeoutMs = 15_000): Promise<DeploymentStatus> {
  const deadline = Date.now() + timeoutMs;
  let d = await status(ws);
  while (!ok(d)) {
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms; status: ${JSON.stringify({ versions: d.versions, canary: d.canary, history: d.history.slice(0, 3) })}`);
    await new Promise((r) => setTimeout(r, 100));
    d = await status(ws);
  }
  return d;
}

const served = (d: DeploymentStatus) => d.versions.map((x) => `v${x.version} ${x.role}`).join(', ');

async function moveAlias(version: number): Promise<void> {
  const r = await cli(ws, 'models', 'alias', `${MODEL}@production`, String(version));
  assert.equal(r.code, 0, text(r));
}

before(async () => {
  ({ ws } = await penguinsWorkspace('mlops-deploy-alias-'));
  process.env.MLOPS_HOME = REPO; // model servers borrow onnxruntime-node from the workbench
  delete process.env.MLOPS_TOKEN;
  // Three versions of one trained run: what serves is told apart by version number.
  const run = await train(ws);
  for (let i = 0; i < 3; i++) v.push(await register(ws, run));
  await moveAlias(v[0]!.version);
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  if (savedHome === undefined) delete process.env.MLOPS_HOME;
  else process.env.MLOPS_HOME = savedHome;
  fs.rmSync(ws, { recursive: true, force: true });
});

describe('a deployment following its alias while a canary runs', () => {
  it('rolls out where the alias moved during a canary as soon as that canary is promoted', async () => {
    const [v1, v2, v3] = v.map((x) => x.version) as [number, number, number];
    const deployed = await cli(ws, 'deploy', DEPLOYMENT);
    assert.equal(deployed.code, 0, text(deployed));

    await moveAlias(v2);
    await until(`a canary of v${v2}`, (d) => d.canary?.version === v2);

    await moveAlias(v3);
    // The alias-follow pass runs 200 ms after a registry change; the canary of v2 stands meanwhile.
    await new Promise((r) => setTimeout(r, 1000));
    let d = await status(ws);
    assert.equal(served(d), `v${v1} stable, v${v2} canary`, 'one canary at a time: v3 waits');

    const promoted = await cli(ws, 'deployments', 'promote', DEPLOYMENT);
    assert.equal(promoted.code, 0, text(promoted));
    d = await until(`a canary of v${v3} once v${v2} was promoted`, (x) => x.canary?.version === v3);
    assert.equal(served(d), `v${v2} stable, v${v3} canary`);
    assert.deepEqual([d.history[0]!.action, d.history[0]!.actor, d.history[0]!.reason], ['canary', 'alias-follow', `${MODEL}@production moved to v${v3}`]);
  });

  it('leaves a canary rolled back by hand rolled back while the alias still names it', async () => {
    const [, v2] = v.map((x) => x.version) as [number, number, number];
    const back = await cli(ws, 'rollback', DEPLOYMENT);
    assert.equal(back.code, 0, text(back));
    await new Promise((r) => setTimeout(r, 1000));
    const d = await status(ws);
    assert.equal(served(d), `v${v2} stable`);
    assert.equal(d.history[0]!.action, 'rollback');
  });
});
