// Reads the prepared split files into numeric arrays. train and evaluate
// must read features in exactly the order prepare recorded in
// features.json, or a model would be applied to shuffled columns.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { StepError } from './cli.mjs';
import { readCsvFile } from './csv.mjs';

/** Load data/prepared/features.json (written by prepare). */
export function readFeatureSpec(path) {
  if (!existsSync(path)) throw new StepError(`${path} not found: run the prepare step first`);
  const spec = JSON.parse(readFileSync(path, 'utf8'));
  for (const key of ['id', 'label', 'features', 'classes']) {
    if (!(key in spec)) throw new StepError(`${path}: missing "${key}" (was it written by steps/prepare.mjs?)`);
  }
  return spec;
}

/**
 * @param {string} path a prepared CSV (id, label, features...)
 * @param {{ id: string, label: string, features: string[], classes: string[] }} spec
 * @returns {{ ids: number[], X: Float64Array[], y: number[] }} y holds class indices
 */
export function readSplit(path, spec) {
  if (!existsSync(path)) throw new StepError(`${path} not found: run the prepare step first`);
  if (statSync(path).size === 0) throw new StepError(`${path} is empty (no header, no rows): re-run the prepare step`);
  const { header, rows } = readCsvFile(path);
  const missing = [spec.id, spec.label, ...spec.features].filter((c) => !header.includes(c));
  if (missing.length) throw new StepError(`${path}: missing column(s) ${missing.join(', ')}`);
  if (rows.length === 0) throw new StepError(`${path} has a header but no data rows: nothing to learn from or score`);
  const classIndex = new Map(spec.classes.map((c, k) => [c, k]));
  const ids = [], X = [], y = [];
  rows.forEach((row, r) => {
    const k = classIndex.get(row[spec.label]);
    if (k === undefined) throw new StepError(`${path}: data row ${r + 1} has unknown ${spec.label} "${row[spec.label]}"`);
    const x = new Float64Array(spec.features.length);
    spec.features.forEach((f, j) => {
      const v = Number(row[f]);
      if (row[f] === '' || !Number.isFinite(v)) throw new StepError(`${path}: data row ${r + 1}, column ${f}: not a number ("${row[f]}")`);
      x[j] = v;
    });
    ids.push(Number(row[spec.id]));
    X.push(x);
    y.push(k);
  });
  return { ids, X, y };
}
