import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ManifestParser, validateManifestSync } from '../../orchestrator/manifest';
import { ManifestChecker, validateIncremental } from '../../orchestrator/manifest/incremental-check';
import { apply, generatedManifest, mutation, Prng } from '../server/mutate';

const PENGUINS = fs.readFileSync(path.resolve(__dirname, '../../examples/penguins/mlops.yaml'), 'utf8');

const BROKEN = `version: 1
project: broken
params:
  lr: 0.1
  "bad name": 3
datasets:
  raw: {path: data/raw.csv}
steps:
  prepare:
    cmd: node prepare.mjs \${params.lrr} \${datasets.raw.path} \${datasets.nope.path}
    outs: [data/features.csv]
  train:
    needs: [prepar, evaluate]
    cmd: node train.mjs \${steps.prepare.outs.3}
    deps: [data/features.csv, "\${steps.evaluate.outs.0}"]
    outs: [data/features.csv, model.onnx]
    retries: lots
    timeoutt: 5m
  evaluate:
    cmd: [node eval.mjs]
    needs: [train]
    outs: [metrics.json]
    logs_metrics: [acc]
  evaluate:
    cmd: again
sweeps:
  s:
    step: trian
    objective: {metric: acc, goal: maximize}
    space: {lrr: {uniform: [0, 1]}}
models:
  clf:
    from: trainn
    artifact: model.onnx
    gates: [{metric: accuracy, min: 0.9}]
  clf2:
    from: evaluate
    artifact: x
    gates: [{metric: accc}]
deployments:
  api:
    model: models:/clff@production
  api2:
    model: clf3
    rollout: {strategy: canary}
export: {target: nope}
`;

/** Everything the plain validator reports, and what the incremental checker reports for the same text. */
function both(text: string, parser: ManifestParser, checker: ManifestChecker, fileExists?: (p: string) => boolean) {
  const expected = validateManifestSync(text, fileExists ? { fileExists } : {}).diagnostics;
  const parsed = parser.parseSync(text);
  const actual = checker.check(parsed, fileExists ? { fileExists } : {});
  return { expected, actual };
}

describe('incremental checker (same diagnostics as validateManifest, less work)', () => {
  it('matches on the example, a broken manifest and a generated one', () => {
    const fileExists = (p: string) => !p.includes('missing');
    for (const text of [PENGUINS, BROKEN, generatedManifest(50), generatedManifest(3).replace('needs: [step1]', 'needs: [step2]')]) {
      const { expected, actual } = both(text, new ManifestParser(), new ManifestChecker(), fileExists);
      assert.deepEqual(actual, expected);
    }
    assert.ok(both(BROKEN, new ManifestParser(), new ManifestChecker()).expected.length >= 20, 'the broken manifest exercises many checks');
  });

  it('matches across a long series of edits that reuse the caches', () => {
    const parser = new ManifestParser();
    const checker = new ManifestChecker();
    const rng = new Prng(20261129);
    const seeds = [PENGUINS, BROKEN, generatedManifest(20)];
    let text = seeds[0];
    const codes = new Set<string>();
    let withProblems = 0;
    for (let i = 0; i < 600; i++) {
      if (i % 150 === 0) text = seeds[(i / 150) % seeds.length];
      const e = mutation(text, rng);
      // Keep the documents small enough for the plain validator to stay quick.
      if (e.kind === 'huge scalar' || e.kind === 'deep nesting') continue;
      text = apply(text, e);
      if (text.includes('\0') || !text.trim()) continue;
      const { expected, actual } = both(text, parser, checker, (p) => p.length % 2 === 0);
      assert.deepEqual(actual, expected, `after edit ${i} (${e.kind}):\n${text}`);
      if (expected.length) withProblems++;
      for (const d of expected) codes.add(d.code);
    }
    assert.ok(withProblems > 100 && codes.size >= 8, `the edits exercised many checks (${withProblems} broken versions; codes ${[...codes].join(', ')})`);
  });

  it('validateIncremental falls back to the plain validator for empty and binary text', async () => {
    const parser = new ManifestParser();
    const checker = new ManifestChecker();
    const mostlyUndecodable = 'version: 1\n' + '\uFFFD'.repeat(100);
    const someUndecodable = 'version: 1\nproject: \uFFFD\nsteps:\n  a: {cmd: x}\n' + 'description: a long enough text to sample\n'.repeat(3);
    for (const text of ['', '   \n', 'version: 1\n\u0000x', 'a: \uFFFD\uFFFD', mostlyUndecodable, someUndecodable]) {
      const r = await validateIncremental(text, { parser, checker });
      assert.deepEqual(r.diagnostics, validateManifestSync(text).diagnostics);
    }
  });

  it('re-checks only the entry an edit touched, in a 5000-step manifest', () => {
    const parser = new ManifestParser();
    const checker = new ManifestChecker();
    const text = generatedManifest(5000);
    checker.check(parser.parseSync(text));
    assert.equal(checker.work.entrySchemas, 5000 + 4 + 1, 'every step, param, dataset and model once');
    assert.equal(checker.work.stepFacts, 5000);
    for (let i = 0; i < 5; i++) {
      const before = { ...checker.work };
      const d = checker.check(parser.parseSync(text.replace('needs: [step2499]', `needs: [ghost${i}]`)));
      assert.equal(d.length, 1);
      assert.match(d[0].message, new RegExp(`Unknown step "ghost${i}"`));
      assert.deepEqual({ entrySchemas: checker.work.entrySchemas - before.entrySchemas, stepFacts: checker.work.stepFacts - before.stepFacts }, { entrySchemas: 1, stepFacts: 1 });
    }
  });
});
