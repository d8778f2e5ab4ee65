/**
 * Everything a new version needs, gathered before the registry's transaction: the source run
 * (and its pipeline run, for a step), the artifact as the run recorded it (made sure to be in
 * the content-addressed cache), its ONNX signature, metrics, lineage, tags and description.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { Lineage, ModelSignature, ModelVersion } from '../../protocol/registry';
import type { Artifact, RunDetail } from '../../protocol/types';
import type { ObjectCache } from '../pipelines/cache';
import { sha256File } from '../pipelines/hash-files';
import type { Store } from '../store/store';
import { NotOnnxError, onnxSignature } from './onnx-signature';
import type { ModelPolicy } from './policy';
import { checkName } from './refs';

export interface RegisterRequest {
  model: string;
  runId: string;
  /** Workspace-relative path of the artifact; default: the manifest's `models.NAME.artifact`. */
  artifact?: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface PrepareDeps {
  runs: Store;
  cache: ObjectCache;
  workspace: string;
  policy(model: string): ModelPolicy;
}

export interface PreparedVersion {
  model: string;
  /** The manifest's rules, when they could be read. */
  policy?: ModelPolicy;
  /** The version without what the transaction assigns (number, time, author, aliases). */
  fields: Omit<ModelVersion, 'version' | 'createdAt' | 'createdBy' | 'aliases'>;
}

export async function prepareVersion(deps: PrepareDeps, req: RegisterRequest): Promise<PreparedVersion> {
  const model = checkName(req.model, 'model name');
  const run = await deps.runs.getRun(req.runId);
  if (!run) throw new MlopsError('NOT_FOUND', `run ${req.runId} not found`);
  if (run.status !== 'succeeded' && run.status !== 'skipped') {
    throw new MlopsError('CONFLICT', `run ${run.id.slice(0, 8)} (${run.name}) is ${run.status}; register a model from a successful run`);
  }
  const parent = run.parentId ? await deps.runs.getRun(run.parentId) : undefined;
  let policy: ModelPolicy | undefined;
  try {
    policy = deps.policy(model);
  } catch (e) {
    if (req.artifact === undefined) throw e; // the artifact would come from the manifest
  }
  const spec = policy?.spec;
  const artifact = findArtifact(model, run, parent, req.artifact ?? spec?.artifact);
  await ensureCached(deps, artifact);
  const signature = readSignature(deps.cache, artifact, spec?.flavor);
  const source = parent ?? run;
  const gitCommit = run.gitCommit ?? source.gitCommit;
  const gitDirty = run.gitDirty ?? source.gitDirty;
  const manifestHash = run.tags['mlops.manifest.hash'] ?? source.tags['mlops.manifest.hash'];
  const step = run.kind === 'step' ? run.name : spec?.from;
  const lineage: Lineage = {
    datasets: { ...(parent?.datasetHashes ?? {}), ...run.datasetHashes },
    runId: run.id,
    runName: run.name,
    experiment: run.experiment,
    ...(parent ? { pipelineRunId: parent.id } : {}),
    ...(step ? { step } : {}),
    ...(gitCommit ? { gitCommit } : {}),
    ...(gitDirty !== undefined ? { gitDirty } : {}),
    ...(manifestHash ? { manifestHash } : {}),
    params: { ...(parent?.params ?? {}), ...run.params },
  };
  const description = req.description ?? spec?.description;
  return {
    model,
    ...(policy ? { policy } : {}),
    fields: {
      model,
      artifact,
      runId: run.id,
      ...(description ? { description } : {}),
      tags: { ...(spec?.tags ?? {}), ...(req.tags ?? {}) },
      // A step's own metrics win over its pipeline run's (which gathers every step's).
      metrics: { ...(parent?.latestMetrics ?? {}), ...run.latestMetrics },
      ...(signature ? { signature } : {}),
      lineage,
    },
  };
}

function findArtifact(model: string, run: RunDetail, parent: RunDetail | undefined, wanted: string | undefined): Artifact {
  const all = [...run.artifacts, ...(parent?.artifacts ?? [])];
  if (wanted === undefined) {
    if (run.artifacts.length === 1) return run.artifacts[0]!;
    throw new MlopsError('BAD_REQUEST', `which artifact of run ${run.id.slice(0, 8)} is ${model}? Give --artifact PATH (one of: ${all.map((a) => a.path).join(', ') || 'none recorded'}), or declare the model in mlops.yaml`);
  }
  const path = wanted.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  const found = all.find((a) => a.path === path);
  if (!found) {
    throw new MlopsError('NOT_FOUND', `run ${run.id.slice(0, 8)} (${run.name}) recorded no artifact ${path}${all.length ? `; it has: ${[...new Set(all.map((a) => a.path))].join(', ')}` : ''}`);
  }
  return found;
}

/** The artifact must be in the content-addressed cache; saves it from the workspace when the file there is the same. */
async function ensureCached(deps: PrepareDeps, a: Artifact): Promise<void> {
  if (deps.cache.has(a.hash)) return;
  const current = await sha256File(resolve(deps.workspace, a.path)).catch(() => undefined);
  if (current?.hash !== a.hash) {
    throw new MlopsError('CONFLICT', `${a.path} (sha256 ${a.hash.slice(0, 12)}) is not in the cache, and the workspace file ${current ? 'has changed since the run' : 'is missing'}; re-run the step that produces it`);
  }
  await deps.cache.save(a.path, { kind: 'file', hash: a.hash, size: a.size });
}

function readSignature(cache: ObjectCache, a: Artifact, flavor: string | undefined): ModelSignature | undefined {
  if (flavor === 'command' || (flavor === undefined && !a.path.toLowerCase().endsWith('.onnx'))) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(cache.objectPath(a.hash));
  } catch {
    return undefined; // a folder artifact: no single ONNX file to read
  }
  try {
    return onnxSignature(bytes);
  } catch (e) {
    if (e instanceof NotOnnxError) return undefined;
    throw e;
  }
}
