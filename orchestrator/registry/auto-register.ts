/**
 * `register: auto` in the manifest: when a pipeline run succeeds and the step a model comes
 * `from` actually ran in it (not skipped: a cached step produced nothing new), a new version
 * is registered from that run, attributed to whoever started the run.
 */
import type { PipelineEvent } from '../../protocol/pipeline';
import type { Caller, ModelVersion } from '../../protocol/registry';
import { loadManifest } from '../pipelines/load';
import type { Store } from '../store/store';
import type { ModelRegistry } from './registry';
import { OWNER } from './roles';

export interface AutoRegisterDeps {
  registry: ModelRegistry;
  runs: Store;
  workspace: string;
  /** Told about each version registered (the daemon announces `models-changed`) or each failure. */
  onRegistered(v: ModelVersion): void;
  onError(model: string, err: unknown): void;
}

/** A runner listener: call it with every pipeline event. */
export function autoRegisterOn(deps: AutoRegisterDeps): (e: PipelineEvent) => void {
  return (e) => {
    if (e.type !== 'run-finished' || e.status !== 'succeeded') return;
    void registerFrom(deps, e.runId);
  };
}

export async function registerFrom(deps: AutoRegisterDeps, runId: string): Promise<ModelVersion[]> {
  let models;
  try {
    models = Object.entries(loadManifest(deps.workspace).manifest.models ?? {}).filter(([, m]) => m.register === 'auto');
  } catch {
    return []; // an invalid manifest could not have run
  }
  if (models.length === 0) return [];
  const run = await deps.runs.getRun(runId);
  if (!run) return [];
  const ran = new Set(run.children.filter((c) => c.status === 'succeeded').map((c) => c.name));
  const out: ModelVersion[] = [];
  // The run's actor, when it is a named token (runs started with the workspace token carry the OS user: the owner).
  const actor = run.tags['mlops.actor'];
  const token = actor ? (await deps.registry.listTokens()).find((t) => t.name === actor && t.revokedAt === undefined) : undefined;
  const caller: Caller = token ? { name: token.name, role: token.role } : OWNER;
  for (const [name, spec] of models) {
    if (!ran.has(spec.from)) continue;
    try {
      const v = await deps.registry.register(caller, { model: name, runId });
      out.push(v);
      deps.onRegistered(v);
    } catch (err) {
      deps.onError(name, err);
    }
  }
  return out;
}
