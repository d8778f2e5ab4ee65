#!/usr/bin/env node
// Step "evaluate": score the held-out split with the ONNX model, the artefact
// that will be deployed, not with the training code's own arithmetic.
//
//   node steps/evaluate.mjs
//
// Runs models/penguins.onnx in onnxruntime-node on data/prepared/test.csv,
// writes metrics/eval.json {accuracy, f1_macro, auc_macro, n_test} and prints
// them as an "mlops:metric" line. Before scoring it checks that the ONNX
// model and the JS model in models/penguins.json agree (max |Δp| <= 1e-6,
// same labels): a mismatch means the exported graph is not the trained model,
// and the step fails rather than report metrics for the wrong function.
//
// Needs onnxruntime-node: found next to the sample, under $MLOPS_HOME, or
// above the script (see lib/require-package.mjs).
// Paths are relative to the working directory (the manifest folder).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runStep, StepError } from '../lib/cli.mjs';
import { readFeatureSpec, readSplit } from '../lib/dataset.mjs';
import { accuracy, aucMacroOvr, f1Macro } from '../lib/metrics.mjs';
import { logMetrics } from '../lib/metric-log.mjs';
import { requirePackage } from '../lib/require-package.mjs';
import { argmax, predictProba } from '../lib/softmax-model.mjs';

const FEATURES_JSON = 'data/prepared/features.json';
const TEST_CSV = 'data/prepared/test.csv';
const MODEL_ONNX = 'models/penguins.onnx';
const MODEL_JSON = 'models/penguins.json';
const TOLERANCE = 1e-6;

await runStep('evaluate', async () => {
  parseArgs({ options: {} }); // no flags; reject stray ones instead of ignoring them
  const ort = requirePackage('onnxruntime-node');
  for (const p of [MODEL_ONNX, MODEL_JSON]) if (!existsSync(p)) throw new StepError(`${p} not found: run the train step first`);

  const spec = readFeatureSpec(FEATURES_JSON);
  const model = JSON.parse(readFileSync(MODEL_JSON, 'utf8'));
  if (JSON.stringify(model.features) !== JSON.stringify(spec.features) || JSON.stringify(model.classes) !== JSON.stringify(spec.classes)) {
    throw new StepError(`${MODEL_JSON} was trained on other features/classes than ${FEATURES_JSON}: re-run train`);
  }
  const { X, y } = readSplit(TEST_CSV, spec);
  const n = X.length;
  const F = spec.features.length;
  const C = spec.classes.length;

  const session = await ort.InferenceSession.create(MODEL_ONNX, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const input = new Float32Array(n * F);
  X.forEach((x, i) => input.set(x, i * F));
  const out = await session.run({ input: new ort.Tensor('float32', input, [n, F]) });
  const probs = out.probabilities.data; // Float32Array [n, C]
  const labels = Array.from(out.label.data, Number); // BigInt64Array [n]
  await session.release();

  // ONNX vs JS reference. Labels may legitimately differ only where the top
  // two probabilities are within the tolerance (a near tie).
  const reference = predictProba(model, X);
  let maxDiff = 0;
  for (let q = 0; q < probs.length; q++) maxDiff = Math.max(maxDiff, Math.abs(probs[q] - reference[q]));
  if (!(maxDiff <= TOLERANCE)) {
    throw new StepError(`ONNX model disagrees with ${MODEL_JSON}: max |Δp| = ${maxDiff.toExponential(3)} > ${TOLERANCE}; the exported graph is not the trained model`);
  }
  for (let i = 0; i < n; i++) {
    const jsLabel = argmax(reference, i * C, C);
    const sorted = Array.from(reference.subarray(i * C, (i + 1) * C)).sort((a, b) => b - a);
    if (labels[i] !== argmax(probs, i * C, C) || (labels[i] !== jsLabel && sorted[0] - sorted[1] > 2 * TOLERANCE)) {
      throw new StepError(`ONNX label for test row ${i} is ${labels[i]}, JS model says ${jsLabel}`);
    }
  }

  const metrics = {
    accuracy: accuracy(y, labels),
    f1_macro: f1Macro(y, labels, C),
    auc_macro: aucMacroOvr(y, probs, C),
    n_test: n,
  };
  mkdirSync('metrics', { recursive: true });
  writeFileSync('metrics/eval.json', JSON.stringify(metrics, null, 2) + '\n');
  console.log(`evaluate: ${n} test rows; ONNX vs JS max |Δp| = ${maxDiff.toExponential(2)} (limit ${TOLERANCE.toExponential(0)})`);
  logMetrics({ accuracy: metrics.accuracy, f1_macro: metrics.f1_macro, auc_macro: metrics.auc_macro });
});
