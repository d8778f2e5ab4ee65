/**
 * Deployments that follow an alias roll out the version it moves to, as KServe does when an
 * InferenceService's model changes: with a canary strategy a canary of it, otherwise a direct
 * switch (or a rollback when it moved back to the previous version). A running A/B split is
 * an experiment and is left alone. A manifest shadow given as `NAME@alias` follows its alias
 * too. Acting only when the alias points somewhere new (`aliasVersion`) lets an operator's own
 * deploy, canary or rollback stand until the alias really moves.
 *
 * While a canary runs, a move of the alias waits (one canary at a time); the end of that
 * canary, promoted or rolled back, by hand or by the policy, triggers the check again, so the
 * waiting version rolls out then rather than at the next registry change.
 */
import type { AuditAction, Caller, ModelVersion } from '../../protocol/registry';
import type { DeploymentContext } from './context';
import { isServing, summary, type Live } from './live';
import * as rollout from './rollout';
import type { DeploymentSpec } from './spec';
import { writeState } from './state';
import type { ModelServerSupervisor } from './supervisor';
import { parseShadowRef, targetText, type VersionTarget } from './targets';

/** The actor of the rollouts that follow an alias. */
export const ALIAS_FOLLOW: Caller = { name: 'alias-follow', role: 'admin' };

/** Registry changes often come in bursts (register, then set an alias): act once they settle. */
const DEBOUNCE_MS = 200;

export class AliasFollower {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: DeploymentContext,
    private readonly supervisor: ModelServerSupervisor,
  ) {}

  /** The registry changed. Debounced. */
  modelsChanged(): void {
    this.recheck();
  }

  /** A canary ended: an alias that moved while it ran is rolled out now. Debounced. */
  canaryEnded(): void {
    this.recheck();
  }

  private recheck(): void {
    if (this.ctx.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.followAliases().catch((err) => this.ctx.d.log.error('following aliases failed', err)), DEBOUNCE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async followAliases(): Promise<void> {
    const { ctx } = this;
    const specs = ctx.specsLenient();
    for (const live of ctx.live.values()) {
      const spec = specs.get(live.name);
      if (!spec || !isServing(live)) continue;
      await this.followShadow(live, spec);
      if (!spec.alias) continue;
      let target: ModelVersion;
      try {
        target = await ctx.d.registry.resolve({ model: spec.model, alias: spec.alias });
      } catch {
        continue; // alias unset: keep serving what serves
      }
      await ctx.exclusive(live.name, spec.model, async () => {
        const s = live.state;
        if (!isServing(live) || s.aliasVersion === target.version) return;
        const seen = () => writeState(ctx.d.paths, (live.state = { ...live.state, aliasVersion: target.version }));
        if (target.version === s.stable || target.version === s.canary?.version) return seen();
        const reason = `${spec.model}@${spec.alias} moved to v${target.version}`;
        if (s.ab) {
          // An experiment is running: its arms were resolved when it started and stay as they are.
          ctx.d.log.info(`${live.name}: ${reason}; the A/B split ${rollout.splitText(s.ab)} is kept (mlops deploy ${live.name} re-reads the manifest, mlops rollback ${live.name} ends the split)`);
          return seen();
        }
        const who = { actor: ALIAS_FOLLOW.name, at: ctx.now(), reason };
        const before = summary(live);
        let t: rollout.Transition;
        let action: AuditAction;
        if (target.version === s.previous[0] && !s.canary) [t, action] = [rollout.rollback(s, who), 'deployment.rollback'];
        else if (spec.strategy === 'canary' && !s.canary) [t, action] = [rollout.startCanary(s, target.version, spec.canary, who), 'deployment.canary'];
        else if (spec.strategy === 'canary') {
          ctx.d.log.info(`${live.name}: ${reason}, but a canary of v${s.canary!.version} is running; it is rolled out once that one ends`);
          return;
        } else [t, action] = [rollout.switchTo(s, target.version, who), 'deployment.deploy'];
        ctx.d.log.info(`${live.name}: ${reason}; ${t.event.action} v${target.version}`);
        await this.supervisor.apply(live, spec, { ...t.state, aliasVersion: target.version });
        await ctx.changed(ALIAS_FOLLOW, action, live, before);
      }).catch((err) => ctx.d.log.error(`${live.name}: following ${spec.model}@${spec.alias} failed`, err));
    }
  }

  /** A manifest shadow given as `NAME@alias` follows that alias while it mirrors. */
  private async followShadow(live: Live, spec: DeploymentSpec): Promise<void> {
    const { ctx } = this;
    if (live.state.shadow === undefined || spec.strategy !== 'shadow' || !spec.shadow) return;
    let ref: VersionTarget;
    let target: ModelVersion;
    try {
      ref = parseShadowRef(spec.shadow, spec.model, spec.name);
      if (!('alias' in ref)) return;
      target = await ctx.versions.target(spec, ref);
    } catch {
      return; // unset or invalid: keep mirroring what is mirrored
    }
    await ctx.exclusive(live.name, spec.model, async () => {
      const s = live.state;
      if (!isServing(live) || s.shadow === undefined || s.shadow === target.version) return;
      if (rollout.servedVersions(s).some((x) => x.role !== 'shadow' && x.version === target.version)) return;
      const before = summary(live);
      const reason = `${targetText(ref, spec.model)} moved to v${target.version}`;
      const t = rollout.shadow(s, target.version, { actor: ALIAS_FOLLOW.name, at: ctx.now(), reason });
      ctx.d.log.info(`${live.name}: ${reason}; mirroring to v${target.version}`);
      await this.supervisor.apply(live, spec, t.state);
      await ctx.changed(ALIAS_FOLLOW, 'deployment.shadow', live, before);
    }).catch((err) => ctx.d.log.error(`${live.name}: following the shadow ${spec.shadow} failed`, err));
  }
}
