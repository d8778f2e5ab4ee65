/**
 * Turns what a deployment names (a pinned version, the alias it follows, a split key or a
 * shadow reference) into registered model versions, with error messages that say how to fix
 * the reference. Versions are immutable once registered, so they are cached; aliases move,
 * so they are asked of the registry every time.
 */
import { MlopsError } from '../../protocol/errors';
import type { ModelVersion } from '../../protocol/registry';
import type { ModelRegistry } from '../registry/registry';
import type { DeploymentSpec } from './spec';
import type { SplitShare } from './state';
import { parseTarget, type VersionTarget } from './targets';

export class VersionResolver {
  private readonly cache = new Map<string, ModelVersion>();

  constructor(private readonly registry: ModelRegistry) {}

  /** What `spec` serves when deployed as declared: its pinned version or its alias's. */
  async served(spec: DeploymentSpec): Promise<ModelVersion> {
    if (spec.pinnedVersion !== undefined) return this.version(spec.model, spec.pinnedVersion);
    try {
      return await this.registry.resolve({ model: spec.model, alias: spec.alias! });
    } catch (err) {
      if (err instanceof MlopsError && err.code === 'NOT_FOUND') {
        throw new MlopsError('NOT_FOUND', `${spec.name} serves ${spec.model}@${spec.alias}: ${err.message}; set the alias (mlops models alias ${spec.model}@${spec.alias} VERSION) or deploy a version: mlops deploy ${spec.name} --version N`);
      }
      throw err;
    }
  }

  /** The version a split key or shadow names: a number, or what an alias points at now. */
  async target(spec: DeploymentSpec, t: VersionTarget): Promise<ModelVersion> {
    if ('version' in t) return this.version(spec.model, t.version);
    try {
      return await this.registry.resolve({ model: spec.model, alias: t.alias });
    } catch (err) {
      if (err instanceof MlopsError && err.code === 'NOT_FOUND') {
        throw new MlopsError('NOT_FOUND', `${spec.model}@${t.alias} is not set, so ${spec.name} cannot serve it: ${err.message}`);
      }
      throw err;
    }
  }

  /** Split keys (versions or aliases) → versions with their relative weights; two keys naming one version are refused. */
  async split(spec: DeploymentSpec, weights: Record<string, number>): Promise<SplitShare[]> {
    const out: SplitShare[] = [];
    const keyOf = new Map<number, string>();
    for (const [key, weight] of Object.entries(weights)) {
      const v = (await this.target(spec, parseTarget(key, spec.model))).version;
      const other = keyOf.get(v);
      if (other !== undefined) throw new MlopsError('BAD_REQUEST', `"${other}" and "${key}" both name v${v} of ${spec.model}; give each version once`);
      keyOf.set(v, key);
      out.push({ version: v, weight });
    }
    return out;
  }

  /** A registered version (immutable, so cached); NOT_FOUND names the model's versions. */
  async version(model: string, version: number): Promise<ModelVersion> {
    const key = `${model}/${version}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    try {
      const v = await this.registry.resolve({ model, version });
      this.cache.set(key, v);
      return v;
    } catch (err) {
      if (err instanceof MlopsError && err.code === 'NOT_FOUND') {
        const known = await this.registry.listVersions(model).then((vs) => vs.map((x) => `v${x.version}`).reverse(), () => []);
        throw new MlopsError('NOT_FOUND', `${model} has no version ${version} in the registry${known.length ? ` (it has ${known.join(', ')})` : ''}`);
      }
      throw err;
    }
  }
}
