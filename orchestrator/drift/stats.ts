/**
 * Drift statistics on sorted typed arrays, computed as Evidently computes them (through
 * scipy and numpy), so scores and verdicts agree with an Evidently report on the same data:
 *
 * - Wasserstein distance (scipy `wasserstein_distance`), normed by the reference's
 *   population standard deviation (at least 0.001);
 * - PSI and Jensen–Shannon distance (scipy `distance.jensenshannon`, natural log) over
 *   Evidently's bins: Sturges-rule equal-width bins over both samples when the reference has
 *   more than 20 distinct values, else one bin per value; empty bins get a small share;
 * - chi-square goodness of fit of current counts against reference proportions, and the
 *   two-proportion z-test for two categories.
 *
 * Sorting once per column serves KS, Wasserstein and the bin counts (binary searches).
 */
import { chi2Sf, normCdf } from './special';

/** Neumaier-compensated sum accumulator (sums of a million terms stay within ~1 ulp). */
export class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

export function mean(a: Float64Array): number {
  const s = new Sum();
  for (let i = 0; i < a.length; i++) s.add(a[i]!);
  return s.value / a.length;
}

/** Population standard deviation (numpy's `np.std`, ddof 0), two-pass. */
export function stdPop(a: Float64Array, m = mean(a)): number {
  const s = new Sum();
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - m;
    s.add(d * d);
  }
  return Math.sqrt(s.value / a.length);
}

/** scipy's `wasserstein_distance(u, v)`: ∫ |U − V| over the pooled sorted values. */
export function wasserstein(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  const s = new Sum();
  let prev = Number.NaN;
  let cdfDiff = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    if (!Number.isNaN(prev)) s.add(Math.abs(cdfDiff) * (v - prev));
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    cdfDiff = i / n1 - j / n2;
    prev = v;
  }
  return s.value;
}

/**
 * KS D and the Wasserstein distance from one merge walk over the sorted samples (when a
 * report asks for both, e.g. the benchmark's KS + PSI + Wasserstein): identical results to
 * `ksStatistic` and `wasserstein`, half the passes over memory.
 */
export function ksAndWasserstein(a: Float64Array, b: Float64Array): { d: number; wasserstein: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = 0;
  let minS = 0;
  const s = new Sum();
  let prev = Number.NaN;
  let diff = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    if (!Number.isNaN(prev)) s.add(Math.abs(diff) * (v - prev));
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
    prev = v;
  }
  return { d: Math.max(maxS, Math.min(1, -minS)), wasserstein: s.value };
}

/** Index of the first element ≥ x (`searchsorted(side='left')`). */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x (`searchsorted(side='right')`). */
export function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of distinct values of a sorted array. */
export function distinctSorted(a: Float64Array): number {
  let n = a.length ? 1 : 0;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[i - 1]) n++;
  return n;
}

/** numpy's `histogram_bin_edges(concat(a, b), bins='sturges')` for sorted a and b. */
export function sturgesEdges(a: Float64Array, b: Float64Array): number[] {
  const n = a.length + b.length;
  let lo = Math.min(a.length ? a[0]! : Infinity, b.length ? b[0]! : Infinity);
  let hi = Math.max(a.length ? a[a.length - 1]! : -Infinity, b.length ? b[b.length - 1]! : -Infinity);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const ptp = hi - lo;
  const width = ptp / (Math.log2(n) + 1);
  const bins = width ? Math.ceil(ptp / width) : 1;
  return linspace(lo, hi, bins + 1);
}

/** numpy's `linspace` (endpoint included): i·step + start, the last value exactly `stop`. */
export function linspace(start: number, stop: number, num: number): number[] {
  const div = num - 1;
  const step = (stop - start) / div;
  const out = new Array<number>(num);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** numpy's `histogram(a, edges)` for sorted a: [e_i, e_i+1) bins, the last one closed. */
export function histogramSorted(a: Float64Array, edges: readonly number[]): number[] {
  const k = edges.length - 1;
  const cum = new Array<number>(k + 1);
  for (let i = 0; i < k; i++) cum[i] = lowerBound(a, edges[i]!);
  cum[k] = upperBound(a, edges[k]!);
  const out = new Array<number>(k);
  for (let i = 0; i < k; i++) out[i] = cum[i + 1]! - cum[i]!;
  return out;
}

/** Value counts of sorted numbers, aligned on the union of both samples' values. */
export function countsSorted(a: Float64Array, b: Float64Array): { keys: number[]; a: number[]; b: number[] } {
  const keys: number[] = [];
  const ca: number[] = [];
  const cb: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let x = 0;
    let y = 0;
    while (i < a.length && a[i] === v) (i++, x++);
    while (j < b.length && b[j] === v) (j++, y++);
    keys.push(v);
    ca.push(x);
    cb.push(y);
  }
  return { keys, a: ca, b: cb };
}

/** Evidently's `feel_zeroes`: empty bins get min(non-zero share)/10⁶ (if that is ≤ 1e-4) or 1e-4. */
export function fillZeroes(p: number[]): number[] {
  let min = Infinity;
  for (const x of p) if (x !== 0 && x < min) min = x;
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  return p.map((x) => (x === 0 ? fill : x));
}

/** Shares per bin for both samples (counts / sample size, zeroes filled), Evidently's `get_binned_data`. */
export function binnedShares(refCounts: number[], curCounts: number[], nRef: number, nCur: number): { ref: number[]; cur: number[] } {
  return { ref: fillZeroes(refCounts.map((c) => c / nRef)), cur: fillZeroes(curCounts.map((c) => c / nCur)) };
}

/** Population stability index, summed in bin order as Evidently's loop does. */
export function psi(ref: number[], cur: number[]): number {
  let s = 0;
  for (let i = 0; i < ref.length; i++) s += (ref[i]! - cur[i]!) * Math.log(ref[i]! / cur[i]!);
  return s;
}

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** scipy's `distance.jensenshannon(p, q)` (natural log): √(JS divergence), inputs normalised first. */
export function jensenShannon(p: number[], q: number[]): number {
  let sp = 0;
  let sq = 0;
  for (const x of p) sp += x;
  for (const x of q) sq += x;
  const left = new Sum();
  const right = new Sum();
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    left.add(relEntr(a, m));
    right.add(relEntr(b, m));
  }
  return Math.sqrt((left.value + right.value) / 2);
}

/**
 * Evidently's chi-square test: scipy `chisquare(f_obs=current counts, f_exp=reference counts
 * × n_cur/n_ref)`; a category absent from the reference makes the statistic infinite (p = 0).
 */
export function chiSquareTest(refCounts: number[], curCounts: number[]): { statistic: number; pValue: number } {
  let nRef = 0;
  let nCur = 0;
  for (const c of refCounts) nRef += c;
  for (const c of curCounts) nCur += c;
  const k = nCur / nRef;
  let stat = 0;
  for (let i = 0; i < refCounts.length; i++) {
    const e = refCounts[i]! * k;
    const o = curCounts[i]!;
    stat += e === 0 ? (o === 0 ? Number.NaN : Infinity) : ((o - e) * (o - e)) / e;
  }
  const df = refCounts.length - 1;
  if (df < 1) return { statistic: 0, pValue: 1 };
  return { statistic: stat, pValue: Number.isNaN(stat) ? Number.NaN : stat === Infinity ? 0 : chi2Sf(stat, df) };
}

/**
 * Evidently's two-proportion z-test: the share of the first category (in sorted order) in
 * each sample; p = 2(1 − Φ(|z|)). One identical value on both sides gives p = 1.
 */
export function zTest(refFirst: number, nRef: number, curFirst: number, nCur: number): { statistic: number; pValue: number } {
  // Evidently codes the first key as 0 and everything else as 1: p = share of the others.
  const p1 = (nRef - refFirst) / nRef;
  const p2 = (nCur - curFirst) / nCur;
  const P = (p1 * nRef + p2 * nCur) / (nRef + nCur);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1 / nRef + 1 / nCur));
  return { statistic: z, pValue: 2 * (1 - normCdf(Math.abs(z))) };
}
