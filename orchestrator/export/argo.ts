/**
 * The pipeline as an Argo Workflows `Workflow` (or `WorkflowTemplate`): one container template
 * per step, a DAG template as the entrypoint, params as workflow arguments, outs and deps as
 * artifacts, retries, timeouts and memoization with the local semantics. Kubernetes
 * IntOrString and Quantity fields are written as strings, as Argo's schema types them.
 */
import { formatDuration } from '../pipelines/duration';
import { BACKOFF_FACTOR, datasetKey, LOCAL_BACKOFF_CAP_MS, MISSING_IMAGE, paramEnvName, paramText, type ExportModel, type ExportStep, type Piece } from './model';
import { commandText, containerPath } from './script';

export type ArgoKind = 'Workflow' | 'WorkflowTemplate';

export interface ArgoOptions {
  kind?: ArgoKind;
}

/** Label/annotation keys: the step a template came from, the project a workflow belongs to. */
export const STEP_ANNOTATION = 'mlops-workbench.dev/step';
export const PROJECT_LABEL = 'mlops-workbench.dev/project';
/** Memoized results live in this ConfigMap (Argo creates it on first use). */
export const cacheConfigMap = (m: ExportModel) => `mlops-${dnsName(m.project)}-cache`;
/** Name of the DAG template that is the entrypoint. */
export const ENTRYPOINT = 'pipeline';

type Obj = Record<string, unknown>;

function dnsName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 52) || 'pipeline';
}

function argoValue(pieces: Piece[]): string {
  return pieces.map((p) => ('text' in p ? p.text : 'param' in p ? `{{workflow.parameters.${p.param}}}` : '{{workflow.uid}}')).join('');
}

/** Whole seconds, rounded up: activeDeadlineSeconds takes no fractions. */
export function deadlineSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Argo durations: a plain number is seconds; write `90s`, `5m` as the manifest would. */
function argoDuration(ms: number): string {
  return ms % 1000 === 0 ? formatDuration(ms).replace(/^0s$/, '0') : `${ms / 1000}s`;
}

function s3Location(m: ExportModel, key: string): Obj {
  const repo = m.repository;
  if (!repo) return { key };
  return {
    ...(repo.endpoint ? { endpoint: repo.endpoint } : {}),
    bucket: repo.bucket,
    key,
    ...(repo.endpoint ? { accessKeySecret: { name: 'mlops-s3', key: 'accessKey' }, secretKeySecret: { name: 'mlops-s3', key: 'secretKey' } } : {}),
  };
}

function resources(step: ExportStep): Obj | undefined {
  const { cpu, memory, gpu } = step.resources;
  const req: Obj = {};
  if (cpu) req.cpu = cpu;
  // Kubernetes spells the decimal kilo `k`; the manifest also accepts `K`.
  if (memory) req.memory = memory.replace(/K$/, 'k');
  const limits: Obj = { ...req };
  if (gpu) limits['nvidia.com/gpu'] = String(gpu);
  if (!Object.keys(limits).length) return undefined;
  return { ...(Object.keys(req).length ? { requests: req } : {}), limits };
}

function template(m: ExportModel, step: ExportStep): Obj {
  const env = [
    ...Object.keys(m.params).map((p) => ({ name: paramEnvName(p), value: `{{workflow.parameters.${p}}}` })),
    { name: 'MLOPS_RUN_ID', value: '{{workflow.uid}}' },
    { name: 'MLOPS_STEP', value: step.name },
    ...Object.entries(step.env).map(([name, v]) => ({ name, value: argoValue(v) })),
  ];
  const res = resources(step);
  const t: Obj = {
    name: step.id,
    metadata: { annotations: { [STEP_ANNOTATION]: step.name } },
  };
  const inputs = step.inputs.map((a) =>
    a.from.kind === 'dataset' ? { name: a.name, path: containerPath(a.path), s3: s3Location(m, datasetKey(m, a.from.dataset)) } : { name: a.name, path: containerPath(a.path) },
  );
  if (inputs.length) t.inputs = { artifacts: inputs };
  if (step.outputs.length) {
    t.outputs = {
      artifacts: step.outputs.map((o) => ({
        name: o.name,
        path: containerPath(o.path),
        ...(m.repository ? { s3: s3Location(m, `${m.repository.keyPrefix}{{workflow.name}}/${step.id}/${o.name}.tgz`) } : {}),
      })),
    };
  }
  t.container = {
    image: step.image ?? MISSING_IMAGE,
    command: ['/bin/sh', '-c'],
    args: [commandText(step)],
    workingDir: containerPath(step.wdir),
    env,
    ...(res ? { resources: res } : {}),
  };
  if (step.retry.limit > 0) {
    // Argo's limit counts retries after the first attempt, exactly like `retries`.
    const backoff: Obj = { duration: argoDuration(Math.min(step.retry.backoffMs, LOCAL_BACKOFF_CAP_MS)), factor: String(BACKOFF_FACTOR), cap: argoDuration(LOCAL_BACKOFF_CAP_MS) };
    t.retryStrategy = { limit: String(step.retry.limit), retryPolicy: 'Always', ...(step.retry.backoffMs > 0 ? { backoff } : {}) };
  }
  // Per pod, so per attempt: the local timeout also applies to each attempt.
  if (step.timeoutMs !== undefined) t.activeDeadlineSeconds = String(deadlineSeconds(step.timeoutMs));
  if (step.cacheable) {
    const key = [`${step.id}-${step.fingerprint}`, ...step.keyParams.map((p) => `{{workflow.parameters.${p}}}`)].join('-');
    // The local cache never expires; ten years is Argo's nearest.
    t.memoize = { key, maxAge: '87600h', cache: { configMap: { name: cacheConfigMap(m) } } };
  }
  return t;
}

function dagTask(step: ExportStep, byName: Map<string, ExportStep>): Obj {
  const artifacts = step.inputs.flatMap((a) => (a.from.kind === 'step' ? [{ name: a.name, from: `{{tasks.${byName.get(a.from.step)!.id}.outputs.artifacts.${a.from.artifact}}}` }] : []));
  return {
    name: step.id,
    template: step.id,
    ...(step.dependsOn.length ? { dependencies: step.dependsOn.map((d) => byName.get(d)!.id) } : {}),
    ...(artifacts.length ? { arguments: { artifacts } } : {}),
  };
}

/** The Argo resource as plain data (YAML-ready). */
export function toArgo(m: ExportModel, opts: ArgoOptions = {}): Obj {
  const kind = opts.kind ?? 'Workflow';
  const byName = new Map(m.steps.map((s) => [s.name, s]));
  const name = dnsName(m.project);
  const params = Object.entries(m.params).map(([p, v]) => ({ name: p, value: paramText(v) }));
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind,
    metadata: {
      ...(kind === 'Workflow' ? { generateName: `${name}-` } : { name }),
      labels: { [PROJECT_LABEL]: name },
      ...(m.description ? { annotations: { 'workflows.argoproj.io/description': m.description } } : {}),
    },
    spec: {
      entrypoint: ENTRYPOINT,
      ...(params.length ? { arguments: { parameters: params } } : {}),
      templates: [{ name: ENTRYPOINT, dag: { tasks: m.steps.map((s) => dagTask(s, byName)) } }, ...m.steps.map((s) => template(m, s))],
    },
  };
}
