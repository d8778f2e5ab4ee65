/**
 * The daemon's deployments: desired state per deployment (state.json), one model server
 * process each, rollout actions from operators and from the canary policy the model server
 * evaluates, audit entries, SSE events, the live monitor's samples, restarts of a model
 * server that dies, and following the alias a deployment serves.
 *
 * This class is the one surface the daemon, its routes, the monitor and the CLI use; the work
 * is done by its parts, which share one DeploymentContext (context.ts: records, queues, specs):
 * - operations.ts: the operator actions (deploy, split, shadow, canary, promote, rollback, undeploy)
 * - supervisor.ts: the model server processes (apply a state, stop, restart with backoff)
 * - server-messages.ts: what a model server reports (samples, automatic canary decisions)
 * - alias-follow.ts: rolling out what a followed alias moves to
 * - status.ts: what a deployment's status shows
 */
import type { Caller } from '../../protocol/registry';
import type { DeploymentSample, DeploymentStatus } from '../../protocol/serving';
import type { Logger } from '../daemon/log';
import type { MlopsPaths } from '../daemon/paths';
import { AliasFollower } from './alias-follow';
import { DeploymentContext, type DeploymentManagerDeps } from './context';
import { DeploymentOperations } from './operations';
import { ServerMessages } from './server-messages';
import { unknownDeployment } from './spec';
import { persistedNames, readState } from './state';
import { ModelServerSupervisor } from './supervisor';
import type { VersionTarget } from './targets';

export { ALIAS_FOLLOW } from './alias-follow';
export type { DeploymentManagerDeps } from './context';
export { CANARY_POLICY } from './server-messages';

export class DeploymentManager {
  private readonly ctx: DeploymentContext;
  private readonly supervisor: ModelServerSupervisor;
  private readonly messages: ServerMessages;
  private readonly operations: DeploymentOperations;
  private readonly follower: AliasFollower;

  constructor(d: DeploymentManagerDeps) {
    const ctx = (this.ctx = new DeploymentContext(d));
    // The supervisor hands messages on to ServerMessages, which applies decisions through the supervisor.
    this.supervisor = new ModelServerSupervisor(ctx, (live, m) => this.messages.handle(live, m));
    this.messages = new ServerMessages(ctx, this.supervisor, () => this.follower.canaryEnded());
    this.operations = new DeploymentOperations(ctx, this.supervisor);
    this.follower = new AliasFollower(ctx, this.supervisor);
  }

  /**
   * Read-only view for the CLI when no daemon runs: `list` and `get` from mlops.yaml and the
   * state files, every deployment stopped. Actions need the daemon.
   */
  static offline(paths: MlopsPaths): Pick<DeploymentManager, 'list' | 'get'> {
    const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    return new DeploymentManager({ paths, registry: undefined as never, publish: () => undefined, log: quiet, token: '' });
  }

  // ---- reading

  async list(): Promise<DeploymentStatus[]> {
    const specs = this.ctx.specsLenient();
    const names = new Set([...specs.keys(), ...persistedNames(this.ctx.d.paths), ...this.ctx.live.keys()]);
    return [...names].sort().map((n) => this.ctx.statusOf(n, specs.get(n)));
  }

  async get(name: string): Promise<DeploymentStatus> {
    const specs = this.ctx.specsLenient();
    if (!this.ctx.known(name, specs)) throw unknownDeployment(name, specs.keys());
    return this.ctx.statusOf(name, specs.get(name));
  }

  async samples(name: string, since?: number): Promise<DeploymentSample[]> {
    await this.get(name);
    return this.ctx.live.get(name)?.samples.since(since) ?? [];
  }

  // ---- operator actions (operations.ts)

  /** Starts `name` (or switches it directly to `version`); resolves once the model server applied it. */
  deploy(caller: Caller, name: string, version?: number): Promise<DeploymentStatus> {
    return this.operations.deploy(caller, name, version);
  }

  /** Splits traffic A/B by relative `weights` (keys: version numbers or aliases of the model). */
  split(caller: Caller, name: string, weights: Record<string, number>): Promise<DeploymentStatus> {
    return this.operations.split(caller, name, weights);
  }

  /** Mirrors every request to the version `target` names; `undefined` stops mirroring. */
  shadow(caller: Caller, name: string, target: VersionTarget | undefined): Promise<DeploymentStatus> {
    return this.operations.shadow(caller, name, target);
  }

  canary(caller: Caller, name: string, version: number, weight?: number): Promise<DeploymentStatus> {
    return this.operations.canary(caller, name, version, weight);
  }

  async promote(caller: Caller, name: string): Promise<DeploymentStatus> {
    const status = await this.operations.promote(caller, name);
    this.follower.canaryEnded(); // promote always ends a canary
    return status;
  }

  async rollback(caller: Caller, name: string): Promise<DeploymentStatus> {
    // Only a rollback that ends a canary: one step back or the end of a split is the operator's
    // choice, which a deployment that never followed its alias yet (no `aliasVersion`) would undo.
    const endsCanary = this.ctx.live.get(name)?.state.canary !== undefined;
    const status = await this.operations.rollback(caller, name);
    if (endsCanary) this.follower.canaryEnded();
    return status;
  }

  /** Stops the model server (in-flight requests finish) and records that it should stay stopped. */
  undeploy(caller: Caller, name: string): Promise<DeploymentStatus> {
    return this.operations.undeploy(caller, name);
  }

  // ---- daemon life cycle

  /** Serves again what was serving when the daemon stopped. Errors are logged and shown as `failed`. */
  async restore(): Promise<void> {
    const { ctx } = this;
    const specs = ctx.specsLenient();
    await Promise.all(persistedNames(ctx.d.paths).map(async (name) => {
      const saved = readState(ctx.d.paths, name);
      if (saved?.desired !== 'serving' || saved.stable === undefined) return;
      const spec = specs.get(name);
      if (!spec) {
        ctx.d.log.warn(`deployment ${name} was serving but is no longer in mlops.yaml; not restoring it`);
        return;
      }
      await ctx.exclusive(name, spec.model, async (live) => {
        ctx.d.log.info(`restoring deployment ${name} (v${saved.stable}${saved.canary ? `, canary v${saved.canary.version}` : ''})`);
        await this.supervisor.apply(live, spec, { ...live.state });
      }).catch((err) => ctx.d.log.error(`restoring deployment ${name} failed`, err));
    }));
  }

  /** Daemon shutdown: stop every model server gracefully; desired state stays, for `restore`. */
  async stopAll(): Promise<void> {
    this.ctx.closed = true;
    this.follower.stop();
    await Promise.all([...this.ctx.live.values()].map(async (live) => {
      if (live.restartTimer) clearTimeout(live.restartTimer);
      await this.supervisor.stopProcess(live).catch((err) => this.ctx.d.log.error(`stopping the model server of ${live.name} failed`, err));
    }));
  }

  /**
   * The registry changed: a deployment following an alias that now points elsewhere rolls the
   * new version out per its strategy (alias-follow.ts). Debounced.
   */
  modelsChanged(): void {
    this.follower.modelsChanged();
  }
}
