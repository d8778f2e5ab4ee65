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
import { parseShadowRef, parseTarget } from '../../orchestrator/deployments/targets';

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

describe('A/B splits and shadows', () => {
  it('splits by relative weights normalised to whole percents; rollback returns to the single stable version', () => {
    let s = rollout.switchTo(emptyState('api', 'm', 0), 1, who()).state;
    const t = rollout.split(s, [{ version: 2, weight: 1 }, { version: 1, weight: 1 }, { version: 3, weight: 1 }], who());
    assert.deepEqual(rollout.servedVersions(t.state), [
      { version: 1, role: 'ab', weight: 34 },
      { version: 2, role: 'ab', weight: 33 },
      { version: 3, role: 'ab', weight: 33 },
    ]);
    assert.deepEqual(t.event, { at: 1000, action: 'ab', version: 1, actor: 'local', reason: 'v1 34% + v2 33% + v3 33%' });
    s = rollout.split(t.state, [{ version: 1, weight: 80 }, { version: 2, weight: 20 }, { version: 3, weight: 0 }], who()).state;
    assert.deepEqual(s.ab, [{ version: 1, weight: 80 }, { version: 2, weight: 20 }], 'a new split replaces the old one; weight 0 leaves a version out');
    const back = rollout.rollback(s, who('bob'));
    assert.deepEqual(rollout.servedVersions(back.state), [{ version: 1, role: 'stable', weight: 100 }]);
    assert.deepEqual([back.event.action, back.event.version, back.event.reason], ['rollback', 1, 'ended the A/B split v1 80% + v2 20%']);
    assert.deepEqual(back.state.previous, [], 'ending a split is not a version change');
    const direct = rollout.switchTo(rollout.split(back.state, [{ version: 1, weight: 1 }, { version: 2, weight: 1 }], who()).state, 2, who()).state;
    assert.deepEqual(rollout.servedVersions(direct), [{ version: 2, role: 'stable', weight: 100 }], 'a direct deploy ends the split');
  });

  it('mirrors to a shadow beside any primary traffic, and refuses what would make it serve twice', () => {
    let s = rollout.switchTo(emptyState('api', 'm', 0), 1, who()).state;
    s = rollout.shadow(s, 3, who()).state;
    assert.deepEqual(rollout.servedVersions(s), [{ version: 1, role: 'stable', weight: 100 }, { version: 3, role: 'shadow', weight: 0 }]);
    s = rollout.split(s, [{ version: 1, weight: 50 }, { version: 2, weight: 50 }], who()).state;
    assert.deepEqual(rollout.servedVersions(s).map((v) => [v.version, v.role, v.weight]), [[1, 'ab', 50], [2, 'ab', 50], [3, 'shadow', 0]]);
    assert.throws(() => rollout.split(s, [{ version: 1, weight: 1 }, { version: 3, weight: 1 }], who()), /v3 is the shadow of api; stop it first \(mlops shadow api --stop\)/);
    assert.throws(() => rollout.shadow(s, 2, who()), /v2 already serves api \(ab 50%\)/);
    assert.throws(() => rollout.startCanary(s, 4, { weight: 10 }, who()), /an A\/B split \(v1 50% \+ v2 50%\) is running on api; end it first: mlops rollback api/);
    s = rollout.rollback(s, who()).state;
    assert.throws(() => rollout.startCanary(s, 3, { weight: 10 }, who()), /v3 is the shadow of api/);
    assert.equal(rollout.switchTo(s, 3, who()).state.shadow, undefined, 'deploying the shadow version ends mirroring to it');
    const stopped = rollout.shadow(s, undefined, who());
    assert.deepEqual([stopped.event.action, stopped.event.target, stopped.state.shadow], ['shadow', 3, undefined]);
    assert.throws(() => rollout.shadow(stopped.state, undefined, who()), /api has no shadow to stop/);
    const c = rollout.startCanary(stopped.state, 2, { weight: 10 }, who()).state;
    assert.throws(() => rollout.split(c, [{ version: 1, weight: 1 }, { version: 2, weight: 1 }], who()), /a canary of v2 is running on api/);
  });

  it('refuses splits that are not splits, with the reason', () => {
    assert.throws(() => rollout.normaliseSplit([{ version: 1, weight: 100 }, { version: 2, weight: 0 }]), /needs at least two versions with a weight above 0 .*use mlops deploy NAME VERSION/);
    assert.throws(() => rollout.normaliseSplit([{ version: 1, weight: 1000 }, { version: 2, weight: 1 }]), /give v2 less than 1 % of traffic/);
    assert.throws(() => rollout.normaliseSplit([{ version: 1, weight: -1 }, { version: 2, weight: 1 }]), /weight of v1 must be a number of 0 or more/);
    assert.deepEqual(parseTarget('v3', 'm'), { version: 3 });
    assert.deepEqual(parseTarget('challenger', 'm'), { alias: 'challenger' });
    assert.throws(() => parseTarget('a b', 'm'), /"a b" is neither a version number \(3 or v3\) nor an alias of m/);
    assert.deepEqual(parseShadowRef('models:/m/4', 'm', 'api'), { version: 4 });
    assert.deepEqual(parseShadowRef('m@staging', 'm', 'api'), { alias: 'staging' });
    assert.throws(() => parseShadowRef('other@staging', 'm', 'api'), /a shadow must be a version of the model the deployment serves \(m\)/);
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
    const ab = deploymentSpec('e', { model: 'm', rollout: { ab: { weights: { production: 80, '4': 20 } }, sticky: 'X-User' } });
    assert.deepEqual([ab.strategy, ab.ab, ab.sticky], ['ab', { production: 80, '4': 20 }, 'X-User']);
    const sh = deploymentSpec('f', { model: 'm', rollout: { strategy: 'shadow', shadow: { model: 'models:/m@staging' } } });
    assert.deepEqual([sh.strategy, sh.shadow], ['shadow', 'models:/m@staging']);
  });

  it('an unknown name lists the declared ones', () => {
    assert.match(unknownDeployment('nope', ['b', 'a']).message, /no deployment "nope" in mlops.yaml \(it declares: a, b\)/);
    assert.match(unknownDeployment('nope', []).message, /it declares none/);
  });
});
