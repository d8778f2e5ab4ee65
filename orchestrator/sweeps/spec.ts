/**
 * A `sweeps:` entry made concrete and checked before anything runs: the step and the steps
 * upstream of it, the search space as distributions, the sampler's and pruner's settings,
 * and a hash of everything that makes two runs of the sweep comparable (a resumed run must
 * have the same hash as the one it continues).
 */
import { createHash, randomInt } from 'node:crypto';
import { MlopsError } from '../../protocol/errors';
import type { Manifest, Sweep } from '../../protocol/manifest';
import type { SpaceEntry } from '../../protocol/sweep';
import { listNames, suggest } from '../manifest/suggest';
import { applyParamOverrides, buildPipeline, type LoadedManifest } from '../pipelines';
import { makePruner, type Pruner } from './pruners';
import type { Goal } from './samplers';
import { gridPoints, parseSpace, valueText, type Space } from './space';

/** Defaults of the schema (and Optuna's). */
export const SWEEP_DEFAULTS = { method: 'tpe', trials: 20, parallel: 1 } as const;

export interface ResolvedSweep {
  name: string;
  step: string;
  /** Steps the trials read from, run once (or skipped, cached) before the trials. */
  upstream: string[];
  method: 'grid' | 'random' | 'tpe';
  metric: string;
  goal: Goal;
  space: Space;
  spaceEntries: Record<string, SpaceEntry>;
  /** Trials to finish (complete, pruned or failed); for grid at most one per point. */
  budget: number;
  parallel: number;
  /** The manifest's seed; undefined: the run picks one and records it. */
  seed?: number;
  prune: Sweep['prune'];
  pruner?: Pruner;
  /** The step's params that the sweep does not change, as text (recorded on every trial). */
  fixedParams: Record<string, string>;
  /** sha256 over step, method, objective, space, seed, prune, the step's command and fixed params. */
  specHash: string;
}

export function resolveSweep(loaded: LoadedManifest, name: string, over: { trials?: number; parallel?: number } = {}): ResolvedSweep {
  const manifest: Manifest = loaded.manifest;
  const sweeps = manifest.sweeps ?? {};
  const sweep = sweeps[name];
  if (!sweep) {
    const all = Object.keys(sweeps);
    const sugg = suggest(name, all);
    throw new MlopsError('NOT_FOUND', all.length ? `no sweep "${name}" in mlops.yaml${sugg.length ? `; did you mean "${sugg[0]}"?` : '.'} Sweeps: ${listNames(all)}.` : `mlops.yaml declares no sweeps: add one under \`sweeps:\``, { name, suggestions: sugg });
  }
  const space = parseSpace(sweep.space as Record<string, SpaceEntry> | undefined);
  const method = sweep.method ?? SWEEP_DEFAULTS.method;
  // Grid: refuses continuous params with a clear message; at most one trial per point.
  const gridCount = method === 'grid' ? gridPoints(space).length : Infinity;
  const pipeline = buildPipeline(loaded, [sweep.step]);
  const spec = pipeline.specs.get(sweep.step)!;
  const swept = [...space.keys()];
  for (const p of swept) {
    if (!(p in spec.params)) {
      throw new MlopsError('BAD_REQUEST', `sweep "${name}" searches over "${p}", but step "${sweep.step}" does not use it: add it to the step's \`params:\` (or use \${params.${p}} in its cmd)`);
    }
  }
  const upstream = pipeline.order.filter((s) => s !== sweep.step);
  for (const u of upstream) {
    const used = swept.filter((p) => p in pipeline.specs.get(u)!.params);
    if (used.length) {
      throw new MlopsError('BAD_REQUEST', `sweep "${name}" searches over ${used.map((p) => `"${p}"`).join(', ')}, which step "${u}" (upstream of "${sweep.step}") uses too: a sweep tunes one step with its upstream steps fixed`);
    }
  }
  // Every candidate must be a valid override of its param (a string choice for a number param is refused here, not in trial 7).
  const defaults = manifest.params ?? {};
  for (const [p, d] of space) {
    const probes = d.kind === 'categorical' ? d.choices : [d.low, d.high];
    for (const v of probes) {
      try {
        applyParamOverrides(defaults, { [p]: valueText(v) });
      } catch (e) {
        throw new MlopsError('BAD_REQUEST', `sweep "${name}": ${(e as Error).message}`);
      }
    }
  }
  const asked = over.trials ?? sweep.trials ?? SWEEP_DEFAULTS.trials;
  const budget = Math.min(asked, gridCount);
  const parallel = over.parallel ?? sweep.parallel ?? SWEEP_DEFAULTS.parallel;
  if (!Number.isInteger(asked) || asked < 1) throw new MlopsError('BAD_REQUEST', `trials must be a positive integer (got ${asked})`);
  if (!Number.isInteger(parallel) || parallel < 1) throw new MlopsError('BAD_REQUEST', `parallel must be a positive integer (got ${parallel})`);
  const fixedParams = Object.fromEntries(Object.entries(spec.params).filter(([k]) => !space.has(k)));
  const canonical = JSON.stringify({
    step: sweep.step, method, objective: sweep.objective, space: sweep.space, seed: sweep.seed ?? null, prune: sweep.prune ?? null,
    cmd: spec.cmdTemplate, fixed: Object.entries(fixedParams).sort(([a], [b]) => (a < b ? -1 : 1)),
  });
  return {
    name,
    step: sweep.step,
    upstream,
    method,
    metric: sweep.objective.metric,
    goal: sweep.objective.goal,
    space,
    spaceEntries: sweep.space as Record<string, SpaceEntry>,
    budget,
    parallel,
    seed: sweep.seed,
    prune: sweep.prune,
    pruner: makePruner(sweep.prune, sweep.objective.goal),
    fixedParams,
    specHash: createHash('sha256').update(canonical).digest('hex'),
  };
}

/** A fresh seed for a sweep without one (recorded on the run so a resume reuses it). */
export function newSeed(): number {
  return randomInt(0, 2 ** 31);
}
