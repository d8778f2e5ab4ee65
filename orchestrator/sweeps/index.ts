/**
 * Hyperparameter sweeps from the manifest's `sweeps:`: samplers (grid, random, TPE), pruners
 * (median, hyperband), the session that runs trials through the pipeline runner, and the
 * daemon's sweep endpoints.
 */
export { SweepManager, type SweepHost, type SweepManagerDeps } from './manager';
export { sweepRoutes } from './routes';
export { GridSampler, RandomSampler, TpeSampler, makeSampler, type Sampler, type TrialObservation, type Goal } from './samplers';
export { MedianPruner, HyperbandPruner, makePruner, checkPruneRecord, type Pruner, type PrunerTrial } from './pruners';
export { parseSpace, gridSize, type Space, type Dist, type ParamValues } from './space';
export { paramImportance } from './importance';
export { mannWhitneyU } from './stats';
export { resolveSweep, type ResolvedSweep } from './spec';
export { TAG as SWEEP_TAGS, loadTrials, sweepStatus } from './trials';
