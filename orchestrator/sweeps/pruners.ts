/**
 * Pruners: whether a running trial should stop, given the intermediate values (the objective
 * metric's series, by step) of every trial. Pure: the sweep feeds them each new point, and a
 * test can recompute any recorded decision from the stored series.
 *
 * - median (Optuna's MedianPruner): after `startup_trials` trials have completed and from
 *   step `warmup_steps` on, a trial stops when its best value so far is worse than the median
 *   of the completed trials' values at the same step.
 * - hyperband (Optuna's HyperbandPruner): trials are spread over brackets; in each, an
 *   asynchronous successive-halving pruner with rungs at min_resource·η^(bracket + r) steps
 *   keeps a trial only while it is in the top 1/η of the values seen at that rung.
 */
import type { Prune } from '../../protocol/manifest';
import type { PruneRecord, TrialState } from '../../protocol/sweep';
import { deriveSeed } from './rng';
import type { Goal } from './samplers';
import { median } from './stats';

/** A trial as pruners see it: its series of the objective, step → value. */
export interface PrunerTrial {
  number: number;
  state: TrialState;
  series: ReadonlyMap<number, number>;
}

export interface Pruner {
  /** One line for logs and the sweep's tags: `median (warmup 5 steps, 5 start-up trials)`. */
  readonly description: string;
  /**
   * Called when trial `trial` has reported `step` (its series includes it): a record when it
   * must stop. `trials`: every trial of the sweep, the one asking included.
   */
  decide(trial: PrunerTrial, step: number, trials: readonly PrunerTrial[], at?: number): PruneRecord | undefined;
}

/** Lower is better, whatever the goal (NaN is worst). */
function lossOf(goal: Goal, v: number): number {
  if (Number.isNaN(v)) return Infinity;
  return goal === 'minimize' ? v : -v;
}

export interface MedianConfig {
  warmupSteps: number;
  startupTrials: number;
}

export class MedianPruner implements Pruner {
  readonly description: string;

  constructor(
    readonly cfg: MedianConfig,
    private readonly goal: Goal,
  ) {
    this.description = `median (warm-up ${cfg.warmupSteps} steps, ${cfg.startupTrials} start-up trials)`;
  }

  /** The trial's best value over its steps up to `step` (what Optuna compares). */
  static bestSoFar(series: ReadonlyMap<number, number>, step: number, goal: Goal): number {
    let best = NaN;
    for (const [s, v] of series) {
      if (s > step) continue;
      if (Number.isNaN(best) || lossOf(goal, v) < lossOf(goal, best)) best = v;
    }
    return best;
  }

  decide(trial: PrunerTrial, step: number, trials: readonly PrunerTrial[], at = Date.now()): PruneRecord | undefined {
    const completed = trials.filter((t) => t.state === 'complete' && t.number !== trial.number);
    if (completed.length === 0 || completed.length < this.cfg.startupTrials) return undefined;
    if (step < this.cfg.warmupSteps) return undefined;
    const value = MedianPruner.bestSoFar(trial.series, step, this.goal);
    const basis = completed.filter((t) => t.series.has(step)).sort((a, b) => a.number - b.number);
    if (basis.length === 0) return undefined;
    const med = median(basis.map((t) => t.series.get(step)!));
    if (Number.isNaN(med)) return undefined;
    const worse = Number.isNaN(value) || lossOf(this.goal, value) > lossOf(this.goal, med);
    if (!worse) return undefined;
    return { trial: trial.number, step, value, rule: 'median', median: med, threshold: med, basis: basis.map((t) => ({ trial: t.number, step })), at };
  }
}

export interface HyperbandConfig {
  reductionFactor: number;
  minResource: number;
  /** Undefined: the last step of the first trial that completes (Optuna's "auto"). */
  maxResource?: number;
}

/** Trials a bracket gets per round (Optuna's allocation): ⌈n·η^s/(s+1)⌉ with s = n − 1 − i. */
export function bracketBudgets(cfg: Required<HyperbandConfig>): number[] {
  const n = Math.floor(Math.log(cfg.maxResource / cfg.minResource) / Math.log(cfg.reductionFactor) + 1e-9) + 1;
  return Array.from({ length: Math.max(1, n) }, (_, i) => {
    const s = Math.max(1, n) - 1 - i;
    return Math.ceil((Math.max(1, n) * cfg.reductionFactor ** s) / (s + 1));
  });
}

/** Bracket of a trial: its number hashed onto the brackets' budgets (recomputable from the number alone). */
export function bracketOf(trial: number, budgets: readonly number[]): number {
  const total = budgets.reduce((a, b) => a + b, 0);
  let r = deriveSeed(trial, 0x48b) % total;
  for (let i = 0; i < budgets.length; i++) {
    if (r < budgets[i]!) return i;
    r -= budgets[i]!;
  }
  return budgets.length - 1;
}

/** The step a rung is evaluated at. */
export function rungStep(cfg: HyperbandConfig, bracket: number, rung: number): number {
  return cfg.minResource * cfg.reductionFactor ** (bracket + rung);
}

/** A trial's value at a rung: at its first reported step at or after the rung's step. */
export function rungValue(series: ReadonlyMap<number, number>, at: number): { step: number; value: number } | undefined {
  let found: { step: number; value: number } | undefined;
  for (const [s, v] of series) if (s >= at && (!found || s < found.step)) found = { step: s, value: v };
  return found;
}

export class HyperbandPruner implements Pruner {
  readonly description: string;

  constructor(
    readonly cfg: HyperbandConfig,
    private readonly goal: Goal,
  ) {
    this.description = `hyperband (η=${cfg.reductionFactor}, resources ${cfg.minResource}..${cfg.maxResource ?? 'auto'})`;
  }

  /** The resolved max resource: configured, or the last step of the first complete trial. */
  maxResource(trials: readonly PrunerTrial[]): number | undefined {
    if (this.cfg.maxResource !== undefined) return this.cfg.maxResource;
    const first = trials.filter((t) => t.state === 'complete' && t.series.size > 0).sort((a, b) => a.number - b.number)[0];
    return first ? Math.max(...first.series.keys()) : undefined;
  }

  decide(trial: PrunerTrial, step: number, trials: readonly PrunerTrial[], at = Date.now()): PruneRecord | undefined {
    const maxResource = this.maxResource(trials);
    if (maxResource === undefined) return undefined;
    const cfg = { ...this.cfg, maxResource };
    const budgets = bracketBudgets(cfg);
    const bracket = bracketOf(trial.number, budgets);
    const value = trial.series.get(step);
    if (value === undefined) return undefined;
    // The step reported before this one: rungs at or below it were evaluated then.
    let previous = -Infinity;
    for (const s of trial.series.keys()) if (s < step && s > previous) previous = s;
    const rivals = trials.filter((t) => t.number !== trial.number && bracketOf(t.number, budgets) === bracket);
    for (let rung = 0; ; rung++) {
      const promotion = rungStep(cfg, bracket, rung);
      if (step < promotion) return undefined;
      if (previous >= promotion) continue;
      const basis = rivals
        .map((t) => ({ t, at: rungValue(t.series, promotion) }))
        .filter((x): x is { t: PrunerTrial; at: { step: number; value: number } } => x.at !== undefined);
      const competing = [...basis.map((b) => b.at.value), value].sort((a, b) => lossOf(this.goal, a) - lossOf(this.goal, b));
      const idx = Math.max(0, Math.floor(competing.length / cfg.reductionFactor) - 1);
      const threshold = competing[idx]!;
      if (Number.isNaN(value) || lossOf(this.goal, value) > lossOf(this.goal, threshold)) {
        return {
          trial: trial.number, step, value, rule: 'hyperband', threshold, rung, bracket, at,
          basis: basis.sort((a, b) => a.t.number - b.t.number).map((b) => ({ trial: b.t.number, step: b.at.step })),
        };
      }
    }
  }
}

/** The manifest's `prune:` as a pruner (Optuna's defaults for what it leaves out); undefined: no pruning. */
export function makePruner(prune: Prune | undefined, goal: Goal): Pruner | undefined {
  if (!prune) return undefined;
  if ('median' in prune) return new MedianPruner({ warmupSteps: prune.median?.warmup_steps ?? 0, startupTrials: prune.median?.startup_trials ?? 5 }, goal);
  if ('hyperband' in prune) {
    const h = prune.hyperband ?? {};
    return new HyperbandPruner({ reductionFactor: h.reduction_factor ?? 3, minResource: h.min_resource ?? 1, maxResource: h.max_resource }, goal);
  }
  return undefined;
}

/**
 * Recomputes a recorded prune from series (the store's, in a test or an audit): the trial's
 * compared value and the threshold from the basis trials' values. Returns what differs, or
 * an empty list when the record is exactly what the series say.
 */
export function checkPruneRecord(rec: PruneRecord, goal: Goal, seriesOf: (trial: number) => ReadonlyMap<number, number> | undefined, reductionFactor = 3): string[] {
  const problems: string[] = [];
  const own = seriesOf(rec.trial);
  if (!own) return [`no series for trial ${rec.trial}`];
  const values = rec.basis.map((b) => seriesOf(b.trial)?.get(b.step));
  if (values.some((v) => v === undefined)) problems.push('a basis trial has no value at its step');
  const vals = values.filter((v): v is number => v !== undefined);
  if (rec.rule === 'median') {
    const value = MedianPruner.bestSoFar(own, rec.step, goal);
    if (!sameNumber(value, rec.value)) problems.push(`value: recorded ${rec.value}, series say ${value}`);
    const med = median(vals);
    if (!sameNumber(med, rec.median ?? NaN)) problems.push(`median: recorded ${rec.median}, series say ${med}`);
    if (!(lossOf(goal, value) > lossOf(goal, med))) problems.push(`value ${value} is not worse than the median ${med}`);
  } else {
    const value = own.get(rec.step);
    if (value === undefined || !sameNumber(value, rec.value)) problems.push(`value: recorded ${rec.value}, series say ${value}`);
    const competing = [...vals, value ?? NaN].sort((a, b) => lossOf(goal, a) - lossOf(goal, b));
    const threshold = competing[Math.max(0, Math.floor(competing.length / reductionFactor) - 1)]!;
    if (!sameNumber(threshold, rec.threshold)) problems.push(`threshold: recorded ${rec.threshold}, series say ${threshold}`);
    if (!(lossOf(goal, value ?? NaN) > lossOf(goal, threshold))) problems.push(`value ${value} is not worse than the threshold ${threshold}`);
  }
  return problems;
}

function sameNumber(a: number, b: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}
