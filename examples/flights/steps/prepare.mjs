#!/usr/bin/env node
// Step "prepare": flights-200k from vega-datasets (200,000 US domestic flights of 2001: arrival
// delay in minutes, distance in miles, scheduled departure time as a fractional hour) as three
// seeded random splits:
//   data/prepared/train.csv    the rows models are trained on
//   data/prepared/test.csv     held out: the accuracy recorded when a version is registered
//   data/prepared/traffic.csv  never seen by training: replayed as live traffic, with an id
// Columns: distance, hour, late (late = arrived more than --late-after minutes behind schedule).
//
//   node steps/prepare.mjs [--seed 7] [--train 40000] [--test 20000] [--traffic 60000] [--late-after 0]
//
// The data set is read from the installed vega-datasets package (found through MLOPS_HOME like
// onnxruntime-node in the penguins sample), so the sample carries no 10 MB copy of it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { numberFlag, runStep, StepError } from '../lib/cli.mjs';
import { writeCsvFile } from '../lib/csv.mjs';
import { logMetrics } from '../lib/metric-log.mjs';
import { mulberry32, shuffleInPlace } from '../lib/prng.mjs';
import { resolvePackage } from '../lib/require-package.mjs';

await runStep('prepare', () => {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, traffic: { type: 'string' }, 'late-after': { type: 'string' } },
  });
  const seed = numberFlag(values, 'seed', { default: 7, integer: true });
  const nTrain = numberFlag(values, 'train', { default: 40000, min: 100, integer: true });
  const nTest = numberFlag(values, 'test', { default: 20000, min: 100, integer: true });
  const nTraffic = numberFlag(values, 'traffic', { default: 60000, min: 100, integer: true });
  const lateAfter = numberFlag(values, 'late-after', { default: 0 });

  // The package exports only its ESM entry; the data files sit beside it (see ML-NOTES).
  const file = join(dirname(resolvePackage('vega-datasets').path), '..', 'data', 'flights-200k.json');
  const flights = JSON.parse(readFileSync(file, 'utf8'));
  if (flights.length < nTrain + nTest + nTraffic) throw new StepError(`${file} has ${flights.length} flights; --train + --test + --traffic asks for ${nTrain + nTest + nTraffic}`);
  // The file is in date order: shuffle so every split covers the same months.
  shuffleInPlace(flights, mulberry32(seed));
  const row = (f) => ({ distance: f.distance, hour: Math.round(f.time * 1000) / 1000, late: f.delay > lateAfter ? 'late' : 'on_time' });
  const header = ['distance', 'hour', 'late'];
  writeCsvFile('data/prepared/train.csv', header, flights.slice(0, nTrain).map(row));
  writeCsvFile('data/prepared/test.csv', header, flights.slice(nTrain, nTrain + nTest).map(row));
  const traffic = flights.slice(nTrain + nTest, nTrain + nTest + nTraffic);
  writeCsvFile('data/prepared/traffic.csv', ['id', ...header], traffic.map((f, i) => ({ id: `f${i}`, ...row(f) })));
  const lateShare = flights.slice(0, nTrain).filter((f) => f.delay > lateAfter).length / nTrain;
  logMetrics({ n_train: nTrain, n_test: nTest, n_traffic: nTraffic, late_share: lateShare });
});
