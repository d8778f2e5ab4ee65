#!/usr/bin/env node
// Step "prepare": raw Seattle daily weather -> standardised train/validation CSVs.
//
//   node steps/prepare.mjs [--input data/seattle-weather.csv] [--out-dir data/prepared]
//                          [--seed 7] [--valid-size 0.25]
//
// Features of a day: its precipitation (log1p), max and min temperature, their
// spread, wind, the season (sine and cosine of the day of the year) and the
// previous day's precipitation and temperature. Label: the weather type
// (drizzle, fog, rain, snow, sun). The split is stratified by type with a
// seeded shuffle; means and standard deviations come from the training rows
// only and are applied to both files (kept in features.json).
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { numberFlag, runStep, StepError } from '../lib/cli.mjs';
import { readCsvFile, writeCsvFile } from '../lib/csv.mjs';
import { logMetrics } from '../lib/metric-log.mjs';
import { mulberry32, shuffleInPlace } from '../lib/prng.mjs';

const LABEL = 'weather';
const RAW = ['date', 'precipitation', 'temp_max', 'temp_min', 'wind', LABEL];
const FEATURES = ['precip_log', 'temp_max', 'temp_min', 'temp_range', 'wind', 'season_sin', 'season_cos', 'prev_precip_log', 'prev_temp_max'];

function dayOfYear(date) {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) throw new StepError(`bad date ${JSON.stringify(date)}`);
  return (d - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000;
}

await runStep('prepare', () => {
  const { values } = parseArgs({
    options: {
      input: { type: 'string', default: 'data/seattle-weather.csv' },
      'out-dir': { type: 'string', default: 'data/prepared' },
      seed: { type: 'string' },
      'valid-size': { type: 'string' },
    },
  });
  const seed = numberFlag(values, 'seed', { default: 7, integer: true });
  const validSize = numberFlag(values, 'valid-size', { default: 0.25, min: 0, exclusiveMin: true, max: 0.9 });
  const input = values.input;
  const outDir = values['out-dir'];
  if (!existsSync(input)) throw new StepError(`${input} not found (working directory ${process.cwd()})`);
  const { header, rows } = readCsvFile(input);
  const missing = RAW.filter((c) => !header.includes(c));
  if (missing.length) throw new StepError(`${input}: missing column(s): ${missing.join(', ')}`);

  const num = (row, c, k) => {
    const v = Number(row[c]);
    if (row[c].trim() === '' || !Number.isFinite(v)) throw new StepError(`${input}: data row ${k + 1}: ${c} is not a number (${JSON.stringify(row[c])})`);
    return v;
  };
  const examples = rows.map((row, k) => {
    const prev = rows[k - 1] ?? row; // the first day is its own "yesterday"
    const doy = dayOfYear(row.date);
    const tmax = num(row, 'temp_max', k);
    const tmin = num(row, 'temp_min', k);
    return {
      id: k,
      date: row.date,
      [LABEL]: row[LABEL],
      precip_log: Math.log1p(num(row, 'precipitation', k)),
      temp_max: tmax,
      temp_min: tmin,
      temp_range: tmax - tmin,
      wind: num(row, 'wind', k),
      season_sin: Math.sin((2 * Math.PI * doy) / 365.25),
      season_cos: Math.cos((2 * Math.PI * doy) / 365.25),
      prev_precip_log: Math.log1p(num(prev, 'precipitation', k)),
      prev_temp_max: num(prev, 'temp_max', k),
    };
  });
  const classes = [...new Set(examples.map((e) => e[LABEL]))].sort();
  if (classes.length < 2) throw new StepError(`${input}: need at least 2 weather types, found ${classes.join(', ')}`);

  // Stratified split: each type's rows shuffled by one seeded stream (types in sorted order).
  const rand = mulberry32(seed);
  const validIds = new Set();
  for (const cls of classes) {
    const ids = examples.filter((e) => e[LABEL] === cls).map((e) => e.id);
    if (ids.length < 2) throw new StepError(`weather type "${cls}" has ${ids.length} row(s): cannot put it in both splits`);
    const n = Math.min(ids.length - 1, Math.max(1, Math.round(ids.length * validSize)));
    for (const id of shuffleInPlace(ids, rand).slice(0, n)) validIds.add(id);
  }
  const train = examples.filter((e) => !validIds.has(e.id));
  const valid = examples.filter((e) => validIds.has(e.id));

  const mean = {};
  const std = {};
  for (const f of FEATURES) {
    const xs = train.map((e) => e[f]);
    mean[f] = xs.reduce((a, b) => a + b, 0) / xs.length;
    std[f] = Math.sqrt(xs.reduce((a, b) => a + (b - mean[f]) ** 2, 0) / xs.length) || 1;
  }
  const standardise = (e) => {
    const out = { id: e.id, date: e.date, [LABEL]: e[LABEL] };
    for (const f of FEATURES) out[f] = Number(((e[f] - mean[f]) / std[f]).toFixed(6));
    return out;
  };
  mkdirSync(outDir, { recursive: true });
  const columns = ['id', 'date', LABEL, ...FEATURES];
  writeCsvFile(join(outDir, 'train.csv'), columns, train.map(standardise));
  writeCsvFile(join(outDir, 'valid.csv'), columns, valid.map(standardise));
  writeFileSync(join(outDir, 'features.json'), JSON.stringify({ label: LABEL, classes, features: FEATURES, mean, std, seed, validSize }, null, 2) + '\n');
  const counts = Object.fromEntries(classes.map((c) => [c, train.filter((e) => e[LABEL] === c).length]));
  console.log(`prepared ${train.length} training and ${valid.length} validation days; training classes ${JSON.stringify(counts)}`);
  logMetrics({ n_train: train.length, n_valid: valid.length });
});
