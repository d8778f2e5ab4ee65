/**
 * The two-sample Kolmogorov–Smirnov test as scipy's `ks_2samp(a, b)` computes it by default
 * (two-sided, method 'auto'): D from the two empirical CDFs; the p-value exact when both
 * samples have at most 10 000 values (lattice-path counting, Hodges / Viehmann), otherwise
 * from the Kolmogorov distribution with n = round(m·n/(m+n)).
 */
import { kstwoSf } from './kolmogorov';

/** scipy's MAX_AUTO_N: larger samples get the asymptotic p-value. */
export const KS_EXACT_MAX_N = 10_000;

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/**
 * D = sup |F_a − F_b| over the pooled values, from sorted samples in one merge walk. Each
 * CDF difference is computed as scipy does (`i/n1 − j/n2`), so D is bit-for-bit the same.
 */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = 0;
  let minS = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  return Math.max(maxS, Math.min(1, -minS));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** P(D_{n,n} ≥ h/n), scipy's `_compute_prob_outside_square`. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/** 1 − P(paths stay strictly inside |x/m − y/n| < h/lcm), scipy's `_compute_outer_prob_inside_method`. */
function outerProbInside(m: number, n: number, g: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let x = minj; x < maxj; x++) A[x] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/** The p-value (and, in exact mode, D rounded to the lattice as scipy reports it). */
export function ksPValue(n1: number, n2: number, d: number): KsResult {
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    const dd = h / lcm;
    if (h === 0) return { statistic: dd, pValue: 1, method: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic: dd, pValue: p, method: 'exact' };
    // Out of range = floating-point trouble: scipy falls back to the asymptotic form too.
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: Math.min(1, Math.max(0, kstwoSf(roundHalfEven(en), d))), method: 'asymptotic' };
}

/** numpy's round: halves go to the even neighbour (m = n = 20001 gives en = 10000.5 → 10000). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ks_2samp on sorted samples. */
export function ks2Samp(a: Float64Array, b: Float64Array): KsResult {
  return ksPValue(a.length, b.length, ksStatistic(a, b));
}
