/**
 * Metric ingest through the daemon's HTTP tracking API, batched (figures for the issue note,
 * not a timed test): a real daemon on 127.0.0.1 with its token, POST /api/runs/log-metrics in
 * batches of 1000 from K concurrent clients, against the same points written straight into
 * the store in-process (the baseline: what HTTP + validation cost on top of SQLite).
 * Run: node --import tsx bench/metric-ingest-bench.ts [points=200000]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricPoint } from '../protocol/types';
import { ensureDaemon, stopDaemon } from '../orchestrator/daemon/launcher';
import { openSqliteStore } from '../orchestrator/store/sqlite-store';

const POINTS = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;
const CLIENTS = 4;

function points(n: number, offset: number): MetricPoint[] {
  const t = Date.now();
  return Array.from({ length: n }, (_, i) => ({ key: `m${(offset + i) % 8}`, value: Math.sin(offset + i), step: offset + i, timestamp: t }));
}

async function baseline(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-ingest-base-'));
  const store = await openSqliteStore(join(dir, '.mlops'));
  try {
    const runId = await store.createRun({ experiment: 'bench', name: 'baseline', kind: 'pipeline' });
    const t0 = performance.now();
    for (let off = 0; off < POINTS; off += BATCH) await store.logMetrics(runId, points(BATCH, off));
    return performance.now() - t0;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function overHttp(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-ingest-http-'));
  writeFileSync(join(dir, 'mlops.yaml'), 'version: 1\nproject: bench\nsteps: {}\n');
  try {
    const d = await ensureDaemon(dir);
    const headers = { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' };
    const created = (await (await fetch(`${d.url}/api/2.0/mlflow/runs/create`, { method: 'POST', headers, body: JSON.stringify({ experiment_id: '0', run_name: 'ingest' }) })).json()) as { run: { info: { run_id: string } } };
    const runId = created.run.info.run_id;
    // Bodies are built before the clock starts: we time the daemon, not JSON.stringify here.
    const bodies: string[] = [];
    for (let off = 0; off < POINTS; off += BATCH) bodies.push(JSON.stringify({ runId, metrics: points(BATCH, off) }));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          const res = await fetch(`${d.url}/api/runs/log-metrics`, { method: 'POST', headers, body });
          if (!res.ok) throw new Error(`log-metrics answered ${res.status}: ${await res.text()}`);
          await res.arrayBuffer();
        }
      }),
    );
    const elapsed = performance.now() - t0;
    const check = (await (await fetch(`${d.url}/api/runs/metrics?id=${runId}&key=m0`, { headers })).json()) as { metrics: unknown[] };
    if (check.metrics.length !== POINTS / 8) throw new Error(`expected ${POINTS / 8} points of m0, the daemon has ${check.metrics.length}`);
    return elapsed;
  } finally {
    await stopDaemon(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const base = await baseline();
  const http = await overHttp();
  const rate = (ms: number) => Math.round(POINTS / (ms / 1000)).toLocaleString('en-US');
  console.log(`metric ingest, ${POINTS.toLocaleString('en-US')} points in batches of ${BATCH}`);
  console.log(`  store in-process (baseline)          ${base.toFixed(0).padStart(6)} ms   ${rate(base).padStart(10)} points/s`);
  console.log(`  daemon HTTP API, ${CLIENTS} clients, token  ${http.toFixed(0).padStart(6)} ms   ${rate(http).padStart(10)} points/s`);
  console.log(`  HTTP throughput / baseline: ${(base / http).toFixed(2)}×`);
}

void main();
