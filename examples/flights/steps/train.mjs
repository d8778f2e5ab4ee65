#!/usr/bin/env node
// Step "train": logistic regression (two-class softmax regression) of `late` on the chosen
// features of data/prepared/train.csv, scored on data/prepared/test.csv.
//
//   node steps/train.mjs --features distance,hour [--lr 0.5] [--epochs 60]
//
// Every model takes the same input, [distance, hour], whatever it was trained on: a feature
// left out gets a zero weight. So two versions trained on different features can serve side
// by side behind one endpoint (an A/B test) and receive the very same requests.
// Writes models/flights.onnx and metrics/train.json (accuracy on the held-out split: what the
// registry records and the monitor compares live accuracy with).
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { numberFlag, runStep, StepError } from '../lib/cli.mjs';
import { readCsvFile } from '../lib/csv.mjs';
import { logMetrics } from '../lib/metric-log.mjs';
import { predictLabels, predictProba, trainSoftmax } from '../lib/softmax-model.mjs';
import { softmaxRegressionToOnnx } from '../lib/softmax-onnx.mjs';

const INPUTS = ['distance', 'hour'];
const CLASSES = ['on_time', 'late'];

function read(path) {
  const { rows } = readCsvFile(path);
  return { X: rows.map((r) => Float64Array.from(INPUTS, (f) => Number(r[f]))), y: rows.map((r) => CLASSES.indexOf(r.late)) };
}

await runStep('train', () => {
  const { values } = parseArgs({ options: { features: { type: 'string' }, lr: { type: 'string' }, epochs: { type: 'string' } } });
  const features = (values.features ?? INPUTS.join(',')).split(',').map((f) => f.trim()).filter(Boolean);
  const unknown = features.filter((f) => !INPUTS.includes(f));
  if (!features.length || unknown.length) throw new StepError(`--features: expected a comma-separated subset of ${INPUTS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  const lr = numberFlag(values, 'lr', { default: 0.5, min: 0, exclusiveMin: true });
  const epochs = numberFlag(values, 'epochs', { default: 60, min: 1, integer: true });

  const used = INPUTS.map((f) => features.includes(f));
  const pick = (x) => Float64Array.from(x.filter((_, j) => used[j]));
  const train = read('data/prepared/train.csv');
  if (train.y.some((k) => k < 0)) throw new StepError(`data/prepared/train.csv: "late" must be one of ${CLASSES.join(', ')}`);
  const fit = trainSoftmax(train.X.map(pick), train.y, CLASSES.length, { lr, epochs, l2: 0 });

  // Back to the full input: unused features get mean 0, std 1 and zero weights.
  const C = CLASSES.length;
  const mean = [];
  const std = [];
  const W = [];
  let k = 0;
  INPUTS.forEach((_, j) => {
    if (used[j]) {
      mean.push(fit.mean[k]);
      std.push(fit.std[k]);
      for (let c = 0; c < C; c++) W.push(fit.W[k * C + c]);
      k++;
    } else {
      mean.push(0);
      std.push(1);
      for (let c = 0; c < C; c++) W.push(0);
    }
  });
  const model = { mean, std, weights: INPUTS.map((_, j) => W.slice(j * C, (j + 1) * C)), bias: Array.from(fit.b) };

  const test = read('data/prepared/test.csv');
  const predicted = predictLabels(predictProba(model, test.X), C);
  const accuracy = predicted.filter((p, i) => p === test.y[i]).length / test.y.length;
  const lateShare = test.y.filter((v) => v === 1).length / test.y.length;

  mkdirSync('models', { recursive: true });
  mkdirSync('metrics', { recursive: true });
  const onnx = softmaxRegressionToOnnx(
    { features: INPUTS, classes: CLASSES, mean, std, W, b: fit.b },
    { docString: `logistic regression of late on ${features.join(', ')}`, metadata: { trained_on: JSON.stringify(features) } },
  );
  writeFileSync('models/flights.onnx', onnx);
  const metrics = { accuracy, train_loss: fit.loss, n_test: test.y.length, test_late_share: lateShare };
  writeFileSync('metrics/train.json', JSON.stringify(metrics, null, 2) + '\n');
  logMetrics({ accuracy, train_loss: fit.loss });
});
