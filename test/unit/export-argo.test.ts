import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Manifest } from '../../protocol/manifest';
import { exportText, STEP_ANNOTATION } from '../../orchestrator/export';
import { argoSchema, EXAMPLES, localEdges, readManifest, ROOT, SYNTHETIC } from './export-fixtures';

type Obj = Record<string, any>;

/** Structure checks an empty Workflow would fail: one template per step, the DAG, references. */
function checkStructure(wf: Obj, manifest: Manifest): void {
  const templates: Obj[] = wf.spec.templates;
  const names = templates.map((t) => t.name);
  assert.equal(new Set(names).size, names.length, 'template names are unique');
  const entry = templates.find((t) => t.name === wf.spec.entrypoint);
  assert.ok(entry?.dag, `entrypoint "${wf.spec.entrypoint}" resolves to a DAG template`);
  const stepTemplates = templates.filter((t) => t.container);
  const byStep = new Map(stepTemplates.map((t) => [t.metadata.annotations[STEP_ANNOTATION] as string, t]));
  assert.deepEqual([...byStep.keys()].sort(), Object.keys(manifest.steps ?? {}).sort(), 'one container template per step');
  assert.equal(stepTemplates.length + 1, templates.length, 'nothing but the steps and the DAG');

  const tasks: Obj[] = entry.dag.tasks;
  const taskByName = new Map(tasks.map((t) => [t.name as string, t]));
  const stepOfTask = new Map(tasks.map((t) => [t.name as string, templates.find((x) => x.name === t.template)?.metadata?.annotations?.[STEP_ANNOTATION] as string]));
  assert.equal(tasks.length, byStep.size, 'one DAG task per step');
  const expected = localEdges(manifest);
  for (const t of tasks) {
    const tpl = templates.find((x) => x.name === t.template);
    assert.ok(tpl?.container, `task ${t.name} references the container template ${t.template}`);
    for (const d of t.dependencies ?? []) assert.ok(taskByName.has(d), `dependency ${d} of ${t.name} is a task`);
    const step = stepOfTask.get(t.name)!;
    assert.deepEqual(new Set((t.dependencies ?? []).map((d: string) => stepOfTask.get(d))), expected.get(step), `dependencies of ${step} are its needs plus outs→deps edges`);
    // Every artifact handed over comes from a task it depends on, and that task's template outputs it.
    for (const a of t.arguments?.artifacts ?? []) {
      const m = /^\{\{tasks\.([^.]+)\.outputs\.artifacts\.([^}]+)\}\}$/.exec(a.from);
      assert.ok(m, `artifact ${a.name} of ${t.name} comes from a task output`);
      assert.ok((t.dependencies ?? []).includes(m[1]), `${t.name} depends on ${m[1]}, whose artifact it reads`);
      const producer = templates.find((x) => x.name === taskByName.get(m[1])!.template)!;
      assert.ok(producer.outputs.artifacts.some((o: Obj) => o.name === m[2]), `${m[1]} outputs ${m[2]}`);
      assert.ok(tpl.inputs.artifacts.some((i: Obj) => i.name === a.name), `${t.template} declares input ${a.name}`);
    }
  }
  const params = Object.entries(manifest.params ?? {});
  assert.deepEqual(wf.spec.arguments?.parameters ?? [], params.map(([name, v]) => ({ name, value: Array.isArray(v) ? v.join(',') : String(v) })), 'params are the workflow arguments');
}

function assertValid(doc: unknown): void {
  const validate = argoSchema();
  const ok = validate(doc);
  assert.ok(ok, `valid against Argo's schema: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
}

describe('mlops export argo', () => {
  for (const file of EXAMPLES) {
    for (const kind of ['Workflow', 'WorkflowTemplate'] as const) {
      it(`exports ${path.relative(ROOT, file)} as a ${kind} that validates against Argo's schema and has the local DAG`, () => {
        const { text, manifest } = readManifest(file);
        const r = exportText(text, 'argo', { kind, image: 'node:20-slim' });
        const wf = parse(r.yaml) as Obj;
        assert.equal(wf.kind, kind);
        assertValid(wf);
        checkStructure(wf, manifest);
        if (kind === 'WorkflowTemplate') assert.equal(wf.metadata.name, manifest.project);
        else assert.equal(wf.metadata.generateName, `${manifest.project}-`);
      });
    }
  }

  it('maps resources, GPU, retries, timeouts, caching and params of a synthetic manifest', () => {
    const manifest = parse(SYNTHETIC) as Manifest;
    const wf = parse(exportText(SYNTHETIC, 'argo').yaml) as Obj;
    assertValid(wf);
    checkStructure(wf, manifest);
    const tpl = (step: string) => wf.spec.templates.find((t: Obj) => t.metadata?.annotations?.[STEP_ANNOTATION] === step);
    const train = tpl('train_gpu');
    assert.equal(train.name, 'train-gpu', 'names are made DNS-safe');
    assert.equal(train.container.image, 'ghcr.io/acme/train:1.4', "the step's image wins");
    assert.equal(tpl('report').container.image, 'python:3.12-slim', 'export.image is the default');
    assert.deepEqual(train.container.resources, { requests: { cpu: '4', memory: '16Gi' }, limits: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '2' } });
    assert.deepEqual(tpl('fetch_data').container.resources.requests, { cpu: '500m', memory: '512Mi' }, 'cpu 0.5 is 500m');
    assert.deepEqual(train.retryStrategy, { limit: '3', retryPolicy: 'Always', backoff: { duration: '30s', factor: '2', cap: '5m' } });
    assert.deepEqual(tpl('report').retryStrategy, { limit: '2', retryPolicy: 'Always', backoff: { duration: '1s', factor: '2', cap: '5m' } }, 'retries: N backs off from 1 s as locally');
    assert.equal(tpl('lint').retryStrategy, undefined);
    assert.equal(train.activeDeadlineSeconds, '5400', 'timeout 1h30m');
    assert.equal(tpl('report').activeDeadlineSeconds, '90');
    assert.equal(tpl('lint').activeDeadlineSeconds, '2', '1500ms rounds up to whole seconds');
    assert.equal(train.container.workingDir, '/workspace/src', 'wdir');
    assert.equal(tpl('report').memoize, undefined, 'cache: false is not memoized');
    assert.match(train.memoize.key, /^train-gpu-[0-9a-f]{12}-.*\{\{workflow\.parameters\.lr\}\}.*\{\{workflow\.parameters\.msg\}\}/, "the key holds the step's and upstream params");
    assert.equal(train.memoize.cache.configMap.name, 'mlops-synthetic-pipeline-cache');
    const env = Object.fromEntries(train.container.env.map((e: Obj) => [e.name, e.value]));
    assert.equal(env.RUN, '{{workflow.uid}}', '${run.id} is the workflow uid');
    assert.equal(env.OPT, '{{workflow.parameters.optimizer}}');
    assert.equal(env.MLOPS_PARAM_LR, '{{workflow.parameters.lr}}');
    // Datasets and outputs go through the configured S3-compatible repository.
    const input = tpl('fetch_data').inputs.artifacts[0];
    assert.deepEqual(
      { path: input.path, endpoint: input.s3.endpoint, bucket: input.s3.bucket, key: input.s3.key },
      { path: '/workspace/data/raw.csv', endpoint: 'minio.minio:9000', bucket: 'mlops-artifacts', key: 'synth/datasets/data/raw.csv' },
    );
    assert.match(tpl('fetch_data').outputs.artifacts[0].s3.key, /^synth\/\{\{workflow\.name\}\}\/fetch-data\//);
    // The folder out data/features feeds the dep data/features/train.csv: the artifact is the folder.
    assert.deepEqual(train.inputs.artifacts.map((a: Obj) => a.path), ['/workspace/data/features']);
  });

  it("runs the step's command with params as single arguments, as local shell-quoting does", () => {
    const wf = parse(exportText(SYNTHETIC, 'argo').yaml) as Obj;
    const fetch = wf.spec.templates.find((t: Obj) => t.name === 'fetch-data');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-export-'));
    fs.writeFileSync(path.join(dir, 'fetch.py'), '');
    // A stand-in `python` that prints its arguments one per line.
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'python'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', { mode: 0o755 });
    const out = execFileSync(fetch.container.command[0], [...fetch.container.command.slice(1), ...fetch.container.args], {
      cwd: dir,
      env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, MLOPS_PARAM_MSG: 'a b; c' },
      encoding: 'utf8',
    });
    assert.deepEqual(out.trim().split('\n'), ['fetch.py', '--out', 'data/features', '--msg', 'a b; c']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
