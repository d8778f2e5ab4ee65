/**
 * Significance of an A/B difference, as scipy computes it (fixtures in test/fixtures/monitoring):
 * - accuracy (a proportion): the pooled two-proportion z-test, two-sided;
 * - regression errors: Welch's t-test on the absolute errors (scipy `ttest_ind(equal_var=False)`),
 *   with the Student t tail from the regularised incomplete beta function;
 * - the samples per arm a two-sided test at `alpha` needs for 80 % power at the observed
 *   effect (the classic two-proportion formula), to say how far "not significant yet" is.
 */
import { lnGamma, normCdf } from '../drift/special';

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** Pooled two-proportion z-test of x1/n1 against x2/n2 (statistic: p2 − p1 over its standard error). */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): TestResult {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return { statistic: 0, pValue: 1 };
  const z = (p2 - p1) / se;
  return { statistic: z, pValue: 2 * normCdf(-Math.abs(z)) };
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function betaInc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaFraction(b, a, 1 - x)) / b;
}

/** Two-sided tail of Student's t: P(|T| ≥ |t|) with `df` degrees of freedom. */
export function tTwoSided(t: number, df: number): number {
  return betaInc(df / 2, 0.5, df / (df + t * t));
}

export interface SampleStats {
  n: number;
  mean: number;
  /** Sample variance (ddof 1). */
  variance: number;
}

export function sampleStats(xs: readonly number[]): SampleStats {
  const n = xs.length;
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= n || 1;
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return { n, mean, variance: n > 1 ? ss / (n - 1) : 0 };
}

/** Welch's t-test of b against a (statistic positive when b's mean is larger). */
export function welchT(a: SampleStats, b: SampleStats): TestResult & { df: number } {
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se = Math.sqrt(va + vb);
  if (!(se > 0) || a.n < 2 || b.n < 2) return { statistic: 0, pValue: 1, df: Math.max(1, a.n + b.n - 2) };
  const t = (b.mean - a.mean) / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return { statistic: t, pValue: tTwoSided(t, df), df };
}

/** Inverse of the standard normal CDF by bisection (a few dozen steps; only called per verdict). */
export function normQuantile(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (normCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Samples per arm for a two-sided two-proportion test at `alpha` with `power` to tell p1 from p2. */
export function samplesPerArmProportions(p1: number, p2: number, alpha = 0.05, power = 0.8): number {
  const d = Math.abs(p2 - p1);
  if (!(d > 0)) return Number.POSITIVE_INFINITY;
  const za = normQuantile(1 - alpha / 2);
  const zb = normQuantile(power);
  const pbar = (p1 + p2) / 2;
  const n = (za * Math.sqrt(2 * pbar * (1 - pbar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / d ** 2;
  return Math.ceil(n);
}

/** Samples per arm for a two-sided two-sample mean test (normal approximation) at the observed effect. */
export function samplesPerArmMeans(a: SampleStats, b: SampleStats, alpha = 0.05, power = 0.8): number {
  const d = Math.abs(b.mean - a.mean);
  if (!(d > 0)) return Number.POSITIVE_INFINITY;
  const za = normQuantile(1 - alpha / 2);
  const zb = normQuantile(power);
  return Math.ceil(((za + zb) ** 2 * (a.variance + b.variance)) / d ** 2);
}
