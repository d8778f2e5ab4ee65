/**
 * One run of a sweep, from start (or resume) to the end of its last trial: runs the upstream
 * steps once, then keeps `parallel` trials going until `budget` trials have finished. Each
 * trial is sampled from the trials recorded so far, runs its step in its own sandbox, feeds
 * every reported value of the objective to the pruner (which stops the trial's process group
 * when the trial falls behind), and is recorded with its final state. Stopping the sweep
 * kills the running trials; they are re-sampled when the sweep is resumed.
 */
import { join } from 'node:path';
import type { PruneRecord } from '../../protocol/sweep';
import type { MetricPoint, RunStatus } from '../../protocol/types';
import type { HostedRun } from '../pipelines';
import type { Store } from '../store/store';
import type { PrunerTrial } from './pruners';
import { makeSampler, type Sampler, type TrialObservation } from './samplers';
import { makeSandbox } from './sandbox';
import { valueText, type ParamValues } from './space';
import type { ResolvedSweep } from './spec';
import { bestTrial, loadTrials, observationOf, TAG, type RecordedTrial } from './trials';
import { formatNumber } from '../../protocol/format';

/** A trial of this session (or recorded before it) with what the pruner has seen of it. */
interface LiveTrial extends Omit<RecordedTrial, 'run'> {
  /** Highest step seen; later points must be newer steps to count. */
  lastStep: number;
}

export interface SessionDeps {
  store: Store;
  host: HostedRun;
  workspace: string;
  spec: ResolvedSweep;
  seed: number;
  log?(line: string): void;
}

/** `.mlops/sweeps/<sweep run>/trial-<n>`: where a trial's step runs. */
export function sandboxDir(workspace: string, sweepRunId: string, number: number): string {
  return join(workspace, '.mlops', 'sweeps', sweepRunId, `trial-${number}`);
}

export class SweepSession {
  private trials: LiveTrial[] = [];
  private readonly sampler: Sampler;
  private best: LiveTrial | undefined;

  constructor(private readonly d: SessionDeps) {
    this.sampler = makeSampler(d.spec.method, d.spec.space, d.spec.goal, d.seed);
  }

  private log(line: string): void {
    this.d.log?.(`sweep ${this.d.spec.name} (${this.d.host.runId.slice(0, 8)}): ${line}`);
  }

  private finished(): number {
    return this.trials.filter((t) => t.state === 'complete' || t.state === 'pruned' || t.state === 'failed').length;
  }

  async run(): Promise<{ status: RunStatus; message: string }> {
    const { spec, host, store } = this.d;
    if (spec.upstream.length) {
      const up = await host.runSteps({ steps: spec.upstream, name: `${spec.name}: upstream of ${spec.step}` });
      if (up.status !== 'succeeded') {
        return { status: up.status === 'cancelled' ? 'cancelled' : 'failed', message: `the steps upstream of ${spec.step} did not succeed: ${up.message}` };
      }
    }
    const recorded = await loadTrials(store, host.runId, spec.metric, spec.space);
    this.trials = recorded.map(({ run: _run, ...t }) => ({ ...t, lastStep: t.series.size ? Math.max(...t.series.keys()) : -Infinity }));
    // Trials that never ended (stopped with the sweep, or the daemon died) are re-sampled.
    for (const t of this.trials) if (t.state === 'running') t.state = 'discarded';
    this.best = bestTrial(this.trials, spec.goal);
    if (recorded.length) this.log(`resuming with ${this.finished()} finished trial(s) of ${spec.budget}`);
    let next = this.trials.reduce((m, t) => Math.max(m, t.number + 1), 0);
    let exhausted = false;
    const running = new Set<Promise<void>>();
    while (!host.signal.aborted) {
      while (!exhausted && !host.signal.aborted && running.size < spec.parallel && this.finished() + running.size < spec.budget) {
        const number = next++;
        const params = this.sampler.sample(number, this.observations());
        if (!params) {
          exhausted = true;
          break;
        }
        const p: Promise<void> = this.runTrial(number, params)
          .catch((e) => this.log(`trial ${number} crashed: ${(e as Error)?.stack ?? e}`))
          .finally(() => running.delete(p));
        running.add(p);
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
    await Promise.all(running);
    return this.outcome(exhausted);
  }

  private outcome(exhausted: boolean): { status: RunStatus; message: string } {
    const { spec, host } = this.d;
    const n = (s: LiveTrial['state']) => this.trials.filter((t) => t.state === s).length;
    const counts = `${n('complete')} complete, ${n('pruned')} pruned, ${n('failed')} failed`;
    const best = this.best ? `; best trial-${this.best.number}: ${spec.metric} ${formatNumber(this.best.value)} (${paramsText(this.best.params)})` : '';
    if (host.signal.aborted) return { status: 'cancelled', message: `stopped after ${this.finished()} of ${spec.budget} trials (${counts})${best}; run the sweep again to resume` };
    if (!this.best) return { status: 'failed', message: `no trial completed (${counts})` };
    const grid = exhausted ? ' (grid exhausted)' : '';
    return { status: 'succeeded', message: `${this.finished()} trials${grid}: ${counts}${best}` };
  }

  private observations(): TrialObservation[] {
    return this.trials.map(observationOf);
  }

  private prunerTrials(): PrunerTrial[] {
    return this.trials.map((t) => ({ number: t.number, state: t.state, series: t.series }));
  }

  private async runTrial(number: number, params: ParamValues): Promise<void> {
    const { spec, host, store, workspace } = this.d;
    const overrides = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, valueText(v)]));
    // In the list before the first await: the next trial is sampled knowing this one runs.
    const t: LiveTrial = { number, runId: '', state: 'running', params, series: new Map(), lastStep: -Infinity };
    this.trials.push(t);
    const runId = (t.runId = await store.createRun({
      experiment: host.experiment,
      name: `trial-${number}`,
      kind: 'trial',
      parentId: host.runId,
      params: { ...spec.fixedParams, ...overrides },
      tags: { [TAG.sweep]: spec.name, [TAG.number]: String(number), [TAG.step]: spec.step },
    }));
    const abort = new AbortController();
    const stopWithSweep = () => abort.abort();
    host.signal.addEventListener('abort', stopWithSweep, { once: true });
    let result: Awaited<ReturnType<HostedRun['runSandboxed']>>;
    try {
      result = await host.runSandboxed({
        parentId: runId,
        step: spec.step,
        params: overrides,
        sandbox: (stepSpec) => makeSandbox(workspace, sandboxDir(workspace, host.runId, number), stepSpec),
        signal: abort.signal,
        onMetric: (p) => this.onPoint(t, p, abort),
        reason: `sweep ${spec.name}, trial ${number}`,
      });
    } catch (e) {
      result = { status: 'failed', message: `could not run the trial: ${(e as Error)?.message ?? e}` };
    } finally {
      host.signal.removeEventListener('abort', stopWithSweep);
    }
    await this.record(t, result);
  }

  /** A reported point: the objective's next step goes into the series and to the pruner. */
  private onPoint(t: LiveTrial, p: MetricPoint, abort: AbortController): void {
    const { spec } = this.d;
    if (p.key !== spec.metric || t.prune || !(p.step > t.lastStep)) return;
    t.series.set(p.step, p.value);
    t.lastStep = p.step;
    const rec = spec.pruner?.decide({ number: t.number, state: 'running', series: t.series }, p.step, this.prunerTrials());
    if (!rec) return;
    t.prune = rec;
    this.log(`pruning trial ${t.number} at step ${rec.step}: ${rec.rule === 'median' ? `best ${spec.metric} so far` : spec.metric} ${formatNumber(rec.value)}, ${rec.rule === 'median' ? 'median' : 'cut-off'} ${formatNumber(rec.threshold)}`);
    abort.abort();
  }

  private async record(t: LiveTrial, result: { status: RunStatus; stepRunId?: string; exitCode?: number; message?: string }): Promise<void> {
    const { spec, store, host } = this.d;
    let status: RunStatus;
    let message: string | undefined;
    if (t.prune) {
      t.state = 'pruned';
      t.value = t.series.get(t.prune.step);
      status = 'cancelled';
      message = pruneMessage(spec.metric, t.prune);
      if (result.stepRunId) await store.updateRun(result.stepRunId, { message });
    } else if (result.status === 'cancelled' && host.signal.aborted) {
      t.state = 'discarded';
      status = 'cancelled';
      message = 'stopped with the sweep; a resumed sweep samples a new trial';
    } else if (result.status === 'succeeded') {
      const latest = (await store.getLatestMetrics(t.runId)).find((m) => m.key === spec.metric);
      if (latest === undefined || !Number.isFinite(latest.value)) {
        t.state = 'failed';
        status = 'failed';
        message = latest === undefined ? `the step did not log the objective metric ${spec.metric}` : `the objective ${spec.metric} is ${latest.value}`;
      } else {
        t.state = 'complete';
        t.value = latest.value;
        status = 'succeeded';
      }
    } else {
      t.state = 'failed';
      status = 'failed';
      message = result.message ?? result.status;
    }
    if (t.state !== 'discarded') await store.setTags(t.runId, { [TAG.state]: t.state, ...(t.prune ? { [TAG.prune]: JSON.stringify(t.prune) } : {}) });
    await store.updateRun(t.runId, { status, endedAt: Date.now(), exitCode: result.exitCode, message });
    if (t.state === 'complete') await this.maybeBest(t);
    if (t.state !== 'discarded') {
      this.log(`trial ${t.number} ${t.state}${t.value !== undefined ? `: ${spec.metric} ${formatNumber(t.value)}` : ''} (${paramsText(t.params)})`);
      if (this.best) await store.logMetrics(host.runId, [{ key: `best_${spec.metric}`, value: this.best.value!, step: this.finished(), timestamp: Date.now() }]);
    }
  }

  /** Tags the best trial (and untags the previous best) and records it on the sweep run. */
  private async maybeBest(t: LiveTrial): Promise<void> {
    const { spec, store, host } = this.d;
    const better = !this.best || (spec.goal === 'minimize' ? t.value! < this.best.value! : t.value! > this.best.value!);
    if (!better) return;
    const previous = this.best;
    this.best = t;
    if (previous) await store.deleteTag(previous.runId, TAG.best);
    await store.setTags(t.runId, { [TAG.best]: 'true' });
    await store.setTags(host.runId, { [TAG.bestTrial]: t.runId, [TAG.bestNumber]: String(t.number), [TAG.bestValue]: String(t.value) });
  }
}

export function paramsText(p: ParamValues): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : valueText(v)}`)
    .join(' ');
}

export function pruneMessage(metric: string, r: PruneRecord): string {
  return r.rule === 'median'
    ? `pruned at step ${r.step}: best ${metric} so far ${formatNumber(r.value)} is worse than the median ${formatNumber(r.threshold)} of ${r.basis.length} completed trial(s)`
    : `pruned at step ${r.step} (rung ${r.rung}, bracket ${r.bracket}): ${metric} ${formatNumber(r.value)} is worse than the cut-off ${formatNumber(r.threshold)} of ${r.basis.length + 1} trial(s)`;
}
