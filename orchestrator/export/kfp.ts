/**
 * The pipeline as a Kubeflow Pipelines v2 pipeline spec (the IR YAML `kfp` compiles to and the
 * KFP API accepts): pipelineInfo, root inputs (the params) and DAG (tasks with componentRef,
 * dependentTasks, cachingOptions, retryPolicy), components, and deploymentSpec executors with
 * image, command, args and resources. Datasets come in through importer tasks when an artifact
 * repository is configured.
 */
import type { ParamValue } from '../../protocol/manifest';
import { KILL_GRACE_MS } from '../pipelines/exec-step';
import { shellQuote } from '../pipelines/step-spec';
import { BACKOFF_FACTOR, datasetKey, LOCAL_BACKOFF_CAP_MS, MISSING_IMAGE, paramText, safeId, type ExportModel, type ExportStep } from './model';
import { commandText, kfpScript } from './script';

type Obj = Record<string, unknown>;

export const KFP_SCHEMA_VERSION = '2.1.0';
const ARTIFACT_TYPE = { schemaTitle: 'system.Artifact', schemaVersion: '0.0.1' };
const DATASET_TYPE = { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' };

/** Lists are passed as `a,b`, the text `${params.x}` gives locally, so they travel as STRING. */
function paramType(v: ParamValue): string {
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'number') return Number.isInteger(v) ? 'NUMBER_INTEGER' : 'NUMBER_DOUBLE';
  return 'STRING';
}

function defaultValue(v: ParamValue): unknown {
  return Array.isArray(v) ? paramText(v) : v;
}

/** Protobuf Duration JSON: seconds with an `s`. */
function pbDuration(ms: number): string {
  return `${ms / 1000}s`;
}

function resources(step: ExportStep): Obj | undefined {
  const { cpu, memory, gpu } = step.resources;
  const r: Obj = {};
  if (cpu) Object.assign(r, { resourceCpuRequest: cpu, resourceCpuLimit: cpu });
  if (memory) {
    const m = memory.replace(/K$/, 'k');
    Object.assign(r, { resourceMemoryRequest: m, resourceMemoryLimit: m });
  }
  if (gpu) r.accelerator = { resourceType: 'nvidia.com/gpu', resourceCount: String(gpu) };
  return Object.keys(r).length ? r : undefined;
}

/** The script, with the local timeout enforced by `timeout` (KFP v2 tasks have none of their own). */
function script(step: ExportStep, params: string[]): string {
  const s = kfpScript(step, params);
  if (step.timeoutMs === undefined) return s;
  const run = commandText(step);
  const secs = Math.max(1, Math.ceil(step.timeoutMs / 1000));
  // SIGTERM first, SIGKILL after the same grace the local runner gives.
  return s.replace(run, `timeout -s TERM -k ${KILL_GRACE_MS / 1000} ${secs} /bin/sh -c ${shellQuote(run)}`);
}

export function toKfp(m: ExportModel): Obj {
  const params = Object.keys(m.params);
  const byName = new Map(m.steps.map((s) => [s.name, s]));
  const tasks: Obj = {};
  const components: Obj = {};
  const executors: Obj = {};
  const paramDefs = Object.fromEntries(params.map((p) => [p, { parameterType: paramType(m.params[p]!) }]));
  const importers = new Map<string, string>();
  const taken = new Set(m.steps.map((s) => s.id));
  const importerFor = (dataset: string): string => {
    const known = importers.get(dataset);
    if (known) return known;
    const id = safeId(`importer-${dataset}`, taken);
    importers.set(dataset, id);
    tasks[id] = {
      taskInfo: { name: id },
      componentRef: { name: `comp-${id}` },
      inputs: { parameters: { uri: { runtimeValue: { constant: `s3://${m.repository!.bucket}/${datasetKey(m, dataset)}` } } } },
    };
    components[`comp-${id}`] = {
      executorLabel: `exec-${id}`,
      inputDefinitions: { parameters: { uri: { parameterType: 'STRING' } } },
      outputDefinitions: { artifacts: { artifact: { artifactType: DATASET_TYPE } } },
    };
    executors[`exec-${id}`] = { importer: { artifactUri: { runtimeParameter: 'uri' }, typeSchema: DATASET_TYPE } };
    return id;
  };

  for (const step of m.steps) {
    // Without a repository a dataset cannot be fetched: it has to be in the image (the lint says so).
    const inputs = step.inputs.filter((a) => a.from.kind === 'step' || m.repository);
    const shown = { ...step, inputs };
    const inArtifacts: Obj = {};
    const taskArtifacts: Obj = {};
    const dependent = new Set(step.dependsOn.map((d) => byName.get(d)!.id));
    for (const a of inputs) {
      inArtifacts[a.name] = { artifactType: a.from.kind === 'dataset' ? DATASET_TYPE : ARTIFACT_TYPE };
      if (a.from.kind === 'step') taskArtifacts[a.name] = { taskOutputArtifact: { producerTask: byName.get(a.from.step)!.id, outputArtifactKey: a.from.artifact } };
      else {
        const imp = importerFor(a.from.dataset);
        dependent.add(imp);
        taskArtifacts[a.name] = { taskOutputArtifact: { producerTask: imp, outputArtifactKey: 'artifact' } };
      }
    }
    const task: Obj = {
      taskInfo: { name: step.id },
      componentRef: { name: `comp-${step.id}` },
      ...(dependent.size ? { dependentTasks: [...dependent] } : {}),
      cachingOptions: { enableCache: step.cacheable },
      inputs: {
        ...(params.length ? { parameters: Object.fromEntries(params.map((p) => [p, { componentInputParameter: p }])) } : {}),
        ...(Object.keys(taskArtifacts).length ? { artifacts: taskArtifacts } : {}),
      },
    };
    if (step.retry.limit > 0) {
      // maxRetryCount, like `retries`, counts the retries after the first attempt.
      task.retryPolicy = {
        maxRetryCount: step.retry.limit,
        backoffDuration: pbDuration(Math.min(step.retry.backoffMs, LOCAL_BACKOFF_CAP_MS)),
        backoffFactor: BACKOFF_FACTOR,
        backoffMaxDuration: pbDuration(LOCAL_BACKOFF_CAP_MS),
      };
    }
    tasks[step.id] = task;
    components[`comp-${step.id}`] = {
      executorLabel: `exec-${step.id}`,
      inputDefinitions: {
        ...(params.length ? { parameters: paramDefs } : {}),
        ...(Object.keys(inArtifacts).length ? { artifacts: inArtifacts } : {}),
      },
      ...(step.outputs.length ? { outputDefinitions: { artifacts: Object.fromEntries(step.outputs.map((o) => [o.name, { artifactType: ARTIFACT_TYPE }])) } } : {}),
    };
    const res = resources(step);
    executors[`exec-${step.id}`] = {
      container: {
        image: step.image ?? MISSING_IMAGE,
        command: ['/bin/sh', '-c', script(shown, params), step.id],
        args: [
          ...params.map((p) => `{{$.inputs.parameters['${p}']}}`),
          '{{$.pipeline_job_uuid}}',
          ...inputs.map((a) => `{{$.inputs.artifacts['${a.name}'].path}}`),
          ...step.outputs.map((o) => `{{$.outputs.artifacts['${o.name}'].path}}`),
        ],
        ...(res ? { resources: res } : {}),
      },
    };
  }
  return {
    pipelineInfo: { name: m.project.toLowerCase().replace(/[^a-z0-9-]+/g, '-'), ...(m.description ? { description: m.description } : {}) },
    sdkVersion: 'mlops-workbench-0.1.0',
    schemaVersion: KFP_SCHEMA_VERSION,
    ...(m.repository ? { defaultPipelineRoot: `s3://${m.repository.bucket}/${m.repository.keyPrefix}` } : {}),
    root: {
      ...(params.length ? { inputDefinitions: { parameters: Object.fromEntries(params.map((p) => [p, { parameterType: paramType(m.params[p]!), defaultValue: defaultValue(m.params[p]!) }])) } } : {}),
      dag: { tasks },
    },
    components,
    deploymentSpec: { executors },
  };
}
