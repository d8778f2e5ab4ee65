/**
 * `npm run bench [-- NAME...]`: runs the benchmarks one after another, each in its own
 * process (so one's memory and caches do not colour the next), printing their tables.
 * Names: pipeline, ingest, lsp, drift, serving. Default: all. Figures, not pass/fail: targets are read by a person.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const BENCHES: Record<string, string> = {
  pipeline: 'pipeline-bench.ts',
  ingest: 'metric-ingest-bench.ts',
  lsp: 'lsp-bench.ts',
  drift: 'drift-bench.ts',
  serving: 'serving-bench.ts',
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(BENCHES);
let failed = 0;
for (const name of wanted) {
  const file = BENCHES[name];
  if (!file) {
    console.error(`unknown benchmark "${name}"; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench: ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, file)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
