/**
 * The target-neutral picture of a pipeline that both exporters (Argo, KFP) render: each step
 * with its command template, inputs (artifacts from upstream steps, datasets, code in the
 * image), outputs, resources, retries and timeout, and who it depends on. Built from the same
 * `buildPipeline` the local runner uses, so the DAG, the resolved paths and the retry/timeout
 * numbers are the local ones by construction.
 */
import { createHash } from 'node:crypto';
import type { Manifest, ParamValue, Resources } from '../../protocol/manifest';
import { findInterpolations, resolveInterpolation } from '../manifest';
import { normalizePath } from '../manifest/manifest-view';
import type { LoadedManifest } from '../pipelines/load';
import { paramEnvName, paramText } from '../pipelines/params';
import { buildPipeline } from '../pipelines/pipeline';
import { interpolate, scopeOf, shellQuote } from '../pipelines/step-spec';

/** Folder the project sits in inside the container: the manifest folder of a local run. */
export const WORKDIR = '/workspace';
/** Written when no image is known; the parity lint says so (a pod with it fails with InvalidImageName). */
export const MISSING_IMAGE = 'image-not-set';
/** The local runner caps every retry pause at 5 min (exec-step.ts); the export keeps that cap. */
export const LOCAL_BACKOFF_CAP_MS = 5 * 60_000;
/** Local retries back off exponentially (×2 per attempt). */
export const BACKOFF_FACTOR = 2;

export interface ArtifactIn {
  /** Artifact name, unique within the step. */
  name: string;
  /** Path relative to the manifest folder where the command expects it. */
  path: string;
  from: { kind: 'step'; step: string; artifact: string } | { kind: 'dataset'; dataset: string };
}

export interface ArtifactOut {
  name: string;
  path: string;
}

/** A piece of a command or env value: literal text, or a reference the target fills in. */
export type Piece = { text: string } | { param: string } | { runId: true };

export interface ExportStep {
  name: string;
  /** Safe id for the target (`[a-z0-9-]`, unique): Argo template/task names, KFP task and component keys. */
  id: string;
  description?: string;
  /** The shell script, as pieces: `${params.x}` → a param reference (passed as `$MLOPS_PARAM_X`), paths resolved. */
  script: Piece[][];
  /** Working folder relative to the manifest folder ('' = the manifest folder). */
  wdir: string;
  /** Env values as pieces (a param or `${run.id}` inside stays a reference). */
  env: Record<string, Piece[]>;
  image: string | undefined;
  resources: { cpu?: string; memory?: string; gpu?: number };
  /** Retries after the first attempt, as the local runner counts them. */
  retry: { limit: number; backoffMs: number };
  timeoutMs?: number;
  cacheable: boolean;
  /** Steps this one runs after: declared `needs` plus producers of its deps (as the local run infers them). */
  dependsOn: string[];
  inputs: ArtifactIn[];
  outputs: ArtifactOut[];
  /** Params the step's result depends on (its own and its upstream steps'): the cache key of a memoized step. */
  keyParams: string[];
  /** Hash of the command templates of the step and everything upstream: part of the cache key. */
  fingerprint: string;
}

export interface ExportModel {
  project: string;
  description?: string;
  /** Param defaults, by name (workflow arguments). */
  params: Record<string, ParamValue>;
  /** Steps upstream first. */
  steps: ExportStep[];
  datasets: Record<string, string>;
  repository?: { endpoint?: string; bucket: string; keyPrefix: string };
}

export interface ModelOptions {
  /** Image for steps without one (overrides `export.image`). */
  image?: string;
}

/** A DNS-label-like id: Argo template names and KFP keys accept it. */
export function safeId(name: string, taken: Set<string>): string {
  let base = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'step';
  if (!/^[a-z]/.test(base)) base = `s-${base}`;
  let id = base.slice(0, 60);
  for (let i = 2; taken.has(id); i++) id = `${base.slice(0, 56)}-${i}`;
  taken.add(id);
  return id;
}

/** `1` → "1", `0.5` → "500m", "500m" stays: the Kubernetes quantity for cores. */
export function cpuQuantity(cpu: number | string): string {
  if (typeof cpu === 'string') return cpu;
  return Number.isInteger(cpu) ? String(cpu) : `${Math.round(cpu * 1000)}m`;
}

function resourcesOf(r: Resources | undefined): ExportStep['resources'] {
  const out: ExportStep['resources'] = {};
  if (r?.cpu !== undefined) out.cpu = cpuQuantity(r.cpu);
  if (r?.memory !== undefined) out.memory = r.memory;
  if (r?.gpu) out.gpu = r.gpu;
  return out;
}

/**
 * Splits a manifest string into pieces: params and `${run.id}` stay references, datasets and
 * step outputs become their (normalised) paths. `quote` shell-quotes the paths (command text).
 */
export function piecesOf(s: string, manifest: Manifest, quote: boolean): Piece[] {
  const scope = scopeOf(manifest, manifest.params ?? {});
  const pieces: Piece[] = [];
  let last = 0;
  for (const ref of findInterpolations(s)) {
    if (ref.index > last) pieces.push({ text: s.slice(last, ref.index) });
    last = ref.index + ref.length;
    if (ref.expr.startsWith('params.')) pieces.push({ param: ref.expr.slice('params.'.length) });
    else if (ref.expr === 'run.id') pieces.push({ runId: true });
    else {
      const r = resolveInterpolation(ref.expr, scope);
      if (!r.ok || r.value === undefined) throw new Error(`cannot resolve \${${ref.expr}}: ${r.ok ? 'no value' : r.message}`);
      const path = normalizePath(interpolate(r.value, scope));
      pieces.push({ text: quote ? shellQuote(path) : path });
    }
  }
  if (last < s.length) pieces.push({ text: s.slice(last) });
  return pieces;
}

/** Pieces as shell text: a param is `"$MLOPS_PARAM_X"`, the run id `"$MLOPS_RUN_ID"`. */
export function shellText(pieces: Piece[]): string {
  return pieces.map((p) => ('text' in p ? p.text : 'param' in p ? `"$${paramEnvName(p.param)}"` : '"$MLOPS_RUN_ID"')).join('');
}

export function loadedFromManifest(manifest: Manifest, text = ''): LoadedManifest {
  return { root: '.', file: 'mlops.yaml', text, hash: '', manifest, params: manifest.params ?? {} };
}

/** The export model of a valid manifest. */
export function buildExportModel(manifest: Manifest, opts: ModelOptions = {}): ExportModel {
  const pipeline = buildPipeline(loadedFromManifest(manifest));
  const datasets = Object.fromEntries(Object.entries(manifest.datasets ?? {}).map(([k, d]) => [k, normalizePath(d.path)]));
  // `pipeline` is the Argo entrypoint (the DAG template): no step may take its name.
  const taken = new Set<string>(['pipeline']);
  const ids = new Map(pipeline.order.map((n) => [n, safeId(n, taken)]));
  const outNames = new Map<string, Map<string, string>>();
  for (const name of pipeline.order) {
    const used = new Set<string>();
    outNames.set(name, new Map(pipeline.specs.get(name)!.outs.map((o) => [o.path, safeId(o.path, used)])));
  }
  const steps: ExportStep[] = [];
  const byName = new Map<string, ExportStep>();
  for (const name of pipeline.order) {
    const spec = pipeline.specs.get(name)!;
    const step = manifest.steps![name]!;
    const inputs: ArtifactIn[] = [];
    const usedIn = new Set<string>();
    const seen = new Set<string>();
    for (const dep of spec.deps) {
      const prod = pipeline.producerOf(dep);
      if (prod && prod.step !== name) {
        const key = `step:${prod.step}:${prod.out.path}`;
        if (seen.has(key)) continue;
        seen.add(key);
        inputs.push({ name: safeId(`${prod.step}-${prod.out.path}`, usedIn), path: prod.out.path, from: { kind: 'step', step: prod.step, artifact: outNames.get(prod.step)!.get(prod.out.path)! } });
        continue;
      }
      const ds = Object.entries(datasets).find(([, p]) => p === dep || p.startsWith(`${dep}/`) || dep.startsWith(`${p}/`));
      if (ds && !seen.has(`dataset:${ds[0]}`)) {
        seen.add(`dataset:${ds[0]}`);
        inputs.push({ name: safeId(`dataset-${ds[0]}`, usedIn), path: ds[1], from: { kind: 'dataset', dataset: ds[0] } });
      }
      // Anything else (code, configs) is expected in the image under WORKDIR.
    }
    const dependsOn = [...new Set(pipeline.needs.get(name) ?? [])].filter((d) => d !== name);
    const keyParams = new Set(Object.keys(spec.params));
    const hash = createHash('sha256').update(spec.cmdTemplate);
    // Upstream steps come first, so their key params already include theirs: the closure.
    for (const u of dependsOn) {
      const us = byName.get(u);
      if (!us) continue;
      for (const p of us.keyParams) keyParams.add(p);
      hash.update(`\0${us.fingerprint}`);
    }
    const cmds = Array.isArray(step.cmd) ? step.cmd : [step.cmd];
    const exportStep: ExportStep = {
      name,
      id: ids.get(name)!,
      ...(step.description ? { description: step.description } : {}),
      script: cmds.map((c) => piecesOf(c, manifest, true)),
      wdir: spec.wdir,
      env: Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, piecesOf(String(v), manifest, false)])),
      image: step.image ?? opts.image ?? manifest.export?.image,
      resources: resourcesOf(step.resources),
      retry: spec.retry,
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      cacheable: spec.cacheable,
      dependsOn,
      inputs,
      outputs: spec.outs.map((o) => ({ name: outNames.get(name)!.get(o.path)!, path: o.path })),
      keyParams: [...keyParams].sort(),
      fingerprint: hash.digest('hex').slice(0, 12),
    };
    steps.push(exportStep);
    byName.set(name, exportStep);
  }
  const s3 = manifest.export?.artifact_repository?.s3;
  return {
    project: manifest.project,
    ...(manifest.description ? { description: manifest.description } : {}),
    params: manifest.params ?? {},
    steps,
    datasets,
    ...(s3 ? { repository: { ...(s3.endpoint ? { endpoint: s3.endpoint } : {}), bucket: s3.bucket, keyPrefix: s3.key_prefix ?? '' } } : {}),
  };
}

/** Param value as the target's text argument (lists as `a,b`, the way `${params.x}` prints them locally). */
export { paramText, paramEnvName };

/** Object key of a dataset in the artifact repository. */
export function datasetKey(model: ExportModel, dataset: string): string {
  return `${model.repository?.keyPrefix ?? ''}datasets/${model.datasets[dataset]}`;
}
