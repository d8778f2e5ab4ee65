/**
 * JUnit reports for CI (orchestrator/cli/junit.ts): text from data and manifests is escaped so
 * the file always parses, and `mlops validate --junit` / `mlops drift --junit` write reports
 * whose failures are exactly what made the command exit 1. Parsed back with fast-xml-parser.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { junitXml } from '../../orchestrator/cli/junit';
import { runCli } from './cli-harness';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-junit-')));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Case {
  '@_name': string;
  failure?: { '@_message': string; '#text'?: string };
}

function parseJUnit(xml: string): { title: string; tests: number; failures: number; cases: Case[] } {
  assert.equal(XMLValidator.validate(xml), true, xml);
  const doc = new XMLParser({ ignoreAttributes: false, trimValues: false, processEntities: true, htmlEntities: true, isArray: (n) => n === 'testsuite' || n === 'testcase' }).parse(xml) as {
    testsuites: { '@_name': string; '@_tests': string; '@_failures': string; testsuite: { testcase?: Case[] }[] };
  };
  const t = doc.testsuites;
  return { title: t['@_name'], tests: Number(t['@_tests']), failures: Number(t['@_failures']), cases: t.testsuite.flatMap((s) => s.testcase ?? []) };
}

describe('JUnit XML', () => {
  it('escapes markup, quotes and characters XML cannot hold, and keeps the text readable', () => {
    const nasty = `a<b & "c" 'd' ]]> \u0001\u001f\uD800 é ✓`;
    const xml = junitXml('mlops <t>', [{ name: 'suite "s"', cases: [{ classname: 'mlops.x', name: nasty, failure: { message: `line 1\nline 2 ${nasty}`, detail: `detail ${nasty}` } }, { classname: 'mlops.x', name: 'ok' }] }]);
    const parsed = parseJUnit(xml);
    assert.equal(parsed.title, 'mlops <t>');
    assert.deepEqual([parsed.tests, parsed.failures], [2, 1]);
    const expected = `a<b & "c" 'd' ]]> \uFFFD\uFFFD\uFFFD é ✓`;
    assert.equal(parsed.cases[0]!['@_name'], expected);
    assert.equal(parsed.cases[0]!.failure!['@_message'], `line 1\nline 2 ${expected}`, 'a newline in the message survives as &#10;');
    assert.equal(parsed.cases[0]!.failure!['#text'], `detail ${expected}`);
    assert.equal(parsed.cases[1]!.failure, undefined);
  });

  it('mlops validate --junit: a failing case per error, or one passing case; exit codes as without it', async () => {
    fs.writeFileSync(path.join(dir, 'mlops.yaml'), 'version: 1\nproject: j\nsteps:\n  train:\n    cmd: echo train\n    needs: [prepare]\n');
    const bad = await runCli(['validate', '--junit', 'reports/validate.xml'], dir);
    assert.equal(bad.code, 1);
    const report = parseJUnit(fs.readFileSync(path.join(dir, 'reports', 'validate.xml'), 'utf8'));
    assert.equal(report.title, 'mlops validate');
    const failed = report.cases.filter((c) => c.failure);
    assert.equal(failed.length, report.failures);
    assert.ok(failed.length >= 1);
    assert.match(failed[0]!['@_name'], /^mlops\.yaml:6:\d+ error /);
    assert.match(failed[0]!.failure!['@_message'], /prepare/);

    fs.writeFileSync(path.join(dir, 'mlops.yaml'), 'version: 1\nproject: j\nsteps:\n  train:\n    cmd: echo train\n');
    const good = await runCli(['validate', '--junit', 'reports/validate.xml', '--json'], dir);
    assert.equal(good.code, 0);
    assert.equal((good.json[0] as { valid: boolean }).valid, true);
    const ok = parseJUnit(fs.readFileSync(path.join(dir, 'reports', 'validate.xml'), 'utf8'));
    assert.equal(ok.failures, 0);
    assert.equal(ok.cases[0]!['@_name'], 'mlops.yaml is valid');

    const unwritable = await runCli(['validate', '--junit', 'mlops.yaml/report.xml'], dir);
    assert.equal(unwritable.code, 2);
    assert.match(unwritable.err.join('\n'), /--junit mlops.yaml\/report.xml: cannot write the report/);
  });

  it('mlops drift --junit: columns fail when the data set drifts (exit 1), pass when it does not (exit 0)', async () => {
    const penguins = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json'), 'utf8')) as Record<string, unknown>[];
    const write = (file: string, rows: Record<string, unknown>[]) => fs.writeFileSync(path.join(dir, file), JSON.stringify(rows));
    write('biscoe.json', penguins.filter((p) => p.Island === 'Biscoe'));
    write('dream.json', penguins.filter((p) => p.Island === 'Dream'));
    const drifted = await runCli(['drift', '--reference', 'biscoe.json', '--current', 'dream.json', '--junit', 'reports/drift.xml', '--json'], dir);
    assert.equal(drifted.code, 1);
    const report = drifted.json[0] as { drifted: number; tested: number };
    const junit = parseJUnit(fs.readFileSync(path.join(dir, 'reports', 'drift.xml'), 'utf8'));
    assert.equal(junit.tests, report.tested + 1);
    assert.equal(junit.failures, report.drifted + 1, 'each drifted column and the data set');
    assert.equal(junit.cases[0]!['@_name'], 'data-set drift');
    assert.match(junit.cases[0]!.failure!['@_message'], new RegExp(`^data-set drift: ${report.drifted} of ${report.tested} columns drifted \\(share [\\d.]+ ≥ 0.5\\)$`));
    const island = junit.cases.find((c) => c['@_name'].startsWith('column Island '))!;
    assert.match(island.failure!['@_message'], /^Island: Z-test p-value .* \(drift when p < 0.05\)$/i);

    // One column drifting alone is no data-set drift: the report names it but nothing fails.
    const same = await runCli(['drift', '--reference', 'biscoe.json', '--current', 'dream.json', '--columns', 'Island,Sex', '--drift-share', '0.9', '--junit', 'reports/calm.xml'], dir);
    assert.equal(same.code, 0, same.out.join('\n'));
    const calm = parseJUnit(fs.readFileSync(path.join(dir, 'reports', 'calm.xml'), 'utf8'));
    assert.equal(calm.failures, 0);
    assert.ok(calm.cases.some((c) => / drifted, below the data-set share$/.test(c['@_name'])), calm.cases.map((c) => c['@_name']).join('\n'));
  });
});
