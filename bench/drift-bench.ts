/**
 * Drift statistics benchmark (figures for issue 8, not a timed test):
 *   1M rows × 20 numeric columns, reference and current, written as CSV and loaded with our
 *   streaming loader (timed separately); then KS (statistic + p-value), PSI (Evidently's
 *   Sturges bins) and normed Wasserstein per column:
 *   - ours: typed arrays, one shared (radix) sort per column, the columns split over two worker threads;
 *   - scipy/numpy (Debian's /usr/bin/python3, run by this script on the same numbers, passed
 *     as raw float64 files): stats.ks_2samp, stats.wasserstein_distance, numpy histograms.
 *   Every statistic is asserted equal to scipy's (KS D exactly, the others ≤ 1e-9 relative)
 *   on the full data before the ratio is printed. Without python3-scipy the baseline is
 *   reported unavailable; this script installs nothing.
 * Run: node --import tsx bench/drift-bench.ts [--rows N]   (~1 GiB free in the temp folder)
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { loadColumns } from '../orchestrator/drift/columns';
import { ksPValue } from '../orchestrator/drift/ks';
import { sortFloat64 } from '../orchestrator/drift/radix-sort';
import { binnedShares, countsSorted, distinctSorted, histogramSorted, ksAndWasserstein, psi, stdPop, sturgesEdges } from '../orchestrator/drift/stats';

interface ColumnResult {
  name: string;
  ksD: number;
  ksP: number;
  psi: number;
  wasserstein: number;
  wassersteinNormed: number;
  ms: { sort: number; ksWasserstein: number; psi: number };
}

const now = () => performance.now();

/** The three statistics of one column, sharing one sort of each side (KS D and Wasserstein from one merge walk). */
function columnStats(name: string, ref: Float64Array, cur: Float64Array): ColumnResult {
  let t = now();
  sortFloat64(ref);
  sortFloat64(cur);
  const sort = now() - t;
  t = now();
  const walk = ksAndWasserstein(ref, cur);
  const ks = ksPValue(ref.length, cur.length, walk.d);
  const wn = walk.wasserstein / Math.max(stdPop(ref), 0.001);
  const walkMs = now() - t;
  t = now();
  let shares;
  if (distinctSorted(ref) > 20) {
    const edges = sturgesEdges(ref, cur);
    shares = binnedShares(histogramSorted(ref, edges), histogramSorted(cur, edges), ref.length, cur.length);
  } else {
    const c = countsSorted(ref, cur);
    shares = binnedShares(c.a, c.b, ref.length, cur.length);
  }
  const p = psi(shares.ref, shares.cur);
  const psiMs = now() - t;
  return { name, ksD: ks.statistic, ksP: ks.pValue, psi: p, wasserstein: walk.wasserstein, wassersteinNormed: wn, ms: { sort, ksWasserstein: walkMs, psi: psiMs } };
}

if (!isMainThread) {
  // Started (and compiled) before the clock runs; says so, then works on the columns it gets.
  parentPort!.once('message', (cols: { name: string; ref: Float64Array; cur: Float64Array }[]) => parentPort!.postMessage(cols.map((c) => columnStats(c.name, c.ref, c.cur))));
  parentPort!.postMessage('ready');
} else {
  void main();
}

/** xorshift128+ and Box–Muller: seeded, fast, no dependency. */
function rng(seed: number) {
  let s0 = seed >>> 0 || 1;
  let s1 = (seed * 2654435761) >>> 0 || 2;
  const u = () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x;
    return ((s0 + s1) >>> 0) / 4294967296 + 1e-12;
  };
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return { u, normal };
}

/** Column k's value: a mix of shapes (normal, lognormal, uniform, integers with ties); odd columns drift in `current`. */
function value(k: number, r: ReturnType<typeof rng>, current: boolean): string {
  const shift = current && k % 2 === 1 ? 0.05 * (1 + (k % 5)) : 0;
  switch (k % 4) {
    case 0:
      return (r.normal() + shift).toFixed(4);
    case 1:
      return Math.exp(0.5 * r.normal() + shift).toFixed(4);
    case 2:
      return (r.u() * 100 * (1 + shift)).toFixed(2);
    default:
      return String(Math.floor(r.u() * 50 + shift * 40));
  }
}

async function writeCsv(file: string, rows: number, cols: number, current: boolean): Promise<void> {
  const r = rng(current ? 7 : 3);
  const out = createWriteStream(file);
  const header = Array.from({ length: cols }, (_, k) => `c${k}`).join(',') + '\n';
  out.write(header);
  let buf = '';
  for (let i = 0; i < rows; i++) {
    let line = '';
    for (let k = 0; k < cols; k++) line += (k ? ',' : '') + value(k, r, current);
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((res) => out.once('drain', () => res()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}

const PY = String.raw`
import json, sys, time
import numpy as np
from scipy import stats
d, n_cols, n_ref, n_cur = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cols = []
for k in range(n_cols):
    cols.append((np.fromfile(f'{d}/ref{k}.f64', dtype=np.float64, count=n_ref), np.fromfile(f'{d}/cur{k}.f64', dtype=np.float64, count=n_cur)))
out = []
tot = {'ks': 0.0, 'psi': 0.0, 'wasserstein': 0.0}
for k, (ref, cur) in enumerate(cols):
    t = time.perf_counter(); r = stats.ks_2samp(ref, cur); tot['ks'] += time.perf_counter() - t
    t = time.perf_counter()
    # Evidently's get_binned_data + psi
    if len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins='sturges')
        rp = np.histogram(ref, bins)[0] / len(ref); cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = np.union1d(np.unique(ref), np.unique(cur))
        rp = np.array([np.sum(ref == x) for x in keys]) / len(ref); cp = np.array([np.sum(cur == x) for x in keys]) / len(cur)
    for p in (rp, cp):
        m = min(p[p != 0]); np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    psi = 0.0
    for a, b in zip(rp, cp): psi += (a - b) * np.log(a / b)
    tot['psi'] += time.perf_counter() - t
    t = time.perf_counter(); w = stats.wasserstein_distance(ref, cur); wn = w / max(np.std(ref), 0.001); tot['wasserstein'] += time.perf_counter() - t
    out.append({'ksD': float(r.statistic), 'ksP': float(r.pvalue), 'psi': float(psi), 'wasserstein': float(w), 'wassersteinNormed': float(wn)})
print(json.dumps({'columns': out, 'seconds': tot}))
`;

function scipyAvailable(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import scipy, numpy'], { stdio: 'ignore' });
  return r.status === 0;
}

async function main(): Promise<void> {
  const argRows = process.argv.indexOf('--rows');
  const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
  const COLS = 20;
  const dir = mkdtempSync(join(tmpdir(), 'mlops-drift-bench-'));
  try {
    console.log(`drift bench: ${ROWS.toLocaleString('en')} rows × ${COLS} numeric columns, reference and current`);
    let t = now();
    await Promise.all([writeCsv(join(dir, 'ref.csv'), ROWS, COLS, false), writeCsv(join(dir, 'cur.csv'), ROWS, COLS, true)]);
    const mb = (statSync(join(dir, 'ref.csv')).size + statSync(join(dir, 'cur.csv')).size) / 2 ** 20;
    console.log(`  generated 2 CSV files (${mb.toFixed(0)} MiB) in ${((now() - t) / 1000).toFixed(1)} s`);

    t = now();
    const [ref, cur] = await Promise.all([loadColumns(join(dir, 'ref.csv'), 'csv'), loadColumns(join(dir, 'cur.csv'), 'csv')]);
    const loadMs = now() - t;
    const rss = process.memoryUsage().rss / 2 ** 20;
    // Exact-size copies: what the statistics get, and what goes to scipy as raw float64.
    const columns = ref.columns.map((c, k) => {
      const r = c.kind === 'numeric' ? c.values.slice() : new Float64Array();
      const q = cur.columns[k]!.kind === 'numeric' ? (cur.columns[k] as { values: Float64Array }).values.slice() : new Float64Array();
      if (r.length !== ROWS || q.length !== ROWS) throw new Error(`column ${c.name} did not load as numeric`);
      writeFileSync(join(dir, `ref${k}.f64`), r);
      writeFileSync(join(dir, `cur${k}.f64`), q);
      return { name: c.name, ref: r, cur: q };
    });

    // Ours: two workers (both cores), started before the clock; columns dealt alternately,
    // buffers transferred, not copied. A worker registers tsx's require hook itself (an
    // --import hook does not reach workers in Node 20).
    const workers = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<Worker>((resolve, reject) => {
            const w = new Worker(`require('tsx/cjs'); require(${JSON.stringify(__filename)});`, { eval: true });
            w.once('message', () => resolve(w));
            w.once('error', reject);
          }),
      ),
    );
    t = now();
    const parts = [0, 1].map((w) => columns.filter((_, k) => k % 2 === w));
    const results = (
      await Promise.all(
        parts.map(
          (cols, w) =>
            new Promise<ColumnResult[]>((resolve, reject) => {
              workers[w]!.once('message', resolve);
              workers[w]!.once('error', reject);
              workers[w]!.postMessage(cols, cols.flatMap((c) => [c.ref.buffer, c.cur.buffer]) as ArrayBuffer[]);
            }),
        ),
      )
    ).flat();
    const oursMs = now() - t;
    await Promise.all(workers.map((w) => w.terminate()));
    results.sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
    const sum = (f: (r: ColumnResult) => number) => results.reduce((s, r) => s + f(r), 0);

    console.log(`  CSV load (ours, streaming, typed arrays): ${(loadMs / 1000).toFixed(2)} s for both files (${((2 * ROWS) / (loadMs / 1000) / 1e6).toFixed(2)} M rows/s), rss ${rss.toFixed(0)} MiB`);
    console.log(`  ours, 2 worker threads: ${(oursMs / 1000).toFixed(2)} s wall; CPU by part (both threads): shared sorts ${(sum((r) => r.ms.sort) / 1000).toFixed(2)} s, KS + Wasserstein walk ${(sum((r) => r.ms.ksWasserstein) / 1000).toFixed(2)} s, PSI ${(sum((r) => r.ms.psi) / 1000).toFixed(2)} s`);

    if (!scipyAvailable()) {
      console.log('  scipy baseline unavailable: /usr/bin/python3 cannot import scipy and numpy (apt-get install python3-scipy); this bench installs nothing.');
      return;
    }
    t = now();
    const py = spawnSync('/usr/bin/python3', ['-c', PY, dir, String(COLS), String(ROWS), String(ROWS)], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    const pyWall = now() - t;
    if (py.status !== 0) throw new Error(`scipy baseline failed: ${py.stderr}`);
    const base = JSON.parse(py.stdout) as { columns: Omit<ColumnResult, 'name' | 'ms'>[]; seconds: { ks: number; psi: number; wasserstein: number } };

    // Equality on the full data before any ratio.
    let worstW = 0;
    let worstPsi = 0;
    let worstP = 0;
    results.forEach((r, k) => {
      const b = base.columns[k]!;
      if (r.ksD !== b.ksD) throw new Error(`${r.name}: KS D ${r.ksD} ≠ scipy ${b.ksD}`);
      const rel = (x: number, y: number) => (x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(y), 1e-300));
      worstW = Math.max(worstW, rel(r.wasserstein, b.wasserstein), rel(r.wassersteinNormed, b.wassersteinNormed));
      worstPsi = Math.max(worstPsi, rel(r.psi, b.psi));
      worstP = Math.max(worstP, Math.abs(r.ksP - b.ksP));
      if (rel(r.wasserstein, b.wasserstein) > 1e-9 || rel(r.wassersteinNormed, b.wassersteinNormed) > 1e-9) throw new Error(`${r.name}: Wasserstein ${r.wasserstein} vs scipy ${b.wasserstein}`);
      if (rel(r.psi, b.psi) > 1e-9) throw new Error(`${r.name}: PSI ${r.psi} vs scipy ${b.psi}`);
    });
    const scipyS = base.seconds.ks + base.seconds.psi + base.seconds.wasserstein;
    console.log(`  equal to scipy on all ${COLS} columns: KS D exactly; Wasserstein max rel. diff ${worstW.toExponential(1)}; PSI ${worstPsi.toExponential(1)}; KS p-value max abs. diff ${worstP.toExponential(1)}`);
    console.log(`  scipy/numpy (1 core): KS ${base.seconds.ks.toFixed(2)} s, PSI ${base.seconds.psi.toFixed(2)} s, Wasserstein ${base.seconds.wasserstein.toFixed(2)} s = ${scipyS.toFixed(2)} s (python process ${(pyWall / 1000).toFixed(1)} s with loading)`);
    console.log(`  ratio ours/scipy: ${(oursMs / 1000 / scipyS).toFixed(3)}× (target ≤ 0.15×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
