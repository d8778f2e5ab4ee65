/**
 * Pure planning: from facts about each step (fingerprint, cache entry, outs on disk, the last
 * successful run) decide `run` / `skip` / `restore` and say why. No I/O here: the runner
 * gathers the facts (facts.ts), this decides, and `--dry-run`, the IDE and the executor all
 * show the same reasons.
 */
import type { PlannedStep, StepAction } from '../../protocol/pipeline';
import type { Artifact } from '../../protocol/types';
import { explainChange, type FingerprintComponents } from './fingerprint';

export interface OutFact {
  path: string;
  /** Saved in the content-addressed cache (`cache: false` outs are not). */
  cache: boolean;
  /** Content hash on disk now; undefined when missing. */
  current?: string;
  /** Whether the cache holds the object this out should have (checked only when it differs). */
  restorable: boolean;
}

/** What the planner needs to know about one step, gathered by the runner. */
export interface StepFacts {
  name: string;
  /** Steps of the selection this one waits for. */
  needs: string[];
  /** Display command (interpolated, shell-quoted). */
  cmd: string;
  cacheable: boolean;
  components: FingerprintComponents;
  /** Undefined while a dep's content hinges on an upstream step that has to run first. */
  fingerprint?: string;
  /** The step-cache entry for `fingerprint`, if one exists. */
  cached?: { outs: Artifact[]; runId: string };
  /** Outs as declared, with their state on disk. */
  outs: OutFact[];
  /** The last successful run's fingerprint and components (only needed on a cache miss). */
  previous?: { fingerprint: string; components: FingerprintComponents };
}

export interface StepDecision {
  action: StepAction;
  reason: string;
}

const run = (reason: string): StepDecision => ({ action: 'run', reason });

/** One step, given which of its upstream steps will run and whether it is forced. */
export function decideStep(f: StepFacts, upstreamRunning: readonly string[], forced: boolean): StepDecision {
  if (forced) return run('forced');
  if (upstreamRunning.length) return run(`upstream will run: ${upstreamRunning.join(', ')}`);
  if (!f.cacheable) return run('always runs (cache: false)');
  if (!f.cached || f.fingerprint === undefined) {
    if (!f.previous || f.previous.fingerprint === f.fingerprint) return run('no previous run');
    return run(explainChange(f.previous.components, f.components));
  }
  const want = new Map(f.cached.outs.map((a) => [a.path, a.hash]));
  const missing: string[] = [];
  const modified: string[] = [];
  let toRestore = 0;
  for (const o of f.outs) {
    const hash = want.get(o.path);
    if (o.current !== undefined && (hash === undefined || o.current === hash || !o.cache)) continue;
    if (o.cache && hash !== undefined && o.restorable) toRestore++;
    else if (o.current === undefined) missing.push(o.path);
    else modified.push(o.path);
  }
  if (missing.length) return run('outs missing');
  if (modified.length) return run(`outs modified: ${modified.slice(0, 3).join(', ')}${modified.length > 3 ? ', …' : ''}`);
  return toRestore ? { action: 'restore', reason: 'outs restored from cache' } : { action: 'skip', reason: 'cached' };
}

/**
 * The whole plan, in execution order (`facts` must be topologically sorted). `forced` names
 * the steps `--force` applies to.
 */
export function planSteps(facts: readonly StepFacts[], forced: ReadonlySet<string> = new Set()): PlannedStep[] {
  const decided = new Map<string, StepDecision>();
  return facts.map((f) => {
    const upstream = f.needs.filter((n) => decided.get(n)?.action === 'run');
    const d = decideStep(f, upstream, forced.has(f.name));
    decided.set(f.name, d);
    return { step: f.name, action: d.action, reason: d.reason, cmd: f.cmd, needs: f.needs };
  });
}
