// Shared by the export tests: the Argo schema validator, the local DAG of a manifest, and a
// synthetic manifest that uses every feature the exporters map.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { Manifest } from '../../protocol/manifest';
import { buildDag } from '../../orchestrator/manifest';
import { interpolate, scopeOf } from '../../orchestrator/pipelines/step-spec';

export const ROOT = path.resolve(__dirname, '../..');
export const EXAMPLES = ['penguins', 'weather'].map((e) => path.join(ROOT, 'examples', e, 'mlops.yaml'));

let validator: ValidateFunction | undefined;
/** Argo's official JSON Schema (vendored), compiled once: it is 600 kB. */
export function argoSchema(): ValidateFunction {
  // strict off: the schema carries x-kubernetes-* keywords ajv does not know; formats (date-time) only type status fields.
  validator ??= new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/vendor/argo-workflow.schema.json'), 'utf8')));
  return validator;
}

export function readManifest(file: string): { text: string; manifest: Manifest } {
  const text = fs.readFileSync(file, 'utf8');
  return { text, manifest: parse(text) as Manifest };
}

/** Step → the steps it runs after, as the local DAG (orchestrator/manifest/dag.ts) infers them. */
export function localEdges(manifest: Manifest): Map<string, Set<string>> {
  const scope = scopeOf(manifest, manifest.params ?? {});
  const edges = buildDag(manifest, (s) => {
    try {
      return interpolate(s, scope);
    } catch {
      return undefined;
    }
  });
  const out = new Map(Object.keys(manifest.steps ?? {}).map((n) => [n, new Set<string>()]));
  for (const e of edges) if (e.from !== e.to) out.get(e.from)!.add(e.to);
  return out;
}

/** GPU, resources, retries (both forms), timeouts, params of every type, wdir, env, run id, a folder out, a non-cached step, names to sanitise. */
export const SYNTHETIC = `version: 1
project: Synthetic_Pipeline
description: Every feature the exporters map.
params:
  lr: 0.05
  epochs: 30
  optimizer: adam
  layers: [64, 32]
  shuffle: true
  msg: "a b; c"
datasets:
  raw:
    path: data/raw.csv
export:
  image: python:3.12-slim
  artifact_repository:
    s3: {endpoint: "minio.minio:9000", bucket: mlops-artifacts, key_prefix: synth/}
steps:
  fetch_data:
    cmd: python fetch.py --out data/features --msg \${params.msg}
    deps: [fetch.py, "\${datasets.raw.path}"]
    outs: [data/features]
    resources: {cpu: 0.5, memory: 512Mi}
  train_gpu:
    needs: [fetch_data]
    image: ghcr.io/acme/train:1.4
    cmd:
      - python train.py --lr \${params.lr} --epochs \${params.epochs} --layers \${params.layers}
      - python export.py
    wdir: src
    deps: [src/train.py, data/features/train.csv]
    params: [lr, epochs, layers]
    outs: [models/model.onnx]
    env: {RUN: "\${run.id}", OPT: "\${params.optimizer}", PYTHONHASHSEED: "0"}
    retries: {limit: 3, backoff: 30s}
    timeout: 1h30m
    resources: {cpu: 4, memory: 16Gi, gpu: 2}
  report:
    cmd: python report.py \${steps.train_gpu.outs.0}
    deps: [report.py, models/model.onnx]
    outs: [reports/summary.md]
    retries: 2
    timeout: 90s
    cache: false
  lint:
    cmd: echo lint
    timeout: 1500ms
`;
