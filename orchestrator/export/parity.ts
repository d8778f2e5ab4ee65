/**
 * Where a local run and the exported workflow would behave differently, said per step. Works
 * on any manifest value (the language server runs it on half-typed documents) and never
 * throws; the CLI runs it on the validated manifest. Per-step results are kept by the step
 * object, which the block parser shares across versions while the step's text is unchanged,
 * so an edit elsewhere costs a map lookup per step.
 */
import { findInterpolations } from '../manifest';
import { isObj, section, stringList, type Obj } from '../manifest/manifest-view';
import type { ValuePath } from '../manifest/parsed-manifest';
import { parseDuration } from '../pipelines/duration';
import { LOCAL_BACKOFF_CAP_MS } from './model';

export type ExportTarget = 'argo' | 'kfp';
export const EXPORT_TARGETS: readonly ExportTarget[] = ['argo', 'kfp'];

export type ParityCode = 'no-image' | 'retries' | 'backoff-cap' | 'no-task-timeout' | 'timeout-rounded' | 'run-id' | 'absolute-path' | 'param-in-path' | 'gpu-without-resources' | 'persist' | 'dataset-source';

export interface ParityWarning {
  /** The step it is about (undefined: the whole export). */
  step?: string;
  /** Where in the manifest, as a value path (the language server shows it on the step's key). */
  path: ValuePath;
  severity: 'warning' | 'info';
  code: ParityCode;
  message: string;
}

export interface ParityOptions {
  /** `--image`: a default image given outside the manifest. */
  image?: string;
}

const KFP_MAX_BACKOFF_MS = 3_600_000;
const TARGET_NAME: Record<ExportTarget, string> = { argo: 'Argo', kfp: 'KFP' };

function durationMs(v: unknown): number | undefined {
  try {
    return typeof v === 'number' || typeof v === 'string' ? parseDuration(v) : undefined;
  } catch {
    return undefined;
  }
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

function retryOf(v: unknown): { limit: number; backoffMs: number; backoffText?: string } | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return { limit: v, backoffMs: 1000 };
  if (isObj(v) && typeof v.limit === 'number' && v.limit > 0) return { limit: v.limit, backoffMs: durationMs(v.backoff) ?? 0, ...(v.backoff !== undefined ? { backoffText: String(v.backoff) } : {}) };
  return undefined;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** Paths a step names (deps, outs, wdir, metrics) with their value paths. */
function stepPaths(step: Obj): { value: string; field: string }[] {
  const out: { value: string; field: string }[] = [];
  for (const d of stringList(step.deps)) out.push({ value: d.value, field: 'deps' });
  if (Array.isArray(step.outs)) {
    for (const o of step.outs) {
      if (typeof o === 'string') out.push({ value: o, field: 'outs' });
      else if (isObj(o) && typeof o.path === 'string') out.push({ value: o.path, field: 'outs' });
    }
  }
  if (typeof step.wdir === 'string') out.push({ value: step.wdir, field: 'wdir' });
  if (typeof step.metrics === 'string') out.push({ value: step.metrics, field: 'metrics' });
  return out;
}

function stepWarnings(name: string, step: Obj, target: ExportTarget, ctx: { defaultImage: boolean; repository: boolean; datasets: Obj }): ParityWarning[] {
  const w: ParityWarning[] = [];
  const at = ['steps', name];
  const add = (severity: ParityWarning['severity'], code: ParityCode, message: string) => w.push({ step: name, path: at, severity, code, message });
  const T = TARGET_NAME[target];

  if (typeof step.image !== 'string' && !ctx.defaultImage) {
    add('warning', 'no-image', `Step "${name}" has no container image and there is no default: set \`image\` on the step, \`export.image\`, or pass --image. The export writes the placeholder "image-not-set", which ${T} cannot pull.`);
  }

  const retry = retryOf(step.retries);
  if (retry) {
    const attempts = plural(retry.limit + 1, 'attempt');
    const field = target === 'argo' ? `retryStrategy.limit "${retry.limit}"` : `retryPolicy.maxRetryCount ${retry.limit}`;
    add('info', 'retries', `retries: ${retry.limit} is exported as ${field}: ${T} counts retries after the first attempt, as local runs do (${attempts} in all); pauses double from ${retry.backoffMs ? `${retry.backoffMs / 1000}s` : '0s'} up to 5 min, as locally.`);
    if (retry.backoffMs > KFP_MAX_BACKOFF_MS && target === 'kfp') {
      add('warning', 'backoff-cap', `backoff ${retry.backoffText} is longer than KFP allows (1 h at most); local runs cap each pause at 5 min, and the export writes that cap (backoffDuration 300s), so the written backoff is never waited for.`);
    } else if (retry.backoffMs > LOCAL_BACKOFF_CAP_MS) {
      add('info', 'backoff-cap', `backoff ${retry.backoffText} is capped at 5 min per pause locally; the export keeps the cap (${target === 'argo' ? 'backoff.cap 5m' : 'backoffMaxDuration 300s'}).`);
    }
  }

  const timeoutMs = durationMs(step.timeout);
  if (timeoutMs !== undefined) {
    if (target === 'kfp') {
      add('info', 'no-task-timeout', `KFP v2 tasks have no timeout: the export enforces timeout ${String(step.timeout)} by running the command under \`timeout\` (SIGTERM, then SIGKILL 5 s later, as locally); the image needs coreutils or busybox \`timeout\`.`);
    } else if (timeoutMs % 1000 !== 0) {
      add('info', 'timeout-rounded', `Argo's activeDeadlineSeconds takes whole seconds: timeout ${String(step.timeout)} is exported as ${Math.max(1, Math.ceil(timeoutMs / 1000))}s.`);
    }
  }

  const texts = [...strings(step.cmd), ...(isObj(step.env) ? Object.values(step.env).filter((v): v is string => typeof v === 'string') : [])];
  if (texts.some((t) => findInterpolations(t).some((r) => r.expr === 'run.id'))) {
    add('info', 'run-id', `\${run.id} becomes ${target === 'argo' ? 'the workflow uid ({{workflow.uid}})' : 'the pipeline job uuid ({{$.pipeline_job_uuid}})'}: no MLOps run is recorded in ${T}, and the local tracking server (MLOPS_TRACKING_URI) is not reachable from the cluster.`);
  }

  for (const p of stepPaths(step)) {
    if (/^(\/|~|[A-Za-z]:[\\/])/.test(p.value)) {
      add('warning', 'absolute-path', `${p.field} "${p.value}" is an absolute path on this machine: the container does not have it. Only paths under the manifest folder travel (as artifacts, or in the image at /workspace).`);
    }
    const param = findInterpolations(p.value).find((r) => r.expr.startsWith('params.'));
    if (param) {
      add('warning', 'param-in-path', `${p.field} "${p.value}" uses \${${param.expr}}: the export fixes the path with the param's default, so overriding the param in ${T} changes the command but not where the artifact is read or written.`);
    }
  }
  if (Array.isArray(step.outs) && step.outs.some((o) => isObj(o) && o.persist === true)) {
    add('warning', 'persist', `An output with persist: true is kept in place between local runs; in ${T} every attempt starts in a fresh container, so it starts empty.`);
  }

  const res = isObj(step.resources) ? step.resources : undefined;
  if (res && typeof res.gpu === 'number' && res.gpu > 0 && res.cpu === undefined && res.memory === undefined) {
    add('warning', 'gpu-without-resources', `gpu: ${res.gpu} without cpu or memory: the pod requests ${target === 'argo' ? 'nvidia.com/gpu' : 'an accelerator'} but no CPU or memory, so on a shared GPU node it may be starved or evicted first. Set resources.cpu and resources.memory.`);
  }

  const deps = stringList(step.deps).map((d) => d.value);
  for (const [ds, d] of Object.entries(ctx.datasets)) {
    if (!isObj(d) || typeof d.path !== 'string') continue;
    const expr = `\${datasets.${ds}.path}`;
    if (!deps.some((x) => x === d.path || x.replace(/\s/g, '') === expr)) continue;
    if (target === 'kfp' && !ctx.repository) add('info', 'dataset-source', `Dataset "${ds}" (${d.path}) is not imported: with no export.artifact_repository KFP has nowhere to fetch it from, so it must be in the image under /workspace.`);
    if (target === 'argo' && !ctx.repository) add('info', 'dataset-source', `Dataset "${ds}" is read from the cluster's default artifact repository at key datasets/${d.path}: upload it there, or set export.artifact_repository.`);
  }
  return w;
}

/** Results per step object: unchanged steps (same object from the block parser) are not re-checked. */
const memo = new WeakMap<object, { key: string; warnings: ParityWarning[] }>();

/** Every parity warning of a manifest for one target, steps in manifest order. */
export function parityWarnings(root: unknown, target: ExportTarget, opts: ParityOptions = {}): ParityWarning[] {
  const exp = section(root, 'export');
  const ctx = {
    defaultImage: Boolean(opts.image) || (typeof exp.image === 'string' && exp.image.length > 0),
    repository: isObj(exp.artifact_repository),
    datasets: section(root, 'datasets'),
  };
  // Dataset paths feed the step checks: a change there must not hit stale entries.
  const key = `${target}|${ctx.defaultImage}|${ctx.repository}|${JSON.stringify(ctx.datasets, (k, v) => (k === 'expect' || k === 'schema' ? undefined : v))}`;
  const out: ParityWarning[] = [];
  for (const [name, step] of Object.entries(section(root, 'steps'))) {
    if (!isObj(step)) continue;
    const known = memo.get(step);
    if (known && known.key === `${name}|${key}`) {
      out.push(...known.warnings);
      continue;
    }
    const warnings = stepWarnings(name, step, target, ctx);
    memo.set(step, { key: `${name}|${key}`, warnings });
    out.push(...warnings);
  }
  return out;
}

/** The manifest's `export.target`, when it names a known target. */
export function exportTargetOf(root: unknown): ExportTarget | undefined {
  const t = section(root, 'export').target;
  return typeof t === 'string' && (EXPORT_TARGETS as readonly string[]).includes(t) ? (t as ExportTarget) : undefined;
}
