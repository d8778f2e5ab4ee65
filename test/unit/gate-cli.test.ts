/**
 * `mlops gate` on a real penguins run (a temp copy of the sample, the real daemon): it judges
 * a run before anything is registered and a registered version afterwards, moves nothing, exits
 * 0 / 1 / 2 as documented, and its JUnit report parses back (fast-xml-parser, strict) into the
 * cases CI shows, a failing gate reading `accuracy 0.988372 < min 0.995`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { GateReport, ModelVersionDetail, RegisteredModel } from '../../protocol/registry';
import type { RunSummary } from '../../protocol/types';
import { runCli, saveEnv, stopWorkspaceDaemon, type CliResult } from './cli-harness';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = path.join(REPO, 'examples', 'penguins');
const GENERATED = new Set(['.mlops', 'models', 'metrics', path.join('data', 'prepared')]);
const MODEL = 'penguins-classifier';
const GATE = '      - {metric: accuracy, min: 0.9}\n';

let ws: string;
let run: RunSummary;
const restoreEnv = saveEnv('MLOPS_HOME', 'MLOPS_TOKEN');
const text = (r: CliResult) => [...r.out, ...r.err].join('\n');

interface Case {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string; '#text'?: string };
}

/** Parses a JUnit file strictly (well-formed or the test fails) into its totals and cases. */
function readJUnit(file: string): { tests: number; failures: number; suites: string[]; cases: Case[] } {
  const xml = fs.readFileSync(file, 'utf8');
  assert.equal(XMLValidator.validate(xml), true, xml);
  const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(xml) as {
    testsuites: { '@_tests': string; '@_failures': string; testsuite: { '@_name': string; testcase?: Case[] }[] };
  };
  const root = doc.testsuites;
  return { tests: Number(root['@_tests']), failures: Number(root['@_failures']), suites: root.testsuite.map((s) => s['@_name']), cases: root.testsuite.flatMap((s) => s.testcase ?? []) };
}

function setGates(lines: string): void {
  const file = path.join(ws, 'mlops.yaml');
  const manifest = fs.readFileSync(file, 'utf8');
  const start = manifest.indexOf('    gates:\n');
  const end = manifest.indexOf('    approvals:');
  assert.ok(start > 0 && end > start);
  fs.writeFileSync(file, `${manifest.slice(0, start)}    gates:\n${lines}${manifest.slice(end)}`);
}

before(async () => {
  ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-gate-')));
  fs.cpSync(SAMPLE, ws, { recursive: true, filter: (src) => !GENERATED.has(path.relative(SAMPLE, src)) });
  assert.ok(fs.readFileSync(path.join(ws, 'mlops.yaml'), 'utf8').includes(GATE), 'the sample declares the accuracy gate');
  process.env.MLOPS_HOME = REPO; // evaluate borrows onnxruntime-node from the workbench
  delete process.env.MLOPS_TOKEN;
  const r = await runCli(['run'], ws);
  assert.equal(r.code, 0, text(r));
  run = ((await runCli(['runs', '--limit', '1', '--json'], ws)).json[0] as { runs: RunSummary[] }).runs[0]!;
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  restoreEnv();
  fs.rmSync(ws, { recursive: true, force: true });
});

describe('mlops gate', () => {
  it('passes a good run before anything is registered (exit 0), one passing JUnit case per condition', async () => {
    const r = await runCli(['gate', `${MODEL}@production`, '--run', run.id.slice(0, 8), '--junit', 'reports/pass.xml'], ws);
    assert.equal(r.code, 0, text(r));
    assert.match(r.out[0]!, new RegExp(`^${MODEL} run ${run.id.slice(0, 8)} → @production: PASS \\(1 gate condition\\)$`));
    assert.ok(r.out.includes('nothing was moved (mlops gate only checks)'));
    const junit = readJUnit(path.join(ws, 'reports', 'pass.xml'));
    assert.deepEqual({ tests: junit.tests, failures: junit.failures }, { tests: 1, failures: 0 });
    assert.deepEqual(junit.suites, [`gates ${MODEL} run ${run.id.slice(0, 8)} → @production`]);
    assert.deepEqual(junit.cases.map((c) => [c['@_classname'], c['@_name'], c.failure]), [[`mlops.gate.${MODEL}`, 'accuracy >= 0.9', undefined]]);
  });

  it('fails a stricter gate (exit 1): the JUnit failure says by how much, and a missing metric says so', async () => {
    setGates('      - {metric: accuracy, min: 0.995}\n      - {metric: loss, max: 0.2}\n      - {metric: f1_macro, min: 0.5}\n');
    const accuracy = run.latestMetrics.accuracy!;
    assert.ok(accuracy < 0.995, `the sample's accuracy ${accuracy} is below the stricter gate`);
    const shown = String(Number(accuracy.toPrecision(6)));
    const r = await runCli(['gate', `${MODEL}@production`, '--run', run.id, '--junit', 'reports/fail.xml'], ws);
    assert.equal(r.code, 1, text(r));
    assert.match(r.out[0]!, /: FAIL \(2 of 3 gate conditions\)$/);
    assert.ok(r.out.includes(`gate failed: accuracy ${shown} < min 0.995`), text(r));
    assert.ok(r.out.includes(`gate failed: run ${run.id.slice(0, 8)} has no metric "loss"`), text(r));
    const junit = readJUnit(path.join(ws, 'reports', 'fail.xml'));
    assert.deepEqual({ tests: junit.tests, failures: junit.failures }, { tests: 3, failures: 2 });
    const [acc, loss, f1] = junit.cases;
    assert.equal(acc!['@_name'], 'accuracy >= 0.995');
    assert.equal(acc!.failure!['@_message'], `accuracy ${shown} < min 0.995`);
    // The body is the whole gate table, for the reader who expands the failure.
    assert.match(acc!.failure!['#text']!, new RegExp(`METRIC\\s+CONDITION\\s+VALUE\\s+THRESHOLD\\s+RESULT\\n.*accuracy\\s+>= 0.995\\s+${shown.replace('.', '\\.')}\\s+0.995\\s+FAIL`));
    assert.equal(loss!.failure!['@_message'], `run ${run.id.slice(0, 8)} has no metric "loss"`);
    assert.equal(f1!['@_name'], 'f1_macro >= 0.5');
    assert.equal(f1!.failure, undefined);

    const json = await runCli(['gate', `${MODEL}@production`, '--run', run.id, '--json'], ws);
    assert.equal(json.code, 1);
    const report = json.json[0] as GateReport;
    assert.deepEqual([report.passed, report.runId, report.version, report.approvalsRequired], [false, run.id, 0, 1]);
  });

  it('judges the newest registered version by default, or --version, and moves nothing', async () => {
    const reg = await runCli(['models', 'register', MODEL, '--run', run.id, '--json'], ws);
    assert.equal(reg.code, 0, text(reg));
    const byDefault = await runCli(['gate', `${MODEL}@staging`, '--json', '--junit', 'reports/v1.xml'], ws);
    assert.equal(byDefault.code, 1, text(byDefault));
    assert.deepEqual([(byDefault.json[0] as GateReport).version, (byDefault.json[0] as GateReport).runId], [1, undefined]);
    assert.deepEqual(readJUnit(path.join(ws, 'reports', 'v1.xml')).suites, [`gates ${MODEL} v1 → @staging`]);
    setGates(GATE);
    const passing = await runCli(['gate', `${MODEL}@staging`, '--version', '1'], ws);
    assert.equal(passing.code, 0, text(passing));
    assert.match(passing.out[0]!, new RegExp(`^${MODEL} v1 → @staging: PASS`));
    const shown = (await runCli(['models', 'show', `${MODEL}/1`, '--json'], ws)).json[0] as ModelVersionDetail;
    assert.deepEqual(shown.aliases, [], 'gate moved no alias');
    const models = (await runCli(['models', 'list', '--json'], ws)).json[0] as { models: RegisteredModel[] };
    assert.deepEqual(models.models[0]!.aliases, {});
  });

  it('exits 2 with a reason for an unknown version, model or run, and for bad arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['gate', `${MODEL}@staging`, '--version', '7'], new RegExp(`${MODEL} has no version 7`)],
      [['gate', 'nosuch@staging'], /no registered model "nosuch"/],
      [['gate', `${MODEL}@staging`, '--run', 'ffffffff'], /no run id starts with ffffffff/],
      [['gate', 'nosuch@staging', '--run', run.id], /mlops.yaml declares no model "nosuch"/],
      [['gate', MODEL], /names no alias: write NAME@ALIAS/],
      [['gate', `${MODEL}@staging`, '--version', '1', '--run', run.id], /give --version or --run, not both/],
      [['gate', `${MODEL}@staging`, '--version', 'latest'], /"latest" is not a version number/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, ws);
      assert.equal(r.code, 2, `${args.join(' ')}: ${text(r)}`);
      assert.match(r.err.join('\n'), message, args.join(' '));
    }
  });
});
