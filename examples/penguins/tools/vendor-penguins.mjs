// Regenerates data/penguins.csv from vega-datasets' penguins.json. Not a
// pipeline step: the CSV is vendored so the sample runs offline with no npm
// install; this script records exactly how it was made.
//
//   MLOPS_HOME=/path/to/workbench node tools/vendor-penguins.mjs
//
// Changes from the source: columns renamed to the palmerpenguins names
// (Beak -> bill, snake_case), null cells written empty, and the one sex
// value "." (an unknown in the original field data) written empty as well.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePackage } from '../lib/require-package.mjs';
import { writeCsvFile } from '../lib/csv.mjs';

const COLUMNS = {
  Species: 'species',
  Island: 'island',
  'Beak Length (mm)': 'bill_length_mm',
  'Beak Depth (mm)': 'bill_depth_mm',
  'Flipper Length (mm)': 'flipper_length_mm',
  'Body Mass (g)': 'body_mass_g',
  Sex: 'sex',
};

// vega-datasets is ESM-only and exports only ".", so its data folder cannot
// be resolved as a subpath: resolve the entry and walk up to its package.json.
function vegaDataDir() {
  let dir = dirname(resolvePackage('vega-datasets').path);
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== 'vega-datasets') {
    const up = dirname(dir);
    if (up === dir) throw new Error('vega-datasets package.json not found above its entry file');
    dir = up;
  }
  return join(dir, 'data');
}

const source = JSON.parse(readFileSync(join(vegaDataDir(), 'penguins.json'), 'utf8'));
const rows = source.map((record) => {
  const row = {};
  for (const [from, to] of Object.entries(COLUMNS)) {
    const v = record[from];
    row[to] = v === null || v === undefined || v === '.' ? '' : v;
  }
  return row;
});
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'penguins.csv');
writeCsvFile(out, Object.values(COLUMNS), rows);
console.log(`wrote ${rows.length} rows to ${out}`);
