#!/usr/bin/env node
// Step "train": softmax regression on data/prepared/train.csv.
//
//   node steps/train.mjs [--lr 0.1] [--epochs 300] [--l2 0.0001]
//
// Writes models/penguins.onnx (the deployable artefact), models/penguins.json
// (the same parameters as plain JSON, so any JS can recompute predictions and
// check the ONNX file), and metrics/train.json. Logs the training curve as
// "mlops:metric train_loss=... train_accuracy=... step=EPOCH" lines every 10
// epochs and at the last epoch. Deterministic: no random initialisation, no
// shuffling (full-batch gradient descent).
// Paths are relative to the working directory (the manifest folder).
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { numberFlag, runStep } from '../lib/cli.mjs';
import { readFeatureSpec, readSplit } from '../lib/dataset.mjs';
import { accuracy } from '../lib/metrics.mjs';
import { logMetrics } from '../lib/metric-log.mjs';
import { predictLabels, predictProba, trainSoftmax } from '../lib/softmax-model.mjs';
import { softmaxRegressionToOnnx } from '../lib/softmax-onnx.mjs';

const FEATURES_JSON = 'data/prepared/features.json';
const TRAIN_CSV = 'data/prepared/train.csv';
const LOG_EVERY = 10;

await runStep('train', () => {
  const { values } = parseArgs({
    options: { lr: { type: 'string' }, epochs: { type: 'string' }, l2: { type: 'string' } },
  });
  const lr = numberFlag(values, 'lr', { default: 0.1, min: 0, exclusiveMin: true });
  const epochs = numberFlag(values, 'epochs', { default: 300, min: 1, integer: true });
  const l2 = numberFlag(values, 'l2', { default: 0.0001, min: 0 });

  const spec = readFeatureSpec(FEATURES_JSON);
  const { X, y } = readSplit(TRAIN_CSV, spec);
  const C = spec.classes.length;
  const started = performance.now();
  const fit = trainSoftmax(X, y, C, {
    lr,
    epochs,
    l2,
    onEpoch(epoch, loss, acc) {
      if (epoch % LOG_EVERY === 0 || epoch === epochs) logMetrics({ train_loss: loss, train_accuracy: acc }, epoch);
    },
  });
  const trainMs = performance.now() - started;

  const F = spec.features.length;
  const model = {
    format: 'mlops-workbench/softmax-regression@1',
    features: spec.features,
    classes: spec.classes,
    // float32 values, so this file and the ONNX file hold the same numbers.
    mean: Array.from(fit.mean),
    std: Array.from(fit.std),
    weights: Array.from({ length: F }, (_, j) => Array.from(fit.W.subarray(j * C, (j + 1) * C))),
    bias: Array.from(fit.b),
    hyperparams: { lr, epochs, l2 },
    n_train: X.length,
  };
  // Accuracy of the model as exported (float32 parameters), i.e. what gets deployed.
  const trainAccuracy = accuracy(y, predictLabels(predictProba(model, X), C));

  const onnx = softmaxRegressionToOnnx(
    { features: spec.features, classes: spec.classes, mean: fit.mean, std: fit.std, W: fit.W, b: fit.b },
    {
      docString: 'Palmer penguins species classifier (softmax regression). Input: raw features in feature_names order.',
      metadata: { hyperparams: JSON.stringify({ lr, epochs, l2 }) },
    },
  );
  mkdirSync('models', { recursive: true });
  mkdirSync('metrics', { recursive: true });
  writeFileSync('models/penguins.onnx', onnx);
  writeFileSync('models/penguins.json', JSON.stringify(model, null, 2) + '\n');
  writeFileSync('metrics/train.json', JSON.stringify({ train_loss: fit.loss, train_accuracy: trainAccuracy }, null, 2) + '\n');
  console.log(
    `train: ${X.length} rows x ${F} features, ${epochs} epochs in ${trainMs.toFixed(0)} ms; ` +
      `loss ${fit.loss.toFixed(4)}, accuracy ${trainAccuracy.toFixed(4)}; wrote models/penguins.onnx (${onnx.length} bytes)`,
  );
});
