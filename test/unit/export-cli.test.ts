import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCli } from './cli-harness';
import { argoSchema, ROOT, SYNTHETIC } from './export-fixtures';

function tempManifest(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-export-cli-'));
  fs.writeFileSync(path.join(dir, 'mlops.yaml'), text);
  return dir;
}

const PARITY = `version: 1
project: parity
params: {name: m}
steps:
  train:
    cmd: python train.py --run \${run.id}
    outs: ["models/\${params.name}.onnx", {path: cache, persist: true}]
    deps: [/data/shared.csv]
    retries: {limit: 2, backoff: 2h}
    timeout: 10m
    resources: {gpu: 1}
`;

describe('mlops export (CLI)', () => {
  it('prints an Argo Workflow for examples/penguins that validates, with notes on stderr, exit 0', async () => {
    const r = await runCli(['export', 'argo', '--image', 'node:20-slim'], path.join(ROOT, 'examples/penguins'));
    assert.equal(r.code, 0, r.err.join('\n'));
    const wf = parse(r.out.join('\n'));
    assert.ok(argoSchema()(wf), JSON.stringify(argoSchema().errors?.slice(0, 3)));
    assert.match(r.err.at(-1)!, /^Workflow for penguins: 3 steps, 0 parity warnings, 1 note$/);
  });

  it('writes -o FILE, WorkflowTemplate with --kind', async () => {
    const dir = tempManifest(SYNTHETIC);
    const r = await runCli(['export', 'argo', '--kind', 'workflowtemplate', '-o', 'wf.yaml'], dir);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.out, []);
    const wf = parse(fs.readFileSync(path.join(dir, 'wf.yaml'), 'utf8'));
    assert.equal(wf.kind, 'WorkflowTemplate');
    assert.ok(argoSchema()(wf));
    assert.match(r.err.at(-1)!, /^wrote wf\.yaml: WorkflowTemplate for Synthetic_Pipeline: 4 steps/);
  });

  it('prints {target, yaml, warnings} with --json, warnings located on the step key', async () => {
    const dir = tempManifest(PARITY);
    const r = await runCli(['export', 'kfp', '--json'], dir);
    assert.equal(r.code, 0);
    const j = r.json[0] as { target: string; yaml: string; warnings: { step: string; code: string; severity: string; line: number; column: number; message: string }[] };
    assert.equal(j.target, 'kfp');
    assert.ok(parse(j.yaml).deploymentSpec.executors['exec-train']);
    const codes = j.warnings.map((w) => `${w.severity}:${w.code}`).sort();
    assert.deepEqual(codes, [
      'info:no-task-timeout', 'info:retries', 'info:run-id', 'warning:absolute-path', 'warning:backoff-cap',
      'warning:gpu-without-resources', 'warning:no-image', 'warning:param-in-path', 'warning:persist',
    ]);
    for (const w of j.warnings) assert.deepEqual([w.step, w.line, w.column], ['train', 5, 3]);
    assert.match(j.warnings.find((w) => w.code === 'backoff-cap')!.message, /longer than KFP allows \(1 h at most\)/);
    assert.match(j.warnings.find((w) => w.code === 'retries')!.message, /retryPolicy\.maxRetryCount 2: KFP counts retries after the first attempt, as local runs do \(3 attempts in all\)/);
  });

  it('says how retries map to Argo and exits 1 with --strict when there are warnings', async () => {
    const dir = tempManifest(PARITY);
    const r = await runCli(['export', 'argo', '--strict', '--image', 'python:3.12'], dir);
    assert.equal(r.code, 1);
    assert.ok(r.err.some((l) => /^mlops\.yaml:5:3 info \[retries\] retries: 2 is exported as retryStrategy\.limit "2": Argo counts retries after the first attempt/.test(l)), r.err.join('\n'));
    assert.ok(!r.err.some((l) => l.includes('[no-image]')), '--image is a default image');
    const ok = await runCli(['export', 'argo', '--strict', '--image', 'python:3.12'], path.join(ROOT, 'examples/weather'));
    assert.equal(ok.code, 0, 'notes alone do not fail --strict');
  });

  it('refuses an invalid manifest with its errors, exit 2', async () => {
    const dir = tempManifest('version: 1\nproject: x\nsteps:\n  a:\n    cmd: x\n    needs: [b]\n');
    const r = await runCli(['export', 'argo'], dir);
    assert.equal(r.code, 2);
    assert.deepEqual(r.out, []);
    assert.match(r.err.join('\n'), /mlops: mlops\.yaml has 1 error; fix it before exporting:\nmlops\.yaml:6:13 Unknown step "b"/);
  });

  it('refuses bad usage with exit 2', async () => {
    const dir = tempManifest(SYNTHETIC);
    const cases: [string[], RegExp][] = [
      [['export', 'argo', '--kind', 'CronWorkflow'], /--kind must be Workflow or WorkflowTemplate, not "CronWorkflow"/],
      [['export', 'kfp', '--kind', 'Workflow'], /unknown option '--kind'/],
      [['export', 'airflow'], /unknown command 'airflow'/],
      [['export', 'argo', '-f', 'nope.yaml'], /No such manifest: nope\.yaml/],
      [['export', 'argo', '-o', 'no/such/dir/wf.yaml'], /cannot write no\/such\/dir\/wf\.yaml/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args, dir);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err.join('\n'), msg, args.join(' '));
    }
  });
});
