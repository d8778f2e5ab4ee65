// The request log as monitoring reads it: windows over rotated files, drift of logged traffic
// against the monitor reference (penguins' training split), feedback joins, `mlops drift DEPLOYMENT`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { DeploymentDriftResult } from '../../protocol/monitoring';
import type { RequestLogEntry } from '../../protocol/serving';
import { deploymentDrift } from '../../orchestrator/monitoring/deployment-drift';
import { joinFeedback, readFeedback } from '../../orchestrator/monitoring/feedback-join';
import { monitorStatus } from '../../orchestrator/monitoring/monitor-status';
import { readRequestLog } from '../../orchestrator/monitoring/request-log';
import { loadManifest } from '../../orchestrator/pipelines/load';
import { runCli } from './cli-harness';
import { trainedPenguins } from './trained-penguins';

const SAMPLE = trainedPenguins();
const FEATURES = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'island_Biscoe', 'island_Dream', 'island_Torgersen', 'sex_FEMALE', 'sex_MALE'];
let ws = '';
let reqDir = '';
let train: { species: string; x: number[] }[] = [];

function logLines(file: string, entries: RequestLogEntry[], mtime: number, torn = false): void {
  fs.writeFileSync(file, entries.map((e) => JSON.stringify(e)).join('\n') + '\n' + (torn ? '{"id":"torn","at":' : ''));
  fs.utimesSync(file, mtime / 1000, mtime / 1000);
}

function entry(id: string, at: number, rows: number[][], extra: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return { id, at, version: 1, role: 'stable', status: 200, latencyMs: 2, columns: FEATURES, rows, predictions: rows.map((r) => (r[4] === 1 ? 'Gentoo' : 'Adelie')), ...extra };
}

before(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-monitor-log-'));
  fs.copyFileSync(path.join(SAMPLE, 'mlops.yaml'), path.join(ws, 'mlops.yaml'));
  fs.mkdirSync(path.join(ws, 'data/prepared'), { recursive: true });
  fs.copyFileSync(path.join(SAMPLE, 'data/prepared/train.csv'), path.join(ws, 'data/prepared/train.csv'));
  const [head, ...rows] = fs.readFileSync(path.join(ws, 'data/prepared/train.csv'), 'utf8').trim().split('\n');
  const cols = head!.split(',');
  train = rows.map((r) => {
    const f = r.split(',');
    return { species: f[cols.indexOf('species')]!, x: FEATURES.map((c) => Number(f[cols.indexOf(c)])) };
  });
  reqDir = path.join(ws, '.mlops/deployments/penguins-api/requests');
  fs.mkdirSync(reqDir, { recursive: true });
});
after(() => fs.rmSync(ws, { recursive: true, force: true }));

test('windows over rotated files: newest first by count or time, shadow lines skipped unless asked, torn lines ignored', () => {
  const t0 = Date.now() - 3_600_000;
  // Older file: 100 single-row requests a minute apart… newer: 100 more, plus shadow copies.
  // The split is ordered by species: traffic is a fixed shuffle of it (i → 101·i mod n).
  const mixed = train.map((_, i) => train[(i * 101) % train.length]!);
  const older = mixed.slice(0, 100).map((r, i) => entry(`a${i}`, t0 + i * 10_000, [r.x]));
  const newer = mixed.slice(100, 200).flatMap((r, i) => [entry(`b${i}`, t0 + 1_000_000 + i * 10_000, [r.x]), entry(`b${i}`, t0 + 1_000_000 + i * 10_000, [r.x], { role: 'shadow', version: 2 })]);
  logLines(path.join(reqDir, 'requests-1.jsonl'), older, t0 + 999_000);
  logLines(path.join(reqDir, 'requests-2.jsonl'), newer, t0 + 2_000_000, true);
  const last = readRequestLog(reqDir, { last: 150 });
  assert.equal(last.length, 150);
  assert.equal(last[0]!.id, 'a50', 'oldest first, 50 from the older file');
  assert.equal(last.at(-1)!.id, 'b99');
  assert.ok(last.every((e) => e.role !== 'shadow'));
  assert.equal(readRequestLog(reqDir, { last: 10, includeShadow: true }).filter((e) => e.role === 'shadow').length, 5);
  const since = readRequestLog(reqDir, { since: t0 + 1_000_000 + 90 * 10_000 });
  assert.deepEqual(since.map((e) => e.id), ['b90', 'b91', 'b92', 'b93', 'b94', 'b95', 'b96', 'b97', 'b98', 'b99']);
  assert.equal(readRequestLog(path.join(ws, 'nowhere')).length, 0);
});

test('logged traffic like the training data does not drift; shifted traffic does, per column, and the report is saved', async () => {
  const { manifest } = loadManifest(ws);
  const same = await deploymentDrift(ws, manifest, 'penguins-api', { window: { last: 200 } });
  assert.equal(same.requests, 200);
  assert.equal(same.report.tested, 9);
  assert.equal(same.report.datasetDrift, false, JSON.stringify(same.report.columns.map((c) => [c.column, c.score])));
  assert.ok(fs.existsSync(same.reportPath));
  assert.ok(same.predictionShift, 'the first window becomes the prediction baseline');
  assert.equal(same.predictionShift!.score, 0);
  // Shifted traffic: only Gentoo, heavier (a different population).
  const gentoo = train.filter((r) => r.species === 'Gentoo').map((r) => r.x.map((v, i) => (i === 3 ? v * 1.3 : v)));
  const t = Date.now();
  logLines(path.join(reqDir, 'requests-3.jsonl'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => entry(`g${k}`, t + k, gentoo.slice(k * 8, k * 8 + 8))), t + 1000);
  const shifted = await deploymentDrift(ws, manifest, 'penguins-api', { window: { last: 10 } });
  assert.equal(shifted.rows, 80);
  assert.equal(shifted.report.datasetDrift, true);
  assert.ok(shifted.report.share > 0.5, String(shifted.report.share));
  const bm = shifted.report.columns.find((c) => c.column === 'body_mass_g')!;
  assert.equal(bm.drifted, true);
  assert.ok(shifted.predictionShift!.score > 0.3, 'all predictions are Gentoo now');
  const saved = JSON.parse(fs.readFileSync(shifted.reportPath, 'utf8')) as DeploymentDriftResult;
  assert.equal(saved.report.drifted, shifted.report.drifted);
});

test('feedback joins by request id (single row) and <requestId>:<row> (multi-row); the rest is unmatched', () => {
  const fb = path.join(ws, '.mlops/deployments/penguins-api/feedback');
  fs.mkdirSync(fb, { recursive: true });
  const lines = [
    { id: 'b1', at: 1, labels: ['Adelie'] }, // single-row request, its prediction is Adelie or Gentoo
    { id: 'b2:0', at: 1, labels: ['Chinstrap'] }, // the same single row, spelled with :0
    { id: 'g0', at: 1, labels: ['Gentoo', 'Gentoo', 'Adelie', null, 'Gentoo', 'Gentoo', 'Gentoo', 'Gentoo'] }, // every row of a multi-row request
    { id: 'g1:3', at: 1, labels: ['Adelie'] }, // one row of a multi-row request
    { id: 'nope', at: 1, labels: ['Adelie'] },
    { id: 'b1', at: 2, labels: ['Gentoo'] }, // a later label replaces the first
  ];
  fs.writeFileSync(path.join(fb, 'feedback-1.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const entries = readRequestLog(reqDir);
  const { joined, unmatched } = joinFeedback(entries, readFeedback(fb));
  assert.equal(unmatched, 1);
  const byId = new Map(joined.map((j) => [j.id, j]));
  assert.deepEqual([...byId.keys()].sort(), ['b1', 'b2', 'g0:0', 'g0:1', 'g0:2', 'g0:4', 'g0:5', 'g0:6', 'g0:7', 'g1:3'].sort());
  assert.equal(byId.get('b1')!.label, 'Gentoo');
  assert.equal(byId.get('g0:2')!.prediction, 'Gentoo');
  const status = monitorStatus(ws, 'penguins-api', { registered: { 1: { accuracy: 0.99 } } });
  const v1 = status.concept.find((c) => c.version === 1)!;
  assert.equal(v1.n, 10);
  assert.equal(v1.task, 'classification');
  assert.equal(status.unmatchedFeedback, 1);
  assert.ok(status.performance.byVersion.length >= 1);
  assert.equal(status.performance.byVersion[0]!.p99Ms, 2);
  assert.ok(status.lastDrift?.datasetDrift);
});

test('mlops drift DEPLOYMENT: exit 1 on drift with the table, JSON, windows, and clear usage errors (exit 2)', async () => {
  const r = await runCli(['drift', 'penguins-api', '--last', '10'], ws);
  assert.equal(r.code, 1, r.err.join('\n'));
  assert.match(r.out[0]!, /^deployment penguins-api: 10 requests \(80 rows\)$/);
  assert.ok(r.out.some((l) => /^data-set drift: YES/.test(l)));
  assert.ok(r.out.some((l) => /^saved: \.mlops\/deployments\/penguins-api\/reports\/drift-/.test(l)));
  const j = await runCli(['drift', 'penguins-api', '--since', '2h', '--json'], ws);
  assert.equal(j.code, 1);
  assert.equal((j.json[0] as DeploymentDriftResult).requests, 210);
  const errs: [string[], RegExp][] = [
    [['drift', 'penguins-api', '--last', 'x'], /--last x: expected a number of requests/],
    [['drift', 'penguins-api', '--since', 'soon'], /--since soon: expected a duration such as 30s, 10m/],
    [['drift', 'penguins-api', '--last', '5', '--since', '1h'], /give one window, not both/],
    [['drift', 'nope'], /no deployment "nope" in mlops.yaml \(deployments: penguins-api\)/],
    [['drift', 'penguins-api', '--reference', 'a.csv'], /drop --reference\/--current/],
    [['drift'], /give --reference FILE and --current FILE, or a DEPLOYMENT name/],
  ];
  for (const [args, msg] of errs) {
    const e = await runCli(args, ws);
    assert.equal(e.code, 2, args.join(' '));
    assert.match(e.err.join('\n'), msg);
  }
});

test('mlops validate reports a bad alert condition on its `when` (and the schema a webhook rule without a URL)', async () => {
  const file = path.join(ws, 'mlops.yaml');
  const good = fs.readFileSync(file, 'utf8');
  try {
    fs.writeFileSync(file, good.replace('when: drift_share > 0.3, notify: [vscode, audit]', 'when: drift_shar > 0.3, notify: [vscode, audit]').replace('notify: [webhook], webhook: "http://127.0.0.1:9797/mlops-alerts", ', 'notify: [webhook], '));
    const r = await runCli(['validate'], ws);
    assert.equal(r.code, 1);
    const out = [...r.out, ...r.err].join('\n');
    assert.match(out, /mlops\.yaml:\d+:\d+ error Alert condition "drift_shar > 0\.3": Unknown metric "drift_shar" in the alert condition; did you mean "drift_share"\? Known metrics: drift_share, column_drift\.COLUMN/);
    assert.match(out, /error "monitor\.alerts\[2\]" of deployment "penguins-api" is missing the required property "webhook"/);
  } finally {
    fs.writeFileSync(file, good);
  }
});
