/**
 * Rollout decisions (orchestrator/deployments/rollout.ts) and the manifest's deployments as
 * the manager reads them (spec.ts): which versions serve with which share after each action,
 * what rollback goes back to, and the refusals an operator sees.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MlopsError } from '../../protocol/errors';
import * as rollout from '../../orchestrator/deployments/rollout';
import { deploymentSpec, unknownDeployment } from '../../orchestrator/deployments/spec';
import { emptyState } from '../../orchestrator/deployments/state';

const who = (actor = 'local', at = 1000) => ({ actor, at });

describe('rollout decisions', () => {
  it('deploys, canaries, promotes and rolls back one step at a time', () => {
    let s = rollout.switchTo(emptyState('api', 'm', 0), 1, who()).state;
    assert.deepEqual(rollout.servedVersions(s), [{ version: 1, role: 'stable', weight: 100 }]);
    assert.equal(s.desired, 'serving');

    s = rollout.startCanary(s, 2, { weight: 10, promoteAfterRequests: 200 }, who()).state;
    assert.deepEqual(rollout.servedVersions(s), [
      { version: 1, role: 'stable', weight: 90 },
      { version: 2, role: 'canary', weight: 10 },
    ]);
    const promoted = rollout.promote(s, { ...who('canary-policy', 2000), auto: true, reason: '200 requests' });
    s = promoted.state;
    assert.deepEqual(promoted.event, { at: 2000, action: 'auto-promote', version: 2, target: 2, actor: 'canary-policy', reason: '200 requests' });
    assert.deepEqual(rollout.servedVersions(s), [{ version: 2, role: 'stable', weight: 100 }]);
    assert.deepEqual(s.previous, [1]);

    s = rollout.switchTo(s, 3, who()).state;
    assert.deepEqual(s.previous, [2, 1]);
    const back = rollout.rollback(s, who('alice', 3000));
    assert.deepEqual(back.event, { at: 3000, action: 'rollback', version: 2, target: 3, actor: 'alice' });
    s = back.state;
    assert.equal(s.stable, 2);
    assert.deepEqual(s.previous, [1]);
    assert.deepEqual(s.history.map((e) => e.action), ['rollback', 'deploy', 'auto-promote', 'canary', 'deploy']);
  });

  it('a rollback during a canary drops only the canary', () => {
    let s = rollout.switchTo(emptyState('api', 'm', 0), 1, who()).state;
    s = rollout.startCanary(s, 4, { weight: 25 }, who()).state;
    const t = rollout.rollback(s, { ...who('canary-policy'), auto: true, reason: 'error rate 100% > 2%' });
    assert.equal(t.event.action, 'auto-rollback');
    assert.equal(t.event.target, 4);
    assert.equal(t.state.stable, 1);
    assert.equal(t.state.canary, undefined);
    assert.deepEqual(t.state.previous, [], 'the stable version did not change');
  });

  it('refuses what does not apply, saying what to do', () => {
    const none = emptyState('api', 'm', 0);
    assert.throws(() => rollout.startCanary(none, 2, { weight: 10 }, who()), /api is not serving; deploy it first: mlops deploy api/);
    const s = rollout.switchTo(none, 1, who()).state;
    assert.throws(() => rollout.startCanary(s, 1, { weight: 10 }, who()), /v1 is already the stable version of api/);
    assert.throws(() => rollout.startCanary(s, 2, { weight: 100 }, who()), /canary weight 100 is not a whole percent from 1 to 99/);
    assert.throws(() => rollout.promote(s, who()), /api has no canary to promote \(v1 serves all traffic\)/);
    assert.throws(() => rollout.rollback(s, who()), /api has no earlier version to roll back to \(v1 is the only one it has served\)/);
    const c = rollout.startCanary(s, 2, { weight: 10 }, who()).state;
    assert.throws(() => rollout.startCanary(c, 3, { weight: 10 }, who()), (e: unknown) => e instanceof MlopsError && e.code === 'CONFLICT' && /a canary of v2 is already running/.test(e.message));
  });
});

describe('deployments in the manifest', () => {
  it('reads the penguins sample: follows @production, canary policy from rollout.canary', () => {
    const spec = deploymentSpec('penguins-api', {
      model: 'penguins-classifier',
      port: 8711,
      rollout: { strategy: 'canary', canary: { weight: 10, promote_after: { requests: 200 }, rollback_if: { error_rate: 0.02, p99_ms: 150 } } },
    });
    assert.deepEqual(spec, {
      name: 'penguins-api', modelRef: 'penguins-classifier', model: 'penguins-classifier', alias: 'production', port: 8711, auth: 'token', strategy: 'canary',
      canary: { weight: 10, promoteAfterRequests: 200, rollbackErrorRate: 0.02, rollbackP99Ms: 150 },
    });
  });

  it('pins models:/NAME/VERSION, follows models:/NAME@ALIAS, defaults to direct', () => {
    const pinned = deploymentSpec('a', { model: 'models:/m/3', auth: 'none' });
    assert.equal(pinned.pinnedVersion, 3);
    assert.equal(pinned.alias, undefined);
    assert.equal(pinned.strategy, 'direct');
    assert.equal(pinned.auth, 'none');
    assert.equal(deploymentSpec('b', { model: 'models:/m@staging' }).alias, 'staging');
    assert.equal(deploymentSpec('c', { model: 'm', alias: 'champion' }).alias, 'champion');
    assert.equal(deploymentSpec('d', { model: 'm', rollout: { canary: { weight: 5 } } }).strategy, 'canary');
  });

  it('an unknown name lists the declared ones', () => {
    assert.match(unknownDeployment('nope', ['b', 'a']).message, /no deployment "nope" in mlops.yaml \(it declares: a, b\)/);
    assert.match(unknownDeployment('nope', []).message, /it declares none/);
  });
});
