/**
 * The daemon's in-memory record of one deployment: its desired state as last applied, the
 * model server process serving it, the config that server runs, its live figures and its
 * restart history. Kept apart from state.ts, which is only what survives a daemon restart;
 * the helpers here answer "can an action run now?" the same way for every caller.
 */
import { MlopsError } from '../../protocol/errors';
import type { DeploymentStatus, ServingConfig } from '../../protocol/serving';
import type { SampleSeries } from './samples';
import type { ModelServerProcess } from './server-process';
import type { DeploymentState, SplitShare } from './state';

export type Phase = DeploymentStatus['state'];

export interface Live {
  name: string;
  state: DeploymentState;
  phase: Phase;
  proc?: ModelServerProcess;
  /** The config the model server has applied. */
  config?: ServingConfig;
  samples: SampleSeries;
  restarts: number[];
  restartTimer?: NodeJS.Timeout;
  /** Set while we stop the process on purpose, so its exit is not a crash. */
  stopping?: ModelServerProcess;
  queue: Promise<unknown>;
}

export function isRunning(live: Live): boolean {
  return live.proc !== undefined && live.proc.exited === undefined;
}

export function isServing(live: Live): boolean {
  return isRunning(live) && live.phase === 'serving';
}

/** Actions that change what serves need a model server that is up. */
export function requireServing(live: Live): void {
  if (isServing(live)) return;
  if (live.phase === 'starting') throw new MlopsError('CONFLICT', `${live.name} is (re)starting; try again in a moment`);
  throw new MlopsError('CONFLICT', `${live.name} is not running; deploy it first: mlops deploy ${live.name}`);
}

/** What the audit log's before/after show of a deployment. */
export function summary(live: Live): Record<string, unknown> {
  const s = live.state;
  return {
    serving: live.phase === 'serving',
    ...(s.stable !== undefined ? { stable: s.stable } : {}),
    ...(s.canary ? { canary: s.canary.version, weight: s.canary.weight } : {}),
    ...(s.ab ? { ab: Object.fromEntries(s.ab.map((x) => [x.version, x.weight])) } : {}),
    ...(s.shadow !== undefined ? { shadow: s.shadow } : {}),
  };
}

export function sameSplit(a: SplitShare[] | undefined, b: SplitShare[] | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
