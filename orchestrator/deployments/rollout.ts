/**
 * Rollout decisions as pure functions of the desired state: switch, start a canary, promote,
 * roll back. Each returns the next state and the history event, or throws MlopsError saying
 * why the action does not apply. The manager applies the result to the model server.
 */
import { MlopsError } from '../../protocol/errors';
import type { CanaryPolicy, DeploymentEvent, ServedVersion } from '../../protocol/serving';
import { HISTORY_LIMIT, PREVIOUS_LIMIT, type DeploymentState } from './state';

export interface Transition {
  state: DeploymentState;
  event: DeploymentEvent;
}

interface Who {
  actor: string;
  at: number;
  reason?: string;
}

function record(s: DeploymentState, next: Omit<DeploymentState, 'history' | 'updatedAt'>, event: DeploymentEvent): Transition {
  return { state: { ...next, history: [event, ...s.history].slice(0, HISTORY_LIMIT), updatedAt: event.at }, event };
}

function withReason<T extends DeploymentEvent>(e: T, reason: string | undefined): T {
  return reason ? { ...e, reason } : e;
}

/** Serve `version` alone (first deploy or a direct switch); a running canary is dropped. */
export function switchTo(s: DeploymentState, version: number, who: Who): Transition {
  const previous = s.stable !== undefined && s.stable !== version ? [s.stable, ...s.previous.filter((v) => v !== s.stable)].slice(0, PREVIOUS_LIMIT) : s.previous;
  const { canary: _dropped, error: _cleared, ...rest } = s;
  const event = withReason<DeploymentEvent>({ at: who.at, action: 'deploy', version, actor: who.actor }, who.reason);
  return record(s, { ...rest, desired: 'serving', stable: version, previous }, event);
}

export function startCanary(s: DeploymentState, version: number, policy: CanaryPolicy, who: Who): Transition {
  if (s.stable === undefined) throw new MlopsError('CONFLICT', `${s.name} is not serving; deploy it first: mlops deploy ${s.name}`);
  if (version === s.stable) throw new MlopsError('CONFLICT', `v${version} is already the stable version of ${s.name}; a canary needs another version`);
  if (s.canary) {
    throw new MlopsError('CONFLICT', `a canary of v${s.canary.version} is already running on ${s.name}; promote it (mlops deployments promote ${s.name}) or roll it back (mlops rollback ${s.name}) first`);
  }
  checkWeight(policy.weight);
  const event = withReason<DeploymentEvent>({ at: who.at, action: 'canary', version: s.stable, target: version, actor: who.actor }, who.reason);
  return record(s, { ...s, canary: { ...policy, version, startedAt: who.at } }, event);
}

/** The canary takes all traffic; the old stable becomes the rollback target. */
export function promote(s: DeploymentState, who: Who & { auto?: boolean }): Transition {
  if (!s.canary) throw new MlopsError('CONFLICT', `${s.name} has no canary to promote${s.stable !== undefined ? ` (v${s.stable} serves all traffic)` : ''}`);
  const version = s.canary.version;
  const previous = s.stable !== undefined ? [s.stable, ...s.previous.filter((v) => v !== s.stable && v !== version)].slice(0, PREVIOUS_LIMIT) : s.previous;
  const { canary: _done, ...rest } = s;
  const event = withReason<DeploymentEvent>({ at: who.at, action: who.auto ? 'auto-promote' : 'promote', version, target: version, actor: who.actor }, who.reason);
  return record(s, { ...rest, stable: version, previous }, event);
}

/** Drops a running canary; without one, goes back to the previous stable version. */
export function rollback(s: DeploymentState, who: Who & { auto?: boolean }): Transition {
  const action = who.auto ? 'auto-rollback' : 'rollback';
  if (s.canary) {
    const { canary, ...rest } = s;
    const event = withReason<DeploymentEvent>({ at: who.at, action, version: s.stable, target: canary.version, actor: who.actor }, who.reason);
    return record(s, rest, event);
  }
  const [back, ...older] = s.previous;
  if (back === undefined || s.stable === undefined) {
    throw new MlopsError('CONFLICT', `${s.name} has no earlier version to roll back to${s.stable !== undefined ? ` (v${s.stable} is the only one it has served)` : ''}`);
  }
  const event = withReason<DeploymentEvent>({ at: who.at, action, version: back, target: s.stable, actor: who.actor }, who.reason);
  return record(s, { ...s, stable: back, previous: older }, event);
}

export function stop(s: DeploymentState, who: Who): Transition {
  const { canary: _dropped, ...rest } = s;
  const event = withReason<DeploymentEvent>({ at: who.at, action: 'undeploy', ...(s.stable !== undefined ? { target: s.stable } : {}), actor: who.actor }, who.reason);
  return record(s, { ...rest, desired: 'stopped' }, event);
}

/** Which versions serve, with role and percent of traffic, for the state. */
export function servedVersions(s: DeploymentState): Pick<ServedVersion, 'version' | 'role' | 'weight'>[] {
  if (s.stable === undefined) return [];
  if (!s.canary) return [{ version: s.stable, role: 'stable', weight: 100 }];
  return [
    { version: s.stable, role: 'stable', weight: 100 - s.canary.weight },
    { version: s.canary.version, role: 'canary', weight: s.canary.weight },
  ];
}

export function checkWeight(w: number): void {
  if (!Number.isInteger(w) || w < 1 || w > 99) throw new MlopsError('BAD_REQUEST', `canary weight ${w} is not a whole percent from 1 to 99`);
}
