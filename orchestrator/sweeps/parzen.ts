/**
 * Parzen estimators of one parameter, as Optuna's TPE builds them (univariate, with a prior
 * kernel, "magic clip" of bandwidths, no endpoint kernels): a mixture of truncated normals
 * for numbers (in log space for log-uniform params, on the index for discrete ones) and a
 * mixture of smoothed one-hot distributions for choices. Pure; randomness comes in by an Rng.
 */
import type { Rng } from './rng';
import { logGaussMass, logSumExp, normCdf, normPpf } from './stats';

/** Weight of the prior kernel (Optuna's `prior_weight`). */
export const PRIOR_WEIGHT = 1.0;

export interface Estimator {
  /** `n` draws, in the estimator's space. */
  sample(rng: Rng, n: number): number[];
  /** Log density (or log probability for discrete spaces) at `x`. */
  logPdf(x: number): number;
}

/**
 * Optuna's default observation weights: 1 each below 25 observations; beyond, the oldest
 * n − 25 ramp up linearly from 1/n so old trials fade. `n` observations in trial order.
 */
export function defaultWeights(n: number): number[] {
  if (n <= 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const m = n - 25;
  const ramp = m === 1 ? [1 / n] : Array.from({ length: m }, (_, i) => 1 / n + (i * (1 - 1 / n)) / (m - 1));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

function normalise(w: number[]): number[] {
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

/** A standard normal draw truncated to [a, b], by inverting Φ on the side where it is accurate. */
export function truncNormSample(rng: Rng, a: number, b: number): number {
  if (a > 0) return -truncNormSample(rng, -b, -a);
  const pa = normCdf(a);
  const pb = normCdf(b);
  const z = normPpf(pa + (pb - pa) * rng.next());
  return Math.min(b, Math.max(a, Number.isFinite(z) ? z : a));
}

/**
 * Kernel centres and bandwidths for observations `obs` in [low, high] (`step`: spacing of a
 * discrete space, 0 for continuous): each observation's bandwidth is the larger gap to its
 * neighbours (the outermost ones take their inner gap), clipped to
 * [(range)/min(100, 1 + kernels), range]; the prior kernel sits mid-range with bandwidth = range.
 */
export function numericalKernels(obs: readonly number[], low: number, high: number, step: number): { mus: number[]; sigmas: number[] } {
  const priorMu = 0.5 * (low + high);
  const withPrior = [...obs, priorMu];
  const order = withPrior.map((_, i) => i).sort((i, j) => withPrior[i]! - withPrior[j]! || i - j);
  const sorted = order.map((i) => withPrior[i]!);
  const ext = [low - step / 2, ...sorted, high + step / 2];
  const sortedSigmas = sorted.map((_, i) => Math.max(ext[i + 1]! - ext[i]!, ext[i + 2]! - ext[i + 1]!));
  if (ext.length >= 4) {
    sortedSigmas[0] = ext[2]! - ext[1]!;
    sortedSigmas[sortedSigmas.length - 1] = ext[ext.length - 2]! - ext[ext.length - 3]!;
  }
  const sigmasAll = new Array<number>(withPrior.length);
  order.forEach((orig, k) => (sigmasAll[orig] = sortedSigmas[k]!));
  const range = high - low + step;
  const maxSigma = range;
  const minSigma = range / Math.min(100, 1 + obs.length + 1);
  const sigmas = sigmasAll.slice(0, obs.length).map((s) => Math.min(maxSigma, Math.max(minSigma, s)));
  return { mus: withPrior, sigmas: [...sigmas, range] };
}

/** Mixture of normals truncated to [low, high] (continuous) or to the integers low..high (discrete, step 1). */
export class NumericalEstimator implements Estimator {
  private readonly weights: number[];
  private readonly logWeights: number[];
  private readonly mus: number[];
  private readonly sigmas: number[];
  /** log of each kernel's mass over the whole domain. */
  private readonly logNorm: number[];

  constructor(
    obs: readonly number[],
    obsWeights: readonly number[],
    private readonly low: number,
    private readonly high: number,
    private readonly discrete: boolean,
  ) {
    const step = discrete ? 1 : 0;
    const k = numericalKernels(obs, low, high, step);
    this.mus = k.mus;
    this.sigmas = k.sigmas;
    this.weights = normalise([...obsWeights, PRIOR_WEIGHT]);
    this.logWeights = this.weights.map(Math.log);
    const lo = low - step / 2;
    const hi = high + step / 2;
    this.logNorm = this.mus.map((mu, i) => logGaussMass((lo - mu) / this.sigmas[i]!, (hi - mu) / this.sigmas[i]!));
  }

  sample(rng: Rng, n: number): number[] {
    const step = this.discrete ? 1 : 0;
    const lo = this.low - step / 2;
    const hi = this.high + step / 2;
    const out: number[] = [];
    for (let s = 0; s < n; s++) {
      const i = rng.choice(this.weights);
      const mu = this.mus[i]!;
      const sigma = this.sigmas[i]!;
      const x = mu + sigma * truncNormSample(rng, (lo - mu) / sigma, (hi - mu) / sigma);
      out.push(this.discrete ? Math.min(this.high, Math.max(this.low, this.low + Math.round(x - this.low))) : Math.min(this.high, Math.max(this.low, x)));
    }
    return out;
  }

  logPdf(x: number): number {
    const terms = this.mus.map((mu, i) => {
      const sigma = this.sigmas[i]!;
      if (this.discrete) return this.logWeights[i]! + logGaussMass((x - 0.5 - mu) / sigma, (x + 0.5 - mu) / sigma) - this.logNorm[i]!;
      const z = (x - mu) / sigma;
      return this.logWeights[i]! - 0.5 * z * z - Math.log(sigma * Math.sqrt(2 * Math.PI)) - this.logNorm[i]!;
    });
    return logSumExp(terms);
  }
}

/**
 * Choices: each observation is a kernel putting weight 1 + prior/k on its own choice and
 * prior/k on every choice (k kernels), normalised; the prior kernel is uniform.
 */
export class CategoricalEstimator implements Estimator {
  private readonly weights: number[];
  private readonly table: number[][];

  constructor(obs: readonly number[], obsWeights: readonly number[], n: number) {
    if (obs.length === 0) {
      this.weights = [1];
      this.table = [new Array<number>(n).fill(1 / n)];
      return;
    }
    const kernels = obs.length + 1;
    this.table = [...obs, -1].map((c) => {
      const row = new Array<number>(n).fill(PRIOR_WEIGHT / kernels);
      if (c >= 0) row[c]! += 1;
      return normalise(row);
    });
    this.weights = normalise([...obsWeights, PRIOR_WEIGHT]);
  }

  sample(rng: Rng, count: number): number[] {
    return Array.from({ length: count }, () => rng.choice(this.table[rng.choice(this.weights)]!));
  }

  logPdf(x: number): number {
    let p = 0;
    for (let i = 0; i < this.weights.length; i++) p += this.weights[i]! * this.table[i]![x]!;
    return Math.log(p);
  }
}
