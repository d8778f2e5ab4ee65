/**
 * What operators do to a deployment (deploy, split, shadow, canary, promote, rollback,
 * undeploy), from the CLI, the extension or CI through the daemon's API. Each action resolves
 * the versions it names, asks rollout.ts for the next state, has the supervisor apply it, and
 * audits it under the caller's name; all on the deployment's queue, so actions never
 * interleave with each other or with automatic decisions.
 */
import { MlopsError } from '../../protocol/errors';
import type { AuditAction, Caller } from '../../protocol/registry';
import type { DeploymentStatus } from '../../protocol/serving';
import type { DeploymentContext } from './context';
import { isServing, requireServing, sameSplit, summary, type Live } from './live';
import * as rollout from './rollout';
import { unknownDeployment, type DeploymentSpec } from './spec';
import { readState, writeState, type DeploymentState } from './state';
import type { ModelServerSupervisor } from './supervisor';
import { parseShadowRef, type VersionTarget } from './targets';

/** The caller as a history event's actor, stamped when the transition is made. */
type Who = () => { actor: string; at: number };

export class DeploymentOperations {
  constructor(
    private readonly ctx: DeploymentContext,
    private readonly supervisor: ModelServerSupervisor,
  ) {}

  /**
   * Starts `name` (or switches it directly to `version`); resolves once the model server applied
   * it. Deployed as declared (no `version`), a manifest `ab` strategy starts its split and a
   * `shadow` strategy its shadow, in the same config: traffic never sees a half-applied state.
   */
  async deploy(caller: Caller, name: string, version?: number): Promise<DeploymentStatus> {
    const { ctx } = this;
    const spec = ctx.spec(name);
    return ctx.exclusive(name, spec.model, async (live) => {
      const v = version !== undefined ? await ctx.versions.version(spec.model, version) : await ctx.versions.served(spec);
      const split = version === undefined && spec.strategy === 'ab' && spec.ab ? await ctx.versions.split(spec, spec.ab) : undefined;
      const mirror = spec.strategy === 'shadow' && spec.shadow && (version === undefined || live.state.shadow === undefined)
        ? (await ctx.versions.target(spec, parseShadowRef(spec.shadow, spec.model, spec.name))).version
        : undefined;
      const who = { actor: caller.name, at: ctx.now() };
      const s = live.state;
      const steps: AuditAction[] = [];
      let next = s;
      if (!isServing(live) || s.stable !== v.version || s.canary || (s.ab && !split)) {
        next = rollout.switchTo(next, v.version, who).state;
        steps.push('deployment.deploy');
      }
      if (split && !sameSplit(next.ab, rollout.normaliseSplit(split))) {
        next = rollout.split(next, split, who).state;
        steps.push('deployment.ab');
      }
      if (mirror !== undefined && mirror !== next.shadow) {
        if (rollout.servedVersions(next).some((x) => x.version === mirror)) ctx.d.log.warn(`${name}: the shadow ${spec.shadow} is v${mirror}, which already serves; nothing is mirrored`);
        else {
          next = rollout.shadow(next, mirror, who).state;
          steps.push('deployment.shadow');
        }
      }
      // Deployed as declared: the alias's current version is the one followed from now on.
      const followed = version === undefined && spec.alias ? v.version : next.aliasVersion;
      if (followed !== undefined) next = { ...next, aliasVersion: followed };
      if (steps.length === 0) {
        if (live.state.aliasVersion !== followed && followed !== undefined) writeState(ctx.d.paths, (live.state = { ...live.state, aliasVersion: followed }));
        return ctx.statusOf(name, spec);
      }
      const before = summary(live);
      await this.supervisor.apply(live, spec, next);
      for (const action of steps) await ctx.changed(caller, action, live, before);
      return ctx.statusOf(name, spec);
    });
  }

  /** Splits traffic A/B by relative `weights` (keys: version numbers or aliases of the model). */
  split(caller: Caller, name: string, weights: Record<string, number>): Promise<DeploymentStatus> {
    return this.change(caller, name, 'deployment.ab', async (live, spec, who) => {
      const t = rollout.split(live.state, await this.ctx.versions.split(spec, weights), who());
      return sameSplit(live.state.ab, t.state.ab) ? undefined : t.state;
    });
  }

  /** Mirrors every request to the version `target` names; `undefined` stops mirroring. */
  shadow(caller: Caller, name: string, target: VersionTarget | undefined): Promise<DeploymentStatus> {
    return this.change(caller, name, 'deployment.shadow', async (live, spec, who) => {
      const version = target ? (await this.ctx.versions.target(spec, target)).version : undefined;
      if (version !== undefined && version === live.state.shadow) return undefined;
      return rollout.shadow(live.state, version, who()).state;
    });
  }

  canary(caller: Caller, name: string, version: number, weight?: number): Promise<DeploymentStatus> {
    return this.change(caller, name, 'deployment.canary', async (live, spec, who) => {
      await this.ctx.versions.version(spec.model, version);
      return rollout.startCanary(live.state, version, { ...spec.canary, ...(weight !== undefined ? { weight } : {}) }, who()).state;
    });
  }

  promote(caller: Caller, name: string): Promise<DeploymentStatus> {
    return this.change(caller, name, 'deployment.promote', async (live, _spec, who) => rollout.promote(live.state, who()).state);
  }

  rollback(caller: Caller, name: string): Promise<DeploymentStatus> {
    return this.change(caller, name, 'deployment.rollback', async (live, _spec, who) => rollout.rollback(live.state, who()).state);
  }

  /** Stops the model server (in-flight requests finish) and records that it should stay stopped. */
  async undeploy(caller: Caller, name: string): Promise<DeploymentStatus> {
    const { ctx } = this;
    const specs = ctx.specsLenient();
    if (!ctx.known(name, specs)) throw unknownDeployment(name, specs.keys());
    const model = specs.get(name)?.model ?? readState(ctx.d.paths, name)?.model ?? '';
    return ctx.exclusive(name, model, async (live) => {
      if (live.state.desired !== 'serving' && !live.proc) throw new MlopsError('CONFLICT', `${name} is not deployed`);
      const before = summary(live);
      const t = rollout.stop(live.state, { actor: caller.name, at: ctx.now() });
      await this.supervisor.stopProcess(live);
      live.state = t.state;
      live.phase = 'stopped';
      live.config = undefined;
      live.samples.clear();
      writeState(ctx.d.paths, live.state);
      await ctx.changed(caller, 'deployment.undeploy', live, before);
      return ctx.statusOf(name, specs.get(name));
    });
  }

  /**
   * The shape of every action on a serving deployment: `plan` returns the next state, or
   * `undefined` when it is what serves already (then nothing is applied or audited).
   */
  private change(caller: Caller, name: string, action: AuditAction, plan: (live: Live, spec: DeploymentSpec, who: Who) => Promise<DeploymentState | undefined>): Promise<DeploymentStatus> {
    const { ctx } = this;
    const spec = ctx.spec(name);
    return ctx.exclusive(name, spec.model, async (live) => {
      requireServing(live);
      const next = await plan(live, spec, () => ({ actor: caller.name, at: ctx.now() }));
      if (next === undefined) return ctx.statusOf(name, spec);
      const before = summary(live);
      await this.supervisor.apply(live, spec, next);
      await ctx.changed(caller, action, live, before);
      return ctx.statusOf(name, spec);
    });
  }
}
