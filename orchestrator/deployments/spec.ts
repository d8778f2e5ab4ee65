/**
 * A deployment as the manifest declares it (`deployments:` and the served model's `models:`
 * entry), normalised once: which model and alias or version it serves, port, auth, rollout
 * strategy, canary policy, A/B weights and shadow model. Pure: no registry, no processes.
 */
import { MlopsError } from '../../protocol/errors';
import type { CanaryRollout, Deployment, Manifest } from '../../protocol/manifest';
import type { CanaryPolicy, RolloutStrategy, ServingFlavor } from '../../protocol/serving';
import { parseModelRef } from '../registry/refs';

export const DEFAULT_ALIAS = 'production';
/** Canary share when the manifest gives no `rollout.canary` and the operator no `--weight`. */
export const DEFAULT_CANARY_WEIGHT = 10;

export interface DeploymentSpec {
  name: string;
  /** `model:` as written. */
  modelRef: string;
  model: string;
  /** The alias the deployment follows (a plain name or `NAME@ALIAS`); absent when a version is pinned. */
  alias?: string;
  /** `models:/NAME/VERSION`: always this version unless the operator deploys another. */
  pinnedVersion?: number;
  port?: number;
  auth: 'token' | 'none';
  threads?: number;
  strategy: RolloutStrategy;
  /** The manifest's canary policy (present whatever the strategy; used by `mlops canary`). */
  canary: CanaryPolicy;
  /** `rollout.ab.weights` as written: relative weight by version number ("3") or alias. */
  ab?: Record<string, number>;
  /** `rollout.shadow.model` as written (resolved when the deployment starts). */
  shadow?: string;
  sticky?: string;
}

/** How the versions of one model are served (manifest `models.NAME.flavor/command`). */
export interface ModelServing {
  flavor: ServingFlavor;
  command?: string;
}

export function deploymentSpecs(manifest: Manifest): Map<string, DeploymentSpec> {
  const out = new Map<string, DeploymentSpec>();
  for (const [name, d] of Object.entries(manifest.deployments ?? {})) out.set(name, deploymentSpec(name, d));
  return out;
}

export function deploymentSpec(name: string, d: Deployment): DeploymentSpec {
  const ref = parseModelRef(d.model);
  const spec: DeploymentSpec = {
    name,
    modelRef: d.model,
    model: ref.model,
    auth: d.auth ?? 'token',
    strategy: d.rollout?.strategy ?? (d.rollout?.canary ? 'canary' : d.rollout?.ab ? 'ab' : d.rollout?.shadow ? 'shadow' : 'direct'),
    canary: canaryPolicy(d.rollout?.canary),
  };
  if ('version' in ref) spec.pinnedVersion = ref.version;
  else if ('alias' in ref) spec.alias = ref.alias;
  // A plain name follows `alias:` (default production), as KServe's InferenceService follows a tag.
  else spec.alias = d.alias ?? DEFAULT_ALIAS;
  if (d.port !== undefined) spec.port = d.port;
  if (d.threads !== undefined) spec.threads = d.threads;
  if (d.rollout?.sticky !== undefined) spec.sticky = d.rollout.sticky;
  if (d.rollout?.ab?.weights) spec.ab = { ...d.rollout.ab.weights };
  if (d.rollout?.shadow?.model) spec.shadow = d.rollout.shadow.model;
  return spec;
}

export function canaryPolicy(c: CanaryRollout | undefined): CanaryPolicy {
  const p: CanaryPolicy = { weight: c?.weight ?? DEFAULT_CANARY_WEIGHT };
  if (c?.promote_after?.requests !== undefined) p.promoteAfterRequests = c.promote_after.requests;
  if (c?.promote_after?.minutes !== undefined) p.promoteAfterMinutes = c.promote_after.minutes;
  if (c?.rollback_if?.error_rate !== undefined) p.rollbackErrorRate = c.rollback_if.error_rate;
  if (c?.rollback_if?.p99_ms !== undefined) p.rollbackP99Ms = c.rollback_if.p99_ms;
  return p;
}

export function modelServing(manifest: Manifest, model: string): ModelServing {
  const m = manifest.models?.[model];
  const flavor = m?.flavor ?? 'onnx';
  if (flavor === 'command' && !m?.command) {
    throw new MlopsError('INVALID_MANIFEST', `models.${model} has flavor command but no command: give the command that answers JSON lines`);
  }
  return flavor === 'command' ? { flavor, command: m!.command! } : { flavor };
}

/** The NOT_FOUND for a name the manifest does not declare, naming the ones it does. */
export function unknownDeployment(name: string, known: Iterable<string>): MlopsError {
  const names = [...known].sort();
  return new MlopsError(
    'NOT_FOUND',
    `no deployment "${name}" in mlops.yaml${names.length ? ` (it declares: ${names.join(', ')})` : ' (it declares none: add one under deployments:)'}`,
    { known: names },
  );
}
