/**
 * Rollout decisions as pure functions of the desired state: switch, start a canary, promote,
 * split traffic A/B, mirror to a shadow, roll back. Each returns the next state and the history event, or throws MlopsError saying
 * why the action does not apply. The manager applies the result to the model server.
 */
import { MlopsError } from '../../protocol/errors';
import type { CanaryPolicy, DeploymentEvent, ServedVersion } from '../../protocol/serving';
import { HISTORY_LIMIT, PREVIOUS_LIMIT, type DeploymentState, type SplitShare } from './state';

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

/**
 * Serve `version` alone (first deploy or a direct switch); a running canary or A/B split is
 * dropped. A shadow keeps mirroring unless it is the version that now serves.
 */
export function switchTo(s: DeploymentState, version: number, who: Who): Transition {
  const previous = s.stable !== undefined && s.stable !== version ? [s.stable, ...s.previous.filter((v) => v !== s.stable)].slice(0, PREVIOUS_LIMIT) : s.previous;
  const { canary: _dropped, ab: _split, error: _cleared, shadow, ...rest } = s;
  const event = withReason<DeploymentEvent>({ at: who.at, action: 'deploy', version, actor: who.actor }, who.reason);
  return record(s, { ...rest, ...(shadow !== undefined && shadow !== version ? { shadow } : {}), desired: 'serving', stable: version, previous }, event);
}

export function startCanary(s: DeploymentState, version: number, policy: CanaryPolicy, who: Who): Transition {
  if (s.stable === undefined) throw new MlopsError('CONFLICT', `${s.name} is not serving; deploy it first: mlops deploy ${s.name}`);
  if (version === s.stable) throw new MlopsError('CONFLICT', `v${version} is already the stable version of ${s.name}; a canary needs another version`);
  if (s.canary) {
    throw new MlopsError('CONFLICT', `a canary of v${s.canary.version} is already running on ${s.name}; promote it (mlops deployments promote ${s.name}) or roll it back (mlops rollback ${s.name}) first`);
  }
  if (s.ab) throw new MlopsError('CONFLICT', `an A/B split (${splitText(s.ab)}) is running on ${s.name}; end it first: mlops rollback ${s.name}`);
  if (version === s.shadow) throw new MlopsError('CONFLICT', `v${version} is the shadow of ${s.name}; stop it first (mlops shadow ${s.name} --stop), then start the canary`);
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

/**
 * Drops a running canary, or ends an A/B split (the stable version it started from takes all
 * traffic again); without either, goes back to the previous stable version.
 */
export function rollback(s: DeploymentState, who: Who & { auto?: boolean }): Transition {
  const action = who.auto ? 'auto-rollback' : 'rollback';
  if (s.canary) {
    const { canary, ...rest } = s;
    const event = withReason<DeploymentEvent>({ at: who.at, action, version: s.stable, target: canary.version, actor: who.actor }, who.reason);
    return record(s, rest, event);
  }
  if (s.ab) {
    const { ab, ...rest } = s;
    const event = withReason<DeploymentEvent>({ at: who.at, action, version: s.stable, actor: who.actor }, who.reason ?? `ended the A/B split ${splitText(ab)}`);
    return record(s, rest, event);
  }
  const [back, ...older] = s.previous;
  if (back === undefined || s.stable === undefined) {
    throw new MlopsError('CONFLICT', `${s.name} has no earlier version to roll back to${s.stable !== undefined ? ` (v${s.stable} is the only one it has served)` : ''}`);
  }
  const event = withReason<DeploymentEvent>({ at: who.at, action, version: back, target: s.stable, actor: who.actor }, who.reason);
  return record(s, { ...s, stable: back, previous: older }, event);
}

/**
 * Splits traffic between versions by relative weight (normalised to whole percents). The
 * stable version stays the rollback target whether or not it is part of the split.
 */
export function split(s: DeploymentState, weights: SplitShare[], who: Who): Transition {
  if (s.stable === undefined) throw new MlopsError('CONFLICT', `${s.name} is not serving; deploy it first: mlops deploy ${s.name}`);
  if (s.canary) {
    throw new MlopsError('CONFLICT', `a canary of v${s.canary.version} is running on ${s.name}; promote it (mlops deployments promote ${s.name}) or roll it back (mlops rollback ${s.name}) before splitting traffic`);
  }
  const shares = normaliseSplit(weights);
  if (s.shadow !== undefined && shares.some((x) => x.version === s.shadow)) {
    throw new MlopsError('CONFLICT', `v${s.shadow} is the shadow of ${s.name}; stop it first (mlops shadow ${s.name} --stop), then split traffic to it`);
  }
  const event = withReason<DeploymentEvent>({ at: who.at, action: 'ab', version: s.stable, actor: who.actor }, who.reason ?? splitText(shares));
  return record(s, { ...s, ab: shares }, event);
}

/** Mirrors every request to `version` (undefined: stops mirroring). */
export function shadow(s: DeploymentState, version: number | undefined, who: Who): Transition {
  if (s.stable === undefined) throw new MlopsError('CONFLICT', `${s.name} is not serving; deploy it first: mlops deploy ${s.name}`);
  if (version === undefined) {
    if (s.shadow === undefined) throw new MlopsError('CONFLICT', `${s.name} has no shadow to stop`);
    const { shadow: old, ...rest } = s;
    const event = withReason<DeploymentEvent>({ at: who.at, action: 'shadow', version: s.stable, target: old, actor: who.actor }, who.reason ?? 'stopped mirroring');
    return record(s, rest, event);
  }
  const primary = servedVersions(s).find((v) => v.role !== 'shadow' && v.version === version);
  if (primary) throw new MlopsError('CONFLICT', `v${version} already serves ${s.name} (${primary.role} ${primary.weight}%); a shadow must be a version that takes no traffic`);
  const event = withReason<DeploymentEvent>({ at: who.at, action: 'shadow', version: s.stable, target: version, actor: who.actor }, who.reason ?? `mirroring every request to v${version}`);
  return record(s, { ...s, shadow: version }, event);
}

export function stop(s: DeploymentState, who: Who): Transition {
  const { canary: _dropped, ab: _split, shadow: _mirror, ...rest } = s;
  const event = withReason<DeploymentEvent>({ at: who.at, action: 'undeploy', ...(s.stable !== undefined ? { target: s.stable } : {}), actor: who.actor }, who.reason);
  return record(s, { ...rest, desired: 'stopped' }, event);
}

/** Which versions serve, with role and percent of traffic, for the state (shadow last, weight 0). */
export function servedVersions(s: DeploymentState): Pick<ServedVersion, 'version' | 'role' | 'weight'>[] {
  if (s.stable === undefined) return [];
  const primaries: Pick<ServedVersion, 'version' | 'role' | 'weight'>[] = s.ab
    ? s.ab.map((x) => ({ version: x.version, role: 'ab', weight: x.weight }))
    : s.canary
      ? [{ version: s.stable, role: 'stable', weight: 100 - s.canary.weight }, { version: s.canary.version, role: 'canary', weight: s.canary.weight }]
      : [{ version: s.stable, role: 'stable', weight: 100 }];
  if (s.shadow !== undefined && !primaries.some((p) => p.version === s.shadow)) primaries.push({ version: s.shadow, role: 'shadow', weight: 0 });
  return primaries;
}

/**
 * Relative weights → whole percents summing to 100 (largest remainder), by version. Versions
 * with weight 0 are left out; at least two must remain, each with at least 1 %.
 */
export function normaliseSplit(weights: SplitShare[]): SplitShare[] {
  const seen = new Set<number>();
  for (const w of weights) {
    if (!(typeof w.weight === 'number' && Number.isFinite(w.weight) && w.weight >= 0)) throw new MlopsError('BAD_REQUEST', `the weight of v${w.version} must be a number of 0 or more (got ${String(w.weight)})`);
    if (seen.has(w.version)) throw new MlopsError('BAD_REQUEST', `v${w.version} is named twice in the split`);
    seen.add(w.version);
  }
  const positive = weights.filter((w) => w.weight > 0).sort((a, b) => a.version - b.version);
  if (positive.length < 2) {
    throw new MlopsError('BAD_REQUEST', `an A/B split needs at least two versions with a weight above 0 (got ${weights.map((w) => `v${w.version}=${w.weight}`).join(' ') || 'none'}); to serve one version use mlops deploy NAME VERSION`);
  }
  const total = positive.reduce((a, w) => a + w.weight, 0);
  const exact = positive.map((w) => (w.weight / total) * 100);
  const out = positive.map((w, i) => ({ version: w.version, weight: Math.floor(exact[i]!) }));
  let left = 100 - out.reduce((a, w) => a + w.weight, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left <= 0) break;
    out[i]!.weight++;
    left--;
  }
  const tiny = out.find((w) => w.weight < 1);
  if (tiny) throw new MlopsError('BAD_REQUEST', `the weights give v${tiny.version} less than 1 % of traffic; give it a larger weight or leave it out`);
  return out;
}

/** `v1 50% + v2 50%` */
export function splitText(shares: SplitShare[]): string {
  return shares.map((x) => `v${x.version} ${x.weight}%`).join(' + ');
}

export function checkWeight(w: number): void {
  if (!Number.isInteger(w) || w < 1 || w > 99) throw new MlopsError('BAD_REQUEST', `canary weight ${w} is not a whole percent from 1 to 99`);
}
