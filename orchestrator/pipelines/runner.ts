/**
 * The pipeline engine's face: plan a run, start it, follow it through events, cancel it.
 * One runner per workspace (the daemon holds it); one active run at a time, enforced here in
 * memory and across processes through `.mlops/run.lock`.
 */
import { userInfo } from 'node:os';
import type { PipelineEvent, RunPlan, RunRequest } from '../../protocol/pipeline';
import type { RunStatus } from '../../protocol/types';
import type { Store } from '../store/store';
import { ObjectCache } from './cache';
import { gatherFacts } from './facts';
import { gitInfo } from './git-info';
import { FileHasher } from './hash-files';
import { loadManifest } from './load';
import { paramText } from './params';
import { buildPipeline, type Pipeline } from './pipeline';
import { planSteps, type StepFacts } from './plan';
import { executeRun } from './run-execution';
import { conflictError, RunLock } from './run-lock';
import { StepRecords } from './step-records';

export interface PipelineRunnerOptions {
  /** Folder holding mlops.yaml; `.mlops/` (logs, cache, lock) lives inside it. */
  workspace: string;
  store: Store;
  /** Extra environment for every step: MLOPS_TRACKING_URI, MLOPS_TOKEN, MLOPS_HOME, … */
  env?: Record<string, string>;
  /** Step processes running at once. Default 2. */
  maxParallel?: number;
  /** Between SIGTERM and SIGKILL on cancel and timeout. Default 5 s. */
  killGraceMs?: number;
}

export type PipelineListener = (e: PipelineEvent) => void;

interface Prepared {
  pipeline: Pipeline;
  facts: Map<string, StepFacts>;
  plan: RunPlan;
  forced: Set<string>;
}

interface ActiveRun {
  runId: string;
  startedAt: number;
  abort: AbortController;
}

export class PipelineRunner {
  readonly workspace: string;
  private readonly store: Store;
  private readonly env: Record<string, string>;
  private readonly maxParallel: number;
  private readonly killGraceMs?: number;
  private readonly hasher: FileHasher;
  private readonly cache: ObjectCache;
  private readonly records: StepRecords;
  private readonly listeners = new Set<PipelineListener>();
  private active: ActiveRun | undefined;
  /** Set while a start is between its checks and its run id: a concurrent start waits on it. */
  private starting: Promise<unknown> | undefined;

  constructor(opts: PipelineRunnerOptions) {
    this.workspace = opts.workspace;
    this.store = opts.store;
    this.env = { ...(opts.env ?? {}) };
    this.maxParallel = Math.max(1, Math.floor(opts.maxParallel ?? 2));
    this.killGraceMs = opts.killGraceMs;
    this.hasher = new FileHasher(opts.workspace, opts.store);
    this.cache = new ObjectCache(opts.workspace);
    this.records = new StepRecords(opts.workspace);
  }

  /** Subscribes to every run's events; returns the unsubscribe function. */
  on(listener: PipelineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  activeRunId(): string | undefined {
    return this.active?.runId;
  }

  /** What `start` would do now, without doing it (`mlops run --dry-run`). */
  async plan(req: RunRequest = {}): Promise<RunPlan> {
    return (await this.prepare(req)).plan;
  }

  /**
   * Starts a run and returns once it is recorded; `done` settles with its final status (it
   * never rejects: internal errors fail the run with a message). Throws CONFLICT while another
   * run is active in the workspace, INVALID_MANIFEST / BAD_REQUEST before anything runs.
   */
  async start(req: RunRequest = {}): Promise<{ runId: string; plan: RunPlan; done: Promise<RunStatus> }> {
    while (this.starting) await this.starting.catch(() => undefined);
    if (this.active) throw conflictError(this.active);
    const attempt = this.begin(req);
    this.starting = attempt;
    try {
      return await attempt;
    } finally {
      this.starting = undefined;
    }
  }

  /** Stops the run's steps (the whole process group of each); false when it is not active. */
  async cancel(runId: string): Promise<boolean> {
    if (!this.active || this.active.runId !== runId) return false;
    this.active.abort.abort();
    return true;
  }

  private emit(e: PipelineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener (a closed SSE stream) must not break the run.
      }
    }
  }

  private async prepare(req: RunRequest): Promise<Prepared> {
    const loaded = loadManifest(this.workspace, req.params ?? {});
    const pipeline = buildPipeline(loaded, req.steps ?? []);
    const facts = await gatherFacts({ hasher: this.hasher, cache: this.cache, records: this.records, store: this.store }, pipeline, pipeline.order);
    // `--force` re-runs the whole selection (the named steps and what they need), as `dvc repro -f` does.
    const forced = new Set(req.force ? pipeline.order : []);
    return { pipeline, facts: new Map(facts.map((f) => [f.name, f])), plan: { steps: planSteps(facts, forced) }, forced };
  }

  private async begin(req: RunRequest): Promise<{ runId: string; plan: RunPlan; done: Promise<RunStatus> }> {
    const lock = RunLock.acquire(this.workspace);
    let runId: string;
    let prep: Prepared;
    let experiment: string;
    try {
      prep = await this.prepare(req);
      const { loaded } = prep.pipeline;
      experiment = req.experiment ?? loaded.manifest.project;
      const git = await gitInfo(this.workspace);
      const tags: Record<string, string> = {
        'mlops.actor': req.actor ?? safeUser(),
        'mlops.manifest.hash': loaded.hash,
        'mlops.steps': prep.pipeline.order.join(','),
      };
      if (git.commit) tags['mlops.git.commit'] = git.commit;
      if (git.dirty !== undefined) tags['mlops.git.dirty'] = String(git.dirty);
      if (git.branch) tags['mlops.git.branch'] = git.branch;
      const params = Object.fromEntries(Object.entries(loaded.params).map(([k, v]) => [k, paramText(v)]));
      const startedAt = Date.now();
      runId = await this.store.createRun({
        experiment,
        name: req.steps?.length ? `${loaded.manifest.project}: ${req.steps.join(', ')}` : loaded.manifest.project,
        kind: 'pipeline',
        params,
        tags,
        gitCommit: git.commit,
        gitDirty: git.dirty,
        startedAt,
      });
      lock.setRun(runId, startedAt);
      this.active = { runId, startedAt, abort: new AbortController() };
    } catch (e) {
      lock.release();
      throw e;
    }
    const active = this.active;
    this.emit({ type: 'run-started', runId, plan: prep.plan, startedAt: active.startedAt });
    const done = this.execute(active, prep, experiment, lock);
    return { runId, plan: prep.plan, done };
  }

  private async execute(active: ActiveRun, prep: Prepared, experiment: string, lock: RunLock): Promise<RunStatus> {
    let outcome: { status: RunStatus; message: string };
    try {
      outcome = await executeRun({
        runId: active.runId,
        experiment,
        root: this.workspace,
        store: this.store,
        hasher: this.hasher,
        cache: this.cache,
        records: this.records,
        pipeline: prep.pipeline,
        facts: prep.facts,
        plan: prep.plan,
        forced: prep.forced,
        env: this.env,
        maxParallel: this.maxParallel,
        killGraceMs: this.killGraceMs,
        signal: active.abort.signal,
        emit: (e) => this.emit(e),
        trackGroup: (pgid, running) => lock.trackGroup(pgid, running),
      });
    } catch (e) {
      outcome = { status: 'failed', message: `internal error: ${(e as Error)?.message ?? e}` };
    }
    const endedAt = Date.now();
    try {
      await this.store.updateRun(active.runId, { status: outcome.status, endedAt, message: outcome.message });
    } catch {
      // The store is gone (closing daemon): the daemon marks the run interrupted on restart.
    }
    // Free the workspace before telling anyone: a listener may start the next run right away.
    lock.release();
    if (this.active === active) this.active = undefined;
    this.emit({ type: 'run-finished', runId: active.runId, status: outcome.status, durationMs: endedAt - active.startedAt, message: outcome.message });
    return outcome.status;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
