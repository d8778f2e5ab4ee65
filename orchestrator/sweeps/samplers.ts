/**
 * Samplers: which params trial N runs with, given every trial recorded so far. None keeps
 * state between calls: the random stream of trial N comes from (seed, N), so a sweep that
 * was stopped and resumed continues exactly where the recorded trials leave it.
 *
 * - grid: every combination once, in an order shuffled by the seed (as Optuna's GridSampler),
 *   skipping points already run; undefined once the grid is exhausted.
 * - random: independent uniform draws per param (log-uniform in log space).
 * - tpe: the Tree-structured Parzen Estimator with Optuna's defaults (see TpeSampler).
 */
import type { TrialState } from '../../protocol/sweep';
import { CategoricalEstimator, defaultWeights, NumericalEstimator, type Estimator } from './parzen';
import { deriveSeed, Rng } from './rng';
import { discreteCount, discreteValue, gridPoints, sampleUniform, samePoint, type Dist, type ParamValues, type Space } from './space';

export type Goal = 'minimize' | 'maximize';

/** A recorded trial as samplers see it. */
export interface TrialObservation {
  number: number;
  params: ParamValues;
  state: TrialState;
  /** The objective: final value (complete), last reported value (pruned; may be NaN or absent). */
  value?: number;
  /** Pruned trials: the last step reported. */
  lastStep?: number;
}

export interface Sampler {
  /** The params of trial `number`; undefined when there is nothing left to try (grid). */
  sample(number: number, trials: readonly TrialObservation[]): ParamValues | undefined;
}

/** Purposes mixed into the seed, so the streams of different samplers never coincide. */
const PURPOSE = { random: 1, tpe: 2, grid: 3 } as const;

export class RandomSampler implements Sampler {
  constructor(
    private readonly space: Space,
    private readonly seed: number,
  ) {}

  sample(number: number): ParamValues {
    const rng = new Rng(deriveSeed(this.seed, number, PURPOSE.random));
    const out: ParamValues = {};
    for (const [name, d] of this.space) out[name] = sampleUniform(d, rng);
    return out;
  }
}

export class GridSampler implements Sampler {
  private readonly order: ParamValues[];

  constructor(
    private readonly space: Space,
    seed: number,
  ) {
    this.order = new Rng(deriveSeed(seed, PURPOSE.grid)).shuffle(gridPoints(space));
  }

  get size(): number {
    return this.order.length;
  }

  sample(_number: number, trials: readonly TrialObservation[]): ParamValues | undefined {
    const names = [...this.space.keys()];
    const taken = trials.filter((t) => t.state !== 'discarded');
    return this.order.find((p) => !taken.some((t) => samePoint(p, t.params, names)));
  }
}

export interface TpeOptions {
  /** Random trials before the model is used (Optuna: 10). Complete and pruned trials count. */
  startupTrials?: number;
  /** Candidates drawn from l(x) per param, scored by l(x)/g(x) (Optuna: 24). */
  candidates?: number;
  /** Size of the "good" group for n observations (Optuna: min(⌈0.1·n⌉, 25)). */
  gamma?: (n: number) => number;
}

export const TPE_DEFAULTS = { startupTrials: 10, candidates: 24, gamma: (n: number) => Math.min(Math.ceil(0.1 * n), 25) } as const;

/** A param's value in the estimator's space: log for log floats, the index for discrete and choices. */
function toInternal(d: Dist, v: unknown): number | undefined {
  switch (d.kind) {
    case 'float': {
      const n = Number(v);
      if (!Number.isFinite(n)) return undefined;
      return d.log ? (n > 0 ? Math.log(n) : undefined) : n;
    }
    case 'discrete': {
      const n = Number(v);
      if (!Number.isFinite(n)) return undefined;
      return Math.min(discreteCount(d) - 1, Math.max(0, Math.round((n - d.low) / d.step)));
    }
    case 'categorical': {
      const i = d.choices.findIndex((c) => String(c) === String(v));
      return i < 0 ? undefined : i;
    }
  }
}

function fromInternal(d: Dist, x: number): ParamValues[string] {
  switch (d.kind) {
    case 'float':
      return d.log ? Math.min(d.high, Math.max(d.low, Math.exp(x))) : x;
    case 'discrete':
      return discreteValue(d, x);
    case 'categorical':
      return d.choices[x]!;
  }
}

function estimator(d: Dist, obs: number[], weights: number[]): Estimator {
  switch (d.kind) {
    case 'float':
      return d.log ? new NumericalEstimator(obs, weights, Math.log(d.low), Math.log(d.high), false) : new NumericalEstimator(obs, weights, d.low, d.high, false);
    case 'discrete':
      return new NumericalEstimator(obs, weights, 0, discreteCount(d) - 1, true);
    case 'categorical':
      return new CategoricalEstimator(obs, weights, d.choices.length);
  }
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), as Optuna's TPESampler with its
 * defaults (independent per param, prior kernel, magic clip):
 *  1. the first `startupTrials` trials are random;
 *  2. finished trials are ranked (complete by objective, then pruned by how far they got,
 *     then by their last value) and the best γ(n) form the "below" group, the rest "above";
 *  3. per param, a Parzen estimator l(x) is fitted to the below group and g(x) to the above
 *     group; 24 candidates are drawn from l and the one maximising log l(x) − log g(x) (the
 *     expected-improvement ratio) is taken.
 */
export class TpeSampler implements Sampler {
  private readonly opts: Required<TpeOptions>;
  private readonly random: RandomSampler;

  constructor(
    private readonly space: Space,
    private readonly goal: Goal,
    private readonly seed: number,
    opts: TpeOptions = {},
  ) {
    this.opts = { ...TPE_DEFAULTS, ...opts };
    // The start-up trials are exactly the random sampler's: same seed, same first trials.
    this.random = new RandomSampler(space, seed);
  }

  sample(number: number, trials: readonly TrialObservation[]): ParamValues {
    const usable = trials.filter((t) => (t.state === 'complete' && t.value !== undefined && Number.isFinite(t.value)) || t.state === 'pruned');
    if (usable.length < this.opts.startupTrials) return this.random.sample(number);
    const { below, above } = this.split(usable);
    const rng = new Rng(deriveSeed(this.seed, number, PURPOSE.tpe));
    const out: ParamValues = {};
    for (const [name, d] of this.space) {
      const lo = this.observations(d, name, below);
      const hi = this.observations(d, name, above);
      const l = estimator(d, lo, defaultWeights(lo.length));
      const g = estimator(d, hi, defaultWeights(hi.length));
      let best = NaN;
      let bestScore = -Infinity;
      for (const x of l.sample(rng, this.opts.candidates)) {
        const score = l.logPdf(x) - g.logPdf(x);
        if (score > bestScore || Number.isNaN(best)) {
          best = x;
          bestScore = score;
        }
      }
      out[name] = fromInternal(d, best);
    }
    return out;
  }

  /** Below: the best γ(n) trials; above: the rest. Each group in trial order (for the weights). */
  split(usable: readonly TrialObservation[]): { below: TrialObservation[]; above: TrialObservation[] } {
    const loss = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? Infinity : this.goal === 'minimize' ? v : -v);
    const complete = usable.filter((t) => t.state === 'complete').sort((a, b) => loss(a.value) - loss(b.value) || a.number - b.number);
    // Optuna ranks pruned trials by (−last step, value): the further a trial got, the better.
    const pruned = usable
      .filter((t) => t.state === 'pruned')
      .sort((a, b) => -(a.lastStep ?? -1) + (b.lastStep ?? -1) || loss(a.value) - loss(b.value) || a.number - b.number);
    const ranked = [...complete, ...pruned];
    const n = this.opts.gamma(usable.length);
    const byNumber = (a: TrialObservation, b: TrialObservation) => a.number - b.number;
    return { below: ranked.slice(0, n).sort(byNumber), above: ranked.slice(n).sort(byNumber) };
  }

  private observations(d: Dist, name: string, trials: readonly TrialObservation[]): number[] {
    const out: number[] = [];
    for (const t of trials) {
      const x = toInternal(d, t.params[name]);
      if (x !== undefined) out.push(x);
    }
    return out;
  }
}

export function makeSampler(method: 'grid' | 'random' | 'tpe', space: Space, goal: Goal, seed: number, tpe?: TpeOptions): Sampler {
  switch (method) {
    case 'grid':
      return new GridSampler(space, seed);
    case 'random':
      return new RandomSampler(space, seed);
    case 'tpe':
      return new TpeSampler(space, goal, seed, tpe);
  }
}
