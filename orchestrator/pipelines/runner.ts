/**
 * The pipeline engine's face: plan a run, start it, follow it through events, cancel it.
 * One runner per workspace (the daemon holds it); one active run at a time, enforced here in
 * memory and across processes through `.mlops/run.lock`.
 */
import { userInfo } from 'node:os';
import type { PipelineEvent, RunPlan, RunRequest } from '../../protocol/pipeline';
import type { MetricPoint, RunKind, RunStatus } from '../../protocol/types';
import type { Store } from '../store/store';
import { ObjectCache } from './cache';
import { gatherFacts } from './facts';
import { gitInfo } from './git-info';
import { FileHasher } from './hash-files';
import { loadManifest } from './load';
import { paramText } from './params';
import { buildPipeline, type Pipeline } from './pipeline';
import { planSteps, type StepFacts } from './plan';
import { executeRun, runSandboxedStep } from './run-execution';
import { conflictError, RunLock } from './run-lock';
import { StepRecords } from './step-records';
import type { StepSpec } from './step-spec';

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

/** A run that drives other work (a sweep) while it holds the workspace as a pipeline run does. */
export interface HostedRunSpec {
  experiment: string;
  name: string;
  kind: RunKind;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  /** Reopen this ended run (a resumed sweep) instead of creating one. */
  resume?: string;
}

/** What a hosted run's body can do: run steps in the workspace, or one step in a sandbox. */
export interface HostedRun {
  readonly runId: string;
  readonly experiment: string;
  /** Aborted by `cancel(runId)` and by a daemon stop. */
  readonly signal: AbortSignal;
  /**
   * Runs `steps` (and what they need) in the workspace as a pipeline run that is a child of
   * this one, skipping what is cached, as `mlops run` would.
   */
  runSteps(req: { steps: string[]; name: string; params?: Record<string, string> }): Promise<{ runId: string; status: RunStatus; message: string }>;
  /** Runs one step with `params` in a sandbox folder, as the child of `parentId` (a trial run). */
  runSandboxed(req: SandboxedStepRequest): Promise<SandboxedStepResult>;
}

export interface SandboxedStepRequest {
  /** The run the step run is recorded under (a sweep trial). */
  parentId: string;
  step: string;
  /** Param overrides (`k=v` text, typed by the manifest's defaults). */
  params: Record<string, string>;
  /** Makes the folder the step runs in, once its spec is known (outs, metrics file); absolute path. */
  sandbox(spec: StepSpec): Promise<string>;
  /** Stops the step (its whole process group), e.g. when a pruner says so. */
  signal: AbortSignal;
  /** Each metric point the step reports, as it is reported. */
  onMetric?(p: MetricPoint): void;
  reason?: string;
}

export interface SandboxedStepResult {
  status: RunStatus;
  stepRunId?: string;
  exitCode?: number;
  message?: string;
}

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

  /**
   * Starts a hosted run (a sweep): it takes the workspace like `start` (CONFLICT while another
   * run is active), emits `run-started` / `run-finished`, and `body` does the work through the
   * HostedRun it gets; its outcome becomes the run's status. `done` never rejects.
   */
  async host(spec: HostedRunSpec, body: (h: HostedRun) => Promise<{ status: RunStatus; message: string }>): Promise<{ runId: string; done: Promise<RunStatus> }> {
    while (this.starting) await this.starting.catch(() => undefined);
    if (this.active) throw conflictError(this.active);
    const attempt = this.beginHosted(spec, body);
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

  private async beginHosted(spec: HostedRunSpec, body: (h: HostedRun) => Promise<{ status: RunStatus; message: string }>): Promise<{ runId: string; done: Promise<RunStatus> }> {
    const lock = RunLock.acquire(this.workspace);
    const startedAt = Date.now();
    let runId: string;
    let active: ActiveRun;
    try {
      if (spec.resume) {
        runId = spec.resume;
        await this.store.updateRun(runId, { status: 'running', message: 'resumed' });
      } else {
        const git = await gitInfo(this.workspace);
        const tags: Record<string, string> = { 'mlops.actor': safeUser(), ...(spec.tags ?? {}) };
        if (git.commit) tags['mlops.git.commit'] = git.commit;
        if (git.dirty !== undefined) tags['mlops.git.dirty'] = String(git.dirty);
        runId = await this.store.createRun({ experiment: spec.experiment, name: spec.name, kind: spec.kind, params: spec.params, tags, gitCommit: git.commit, gitDirty: git.dirty, startedAt });
      }
      lock.setRun(runId, startedAt);
      active = { runId, startedAt, abort: new AbortController() };
      this.active = active;
    } catch (e) {
      lock.release();
      throw e;
    }
    const emit = (e: PipelineEvent) => this.emit(e);
    const trackGroup = (pgid: number, running: boolean) => lock.trackGroup(pgid, running);
    const hosted: HostedRun = {
      runId,
      experiment: spec.experiment,
      signal: active.abort.signal,
      runSteps: async (req) => {
        const prep = await this.prepare({ steps: req.steps, params: req.params });
        const params = Object.fromEntries(Object.entries(prep.pipeline.loaded.params).map(([k, v]) => [k, paramText(v)]));
        const childId = await this.store.createRun({
          experiment: spec.experiment, name: req.name, kind: 'pipeline', parentId: runId, params,
          tags: { 'mlops.manifest.hash': prep.pipeline.loaded.hash, 'mlops.steps': prep.pipeline.order.join(',') },
        });
        let outcome: { status: RunStatus; message: string };
        try {
          outcome = await executeRun({
            runId: childId, experiment: spec.experiment, root: this.workspace, store: this.store, hasher: this.hasher, cache: this.cache, records: this.records,
            pipeline: prep.pipeline, facts: prep.facts, plan: prep.plan, forced: prep.forced, env: this.env, maxParallel: this.maxParallel,
            killGraceMs: this.killGraceMs, signal: active.abort.signal, emit, trackGroup,
          });
        } catch (e) {
          outcome = { status: 'failed', message: `internal error: ${(e as Error)?.message ?? e}` };
        }
        await this.store.updateRun(childId, { status: outcome.status, endedAt: Date.now(), message: outcome.message });
        return { runId: childId, ...outcome };
      },
      runSandboxed: async (req) => {
        const loaded = loadManifest(this.workspace, req.params);
        const pipeline = buildPipeline(loaded, [req.step]);
        const sandbox = await req.sandbox(pipeline.specs.get(req.step)!);
        const outcome = await runSandboxedStep(
          {
            runId: req.parentId, experiment: spec.experiment, root: this.workspace, sandbox, store: this.store, hasher: this.hasher, cache: this.cache, records: this.records,
            pipeline, facts: new Map(), plan: { steps: [] }, forced: new Set(), env: this.env, maxParallel: 1, killGraceMs: this.killGraceMs, signal: req.signal,
            emit: (e) => {
              emit(e);
              if (e.type === 'metric') req.onMetric?.({ key: e.key, value: e.value, step: e.step, timestamp: Date.now() });
            },
            trackGroup,
          },
          req.step,
          req.reason ?? 'sweep trial',
        );
        return { status: outcome.status, stepRunId: outcome.stepRunId, exitCode: outcome.exitCode, message: outcome.message };
      },
    };
    emit({ type: 'run-started', runId, plan: { steps: [] }, startedAt });
    const done = (async (): Promise<RunStatus> => {
      let outcome: { status: RunStatus; message: string };
      try {
        outcome = await body(hosted);
      } catch (e) {
        outcome = { status: 'failed', message: `internal error: ${(e as Error)?.message ?? e}` };
      }
      const endedAt = Date.now();
      try {
        await this.store.updateRun(runId, { status: outcome.status, endedAt, message: outcome.message });
      } catch {
        // The store is gone (closing daemon): the daemon marks the run interrupted on restart.
      }
      lock.release();
      if (this.active === active) this.active = undefined;
      emit({ type: 'run-finished', runId, status: outcome.status, durationMs: endedAt - startedAt, message: outcome.message });
      return outcome.status;
    })();
    return { runId, done };
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
