// Dataset expectations: the streaming CSV parser, each expectation's semantics (mostly,
// empty cells, samples), the failure table and JUnit XML, Parquet/JSON sources.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Expectation } from '../../protocol/manifest';
import { CsvParser, ExpectationSuite, checkDatasets, failureTable, formatFraction, parseCsv, scanTable } from '../../orchestrator/data';
import { junitXml as renderJUnit } from '../../orchestrator/cli/junit';
import { checkSuites } from '../../orchestrator/cli/junit-reports';
import { HashSet64, hashCells } from '../../orchestrator/data/hash-set';

const scratch = mkdtempSync(join(tmpdir(), 'mlops-data-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function run(csv: string, expect: Expectation[]) {
  const rows = parseCsv(csv);
  const suite = new ExpectationSuite(expect);
  suite.header(rows[0]!);
  rows.slice(1).forEach((r, i) => suite.row(r, i + 1));
  return suite.finish(rows.length - 1);
}

describe('CSV parser', () => {
  it('handles quotes, doubled quotes, newlines in quotes, CRLF, a BOM and blank lines', () => {
    assert.deepEqual(parseCsv('\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n\r\n2,"multi\nline",\n'), [
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'multi\nline', ''],
    ]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'id,name,note\n1,"Ann ""A""",x\r\n2,Bob,"a\r\nb"\n3,,"q"""\n4,"",z';
    const whole = parseCsv(text);
    for (let size = 1; size <= 7; size++) {
      const got: string[][] = [];
      const p = new CsvParser((f) => got.push([...f]));
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      p.end();
      assert.deepEqual(got, whole, `chunk size ${size}`);
    }
    assert.deepEqual(whole.at(-1), ['4', '', 'z']);
  });

  it('reads TSV with a tab delimiter', () => {
    assert.deepEqual(parseCsv('a\tb\n1\t2\n', { delimiter: '\t' }), [['a', 'b'], ['1', '2']]);
  });
});

describe('expectations', () => {
  const csv = 'id,age,plan,code\n1,34,basic,AB1234\n2,,pro,AB12\n3,17,pro,XY9999\n3,200,gold,AB0001\n5,abc,basic,\n';

  it('not_null counts every row; mostly decides', () => {
    const [strict, loose] = run(csv, [{ not_null: 'age' }, { not_null: ['age'], mostly: 0.8 }]);
    assert.equal(strict!.success, false);
    assert.equal(strict!.fraction, 0.8);
    assert.equal(strict!.observed, 'observed 0.8 (4/5), 1 failing');
    assert.deepEqual(strict!.sample, [{ row: 2, value: '(empty)' }]);
    assert.equal(loose!.success, true);
    assert.equal(loose!.observed, 'observed 0.8 ≥ mostly 0.8 (4/5)');
  });

  it('between ignores empty cells, fails on non-numbers, and samples the offenders', () => {
    const [r] = run(csv, [{ between: { column: 'age', min: 18, max: 120 }, mostly: 0.5 }]);
    assert.equal(r!.checked, 4);
    assert.equal(r!.failing, 3);
    assert.equal(r!.success, false);
    assert.equal(r!.observed, 'observed 0.25 < mostly 0.5 (1/4)');
    assert.deepEqual(r!.sample.map((s) => s.value), ['17', '200', 'abc']);
  });

  it('in_set, regex, type, unique, row_count, column_exists', () => {
    const results = run(csv, [
      { in_set: { column: 'plan', values: ['basic', 'pro'] } },
      { regex: { column: 'code', pattern: '^[A-Z]{2}[0-9]{4}$' } },
      { type: { column: 'age', type: 'integer' } },
      { unique: 'id' },
      { unique: ['id', 'plan'] },
      { row_count: { min: 10 } },
      { column_exists: ['id', 'email'] },
      { regex: { column: 'code', pattern: '(' } },
      { between: { column: 'nope', min: 1 } },
    ]);
    const by = (i: number) => results[i]!;
    assert.deepEqual([by(0).success, by(0).sample], [false, [{ row: 4, value: 'gold' }]]);
    assert.deepEqual([by(1).success, by(1).checked, by(1).sample.map((s) => s.value)], [false, 4, ['AB12']]);
    assert.deepEqual([by(2).success, by(2).sample.map((s) => s.value)], [false, ['abc']]);
    assert.deepEqual([by(3).success, by(3).failing, by(3).sample], [false, 1, [{ row: 4, value: '3' }]]);
    assert.equal(by(4).success, true, 'id+plan combinations are unique');
    assert.deepEqual([by(5).success, by(5).observed], [false, 'observed 5 rows < min 10']);
    assert.deepEqual(results.filter((r) => r.kind === 'column_exists').map((r) => [r.column, r.success]), [['id', true], ['email', false]]);
    const bad = results.find((r) => r.kind === 'regex' && r.expected === 'matches /(/')!;
    assert.match(bad.observed, /^invalid pattern/);
    assert.equal(results.at(-1)!.observed, 'column "nope" not found');
  });

  it('never rounds a share across the threshold', () => {
    assert.equal(formatFraction(0.9896, 0.99), '0.9896');
    assert.equal(formatFraction(0.97234, 0.99), '0.972');
    assert.equal(formatFraction(0.99996, 1), '0.99996');
  });

  it('the 64-bit hash set grows and finds repeats', () => {
    const s = new HashSet64();
    for (let i = 0; i < 50_000; i++) assert.equal(s.add(...hashCells([`v${i}`], 1)), true);
    assert.equal(s.add(...hashCells(['v123'], 1)), false);
    assert.equal(s.count, 50_000);
    assert.notDeepEqual(hashCells(['ab', 'c'], 2), hashCells(['a', 'bc'], 2));
  });
});

describe('data files and reports', () => {
  it('streams a large CSV with flat memory and reads JSON and JSON Lines', async () => {
    const big = join(scratch, 'big.csv');
    const lines = ['x,y'];
    for (let i = 0; i < 200_000; i++) lines.push(`${i},"v ${i % 7}"`);
    writeFileSync(big, lines.join('\n'));
    let n = 0;
    let last: unknown;
    const rows = await scanTable(big, 'csv', { header: (c) => assert.deepEqual(c, ['x', 'y']), row: (c) => ((n += 1), (last = [...c])) });
    assert.equal(rows, 200_000);
    assert.deepEqual(last, ['199999', 'v 2']);
    writeFileSync(join(scratch, 'a.json'), JSON.stringify([{ a: 1, b: 'x' }, { a: null, b: 'y', c: true }]));
    writeFileSync(join(scratch, 'a.jsonl'), '{"a":1}\n\n{"a":2,"b":3}\n');
    const seen: unknown[] = [];
    await scanTable(join(scratch, 'a.json'), 'json', { header: (c) => seen.push([...c]), row: (c) => seen.push([...c]) });
    await scanTable(join(scratch, 'a.jsonl'), 'jsonl', { header: (c) => seen.push([...c]), row: (c) => seen.push([...c]) });
    assert.deepEqual(seen, [['a', 'b'], [1, 'x'], [null, 'y'], ['a'], [1], [2]]);
  });

  it('checkDatasets: locations in mlops.yaml, a failure table and JUnit XML; a missing file fails with a reason', async () => {
    writeFileSync(join(scratch, 'd.csv'), 'id,age\n1,30\n2,-4\n');
    const text = 'version: 1\nproject: t\ndatasets:\n  d:\n    path: d.csv\n    expect:\n      - not_null: id\n      - between: {column: age, min: 0}\n  gone:\n    path: missing.csv\n    expect:\n      - row_count: {min: 1}\n';
    const manifest = (await import('yaml')).parse(text);
    const report = await checkDatasets(scratch, manifest, [], text);
    assert.equal(report.success, false);
    const [d, gone] = report.datasets;
    assert.deepEqual(d!.results.map((r) => [r.kind, r.success, r.location?.line, r.location?.column]), [['not_null', true, 7, 9], ['between', false, 8, 9]]);
    assert.match(gone!.error!, /no such data file/);
    const table = failureTable(d!);
    assert.equal(table[0], 'dataset d (d.csv, 2 rows): 1 of 2 expectations failed');
    assert.match(table[1]!, /EXPECTATION\s+COLUMN\s+OBSERVED\s+SAMPLE/);
    assert.match(table[2]!, /at least 0\s+age\s+observed 0.5 \(1\/2\), 1 failing\s+row 2: -4/);
    const xml = renderJUnit('mlops check', checkSuites(report));
    assert.match(xml, /<testsuites name="mlops check" tests="3" failures="2"/);
    assert.match(xml, /<failure message="observed 0.5 \(1\/2\), 1 failing">/);
    await assert.rejects(checkDatasets(scratch, manifest, ['dd']), /unknown dataset "dd"; did you mean "d"\?/);
  });
});

describe('Parquet', () => {
  const REPO = join(__dirname, '..', '..');
  it('checks and compares a Parquet file (hyparquet, row group by row group) like the CSV it was made from', async () => {
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(REPO, 'test', 'fixtures', 'drift', 'penguins.parquet'), join(scratch, 'penguins.parquet'));
    const yaml = await import('yaml');
    const sample = yaml.parse(readFileSync(join(REPO, 'examples', 'penguins', 'mlops.yaml'), 'utf8'));
    const manifest = { ...sample, datasets: { penguins: { ...sample.datasets.penguins, path: 'penguins.parquet', format: 'parquet' } } };
    const report = await checkDatasets(scratch, manifest);
    assert.equal(report.success, true, JSON.stringify(report.datasets[0]!.results.filter((r) => !r.success)));
    assert.equal(report.datasets[0]!.rows, 344);
    assert.equal(report.datasets[0]!.format, 'parquet');
    const { driftFiles } = await import('../../orchestrator/drift');
    const drift = await driftFiles(join(scratch, 'penguins.parquet'), join(REPO, 'examples', 'penguins', 'data', 'penguins.csv'));
    assert.equal(drift.tested, 7);
    assert.equal(drift.drifted, 0, 'the same data in two formats does not drift');
  });

  it('says which codec it cannot read (vega-datasets flights-3m.parquet is ZSTD)', async () => {
    await assert.rejects(scanTable(join(REPO, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet'), 'parquet', { header() {}, row() {} }), /cannot read .*flights-3m.parquet as parquet: .*ZSTD/);
  });
});
