/**
 * The daemon's sweeps: start (or resume) one through the pipeline runner's hosted runs, stop
 * it, report its status. A sweep holds the workspace like a pipeline run (one at a time), so
 * `mlops cancel`, a daemon stop and `POST /api/sweeps/stop` all end it the same way.
 */
import { MlopsError } from '../../protocol/errors';
import type { SweepInfo, SweepStartRequest, SweepStartResult, SweepStatus } from '../../protocol/sweep';
import type { RunDetail, RunStatus, RunSummary } from '../../protocol/types';
import { loadManifest, type HostedRun, type HostedRunSpec } from '../pipelines';
import type { Store } from '../store/store';
import { SweepSession } from './session';
import { parseSpace } from './space';
import { newSeed, resolveSweep, SWEEP_DEFAULTS, type ResolvedSweep } from './spec';
import { loadTrials, sweepStatus, TAG } from './trials';

/** What the manager needs of the pipeline runner. */
export interface SweepHost {
  host(spec: HostedRunSpec, body: (h: HostedRun) => Promise<{ status: RunStatus; message: string }>): Promise<{ runId: string; done: Promise<RunStatus> }>;
  cancel(runId: string): Promise<boolean>;
  activeRunId(): string | undefined;
}

export interface SweepManagerDeps {
  workspace: string;
  store: Store;
  /** Undefined while the daemon is starting. */
  runner(): SweepHost | undefined;
  log?: { info(m: string): void; error(m: string, e?: unknown): void };
}

/** Newest sweep runs looked at to find the latest run of a sweep. */
const LOOKBACK = 500;

export class SweepManager {
  constructor(private readonly d: SweepManagerDeps) {}

  private runner(): SweepHost {
    const r = this.d.runner();
    if (!r) throw new MlopsError('UNAVAILABLE', 'the orchestrator is still starting; try again in a moment');
    return r;
  }

  /** The newest run of sweep `name`, if any. */
  async latestRun(name: string): Promise<RunSummary | undefined> {
    const runs = await this.d.store.listRuns({ kind: 'sweep', limit: LOOKBACK });
    return runs.find((r) => r.tags[TAG.sweep] === name);
  }

  async list(): Promise<SweepInfo[]> {
    const loaded = loadManifest(this.d.workspace);
    const out: SweepInfo[] = [];
    for (const [name, s] of Object.entries(loaded.manifest.sweeps ?? {})) {
      const latest = await this.latestRun(name);
      const finished = latest ? (await this.d.store.listChildren(latest.id)).filter((c) => c.kind === 'trial' && ['complete', 'pruned', 'failed'].includes(c.tags[TAG.state] ?? '')).length : 0;
      out.push({
        name, step: s.step, method: s.method ?? SWEEP_DEFAULTS.method, metric: s.objective.metric, goal: s.objective.goal,
        trials: s.trials ?? SWEEP_DEFAULTS.trials, parallel: s.parallel ?? SWEEP_DEFAULTS.parallel,
        latest: latest ? { runId: latest.id, status: latest.status, finished, startedAt: latest.startedAt } : undefined,
      });
    }
    return out;
  }

  async start(req: SweepStartRequest): Promise<{ result: SweepStartResult; done?: Promise<RunStatus> }> {
    const runner = this.runner();
    const loaded = loadManifest(this.d.workspace);
    const spec = resolveSweep(loaded, req.name, { trials: req.trials, parallel: req.parallel });
    const latest = req.fresh ? undefined : await this.latestRun(req.name);
    let resume: RunSummary | undefined;
    let note = '';
    if (latest && latest.tags[TAG.specHash] === spec.specHash) {
      if (latest.status === 'running' || latest.status === 'queued') {
        if (runner.activeRunId() === latest.id) throw new MlopsError('CONFLICT', `sweep ${req.name} is already running: ${latest.id}; follow it with \`mlops sweep ${req.name}\` or stop it with \`mlops cancel ${latest.id.slice(0, 8)}\``, { runId: latest.id });
      }
      const trials = await loadTrials(this.d.store, latest.id, spec.metric, spec.space);
      const finished = trials.filter((t) => t.state === 'complete' || t.state === 'pruned' || t.state === 'failed').length;
      if (finished >= spec.budget) {
        return {
          result: {
            runId: latest.id, resumed: false, started: false, finished, budget: spec.budget,
            message: `sweep ${req.name} already has ${finished} finished trials in run ${latest.id.slice(0, 8)}: nothing to do (--trials N continues it, --new starts another run)`,
          },
        };
      }
      resume = latest;
      note = `resuming run ${latest.id.slice(0, 8)} at ${finished} of ${spec.budget} finished trials`;
    } else if (latest) {
      note = `the sweep changed since run ${latest.id.slice(0, 8)} (space, objective, pruner, the step's command or fixed params): starting a new run`;
    }
    const seed = resume ? Number(resume.tags[TAG.seed]) : (spec.seed ?? newSeed());
    const tags = this.tagsOf(spec, seed);
    const hosted: HostedRunSpec = resume
      ? { experiment: resume.experiment, name: resume.name, kind: 'sweep', resume: resume.id }
      : { experiment: req.experiment ?? loaded.manifest.project, name: spec.name, kind: 'sweep', tags };
    const { runId, done } = await runner.host(hosted, async (h) => {
      // A resumed run takes this invocation's budget and parallelism.
      if (resume) await this.d.store.setTags(h.runId, { [TAG.budget]: String(spec.budget), [TAG.parallel]: String(spec.parallel) });
      return new SweepSession({ store: this.d.store, host: h, workspace: this.d.workspace, spec, seed, log: (l) => this.d.log?.info(l) }).run();
    });
    const finished = resume ? (await loadTrials(this.d.store, runId, spec.metric, spec.space)).filter((t) => t.state === 'complete' || t.state === 'pruned' || t.state === 'failed').length : 0;
    this.d.log?.info(`sweep ${spec.name} ${resume ? 'resumed' : 'started'}: run ${runId} (${spec.method}, ${spec.budget} trials, ${spec.parallel} at a time${spec.pruner ? `, ${spec.pruner.description}` : ''})`);
    done.then(
      (status) => this.d.log?.info(`sweep ${spec.name} run ${runId} ${status}`),
      (err) => this.d.log?.error(`sweep ${spec.name} run ${runId} crashed`, err),
    );
    return {
      result: { runId, resumed: !!resume, started: true, finished, budget: spec.budget, message: [note, `sweep ${spec.name}: run ${runId} ${resume ? 'resumed' : 'started'}`].filter(Boolean).join('; ') },
      done,
    };
  }

  private tagsOf(spec: ResolvedSweep, seed: number): Record<string, string> {
    return {
      [TAG.sweep]: spec.name,
      [TAG.step]: spec.step,
      [TAG.method]: spec.method,
      [TAG.metric]: spec.metric,
      [TAG.goal]: spec.goal,
      [TAG.space]: JSON.stringify(spec.spaceEntries),
      [TAG.specHash]: spec.specHash,
      [TAG.seed]: String(seed),
      [TAG.budget]: String(spec.budget),
      [TAG.parallel]: String(spec.parallel),
      ...(spec.pruner ? { [TAG.pruner]: spec.pruner.description } : {}),
    };
  }

  /** Stops an active sweep; false when it is not the active run. */
  async stop(runId: string): Promise<boolean> {
    const runner = this.runner();
    const run = await this.d.store.getRun(runId);
    if (!run) throw new MlopsError('NOT_FOUND', `run ${runId} not found`);
    if (run.kind !== 'sweep') throw new MlopsError('BAD_REQUEST', `run ${runId} is a ${run.kind} run, not a sweep`);
    return runner.cancel(runId);
  }

  async status(runId: string): Promise<SweepStatus> {
    const run: RunDetail | undefined = await this.d.store.getRun(runId);
    if (!run) throw new MlopsError('NOT_FOUND', `run ${runId} not found`);
    if (run.kind !== 'sweep') throw new MlopsError('BAD_REQUEST', `run ${runId} is a ${run.kind} run, not a sweep`);
    let space;
    try {
      space = parseSpace(JSON.parse(run.tags[TAG.space] ?? '{}'));
    } catch {
      space = new Map();
    }
    const trials = await loadTrials(this.d.store, runId, run.tags[TAG.metric] ?? '', space);
    return sweepStatus(run, trials, space);
  }
}
