/**
 * What a model server reports on its own: live figures once a second (kept for the monitor),
 * versions it restarted, and canary decisions. The canary policy runs inside the model server,
 * which moves traffic itself the moment a canary passes or fails; the daemon then records
 * that decision in the desired state, audits it, sends the matching config and publishes a
 * `deployment-decision` event, so operators see why traffic moved.
 */
import type { Caller } from '../../protocol/registry';
import type { ServerMessage } from '../../protocol/serving';
import type { DeploymentContext } from './context';
import { summary, type Live } from './live';
import * as rollout from './rollout';
import { writeState } from './state';
import type { ModelServerSupervisor } from './supervisor';

/** The actor of the decisions the model server's canary policy takes. */
export const CANARY_POLICY: Caller = { name: 'canary-policy', role: 'admin' };

type CanaryDecision = Extract<ServerMessage, { type: 'canary-decision' }>;

export class ServerMessages {
  constructor(
    private readonly ctx: DeploymentContext,
    private readonly supervisor: ModelServerSupervisor,
    /** Called once a decision is recorded (alias following waits for the canary to end). */
    private readonly canaryEnded: () => void,
  ) {}

  handle(live: Live, m: ServerMessage): void {
    switch (m.type) {
      case 'stats':
        live.samples.add(m);
        return;
      case 'canary-decision':
        void this.decided(live, m).catch((err) => this.ctx.d.log.error(`${live.name}: recording the canary decision failed`, err));
        return;
      case 'version-restarted':
        this.ctx.d.log.warn(`${live.name}: the model server restarted v${m.version} (${m.reason})`);
        this.ctx.publishChanged();
        return;
      default:
        return;
    }
  }

  /** The model server already moved traffic; record it, audit it and send the matching config. */
  private async decided(live: Live, m: CanaryDecision): Promise<void> {
    const { ctx } = this;
    await ctx.exclusive(live.name, live.state.model, async () => {
      const s = live.state;
      if (s.canary?.version !== m.version) return; // an operator got there first
      const before = summary(live);
      const who = { actor: CANARY_POLICY.name, at: ctx.now(), reason: m.reason, auto: true };
      const t = m.decision === 'promote' ? rollout.promote(s, who) : rollout.rollback(s, who);
      ctx.d.log.info(`${live.name}: canary v${m.version} ${m.decision === 'promote' ? 'promoted' : 'rolled back'} automatically (${m.reason})`);
      const spec = ctx.specsLenient().get(live.name);
      try {
        if (!spec) throw new Error(`${live.name} is no longer in mlops.yaml`);
        await this.supervisor.apply(live, spec, t.state);
      } catch (err) {
        // The server moved traffic already: the decision stands even if the follow-up config fails.
        ctx.d.log.error(`${live.name}: sending the config after the automatic ${m.decision} failed`, err);
        live.state = { ...t.state, configId: live.state.configId };
        writeState(ctx.d.paths, live.state);
      }
      await ctx.changed(CANARY_POLICY, m.decision === 'promote' ? 'deployment.promote' : 'deployment.rollback', live, before, { reason: m.reason, stats: m.stats });
      ctx.d.publish({ type: 'deployment-decision', deployment: live.name, decision: m.decision, version: m.version, reason: m.reason });
      this.canaryEnded();
    });
  }
}
