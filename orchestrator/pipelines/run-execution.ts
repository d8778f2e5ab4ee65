/**
 * Executes one planned pipeline run: walks the DAG with at most `maxParallel` step processes
 * at once, records every step as a child run (skipped and restored ones too, with the reason),
 * and writes each step's cache entry the moment it succeeds, so a crash loses at most the
 * steps that were running and the next run resumes by skipping the rest.
 *
 * A step is re-planned when it becomes ready if something upstream actually ran or was
 * restored: an upstream that re-ran but produced the same outs leaves its dependants cached.
 */
import { appendFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { stepLogPath, type PipelineEvent, type RunPlan, type StepAction } from '../../protocol/pipeline';
import type { Artifact, RunStatus } from '../../protocol/types';
import { gateDatasets } from '../data/gate';
import type { Store } from '../store/store';
import type { ObjectCache } from './cache';
import { execStep } from './exec-step';
import { gatherFacts } from './facts';
import { sha256File, type FileHasher } from './hash-files';
import { MetricSink } from './metric-sink';
import { paramEnvName, paramText } from './params';
import { datasetsOf, type Pipeline } from './pipeline';
import { decideStep, type StepDecision, type StepFacts } from './plan';
import { removeOuts, saveOuts, unsafeOut } from './step-outputs';
import type { StepRecords } from './step-records';
import { scopeOf, shellCommand, type OutSpec } from './step-spec';

export interface RunContext {
  runId: string;
  experiment: string;
  root: string;
  store: Store;
  hasher: FileHasher;
  cache: ObjectCache;
  records: StepRecords;
  pipeline: Pipeline;
  facts: Map<string, StepFacts>;
  plan: RunPlan;
  forced: ReadonlySet<string>;
  /** Extra environment of every step (tracking URI, token, MLOPS_HOME). */
  env: Record<string, string>;
  maxParallel: number;
  killGraceMs?: number;
  signal: AbortSignal;
  emit(e: PipelineEvent): void;
  /** A step process group started or ended (recorded so a crash leaves no orphans). */
  trackGroup(pgid: number, running: boolean): void;
  /**
   * A sweep trial: the step runs in this folder (absolute) instead of the manifest folder, its
   * outs are written and hashed there and are neither cached nor recorded as the step's
   * cached result, so trials running side by side never collide. See `runSandboxedStep`.
   */
  sandbox?: string;
}

/** How one step ended, as the executor (and a sweep trial) sees it. */
export interface StepOutcome {
  status: RunStatus;
  /** It ran or was restored: its outs may differ from what its dependants were planned with. */
  changed: boolean;
  /** The failed steps this one was skipped because of (itself, when it failed). */
  failedRoots: string[];
  message?: string;
  /** The step's child run, when one ran. */
  stepRunId?: string;
  exitCode?: number;
}

/** FIFO slots for step processes: skips and restores do not take one. */
class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];
  constructor(n: number) {
    this.free = Math.max(1, n);
  }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.queue.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export async function executeRun(ctx: RunContext): Promise<{ status: RunStatus; message: string }> {
  const { pipeline } = ctx;
  const slots = new Slots(ctx.maxParallel);
  const planned = new Map(ctx.plan.steps.map((s) => [s.step, s]));
  const outcomes = new Map<string, StepOutcome>();
  const dependants = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const n of pipeline.order) {
    const needs = pipeline.needs.get(n) ?? [];
    waiting.set(n, needs.length);
    for (const u of needs) dependants.set(u, [...(dependants.get(u) ?? []), n]);
  }

  await new Promise<void>((allDone) => {
    let left = pipeline.order.length;
    if (left === 0) return allDone();
    const launch = (name: string) => {
      processStep(ctx, name, planned.get(name)!, outcomes, slots)
        .catch((e: unknown): StepOutcome => ({ status: 'failed', changed: false, failedRoots: [name], message: `internal error: ${(e as Error)?.message ?? e}` }))
        .then((outcome) => {
          outcomes.set(name, outcome);
          for (const d of dependants.get(name) ?? []) {
            const w = waiting.get(d)! - 1;
            waiting.set(d, w);
            if (w === 0) launch(d);
          }
          if (--left === 0) allDone();
        });
    };
    for (const n of pipeline.order) if (waiting.get(n) === 0) launch(n);
  });

  const all = pipeline.order.map((n) => ({ n, o: outcomes.get(n)! }));
  const failed = all.filter((x) => x.o.status === 'failed');
  const count = (s: RunStatus) => all.filter((x) => x.o.status === s).length;
  if (ctx.signal.aborted) return { status: 'cancelled', message: 'cancelled' };
  if (failed.length) {
    const first = failed[0]!;
    return { status: 'failed', message: `step ${first.n} failed: ${first.o.message ?? 'failed'}${failed.length > 1 ? ` (and ${failed.length - 1} more failed)` : ''}` };
  }
  const ran = count('succeeded');
  return { status: 'succeeded', message: `${all.length} step${all.length === 1 ? '' : 's'}: ${ran} ran, ${count('skipped')} skipped` };
}

async function processStep(ctx: RunContext, name: string, planned: { action: StepAction; reason: string }, outcomes: Map<string, StepOutcome>, slots: Slots): Promise<StepOutcome> {
  const needs = ctx.pipeline.needs.get(name) ?? [];
  const roots = [...new Set(needs.flatMap((n) => outcomes.get(n)!.failedRoots))];
  if (roots.length) return notRun(ctx, name, 'skipped', `upstream failed: ${roots.join(', ')}`, roots);
  if (ctx.signal.aborted) return notRun(ctx, name, 'cancelled', 'not started: the run was cancelled', []);

  let fact = ctx.facts.get(name)!;
  let decision: StepDecision = planned;
  const upstreamChanged = needs.some((n) => outcomes.get(n)!.changed);
  if (upstreamChanged || fact.fingerprint === undefined) {
    [fact] = await gatherFacts(ctx, ctx.pipeline, [name]);
    decision = decideStep(fact!, [], ctx.forced.has(name));
  }
  if (decision.action === 'skip') return skipped(ctx, name, fact!, decision.reason, false);
  if (decision.action === 'restore') {
    try {
      const restored = await restoreOuts(ctx, fact!);
      return await skipped(ctx, name, fact!, decision.reason, restored);
    } catch (e) {
      decision = { action: 'run', reason: `outs missing (restore failed: ${(e as Error).message})` };
    }
  }
  const release = await slots.take();
  try {
    if (ctx.signal.aborted) return notRun(ctx, name, 'cancelled', 'not started: the run was cancelled', []);
    return await runStep(ctx, name, fact!, decision.reason);
  } finally {
    release();
  }
}

/** A step that will not run because of its upstream or a cancel: a child run says so. */
async function notRun(ctx: RunContext, name: string, status: RunStatus, message: string, roots: string[]): Promise<StepOutcome> {
  const now = Date.now();
  const id = await ctx.store.createRun({ experiment: ctx.experiment, name, kind: 'step', parentId: ctx.runId, status, startedAt: now, tags: { 'mlops.step': name } });
  await ctx.store.updateRun(id, { endedAt: now, message });
  ctx.emit({ type: 'step-finished', runId: ctx.runId, stepRunId: id, step: name, status, durationMs: 0, message });
  return { status, changed: false, failedRoots: roots, message };
}

async function restoreOuts(ctx: RunContext, fact: StepFacts): Promise<boolean> {
  const want = new Map(fact.cached!.outs.map((a) => [a.path, a]));
  let any = false;
  for (const o of fact.outs) {
    const a = want.get(o.path);
    if (!a || !o.cache || o.current === a.hash) continue;
    await ctx.cache.restore(a);
    await ctx.hasher.remember(a.path, await digestOf(ctx, a));
    any = true;
  }
  return any;
}

/** What a restored artifact's digest is (a folder's comes from its cached manifest). */
async function digestOf(ctx: RunContext, a: Artifact) {
  const files = ctx.cache.readDir(a.hash);
  return files ? { kind: 'dir' as const, hash: a.hash, size: a.size, files } : { kind: 'file' as const, hash: a.hash, size: a.size };
}

async function datasetHashes(ctx: RunContext, name: string): Promise<Record<string, string>> {
  const used = datasetsOf(ctx.pipeline, name);
  if (used.size === 0) return {};
  const digests = await ctx.hasher.digest([...used.values()]);
  const out: Record<string, string> = {};
  for (const [ds, path] of used) {
    const d = digests.get(path);
    if (d) out[ds] = d.hash;
  }
  return out;
}

/** Cached or restored: a `skipped` child run with the reason; outs, datasets and metrics carried over. */
async function skipped(ctx: RunContext, name: string, fact: StepFacts, reason: string, restored: boolean): Promise<StepOutcome> {
  const { store } = ctx;
  const now = Date.now();
  const source = fact.cached?.runId;
  const id = await store.createRun({
    experiment: ctx.experiment, name, kind: 'step', parentId: ctx.runId, status: 'skipped', startedAt: now,
    params: ctx.pipeline.specs.get(name)!.params,
    tags: { 'mlops.step': name, ...(source ? { 'mlops.cache.source_run': source } : {}), ...(fact.fingerprint ? { 'mlops.fingerprint': fact.fingerprint } : {}) },
  });
  await store.updateRun(id, { endedAt: now, message: reason });
  const outs = fact.cached?.outs ?? [];
  if (outs.length) {
    await store.recordArtifacts(id, outs);
    await store.recordArtifacts(ctx.runId, outs);
  }
  const ds = await datasetHashes(ctx, name);
  if (Object.keys(ds).length) {
    await store.recordDatasetHashes(id, ds);
    await store.recordDatasetHashes(ctx.runId, ds);
  }
  // The pipeline run shows the metrics its (cached) steps stand for, e.g. accuracy.
  if (source) {
    const latest = await store.getLatestMetrics(source).catch(() => []);
    if (latest.length) await store.logMetrics(ctx.runId, latest);
  }
  ctx.emit({ type: 'step-finished', runId: ctx.runId, stepRunId: id, step: name, status: 'skipped', durationMs: 0, message: reason });
  return { status: 'skipped', changed: restored, failedRoots: [] };
}

function stepEnv(ctx: RunContext, name: string, stepRunId: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ctx.env };
  // MLflow clients read their own names: point them at the same tracking API.
  if (env.MLOPS_TRACKING_URI && !ctx.env.MLFLOW_TRACKING_URI) env.MLFLOW_TRACKING_URI = env.MLOPS_TRACKING_URI;
  if (env.MLOPS_TOKEN && !ctx.env.MLFLOW_TRACKING_TOKEN) env.MLFLOW_TRACKING_TOKEN = env.MLOPS_TOKEN;
  env.MLOPS_RUN_ID = stepRunId;
  env.MLOPS_PARENT_RUN_ID = ctx.runId;
  env.MLOPS_STEP = name;
  for (const [k, v] of Object.entries(ctx.pipeline.params)) env[paramEnvName(k)] = paramText(v);
  Object.assign(env, ctx.pipeline.specs.get(name)!.env);
  return env;
}

async function runStep(ctx: RunContext, name: string, fact: StepFacts, reason: string): Promise<StepOutcome> {
  const { store, pipeline } = ctx;
  const spec = pipeline.specs.get(name)!;
  const startedAt = Date.now();
  const id = await store.createRun({
    experiment: ctx.experiment, name, kind: 'step', parentId: ctx.runId, startedAt, params: spec.params,
    tags: { 'mlops.step': name, 'mlops.reason': reason, ...(fact.fingerprint ? { 'mlops.fingerprint': fact.fingerprint } : {}) },
  });
  const finish = async (status: RunStatus, exitCode: number | undefined, message: string | undefined, changed: boolean): Promise<StepOutcome> => {
    await store.updateRun(id, { status, endedAt: Date.now(), exitCode, message });
    ctx.emit({ type: 'step-finished', runId: ctx.runId, stepRunId: id, step: name, status, exitCode, durationMs: Date.now() - startedAt, message });
    return { status, changed, failedRoots: status === 'failed' ? [name] : [], message, stepRunId: id, exitCode };
  };
  // Where the step runs and writes its outs: the manifest folder, or a trial's sandbox.
  const base = ctx.sandbox ?? ctx.root;
  const unsafe = spec.outs.map((o) => unsafeOut(base, o)).find(Boolean);
  if (unsafe) return finish('failed', undefined, unsafe, false);

  const ds = await datasetHashes(ctx, name);
  if (Object.keys(ds).length) {
    await store.recordDatasetHashes(id, ds);
    await store.recordDatasetHashes(ctx.runId, ds);
  }
  // Data expectations of the datasets this step reads: a failure stops it (and its dependants) with the table.
  const declared = pipeline.loaded.manifest.datasets ?? {};
  const gate = await gateDatasets(ctx.root, new Map([...datasetsOf(pipeline, name).keys()].map((d) => [d, declared[d]!])), (d) => ds[d]);
  if (gate.lines.length) {
    const text = gate.lines.join('\n') + '\n';
    await mkdir(dirname(join(ctx.root, stepLogPath(ctx.runId, name))), { recursive: true });
    await appendFile(join(ctx.root, stepLogPath(ctx.runId, name)), text);
    ctx.emit({ type: 'step-output', runId: ctx.runId, step: name, stream: gate.ok ? 'stdout' : 'stderr', text });
  }
  if (!gate.ok) return finish('failed', undefined, gate.message, false);
  const sink = new MetricSink(store, [id, ctx.runId]);
  const groups: number[] = [];
  const scope = scopeOf(pipeline.loaded.manifest, pipeline.params);
  const result = await execStep(
    {
      cmd: shellCommand(pipeline.loaded.manifest.steps![name]!.cmd, scope, id),
      cwd: resolve(base, spec.wdir),
      env: stepEnv(ctx, name, id),
      logFile: join(ctx.root, stepLogPath(ctx.runId, name)),
      timeoutMs: spec.timeoutMs,
      retry: spec.retry,
      metricsFile: spec.metrics ? { abs: resolve(base, spec.metrics), shown: spec.metrics } : undefined,
      killGraceMs: ctx.killGraceMs,
    },
    {
      signal: ctx.signal,
      beforeAttempt: () => removeOuts(base, spec.outs),
      onAttempt: (attempt, pid) => {
        if (pid !== undefined) {
          groups.push(pid);
          ctx.trackGroup(pid, true);
        }
        ctx.emit({ type: 'step-started', runId: ctx.runId, stepRunId: id, step: name, attempt, pid });
      },
      onOutput: (stream, text) => ctx.emit({ type: 'step-output', runId: ctx.runId, step: name, stream, text }),
      onMetrics: (points) => {
        sink.add(points);
        for (const p of points) ctx.emit({ type: 'metric', runId: ctx.runId, stepRunId: id, key: p.key, value: p.value, step: p.step });
      },
    },
  );
  // execStep resolves once no process of the step remains.
  for (const g of groups) ctx.trackGroup(g, false);
  await sink.close();
  const messages = result.message ? [result.message] : [];
  if (sink.error) messages.push(`some metrics could not be recorded: ${sink.error.message}`);
  if (result.status !== 'succeeded') return finish(result.status, result.exitCode, messages.join('; ') || undefined, true);

  let artifacts: Artifact[];
  try {
    artifacts = ctx.sandbox ? await sandboxArtifacts(ctx.root, ctx.sandbox, spec.outs) : await saveOuts(spec.outs, ctx.hasher, ctx.cache);
  } catch (e) {
    return finish('failed', result.exitCode, [(e as Error).message, ...messages].join('; '), true);
  }
  if (artifacts.length) {
    await store.recordArtifacts(id, artifacts);
    await store.recordArtifacts(ctx.runId, artifacts);
  }
  // Written now, not at run end: a crash later in the run keeps this step's result.
  if (spec.cacheable && fact.fingerprint !== undefined && !ctx.sandbox) {
    await store.putStepCache({ stepName: name, fingerprint: fact.fingerprint, outs: artifacts, runId: id });
    await ctx.records.write({ step: name, fingerprint: fact.fingerprint, components: fact.components, outs: artifacts, runId: id, at: Date.now() });
  }
  return finish('succeeded', result.exitCode, messages.join('; ') || undefined, true);
}

/**
 * Runs one step of `ctx.pipeline` (a sweep trial, with the trial's params) in `ctx.sandbox`,
 * recorded as a child of `ctx.runId`. The caller makes the sandbox, with the step's deps and
 * upstream outs reachable from it; nothing of the workspace is written.
 */
export async function runSandboxedStep(ctx: RunContext & { sandbox: string }, name: string, reason: string): Promise<StepOutcome> {
  const [fact] = await gatherFacts(ctx, ctx.pipeline, [name]);
  return runStep(ctx, name, fact!, reason);
}

/** A sandboxed step's outs as artifacts: hashed where they are, paths relative to the workspace. */
async function sandboxArtifacts(root: string, sandbox: string, outs: readonly OutSpec[]): Promise<Artifact[]> {
  const artifacts: Artifact[] = [];
  const missing: string[] = [];
  for (const o of outs) {
    const abs = resolve(sandbox, o.path);
    let st;
    try {
      st = await stat(abs);
    } catch {
      missing.push(o.path);
      continue;
    }
    // Trials' outs are not cached, so a folder out needs no manifest: it is recorded without a hash.
    const { hash, bytes } = st.isDirectory() ? { hash: '', bytes: 0 } : await sha256File(abs);
    artifacts.push({ path: relative(root, abs).split(sep).join('/'), hash, size: bytes });
  }
  if (missing.length) throw new Error(`the step succeeded but did not produce ${missing.length === 1 ? 'its out' : 'these outs'}: ${missing.join(', ')}`);
  return artifacts;
}
