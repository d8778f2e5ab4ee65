// Shared by the deploy-*.test.ts files: a temp copy of the penguins sample with trained and
// registered versions, HTTP helpers against a deployment, load through autocannon, and
// waiting for the daemon's serving events.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { DaemonEvent } from '../../protocol/api';
import type { ModelVersion } from '../../protocol/registry';
import type { DeploymentStatus } from '../../protocol/serving';
import type { RunSummary } from '../../protocol/types';
import { DaemonClient } from '../../orchestrator/api-client/client';
import { findDaemon } from '../../orchestrator/daemon/launcher';
import { runCli, type CliResult } from './cli-harness';
import { BROKEN_STEP, BROKEN_STEP_YAML } from './deploy-broken-step';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SAMPLE = path.join(REPO, 'examples', 'penguins');
const GENERATED = new Set(['.mlops', 'models', 'metrics', path.join('data', 'prepared')]);
export const MODEL = 'penguins-classifier';
export const DEPLOYMENT = 'penguins-api';
export const FEATURES = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'island_Biscoe', 'island_Dream', 'island_Torgersen', 'sex_FEMALE', 'sex_MALE'];
export const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];

export const text = (r: CliResult) => [...r.out, ...r.err].join('\n');


/** A temp copy of the sample: a free port, no approvals for production, plus the `broken` step. */
export async function penguinsWorkspace(prefix: string): Promise<{ ws: string; port: number }> {
  const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  fs.cpSync(SAMPLE, ws, { recursive: true, filter: (src) => !GENERATED.has(path.relative(SAMPLE, src)) });
  const port = await freePort();
  let manifest = fs.readFileSync(path.join(ws, 'mlops.yaml'), 'utf8');
  const swaps: [string, string][] = [
    ['    approvals: {production: 1}\n', ''],
    ['    port: 8711\n', `    port: ${port}\n`],
    // The p99 limit is the sample's 150 ms on a quiet machine; these tests share 2 busy cores.
    ['p99_ms: 150}', 'p99_ms: 1000}'],
    ['\nmodels:\n', `\n${BROKEN_STEP_YAML}\nmodels:\n`],
  ];
  for (const [from, to] of swaps) {
    assert.ok(manifest.includes(from), `the sample has ${JSON.stringify(from)}`);
    manifest = manifest.replace(from, to);
  }
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), manifest);
  fs.writeFileSync(path.join(ws, 'steps', 'broken.mjs'), BROKEN_STEP);
  return { ws, port };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function cli(ws: string, ...args: string[]): Promise<CliResult> {
  return runCli(args, ws);
}

export async function train(ws: string, ...args: string[]): Promise<RunSummary> {
  const r = await cli(ws, 'run', ...args);
  assert.equal(r.code, 0, text(r));
  const runs = await cli(ws, 'runs', '--json', '--limit', '1');
  return (runs.json[0] as { runs: RunSummary[] }).runs[0]!;
}

export async function register(ws: string, run: RunSummary, artifact?: string): Promise<ModelVersion> {
  const r = await cli(ws, 'models', 'register', MODEL, '--run', run.id.slice(0, 8), ...(artifact ? ['--artifact', artifact] : []), '--json');
  assert.equal(r.code, 0, text(r));
  return r.json[0] as ModelVersion;
}

/** Trains and registers version 1, points `production` at it and deploys the sample; returns where it serves and the daemon's token. */
export async function deployProduction(ws: string): Promise<{ url: string; token: string }> {
  await register(ws, await train(ws));
  const alias = await cli(ws, 'models', 'alias', `${MODEL}@production`, '1');
  assert.equal(alias.code, 0, text(alias));
  const d = await cli(ws, 'deploy', DEPLOYMENT);
  assert.equal(d.code, 0, text(d));
  return { url: (await status(ws)).url!, token: (await daemonClient(ws)).token };
}

/** The held-out split as the prepare step wrote it. */
export function heldOut(ws: string): { header: string[]; rows: string[][] } {
  const lines = fs.readFileSync(path.join(ws, 'data', 'prepared', 'test.csv'), 'utf8').trim().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

export async function daemonClient(ws: string): Promise<{ client: DaemonClient; token: string }> {
  const d = await findDaemon(ws);
  assert.ok(d, 'the daemon runs');
  return { client: new DaemonClient(d.url, d.token), token: d.token };
}

export async function status(ws: string): Promise<DeploymentStatus> {
  const { client } = await daemonClient(ws);
  return client.call('GET /api/deployments/get', { name: DEPLOYMENT });
}

/** Resolves with the first event `match` accepts (the stream is open before `start` runs). */
export async function waitForEvent<T extends DaemonEvent>(ws: string, match: (e: DaemonEvent) => e is T, timeoutMs: number, start?: () => Promise<unknown>): Promise<T> {
  const { client } = await daemonClient(ws);
  const abort = new AbortController();
  const stream = client.events(abort.signal);
  await stream.ready;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const started = start?.();
    for await (const e of stream) {
      if (match(e)) {
        await started;
        return e;
      }
    }
    throw new Error(`no matching event within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

export interface Load {
  stop(): void;
  done: Promise<autocannon.Result>;
}

/** autocannon against the deployment's /predict with one held-out row per request. */
export function load(url: string, token: string, row: Record<string, number>, opts: { connections: number; duration: number; overallRate?: number }): Load {
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({
      url: `${url}/predict`,
      method: 'POST',
      connections: opts.connections,
      duration: opts.duration,
      ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ instances: [row] }),
    }, (err: unknown, result: autocannon.Result) => (err ? reject(err) : resolve(result)));
  });
  return { stop: () => (instance as unknown as { stop(): void }).stop(), done };
}

export function failures(r: autocannon.Result): number {
  return r.non2xx + r.errors + r.timeouts;
}

export function rowRecord(header: string[], row: string[]): Record<string, number> {
  return Object.fromEntries(FEATURES.map((f) => [f, Number(row[header.indexOf(f)])]));
}
