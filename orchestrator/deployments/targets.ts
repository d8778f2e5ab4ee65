/**
 * How operators and the manifest name the versions an A/B split or a shadow uses: a version
 * number (`3`, `v3`) or an alias of the deployed model (`production`), or for a shadow a
 * whole model reference (`models:/NAME/3`, `NAME@staging`) of that same model. Pure parsing;
 * the manager resolves aliases through the registry.
 */
import { MlopsError } from '../../protocol/errors';
import { checkName, parseModelRef } from '../registry/refs';

export type VersionTarget = { version: number } | { alias: string };

/** A key of `rollout.ab.weights` or of `mlops ab NAME KEY=WEIGHT`. */
export function parseTarget(key: string, model: string): VersionTarget {
  const k = key.trim();
  if (/^v?[1-9]\d{0,8}$/.test(k)) return { version: Number(k.replace(/^v/, '')) };
  try {
    return { alias: checkName(k, 'alias') };
  } catch {
    throw new MlopsError('BAD_REQUEST', `"${key}" is neither a version number (3 or v3) nor an alias of ${model}`);
  }
}

/** `rollout.shadow.model`: a reference to a version of the deployed model. */
export function parseShadowRef(raw: string, model: string, deployment: string): VersionTarget {
  const ref = parseModelRef(raw);
  if (ref.model !== model) {
    throw new MlopsError('BAD_REQUEST', `deployments.${deployment}.rollout.shadow.model is ${raw}, a version of ${ref.model}; a shadow must be a version of the model the deployment serves (${model}), e.g. models:/${model}@staging`);
  }
  if ('version' in ref) return { version: ref.version };
  if ('alias' in ref) return { alias: ref.alias };
  throw new MlopsError('BAD_REQUEST', `deployments.${deployment}.rollout.shadow.model is ${raw}, which names no version: write models:/${model}/VERSION or ${model}@ALIAS`);
}

export function targetText(t: VersionTarget, model: string): string {
  return 'version' in t ? `v${t.version}` : `${model}@${t.alias}`;
}
