// The A/B demo on flights-200k (examples/flights), shared by monitor-ab.test.ts and
// `npm run demo:ab` (scripts/demo-ab.ts): a temp copy of the sample with two trained and
// registered versions (distance only; distance and hour), v1 (production) and v2
// (challenger) deployed as the manifest's 50/50 A/B split,
// traffic replayed from data/prepared/traffic.csv in requests of 100 rows with request ids,
// and the true labels sent back with `mlops feedback --file`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MonitorStatus } from '../../protocol/monitoring';
import type { DeploymentStatus } from '../../protocol/serving';
import type { RunSummary } from '../../protocol/types';
import { findDaemon } from '../../orchestrator/daemon/launcher';
import { runCli, type CliResult } from './cli-harness';
import { freePort, REPO } from './deploy-support';

export const FLIGHTS = path.join(REPO, 'examples', 'flights');
export const AB_MODEL = 'flights-delay';
export const AB_DEPLOYMENT = 'flights-api';
export const ROWS_PER_REQUEST = 100;
const GENERATED = new Set(['.mlops', 'models', 'metrics', path.join('data', 'prepared')]);

const text = (r: CliResult) => [...r.out, ...r.err].join('\n');

async function cli(ws: string, ...args: string[]): Promise<CliResult> {
  const r = await runCli(args, ws);
  if (r.code !== 0) throw new Error(`mlops ${args.join(' ')} exited ${r.code}:\n${text(r)}`);
  return r;
}

export interface AbSetup {
  ws: string;
  url: string;
  token: string;
  /** Accuracy on the held-out split recorded at registration, per version. */
  registered: Record<number, number>;
}

/** Logs a line of progress (the demo prints them; the test keeps quiet). */
export type Say = (line: string) => void;

/** Train both versions, register them, deploy v1 and split the traffic 50/50 with v2. */
export async function setUpAb(say: Say = () => undefined): Promise<AbSetup> {
  const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-flights-ab-')));
  fs.cpSync(FLIGHTS, ws, { recursive: true, filter: (src) => !GENERATED.has(path.relative(FLIGHTS, src)) });
  const manifest = path.join(ws, 'mlops.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('    port: 8712\n', `    port: ${await freePort()}\n`));
  const registered: Record<number, number> = {};
  for (const features of ['distance', 'distance,hour']) {
    say(`mlops run -p features=${features}`);
    await cli(ws, 'run', '-p', `features=${features}`);
    const run = ((await cli(ws, 'runs', '--json', '--limit', '1')).json[0] as { runs: RunSummary[] }).runs[0]!;
    const v = (await cli(ws, 'models', 'register', AB_MODEL, '--run', run.id.slice(0, 8), '--json')).json[0] as { version: number; metrics?: Record<string, number> };
    registered[v.version] = v.metrics?.accuracy ?? Number.NaN;
    say(`  registered ${AB_MODEL} v${v.version} (trained on ${features}): held-out accuracy ${registered[v.version]!.toFixed(4)}`);
  }
  await cli(ws, 'models', 'alias', `${AB_MODEL}@production`, '1');
  await cli(ws, 'models', 'alias', `${AB_MODEL}@challenger`, '2');
  const split = (await cli(ws, 'deploy', AB_DEPLOYMENT, '--json')).json[0] as DeploymentStatus;
  say(`mlops deploy ${AB_DEPLOYMENT} (rollout.strategy ab: production 50, challenger 50): serving ${split.versions.map((v) => `v${v.version} ${v.role} ${v.weight} %`).join(', ')}`);
  const d = await findDaemon(ws);
  if (!d) throw new Error('the daemon is not running');
  return { ws, url: split.url!, token: d.token, registered };
}

export interface Replayed {
  rows: number;
  /** What the test saw: per version, answers and how many were right. */
  byVersion: Record<number, { n: number; right: number }>;
}

/**
 * Sends traffic rows [from, to) in requests of ROWS_PER_REQUEST (request id `ab-K`, sticky key
 * `flight-K`, so the split is the same on every replay), then their labels through `mlops feedback`.
 */
export async function replay(s: AbSetup, from: number, to: number, seen: Replayed): Promise<void> {
  const lines = fs.readFileSync(path.join(s.ws, 'data', 'prepared', 'traffic.csv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const at = (name: string) => header.indexOf(name);
  const labels: string[] = ['id,label'];
  for (let start = from; start < to; start += ROWS_PER_REQUEST) {
    const k = start / ROWS_PER_REQUEST;
    const rows = lines.slice(1 + start, 1 + Math.min(to, start + ROWS_PER_REQUEST)).map((l) => l.split(','));
    const res = await fetch(`${s.url}/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', 'x-request-id': `ab-${k}`, 'x-flight-id': `flight-${k}` },
      body: JSON.stringify({ dataframe_split: { columns: ['distance', 'hour'], data: rows.map((r) => [Number(r[at('distance')]), Number(r[at('hour')])]) } }),
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`POST /predict answered ${res.status}: ${body}`);
    const version = Number(res.headers.get('x-mlops-version'));
    const predictions = (JSON.parse(body) as { predictions: string[] }).predictions;
    const tally = (seen.byVersion[version] ??= { n: 0, right: 0 });
    rows.forEach((r, i) => {
      const truth = r[at('late')]!;
      tally.n++;
      if (predictions[i] === truth) tally.right++;
      labels.push(`ab-${k}:${i},${truth}`);
    });
    seen.rows += rows.length;
  }
  const file = path.join(s.ws, `labels-${from}-${to}.csv`);
  fs.writeFileSync(file, labels.join('\n') + '\n');
  await cli(s.ws, 'feedback', AB_DEPLOYMENT, '--file', file);
}

export async function monitor(s: AbSetup): Promise<MonitorStatus> {
  return (await cli(s.ws, 'monitor', AB_DEPLOYMENT, '--json')).json[0] as MonitorStatus;
}

/** The human `mlops monitor` lines. */
export async function monitorText(s: AbSetup): Promise<string[]> {
  return (await cli(s.ws, 'monitor', AB_DEPLOYMENT)).out;
}
