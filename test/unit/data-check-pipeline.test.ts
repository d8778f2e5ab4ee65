// `mlops check` on the penguins sample and a corrupted copy, and the pipeline's data gate: a
// failing expectation stops `prepare` before it runs, with the table in its message and log,
// and its dependants are skipped. Fixing the data lets the run go through.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli-harness';
import { PipelineRunner } from '../../orchestrator/pipelines';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';
import { stepLogPath } from '../../protocol/pipeline';
import type { CheckReport } from '../../protocol/data';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = join(REPO, 'examples', 'penguins');
const GENERATED = ['.mlops', 'data/prepared', 'models', 'metrics'].map((p) => p.split('/').join(sep));
const scratch = mkdtempSync(join(tmpdir(), 'mlops-check-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
for (const k of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT']) delete process.env[k];

const cli = runCli;

function copySample(name: string): string {
  const ws = join(scratch, name);
  cpSync(SAMPLE, ws, { recursive: true, filter: (src) => !GENERATED.some((g) => relative(SAMPLE, src) === g || relative(SAMPLE, src).startsWith(g + sep)) });
  return ws;
}

/** Body mass in kilograms on 30 rows and a misspelt species: what a broken export looks like. */
function corrupt(ws: string): string {
  const file = join(ws, 'data', 'penguins.csv');
  const original = readFileSync(file, 'utf8');
  const lines = original.split('\n');
  for (let i = 1; i <= 30; i++) {
    const f = lines[i]!.split(',');
    if (f[5]) f[5] = String(Number(f[5]) / 1000);
    lines[i] = f.join(',');
  }
  lines[40] = lines[40]!.replace(/^Adelie/, 'Adelei');
  writeFileSync(file, lines.join('\n'));
  return original;
}

describe('mlops check', () => {
  it('passes on the sample, fails with a table (and JUnit) on a corrupted copy', async () => {
    const ok = await cli(['check'], SAMPLE);
    assert.equal(ok.code, 0, ok.out.join('\n'));
    assert.deepEqual(ok.out, ['dataset penguins (data/penguins.csv, 344 rows): all 19 expectations passed', '1 dataset passed']);

    const ws = copySample('cli');
    corrupt(ws);
    const bad = await cli(['check', 'penguins', '--junit', 'reports/data.xml'], ws);
    assert.equal(bad.code, 1);
    assert.equal(bad.out[0], 'dataset penguins (data/penguins.csv, 344 rows): 2 of 19 expectations failed');
    assert.match(bad.out[2]!, /in_set \[Adelie, Chinstrap, Gentoo\]\s+species\s+observed 0.997 \(343\/344\), 1 failing\s+row 40: Adelei/);
    assert.match(bad.out[3]!, /between 2000 and 7000\s+body_mass_g\s+observed 0.915 < mostly 0.95 \(313\/342\)\s+row 1: 3.75; row 2: 3.8/);
    assert.ok(bad.out.includes('  mlops.yaml:41:9 between [body_mass_g]: observed 0.915 < mostly 0.95 (313/342)'), bad.out.join('\n'));
    assert.match(readFileSync(join(ws, 'reports', 'data.xml'), 'utf8'), /failures="2"/);

    const json = await cli(['check', '--json'], ws);
    const report = json.json[0] as CheckReport;
    assert.equal(report.success, false);
    assert.deepEqual(report.datasets[0]!.results.filter((r) => !r.success).map((r) => r.column), ['species', 'body_mass_g']);

    assert.equal((await cli(['check', 'pengiuns'], ws)).code, 2);
  });
});

describe('the pipeline data gate', () => {
  it('a corrupted copy of the penguins data stops the run before prepare, with the table; fixed data runs', async () => {
    const ws = copySample('run');
    const original = corrupt(ws);
    const store = await openSqliteStore(join(ws, '.mlops'));
    try {
      const runner = new PipelineRunner({ workspace: ws, store, env: { MLOPS_HOME: REPO } });
      const output: string[] = [];
      runner.on((e) => e.type === 'step-output' && output.push(e.text));
      const first = await runner.start();
      assert.equal(await first.done, 'failed');
      const run = (await store.getRun(first.runId))!;
      assert.deepEqual(run.children.map((c) => [c.name, c.status]), [['prepare', 'failed'], ['train', 'skipped'], ['evaluate', 'skipped']]);
      const prepare = run.children[0]!;
      assert.match(prepare.message!, /^data expectations failed: dataset penguins \(data\/penguins.csv, 344 rows\): 2 of 19 expectations failed\n/);
      assert.match(prepare.message!, /EXPECTATION\s+COLUMN\s+OBSERVED\s+SAMPLE/);
      assert.match(prepare.message!, /body_mass_g\s+observed 0.915 < mostly 0.95/);
      assert.match(run.message!, /^step prepare failed: data expectations failed/);
      assert.equal(run.children[1]!.message, 'upstream failed: prepare');
      const log = readFileSync(join(ws, stepLogPath(first.runId, 'prepare')), 'utf8');
      assert.match(log, /row 40: Adelei/);
      assert.match(output.join(''), /observed 0.915 < mostly 0.95/);

      writeFileSync(join(ws, 'data', 'penguins.csv'), original);
      const second = await runner.start({ steps: ['prepare'] });
      assert.equal(await second.done, 'succeeded', (await store.getRun(second.runId))?.message);
      assert.match(readFileSync(join(ws, stepLogPath(second.runId, 'prepare')), 'utf8'), /^data check: dataset penguins: 19 expectations passed \(344 rows\)/);
    } finally {
      await store.close();
    }
  });
});
