/**
 * Search spaces: the manifest's `space:` entries as distributions samplers can work with,
 * uniform draws, grid enumeration and values as the text a param override takes. Pure.
 *
 * - `uniform: [a, b]`      float in [a, b]
 * - `loguniform: [a, b]`   float in [a, b], uniform in log space (a > 0)
 * - `int: [a, b]`          integer in [a, b]
 * - `quniform: [a, b, q]`  a multiple of q in [a, b] (discrete: grid-able)
 * - `choice: [...]`        one of the values
 */
import { MlopsError } from '../../protocol/errors';
import type { Scalar } from '../../protocol/manifest';
import type { SpaceEntry } from '../../protocol/sweep';
import type { Rng } from './rng';

export type Dist =
  /** Continuous float; `log`: sampled and modelled in log space. */
  | { kind: 'float'; low: number; high: number; log: boolean }
  /** Discrete numbers `low + k·step` (int: step 1; quniform: step q, low/high the first and last multiples). */
  | { kind: 'discrete'; low: number; high: number; step: number; integer: boolean }
  | { kind: 'categorical'; choices: Scalar[] };

export type Space = Map<string, Dist>;
export type ParamValues = Record<string, Scalar>;

function bad(param: string, why: string): MlopsError {
  return new MlopsError('BAD_REQUEST', `search space of "${param}": ${why}`);
}

/** Rounds away binary noise (0.1 * 3 = 0.30000000000000004) without changing real values. */
export function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

export function parseDist(param: string, e: SpaceEntry): Dist {
  const nums = (v: unknown[], n: number) => {
    if (v.length !== n || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(param, `expected ${n} numbers`);
    return v as number[];
  };
  if ('uniform' in e) {
    const [low, high] = nums(e.uniform, 2) as [number, number];
    if (!(low < high)) throw bad(param, `uniform needs low < high (got [${low}, ${high}])`);
    return { kind: 'float', low, high, log: false };
  }
  if ('loguniform' in e) {
    const [low, high] = nums(e.loguniform, 2) as [number, number];
    if (!(low > 0)) throw bad(param, `loguniform bounds must be > 0 (got ${low})`);
    if (!(low < high)) throw bad(param, `loguniform needs low < high (got [${low}, ${high}])`);
    return { kind: 'float', low, high, log: true };
  }
  if ('int' in e) {
    const [low, high] = nums(e.int, 2) as [number, number];
    if (!Number.isInteger(low) || !Number.isInteger(high)) throw bad(param, 'int bounds must be integers');
    if (!(low <= high)) throw bad(param, `int needs low <= high (got [${low}, ${high}])`);
    return { kind: 'discrete', low, high, step: 1, integer: true };
  }
  if ('quniform' in e) {
    const [low, high, q] = nums(e.quniform, 3) as [number, number, number];
    if (!(q > 0)) throw bad(param, `quniform step q must be > 0 (got ${q})`);
    const first = Math.ceil(tidy(low / q));
    const last = Math.floor(tidy(high / q));
    if (first > last) throw bad(param, `no multiple of ${q} lies in [${low}, ${high}]`);
    return { kind: 'discrete', low: tidy(first * q), high: tidy(last * q), step: q, integer: Number.isInteger(q) && Number.isInteger(first * q) };
  }
  if ('choice' in e) {
    if (!Array.isArray(e.choice) || e.choice.length === 0) throw bad(param, 'choice needs at least one value');
    return { kind: 'categorical', choices: [...e.choice] };
  }
  throw bad(param, 'expected one of uniform, loguniform, int, quniform, choice');
}

/** The manifest's `space:` as distributions, in the manifest's order. */
export function parseSpace(space: Record<string, SpaceEntry> | undefined): Space {
  const out: Space = new Map();
  for (const [k, e] of Object.entries(space ?? {})) out.set(k, parseDist(k, e));
  if (out.size === 0) throw new MlopsError('BAD_REQUEST', 'the sweep has an empty search space: add params under `space:`');
  return out;
}

/** Number of values of a discrete distribution. */
export function discreteCount(d: Extract<Dist, { kind: 'discrete' }>): number {
  return Math.round((d.high - d.low) / d.step) + 1;
}

/** The k-th value of a discrete distribution. */
export function discreteValue(d: Extract<Dist, { kind: 'discrete' }>, k: number): number {
  return tidy(d.low + k * d.step);
}

/** A draw from the distribution itself (the random sampler, TPE's start-up trials). */
export function sampleUniform(d: Dist, rng: Rng): Scalar {
  switch (d.kind) {
    case 'float':
      return d.log ? Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high))) : rng.uniform(d.low, d.high);
    case 'discrete':
      return discreteValue(d, rng.int(0, discreteCount(d) - 1));
    case 'categorical':
      return d.choices[rng.int(0, d.choices.length - 1)]!;
  }
}

/** Values of a grid-able distribution, or undefined for continuous ones. */
export function gridValues(d: Dist): Scalar[] | undefined {
  switch (d.kind) {
    case 'float':
      return undefined;
    case 'discrete':
      return Array.from({ length: discreteCount(d) }, (_, k) => discreteValue(d, k));
    case 'categorical':
      return d.choices;
  }
}

/** Number of grid points, or undefined when a param is continuous (uniform, loguniform). */
export function gridSize(space: Space): number | undefined {
  let n = 1;
  for (const d of space.values()) {
    const v = gridValues(d);
    if (!v) return undefined;
    n *= v.length;
  }
  return n;
}

/** Every combination, the first param varying slowest. */
export function gridPoints(space: Space): ParamValues[] {
  let points: ParamValues[] = [{}];
  for (const [name, d] of space) {
    const values = gridValues(d);
    if (!values) throw new MlopsError('BAD_REQUEST', `method grid needs choice, int or quniform entries; "${name}" is continuous (use random or tpe, or a choice/quniform)`);
    if (points.length * values.length > 1_000_000) throw new MlopsError('BAD_REQUEST', 'the grid has more than 1,000,000 points: narrow the space or use random or tpe');
    points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return points;
}

/** A value as the text of a param override (`-p lr=0.003`): full precision, no exponent surprises. */
export function valueText(v: Scalar): string {
  return typeof v === 'number' ? String(v) : String(v);
}

/** Parses a recorded param (text) back to a value of the distribution; undefined if it does not belong. */
export function parseValue(d: Dist, text: string): Scalar | undefined {
  if (d.kind === 'categorical') return d.choices.find((c) => String(c) === text);
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) return undefined;
  return n;
}

/** Whether two param sets are the same point (grid bookkeeping). */
export function samePoint(a: ParamValues, b: ParamValues, names: Iterable<string>): boolean {
  for (const k of names) if (String(a[k]) !== String(b[k])) return false;
  return true;
}
