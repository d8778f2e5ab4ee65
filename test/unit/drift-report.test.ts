// Drift reports: Evidently's default test per column (type and size), scores on real data
// (penguins of two islands, flights of morning vs evening, January vs March) equal to the
// scipy values in the fixtures, the CLI's exit codes, and the standalone HTML file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli-harness';
import { driftHtml, driftReport, loadColumns } from '../../orchestrator/drift';
import type { ColumnDrift, DriftReport } from '../../protocol/data';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DATA = join(REPO, 'node_modules', 'vega-datasets', 'data');
const FIX = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'drift', 'scipy-values.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'mlops-drift-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, dir);

function csv(file: string, rows: Record<string, unknown>[]): void {
  const cols = Object.keys(rows[0]!);
  const q = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  writeFileSync(join(dir, file), [cols.join(','), ...rows.map((r) => cols.map((c) => q(r[c])).join(','))].join('\n'));
}

const penguins = JSON.parse(readFileSync(join(DATA, 'penguins.json'), 'utf8')) as Record<string, unknown>[];
csv('biscoe.csv', penguins.filter((p) => p.Island === 'Biscoe'));
csv('dream.csv', penguins.filter((p) => p.Island === 'Dream'));
const flights = JSON.parse(readFileSync(join(DATA, 'flights-20k.json'), 'utf8')) as { date: string }[];
const hour = (f: { date: string }) => Number(f.date.slice(11, 13));
writeFileSync(join(dir, 'morning.json'), JSON.stringify(flights.filter((f) => hour(f) < 10)));
writeFileSync(join(dir, 'evening.jsonl'), flights.filter((f) => hour(f) >= 17).map((f) => JSON.stringify(f)).join('\n'));
writeFileSync(join(dir, 'jan.json'), JSON.stringify(flights.filter((f) => f.date.startsWith('2001/01'))));
writeFileSync(join(dir, 'mar.json'), JSON.stringify(flights.filter((f) => f.date.startsWith('2001/03'))));

const byName = (r: DriftReport) => new Map(r.columns.map((c) => [c.column, c]));

describe('mlops drift on real data', () => {
  it('penguins of Biscoe vs Dream: KS on measurements, chi-square on species, z-test on island; drift (exit 1)', async () => {
    const r = await cli(['drift', '--reference', 'biscoe.csv', '--current', 'dream.csv', '--json']);
    assert.equal(r.code, 1);
    const report = r.json[0] as DriftReport;
    const cols = byName(report);
    for (const [name, want] of Object.entries(FIX.real.penguins_biscoe_vs_dream) as [string, { test: string; score: number }][]) {
      const c = cols.get(name)!;
      assert.equal(c.test, want.test, name);
      assert.ok(Math.abs(c.score - want.score) <= 1e-10 * Math.max(want.score, 1e-300) || c.score === want.score, `${name}: ${c.score} vs scipy ${want.score}`);
    }
    assert.equal(cols.get('Island')!.test, 'z');
    assert.equal(cols.get('Beak Length (mm)')!.method, 'exact');
    assert.match(cols.get('Beak Depth (mm)')!.reason, /^reference has 167 values \(≤ 1000\); numeric with 75 distinct values \(> 5\)$/);
    assert.equal(report.datasetDrift, true);
    assert.equal(report.drifted, 6);
    assert.equal(cols.get('Sex')!.drifted, false);
  });

  it('flights (vega-datasets) mornings vs evenings: Wasserstein and Jensen-Shannon (> 1000 rows), dates skipped', async () => {
    const r = await cli(['drift', '--reference', 'morning.json', '--current', 'evening.jsonl']);
    assert.equal(r.code, 1, r.out.join('\n'));
    assert.match(r.out[2]!, /^delay\s+numeric\s+Wasserstein distance \(normed\)\s+0.5831\s+≥ 0.1\s+DRIFT\s+reference has 5557 values \(> 1000\); numeric with \d+ distinct values \(> 5\)$/);
    assert.ok(r.out.includes('not tested: date: dates/times: not a feature (as in Evidently)'));
    assert.equal(r.out.at(-1), 'data-set drift: YES (4 of 4 columns drifted, share 1 ≥ 0.5)');
    const j = await cli(['drift', '--reference', 'morning.json', '--current', 'evening.jsonl', '--json']);
    const cols = byName(j.json[0] as DriftReport);
    for (const [name, want] of Object.entries(FIX.real.flights_morning_vs_evening) as [string, { test: string; score: number }][]) {
      assert.equal(cols.get(name)!.test, want.test, name);
      assert.ok(Math.abs(cols.get(name)!.score - want.score) < 1e-12, `${name}: ${cols.get(name)!.score} vs scipy ${want.score}`);
    }
  });

  it('flights of January vs March: no data-set drift (exit 0); --stattest and --threshold per column', async () => {
    assert.equal((await cli(['drift', '--reference', 'jan.json', '--current', 'mar.json'])).code, 0);
    const r = await cli(['drift', '--reference', 'jan.json', '--current', 'mar.json', '--columns', 'delay,origin', '--stattest', 'psi', '--threshold', 'origin=0.01', '--json']);
    const report = r.json[0] as DriftReport;
    assert.deepEqual(report.columns.map((c) => [c.column, c.test, c.threshold, c.reason]), [['delay', 'psi', 0.1, 'chosen with --stattest'], ['origin', 'psi', 0.01, 'chosen with --stattest']]);
    assert.equal(r.code, report.datasetDrift ? 1 : 0);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await cli(['drift', '--reference', 'jan.json'])).code, 2);
    assert.equal((await cli(['drift', '--reference', 'jan.json', '--current', 'nope.json'])).code, 2);
    const bad = await cli(['drift', '--reference', 'jan.json', '--current', 'mar.json', '--stattest', 'origin=ks']);
    assert.equal(bad.code, 2);
    assert.match(bad.err[0]!, /--stattest ks needs a numeric column; "origin" is categorical/);
    assert.equal((await cli(['drift', '--reference', 'jan.json', '--current', 'mar.json', '--stattest', 'anova'])).code, 2);
    assert.equal((await cli(['drift', '--reference', 'jan.json', '--current', 'mar.json', '--columns', 'nope'])).code, 2);
  });
});

describe('test selection (Evidently defaults)', () => {
  async function report(ref: string, cur: string): Promise<Map<string, ColumnDrift>> {
    writeFileSync(join(dir, 'r.csv'), ref);
    writeFileSync(join(dir, 'c.csv'), cur);
    const [a, b] = await Promise.all([loadColumns(join(dir, 'r.csv'), 'csv'), loadColumns(join(dir, 'c.csv'), 'csv')]);
    return byName(driftReport({ path: 'r', table: a }, { path: 'c', table: b }));
  }
  const rows = (n: number, f: (i: number) => string) => ['few,two,many,cat', ...Array.from({ length: n }, (_, i) => f(i))].join('\n');

  it('reference ≤ 1000: few numeric values → chi-square, two → z, many → KS, text → chi-square', async () => {
    const m = await report(rows(500, (i) => `${i % 4},${i % 2},${i * 1.5},c${i % 3}`), rows(400, (i) => `${i % 5},${i % 2},${i * 1.7},c${i % 4}`));
    assert.deepEqual([...m.values()].map((c) => [c.column, c.kind, c.test]), [['few', 'numeric', 'chisquare'], ['two', 'numeric', 'z'], ['many', 'numeric', 'ks'], ['cat', 'categorical', 'chisquare']]);
    assert.equal(m.get('cat')!.score, 0, 'a category the reference never had: chi-square is infinite');
  });

  it('reference > 1000: few numeric values and text → Jensen-Shannon, many → Wasserstein', async () => {
    const m = await report(rows(1500, (i) => `${i % 4},${i % 2},${i},c${i % 3}`), rows(1200, (i) => `${i % 4},${i % 2},${i + 50},c${i % 3}`));
    assert.deepEqual([...m.values()].map((c) => c.test), ['jensenshannon', 'jensenshannon', 'wasserstein', 'jensenshannon']);
  });
});

describe('standalone HTML', () => {
  it('100 columns stay under 1 MB, hold both distributions of every column, and load nothing from outside', async () => {
    const n = 3000;
    const head = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? `cat${i}` : `x${i}`));
    const line = (i: number, shift: number) => head.map((h, k) => (h.startsWith('cat') ? `v${(i * (k + 1)) % 37}` : ((Math.sin(i * (k + 1)) + shift * (k % 3)) * 100).toFixed(3))).join(',');
    writeFileSync(join(dir, 'wide-r.csv'), [head.join(','), ...Array.from({ length: n }, (_, i) => line(i, 0))].join('\n'));
    writeFileSync(join(dir, 'wide-c.csv'), [head.join(','), ...Array.from({ length: n }, (_, i) => line(i + 7, 0.2))].join('\n'));
    const r = await cli(['drift', '--reference', 'wide-r.csv', '--current', 'wide-c.csv', '--html', 'out/report.html']);
    assert.ok([0, 1].includes(r.code));
    const file = join(dir, 'out', 'report.html');
    const size = statSync(file).size;
    assert.ok(size < 1_000_000, `${size} bytes`);
    const html = readFileSync(file, 'utf8');
    const report = JSON.parse(html.match(/<script type="application\/json" id="report">([\s\S]*?)<\/script>/)![1]!) as DriftReport;
    assert.equal(report.columns.length, 100);
    for (const c of report.columns) {
      assert.ok(c.histogram.reference.reduce((a, b) => a + b, 0) === n && c.histogram.current.reduce((a, b) => a + b, 0) === n, c.column);
    }
    assert.doesNotMatch(html.replaceAll('http://www.w3.org/2000/svg', ''), /(src|href)=|https?:\/\//, 'no external resources (the SVG namespace is a name, not a request)');
    // The CSP allows exactly the inline script and style, by hash.
    const script = html.match(/<script>([\s\S]*?)<\/script>/)![1]!;
    const style = html.match(/<style>([\s\S]*?)<\/style>/)![1]!;
    const sha = (s: string) => createHash('sha256').update(s).digest('base64');
    assert.ok(html.includes(`script-src 'sha256-${sha(script)}'`) && html.includes(`style-src 'sha256-${sha(style)}'`));
    assert.ok(driftHtml({ ...report, reference: { path: '</script><b>', rows: 1 } }).includes('\\u003c/script>'), 'data cannot close the script element');
  });
});
