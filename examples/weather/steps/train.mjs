#!/usr/bin/env node
// Step "train": fit the MLP on the training days, report the validation
// log-loss after every epoch, save the model.
//
//   node steps/train.mjs [--lr 0.05] [--l2 0.0001] [--hidden 16] [--epochs 30]
//                        [--batch 32] [--seed 7] [--data-dir data/prepared]
//
// Every epoch prints one line the orchestrator reads as metrics:
//   mlops:metric val_logloss=0.712345 val_accuracy=0.745902 train_logloss=0.69 step=12
// so a sweep's pruner can stop a trial that is falling behind. The final
// values also go to metrics/train.json, the model to models/weather.json.
// A learning rate that makes training diverge fails the step with a message.
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { numberFlag, runStep, StepError } from '../lib/cli.mjs';
import { readCsvFile } from '../lib/csv.mjs';
import { logMetrics } from '../lib/metric-log.mjs';
import { accuracy, createModel, logLoss, modelToJson, predictProba, trainEpoch } from '../lib/mlp.mjs';
import { mulberry32 } from '../lib/prng.mjs';

await runStep('train', () => {
  const { values } = parseArgs({
    options: {
      lr: { type: 'string' },
      l2: { type: 'string' },
      hidden: { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string', default: 'data/prepared' },
    },
  });
  const lr = numberFlag(values, 'lr', { default: 0.05, min: 0, exclusiveMin: true, max: 100 });
  const l2 = numberFlag(values, 'l2', { default: 1e-4, min: 0 });
  const hidden = numberFlag(values, 'hidden', { default: 16, min: 0, max: 4096, integer: true });
  const epochs = numberFlag(values, 'epochs', { default: 30, min: 1, max: 100_000, integer: true });
  const batch = numberFlag(values, 'batch', { default: 32, min: 1, integer: true });
  const seed = numberFlag(values, 'seed', { default: 7, integer: true });
  const dir = values['data-dir'];
  const metaFile = join(dir, 'features.json');
  if (!existsSync(metaFile)) throw new StepError(`${metaFile} not found: run the prepare step first`);
  const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  const load = (file) => {
    const { rows } = readCsvFile(join(dir, file));
    return { X: rows.map((r) => Float64Array.from(meta.features, (f) => Number(r[f]))), y: rows.map((r) => meta.classes.indexOf(r[meta.label])) };
  };
  const train = load('train.csv');
  const valid = load('valid.csv');

  const rand = mulberry32(seed);
  const model = createModel({ nIn: meta.features.length, nHidden: hidden, nOut: meta.classes.length, rand });
  let last;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    trainEpoch(model, train.X, train.y, { lr, l2, batch, momentum: 0.9, rand });
    const pv = predictProba(model, valid.X);
    const pt = predictProba(model, train.X);
    last = { val_logloss: logLoss(pv, valid.y), val_accuracy: accuracy(pv, valid.y), train_logloss: logLoss(pt, train.y) };
    if (!Object.values(last).every(Number.isFinite) || pv.some((p) => p.some((x) => !Number.isFinite(x)))) {
      throw new StepError(`training diverged at epoch ${epoch} (learning rate ${lr} is too high for this model)`);
    }
    logMetrics(last, epoch);
  }
  mkdirSync('models', { recursive: true });
  writeFileSync('models/weather.json', JSON.stringify({ classes: meta.classes, features: meta.features, mean: meta.mean, std: meta.std, hidden, ...modelToJson(model) }) + '\n');
  mkdirSync('metrics', { recursive: true });
  writeFileSync('metrics/train.json', JSON.stringify({ val_logloss: last.val_logloss, val_accuracy: last.val_accuracy }, null, 2) + '\n');
  console.log(`trained ${hidden ? `an MLP with ${hidden} hidden units` : 'softmax regression'} for ${epochs} epochs: validation log-loss ${last.val_logloss.toFixed(4)}, accuracy ${last.val_accuracy.toFixed(4)}`);
});
