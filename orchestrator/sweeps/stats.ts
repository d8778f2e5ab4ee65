/**
 * The little statistics sweeps need: the normal distribution (CDF, quantile, log mass of an
 * interval), log-sum-exp, a median with linear interpolation (numpy's), and the
 * Mann–Whitney U test (normal approximation with tie and continuity correction, as scipy's
 * `mannwhitneyu(method="asymptotic")`). Pure.
 */

/** erf by its everywhere-positive series 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(2n+1)!! (no cancellation; used for |x| < 2.5). */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/**
 * e^(x²)·erfc(x) for x >= 2.5 by its continued fraction 1/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …))))
 * (modified Lentz), accurate to ~1e-15 and free of underflow in the far tail.
 */
function erfcxTail(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / (Math.sqrt(Math.PI) * f);
}

/** Complementary error function, accurate to about 1e-15 relative, far into the right tail too. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) return 1 - erfSeries(x);
  return erfcxTail(x) * Math.exp(-x * x);
}

/** log(erfc(z)) for z >= 0 without underflow. */
function logErfcPositive(z: number): number {
  if (z < 2.5) return Math.log(erfc(z));
  return Math.log(erfcxTail(z)) - z * z;
}

/** Standard normal CDF Φ(x). */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** log Φ(x), accurate for very negative x. */
export function logNormCdf(x: number): number {
  if (x > -5) return Math.log(normCdf(x));
  return Math.log(0.5) + logErfcPositive(-x / Math.SQRT2);
}

/**
 * Standard normal quantile Φ⁻¹(p): Acklam's rational approximation (relative error 1.15e-9)
 * refined by one Halley step against `normCdf`.
 */
export function normPpf(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

export function logSumExp(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** log(Φ(b) − Φ(a)) for a < b, stable in either tail (mirrors to the left tail, where Φ is small). */
export function logGaussMass(a: number, b: number): number {
  if (!(a < b)) return -Infinity;
  if (a > 0) return logGaussMass(-b, -a);
  if (b <= 0) {
    // Both in the left tail: log(Φ(b)) + log(1 − Φ(a)/Φ(b)).
    const la = logNormCdf(a);
    const lb = logNormCdf(b);
    return lb + Math.log1p(-Math.exp(la - lb));
  }
  // a <= 0 < b: the mass is at least Φ(b) − 1/2, never tiny.
  return Math.log(1 - normCdf(a) - normCdf(-b));
}

/** Median with linear interpolation (numpy.percentile(…, 50)); NaN when empty. NaNs are dropped (nanmedian). */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = (v.length - 1) / 2;
  const lo = Math.floor(mid);
  const hi = Math.ceil(mid);
  return lo === hi ? v[lo]! : (v[lo]! + v[hi]!) / 2;
}

/** Ranks 1..n with ties given their mean rank (midranks), and the tie group sizes. */
export function midranks(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const r = (i + 1 + j + 1) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = r;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (x, y) with x > y, ties counting one half. */
  u1: number;
  /** The standardised statistic used for the p-value (with continuity correction). */
  z: number;
  p: number;
}

/**
 * Mann–Whitney U test of samples x and y. `less`: H1 is that x tends to be smaller than y.
 * Normal approximation: mean n₁n₂/2, variance n₁n₂/12·((n+1) − Σ(t³−t)/(n(n−1))) over the
 * tie groups t, and a continuity correction of 1/2 towards the mean.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: 'less' | 'greater' | 'two-sided' = 'two-sided'): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error('mannWhitneyU needs two non-empty samples');
  const n = n1 + n2;
  const { ranks, ties } = midranks([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const mu = (n1 * n2) / 2;
  const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  // As scipy: the statistic whose large values support H1, shifted by 1/2 towards the mean.
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  const z = sigma > 0 ? (u - mu - 0.5) / sigma : 0;
  let p = sigma > 0 ? normCdf(-z) : 1;
  if (alternative === 'two-sided') p = Math.min(1, 2 * p);
  return { u1, z, p };
}
