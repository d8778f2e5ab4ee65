import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Manifest } from '../../protocol/manifest';
import { exportText } from '../../orchestrator/export';
import { EXAMPLES, localEdges, readManifest, ROOT, SYNTHETIC } from './export-fixtures';

type Obj = Record<string, any>;

/** Tasks, components and executors reference each other; dependentTasks are the local DAG (plus importers). */
function checkStructure(spec: Obj, manifest: Manifest): Map<string, Obj> {
  assert.equal(spec.schemaVersion, '2.1.0');
  assert.ok(spec.pipelineInfo.name);
  const tasks: Record<string, Obj> = spec.root.dag.tasks;
  const stepTasks = new Map<string, Obj>();
  for (const [id, t] of Object.entries(tasks)) {
    assert.equal(t.taskInfo.name, id);
    const comp = spec.components[t.componentRef.name];
    assert.ok(comp, `task ${id}: component ${t.componentRef.name} exists`);
    const exec = spec.deploymentSpec.executors[comp.executorLabel];
    assert.ok(exec, `component ${t.componentRef.name}: executor ${comp.executorLabel} exists`);
    for (const d of t.dependentTasks ?? []) assert.ok(tasks[d], `dependent task ${d} of ${id} exists`);
    for (const [name, a] of Object.entries<Obj>(t.inputs?.artifacts ?? {})) {
      const { producerTask, outputArtifactKey } = a.taskOutputArtifact;
      assert.ok(t.dependentTasks.includes(producerTask), `${id} waits for ${producerTask}, whose artifact it reads`);
      assert.ok(spec.components[tasks[producerTask].componentRef.name].outputDefinitions.artifacts[outputArtifactKey], `${producerTask} outputs ${outputArtifactKey}`);
      assert.ok(comp.inputDefinitions.artifacts[name], `${t.componentRef.name} declares input ${name}`);
    }
    if (exec.container) stepTasks.set(id, t);
  }
  // Step tasks: the executor's command starts with the step's name after the script.
  const stepOf = new Map([...stepTasks].map(([id, t]) => [id, spec.deploymentSpec.executors[spec.components[t.componentRef.name].executorLabel].container.command[2].match(/MLOPS_STEP=(\S+)/)[1] as string]));
  assert.deepEqual([...stepOf.values()].sort(), Object.keys(manifest.steps ?? {}).sort(), 'one task per step');
  const expected = localEdges(manifest);
  for (const [id, t] of stepTasks) {
    const deps = new Set((t.dependentTasks ?? []).filter((d: string) => stepOf.has(d)).map((d: string) => stepOf.get(d)));
    assert.deepEqual(deps, expected.get(stepOf.get(id)!), `dependentTasks of ${stepOf.get(id)} are its needs plus outs→deps edges`);
  }
  const params = manifest.params ?? {};
  assert.deepEqual(Object.keys(spec.root.inputDefinitions?.parameters ?? {}), Object.keys(params), 'params are the pipeline inputs');
  return new Map([...stepTasks].map(([id, t]) => [stepOf.get(id)!, { task: t, exec: spec.deploymentSpec.executors[spec.components[t.componentRef.name].executorLabel] }]));
}

describe('mlops export kfp', () => {
  for (const file of EXAMPLES) {
    it(`exports ${path.relative(ROOT, file)} as a KFP v2 pipeline spec with the local DAG`, () => {
      const { text, manifest } = readManifest(file);
      const spec = parse(exportText(text, 'kfp', { image: 'node:20-slim' }).yaml) as Obj;
      const steps = checkStructure(spec, manifest);
      for (const { task, exec } of steps.values()) {
        assert.equal(exec.container.image, 'node:20-slim');
        assert.deepEqual(task.cachingOptions, { enableCache: true });
        assert.equal(exec.container.command[0], '/bin/sh');
        assert.match(exec.container.command[2], /timeout -s TERM -k 5 \d+ \/bin\/sh -c/, 'the local timeout is enforced in the container');
      }
    });
  }

  it('maps resources, GPU, retries, caching, params and datasets of a synthetic manifest', () => {
    const manifest = parse(SYNTHETIC) as Manifest;
    const spec = parse(exportText(SYNTHETIC, 'kfp').yaml) as Obj;
    const steps = checkStructure(spec, manifest);
    const train = steps.get('train_gpu')!;
    assert.deepEqual(train.exec.container.resources, {
      resourceCpuRequest: '4', resourceCpuLimit: '4', resourceMemoryRequest: '16Gi', resourceMemoryLimit: '16Gi',
      accelerator: { resourceType: 'nvidia.com/gpu', resourceCount: '2' },
    });
    assert.deepEqual(train.task.retryPolicy, { maxRetryCount: 3, backoffDuration: '30s', backoffFactor: 2, backoffMaxDuration: '300s' });
    assert.equal(steps.get('lint')!.task.retryPolicy, undefined);
    assert.deepEqual(steps.get('report')!.task.cachingOptions, { enableCache: false });
    assert.deepEqual(spec.root.inputDefinitions.parameters.layers, { parameterType: 'STRING', defaultValue: '64,32' }, 'lists travel as the text ${params.x} gives');
    assert.deepEqual(spec.root.inputDefinitions.parameters.epochs, { parameterType: 'NUMBER_INTEGER', defaultValue: 30 });
    assert.deepEqual(spec.root.inputDefinitions.parameters.shuffle, { parameterType: 'BOOLEAN', defaultValue: true });
    assert.equal(spec.defaultPipelineRoot, 's3://mlops-artifacts/synth/');
    // The dataset comes in through an importer task from the repository.
    const fetch = steps.get('fetch_data')!.task;
    const importer = spec.root.dag.tasks[fetch.inputs.artifacts['dataset-raw'].taskOutputArtifact.producerTask];
    assert.equal(importer.inputs.parameters.uri.runtimeValue.constant, 's3://mlops-artifacts/synth/datasets/data/raw.csv');
    assert.ok(spec.deploymentSpec.executors[spec.components[importer.componentRef.name].executorLabel].importer);
    // Positional args: params, the job uuid, inputs, outputs — one per `$N` the script reads.
    const args: string[] = train.exec.container.args;
    assert.equal(args[Object.keys(manifest.params!).length], '{{$.pipeline_job_uuid}}');
    assert.match(train.exec.container.command[2], /export RUN="\$MLOPS_RUN_ID"/);
    assert.match(train.exec.container.command[2], /\( cd src && timeout -s TERM -k 5 5400/, 'wdir and timeout');
    assert.equal(args.at(-1), "{{$.outputs.artifacts['models-model-onnx'].path}}");
  });
});
