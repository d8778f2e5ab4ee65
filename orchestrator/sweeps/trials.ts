/**
 * Trials as the store keeps them, and back. A trial is a run of kind `trial` under its sweep
 * run; what a sampler or pruner needs to resume is in its tags (number, final state, prune
 * record), its params and its metric series, so a sweep that was stopped, or whose daemon
 * died, is continued from the store alone.
 */
import type { PruneRecord, SweepStatus, TrialState, TrialSummary } from '../../protocol/sweep';
import type { RunDetail, RunSummary } from '../../protocol/types';
import type { Store } from '../store/store';
import { paramImportance } from './importance';
import type { TrialObservation } from './samplers';
import { parseValue, type ParamValues, type Space } from './space';

/** Tags of sweep and trial runs. */
export const TAG = {
  sweep: 'mlops.sweep.name',
  step: 'mlops.sweep.step',
  method: 'mlops.sweep.method',
  metric: 'mlops.sweep.metric',
  goal: 'mlops.sweep.goal',
  space: 'mlops.sweep.space',
  specHash: 'mlops.sweep.spec_hash',
  seed: 'mlops.sweep.seed',
  budget: 'mlops.sweep.trials',
  parallel: 'mlops.sweep.parallel',
  pruner: 'mlops.sweep.pruner',
  bestTrial: 'mlops.sweep.best_trial',
  bestNumber: 'mlops.sweep.best_number',
  bestValue: 'mlops.sweep.best_value',
  /** On a trial: its number. */
  number: 'mlops.trial.number',
  /** On a trial once it ended: complete | pruned | failed (absent: it never ended, so it is re-sampled). */
  state: 'mlops.trial.state',
  /** On a pruned trial: the PruneRecord, JSON. */
  prune: 'mlops.sweep.prune',
  /** On the best trial: "true". */
  best: 'mlops.sweep.best',
} as const;

/** A trial with its objective series: what the session and the status are made of. */
export interface RecordedTrial {
  number: number;
  runId: string;
  run: RunSummary;
  state: TrialState;
  /** The swept params, typed by their distributions (unknown values left out). */
  params: ParamValues;
  value?: number;
  /** The objective's intermediate values, step → value (a pruned trial's end at its prune step). */
  series: Map<number, number>;
  prune?: PruneRecord;
}

export function trialStateOf(run: RunSummary): TrialState {
  const s = run.tags[TAG.state];
  if (s === 'complete' || s === 'pruned' || s === 'failed') return s;
  return run.status === 'running' || run.status === 'queued' ? 'running' : 'discarded';
}

export function parsePrune(run: RunSummary): PruneRecord | undefined {
  const text = run.tags[TAG.prune];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as PruneRecord;
  } catch {
    return undefined;
  }
}

/** Step → value, the last point logged at a step winning (as the store's "latest" does). */
export function seriesOf(points: readonly { step: number; value: number }[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of points) m.set(p.step, p.value);
  return new Map([...m].sort((a, b) => a[0] - b[0]));
}

/** The trials of a sweep run, oldest first, with their series of `metric`. */
export async function loadTrials(store: Store, sweepRunId: string, metric: string, space: Space): Promise<RecordedTrial[]> {
  const children = (await store.listChildren(sweepRunId)).filter((c) => c.kind === 'trial');
  const out: RecordedTrial[] = [];
  for (const run of children) {
    const number = Number(run.tags[TAG.number]);
    if (!Number.isInteger(number)) continue;
    const state = trialStateOf(run);
    const prune = parsePrune(run);
    let series = seriesOf(await store.getMetricHistory(run.id, metric));
    // What came after the decision (the step had not stopped yet) was not seen by the pruner.
    if (prune) series = new Map([...series].filter(([s]) => s <= prune.step));
    const params: ParamValues = {};
    for (const [name, d] of space) {
      const text = run.params[name];
      const v = text === undefined ? undefined : parseValue(d, text);
      if (v !== undefined) params[name] = v;
    }
    const latest = run.latestMetrics[metric];
    const value = state === 'complete' ? latest : state === 'pruned' ? (series.size ? [...series.values()].at(-1) : undefined) : undefined;
    out.push({ number, runId: run.id, run, state, params, value: value ?? undefined, series, prune });
  }
  return out.sort((a, b) => a.number - b.number);
}

export function observationOf(t: Pick<RecordedTrial, 'number' | 'params' | 'state' | 'value' | 'series'>): TrialObservation {
  const steps = [...t.series.keys()];
  return { number: t.number, params: t.params, state: t.state, value: t.value, lastStep: steps.length ? Math.max(...steps) : undefined };
}

/** Complete trials first by objective, for "best". */
export function bestTrial<T extends { state: TrialState; value?: number; number: number }>(trials: readonly T[], goal: 'minimize' | 'maximize'): T | undefined {
  let best: T | undefined;
  for (const t of trials) {
    if (t.state !== 'complete' || t.value === undefined || !Number.isFinite(t.value)) continue;
    if (!best || (goal === 'minimize' ? t.value < best.value! : t.value > best.value!)) best = t;
  }
  return best;
}

/** The status of a sweep run, from the run and its recorded trials. */
export function sweepStatus(run: RunDetail, trials: readonly RecordedTrial[], space: Space): SweepStatus {
  const goal = run.tags[TAG.goal] === 'maximize' ? 'maximize' : 'minimize';
  const best = bestTrial(trials, goal);
  const text = (p: ParamValues) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)]));
  const summaries: TrialSummary[] = trials.map((t) => ({
    number: t.number,
    runId: t.runId,
    status: t.run.status,
    state: t.state,
    params: Object.fromEntries([...space.keys()].filter((k) => t.run.params[k] !== undefined).map((k) => [k, t.run.params[k]!])),
    value: t.value,
    lastStep: t.series.size ? Math.max(...t.series.keys()) : undefined,
    prune: t.prune,
    best: best?.number === t.number || undefined,
    startedAt: t.run.startedAt,
    durationMs: t.run.durationMs,
    message: t.run.message,
  }));
  const counts: Record<TrialState, number> = { running: 0, complete: 0, pruned: 0, failed: 0, discarded: 0 };
  for (const t of trials) counts[t.state]++;
  let spaceEntries: SweepStatus['space'] = {};
  try {
    spaceEntries = JSON.parse(run.tags[TAG.space] ?? '{}') as SweepStatus['space'];
  } catch {
    // An unreadable tag only costs the space's description.
  }
  const complete = trials.filter((t) => t.state === 'complete' && t.value !== undefined);
  return {
    runId: run.id,
    name: run.tags[TAG.sweep] ?? run.name,
    status: run.status,
    step: run.tags[TAG.step] ?? '',
    method: (run.tags[TAG.method] as SweepStatus['method']) ?? 'tpe',
    objective: { metric: run.tags[TAG.metric] ?? '', goal },
    space: spaceEntries,
    budget: Number(run.tags[TAG.budget] ?? trials.length),
    parallel: Number(run.tags[TAG.parallel] ?? 1),
    seed: Number(run.tags[TAG.seed] ?? 0),
    prune: run.tags[TAG.pruner],
    trials: summaries,
    counts,
    best: best ? { number: best.number, runId: best.runId, value: best.value!, params: text(best.params) } : undefined,
    importance: paramImportance(complete.map((t) => ({ params: text(t.params), value: t.value! })), [...space.keys()]),
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    message: run.message,
  };
}
