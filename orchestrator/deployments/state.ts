/**
 * The desired state of one deployment, persisted as `.mlops/deployments/<name>/state.json`
 * (written atomically) so a restarted daemon serves again what it served before, and so
 * rollback knows where to go back to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CanaryPolicy, DeploymentEvent } from '../../protocol/serving';
import { writeJsonAtomic } from '../daemon/daemon-info';
import { deploymentDir, type MlopsPaths } from '../daemon/paths';

/** History entries kept per deployment (newest first). */
export const HISTORY_LIMIT = 200;
/** Earlier stable versions remembered for successive rollbacks. */
export const PREVIOUS_LIMIT = 20;

export interface CanaryState extends CanaryPolicy {
  version: number;
  startedAt: number;
}

export interface SplitShare {
  version: number;
  weight: number;
}

export interface DeploymentState {
  name: string;
  model: string;
  /** `serving`: the daemon keeps a model server running (and restores it on start). */
  desired: 'serving' | 'stopped';
  /** The version taking the traffic the canary does not. */
  stable?: number;
  /** Earlier stable versions, most recent first: what `rollback` goes back to. */
  previous: number[];
  canary?: CanaryState;
  /**
   * A running A/B split: versions and whole percents summing to 100. `stable` stays what
   * served alone before it, and is what rollback returns to.
   */
  ab?: SplitShare[];
  /** The version every request is mirrored to (its answers are only logged). */
  shadow?: number;
  /**
   * Where the followed alias pointed when the deployment last acted on it. A registry change
   * acts only once the alias points elsewhere: an operator's own deploy, canary or rollback
   * stands until the alias really moves.
   */
  aliasVersion?: number;
  /** Port last served on, reused after a restart so clients keep their URL. */
  port?: number;
  /** Last ServingConfig id sent; a new model server process continues from it. */
  configId: number;
  history: DeploymentEvent[];
  /** Why the deployment last failed to serve. */
  error?: string;
  updatedAt: number;
}

export function emptyState(name: string, model: string, now: number): DeploymentState {
  return { name, model, desired: 'stopped', previous: [], configId: 0, history: [], updatedAt: now };
}

export function stateFile(paths: MlopsPaths, name: string): string {
  return path.join(deploymentDir(paths, name), 'state.json');
}

export function readState(paths: MlopsPaths, name: string): DeploymentState | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(stateFile(paths, name), 'utf8')) as DeploymentState;
    return s && typeof s === 'object' && s.name === name ? { ...s, previous: s.previous ?? [], history: s.history ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

export function writeState(paths: MlopsPaths, s: DeploymentState): void {
  const file = stateFile(paths, s.name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeJsonAtomic(file, s);
}

/** Names with a state file (deployments that ran at least once). */
export function persistedNames(paths: MlopsPaths): string[] {
  try {
    return fs.readdirSync(paths.deployments).filter((n) => fs.existsSync(path.join(paths.deployments, n, 'state.json')));
  } catch {
    return [];
  }
}
