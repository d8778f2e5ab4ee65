// Re-creates data/seattle-weather.csv from the vega-datasets npm package. Not a
// pipeline step: the CSV is vendored so the sample runs offline with no npm
// install; this script records exactly where it came from. The file is copied
// byte for byte and its SHA-256 checked against the one in data/LICENSE.md.
//
//   node tools/vendor-weather.mjs        (from this folder, inside the workbench repository)
//   MLOPS_HOME=/path/to/workbench node tools/vendor-weather.mjs
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHA256 = '0845078a290b48e3149ab8639966824110a251db4e06fc144c06ebb534af23be';
const here = dirname(fileURLToPath(import.meta.url));

function findSource() {
  const roots = [process.env.MLOPS_HOME, join(here, '..', '..', '..')].filter(Boolean);
  for (const root of roots) {
    const file = join(root, 'node_modules', 'vega-datasets', 'data', 'seattle-weather.csv');
    if (existsSync(file)) return file;
  }
  throw new Error('node_modules/vega-datasets/data/seattle-weather.csv not found: run from the workbench repository or set MLOPS_HOME');
}

const source = findSource();
const hash = createHash('sha256').update(readFileSync(source)).digest('hex');
if (hash !== SHA256) throw new Error(`${source} has SHA-256 ${hash}, expected ${SHA256} (vega-datasets 3.2.1): check the licence note before vendoring another version`);
const out = join(here, '..', 'data', 'seattle-weather.csv');
copyFileSync(source, out);
console.log(`copied ${source} to ${out} (sha256 ${hash})`);
