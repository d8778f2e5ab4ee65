#!/usr/bin/env node
// Step "prepare": raw penguins CSV -> model-ready train/test CSVs.
//
//   node steps/prepare.mjs [--input data/penguins.csv] [--out-dir data/prepared]
//                          [--seed 42] [--test-size 0.25]
//
// Drops rows missing a numeric measurement or the species, one-hot encodes
// island and sex, and splits train/test stratified by species with a seeded
// shuffle, so a given seed always gives the same split. Each output row keeps
// "id", its 0-based row index in the raw file, so splits can be audited
// (disjointness, lineage back to the source row).
// Paths are relative to the working directory (the manifest folder).
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { numberFlag, runStep, StepError } from '../lib/cli.mjs';
import { readCsvFile, writeCsvFile } from '../lib/csv.mjs';
import { logMetrics } from '../lib/metric-log.mjs';
import { mulberry32, shuffleInPlace } from '../lib/prng.mjs';

const LABEL = 'species';
const NUMERIC = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'];
const CATEGORICAL = ['island', 'sex'];
const REQUIRED = [LABEL, ...CATEGORICAL, ...NUMERIC];

await runStep('prepare', () => {
  const { values } = parseArgs({
    options: {
      input: { type: 'string', default: 'data/penguins.csv' },
      'out-dir': { type: 'string', default: 'data/prepared' },
      seed: { type: 'string' },
      'test-size': { type: 'string' },
    },
  });
  const seed = numberFlag(values, 'seed', { default: 42, integer: true });
  const testSize = numberFlag(values, 'test-size', { default: 0.25, min: 0, exclusiveMin: true, max: 0.9 });
  const input = values.input;
  const outDir = values['out-dir'];

  if (!existsSync(input)) throw new StepError(`${input} not found (working directory ${process.cwd()})`);
  const { header, rows } = readCsvFile(input);
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new StepError(`${input}: missing required column(s): ${missing.join(', ')} (found: ${header.join(', ') || 'no header'})`);
  }

  // Keep complete rows only. Missing sex is allowed: it becomes all-zero
  // one-hot, which the model can still use, rather than losing the row.
  const kept = [];
  const droppedIds = [];
  rows.forEach((row, id) => {
    const complete = row[LABEL] !== '' && NUMERIC.every((c) => row[c].trim() !== '' && Number.isFinite(Number(row[c])));
    if (complete) kept.push({ id, ...row });
    else droppedIds.push(id);
  });
  if (kept.length === 0) throw new StepError(`${input}: no complete rows (of ${rows.length})`);

  // Category levels come from the data, sorted, so the feature order is stable.
  const levels = (col) => [...new Set(kept.map((r) => r[col]).filter((v) => v !== ''))].sort();
  const classes = levels(LABEL);
  const oneHot = Object.fromEntries(CATEGORICAL.map((c) => [c, levels(c)]));
  const features = [...NUMERIC, ...CATEGORICAL.flatMap((c) => oneHot[c].map((v) => `${c}_${v}`))];
  if (classes.length < 2) throw new StepError(`${input}: need at least 2 species to classify, found ${classes.join(', ')}`);

  // Stratified split: shuffle each class's ids with one seeded stream (classes
  // in sorted order) and send round(n * test_size) of each to test, keeping
  // at least one row of every class on each side.
  const rand = mulberry32(seed);
  const testIds = new Set();
  for (const cls of classes) {
    const ids = kept.filter((r) => r[LABEL] === cls).map((r) => r.id);
    if (ids.length < 2) throw new StepError(`species "${cls}" has ${ids.length} complete row(s): cannot put it in both train and test`);
    const nTest = Math.min(ids.length - 1, Math.max(1, Math.round(ids.length * testSize)));
    for (const id of shuffleInPlace(ids, rand).slice(0, nTest)) testIds.add(id);
  }

  const encode = (r) => {
    const out = { id: r.id, [LABEL]: r[LABEL] };
    for (const c of NUMERIC) out[c] = r[c].trim();
    for (const c of CATEGORICAL) for (const v of oneHot[c]) out[`${c}_${v}`] = r[c] === v ? 1 : 0;
    return out;
  };
  const columns = ['id', LABEL, ...features];
  const train = kept.filter((r) => !testIds.has(r.id)).map(encode);
  const test = kept.filter((r) => testIds.has(r.id)).map(encode);
  mkdirSync(outDir, { recursive: true });
  writeCsvFile(join(outDir, 'train.csv'), columns, train);
  writeCsvFile(join(outDir, 'test.csv'), columns, test);
  const spec = {
    id: 'id',
    label: LABEL,
    classes,
    features,
    numeric: NUMERIC,
    one_hot: oneHot,
    split: { seed, test_size: testSize, stratify: LABEL },
    rows: { raw: rows.length, complete: kept.length, train: train.length, test: test.length },
    dropped_ids: droppedIds,
  };
  writeFileSync(join(outDir, 'features.json'), JSON.stringify(spec, null, 2) + '\n');

  console.log(`prepare: ${rows.length} rows, dropped ${droppedIds.length} incomplete (ids ${droppedIds.join(', ') || 'none'})`);
  console.log(`prepare: ${train.length} train / ${test.length} test, ${features.length} features, classes ${classes.join(', ')}`);
  logMetrics({ n_train: train.length, n_test: test.length, n_dropped: droppedIds.length });
});
