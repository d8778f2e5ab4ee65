/**
 * What the parts of the DeploymentManager share: the daemon's dependencies, the live record
 * of every deployment with its queue, the manifest's deployment specs, the version resolver,
 * and the audit entry + SSE notice every change ends with. One instance per manager, so the
 * operations, the canary decisions and alias following all see and change the same records.
 *
 * Every change to one deployment runs through its own queue (`exclusive`), so an operator's
 * rollback and an automatic decision arriving at the same moment apply one after the other,
 * each on the state the other left.
 */
import type { DaemonEvent } from '../../protocol/api';
import type { Manifest } from '../../protocol/manifest';
import type { AuditAction, Caller } from '../../protocol/registry';
import type { DeploymentStatus } from '../../protocol/serving';
import type { Logger } from '../daemon/log';
import type { MlopsPaths } from '../daemon/paths';
import { loadManifest } from '../pipelines/load';
import type { ModelRegistry } from '../registry/registry';
import { summary, type Live } from './live';
import { SampleSeries } from './samples';
import { deploymentSpecs, unknownDeployment, type DeploymentSpec } from './spec';
import { emptyState, readState, type DeploymentState } from './state';
import { deploymentStatus } from './status';
import { VersionResolver } from './version-resolver';

export interface DeploymentManagerDeps {
  paths: MlopsPaths;
  registry: ModelRegistry;
  /** The daemon's SSE bus. */
  publish(e: DaemonEvent): void;
  log: Logger;
  /** The workspace token: what clients present to a deployment with `auth: token`. */
  token: string;
  /** Node arguments that start the CLI (see server-process.ts); tests may override. */
  entry?: string[];
  now?: () => number;
  /** Restarts of a dying model server allowed within `restartWindowMs` before it is `failed`. Default 5 in 5 min. */
  maxRestarts?: number;
  restartWindowMs?: number;
}

export class DeploymentContext {
  readonly live = new Map<string, Live>();
  readonly versions: VersionResolver;
  readonly now: () => number;
  /** Set on daemon shutdown: nothing restarts or follows after it. */
  closed = false;

  constructor(readonly d: DeploymentManagerDeps) {
    this.now = d.now ?? Date.now;
    this.versions = new VersionResolver(d.registry);
  }

  /** Runs `fn` on `name`'s live record once every change queued before it has finished. */
  exclusive<T>(name: string, model: string, fn: (live: Live) => Promise<T>): Promise<T> {
    let live = this.live.get(name);
    if (!live) {
      live = { name, state: readState(this.d.paths, name) ?? emptyState(name, model, this.now()), phase: 'stopped', samples: new SampleSeries(), restarts: [], queue: Promise.resolve() };
      if (live.state.desired === 'serving' && live.state.error) live.phase = 'failed';
      this.live.set(name, live);
    }
    const l = live;
    const run = l.queue.then(() => fn(l));
    l.queue = run.catch(() => undefined);
    return run;
  }

  /** Whether `name` exists anywhere: in mlops.yaml, in memory or as a state file. */
  known(name: string, specs: Map<string, DeploymentSpec>): boolean {
    return specs.has(name) || this.live.has(name) || readState(this.d.paths, name) !== undefined;
  }

  statusOf(name: string, spec: DeploymentSpec | undefined): DeploymentStatus {
    const live = this.live.get(name);
    const state: DeploymentState = live?.state ?? readState(this.d.paths, name) ?? emptyState(name, spec?.model ?? '', this.now());
    return deploymentStatus(name, spec, state, live);
  }

  manifest(): Manifest {
    return loadManifest(this.d.paths.workspace).manifest;
  }

  spec(name: string): DeploymentSpec {
    const specs = deploymentSpecs(this.manifest());
    const spec = specs.get(name);
    if (!spec) throw unknownDeployment(name, specs.keys());
    return spec;
  }

  /** Listings must work while mlops.yaml is being edited into something invalid. */
  specsLenient(): Map<string, DeploymentSpec> {
    try {
      return deploymentSpecs(this.manifest());
    } catch {
      return new Map();
    }
  }

  /** Every change ends here: an audit entry with the state before and after, then the SSE notice. */
  async changed(caller: Caller, action: AuditAction, live: Live, before: unknown, extra: Record<string, unknown> = {}): Promise<void> {
    await this.d.registry.recordAudit(caller, action, `deployment:${live.name}`, before, { ...summary(live), ...extra });
    this.publishChanged();
  }

  publishChanged(): void {
    this.d.publish({ type: 'deployments-changed' });
  }
}
