/**
 * A deployment's alert rules: fed measured values (after a drift check, on live stats, after
 * feedback), it turns each rule's fire/clear transition into notifications on the rule's
 * channels — the daemon's event stream (VS Code), a signed webhook, the audit log. Delivery
 * is fire-and-forget: a slow webhook never delays an evaluation, let alone a request.
 */
import type { AlertRule } from '../../protocol/manifest';
import type { AlertChannel, AlertEvent, AlertStatus } from '../../protocol/monitoring';
import { parseCondition } from './alert-rules';
import { AlertRuleState, type RuleTransition } from './alert-state';
import { postWebhook, type WebhookOptions, type WebhookResult } from './webhook';

/** Where alerts go; the daemon wires these to its event hub, registry and log. */
export interface AlertSinks {
  publish(event: AlertEvent): void;
  audit(action: 'alert.fire' | 'alert.clear', target: string, detail: AlertEvent): Promise<unknown>;
  /** Environment lookup for `secret_env` (the daemon's environment). */
  env(name: string): string | undefined;
  log: { info(m: string): void; warn(m: string): void; error(m: string, err?: unknown): void };
  webhook?: WebhookOptions;
}

interface Rule {
  state: AlertRuleState;
  notify: AlertChannel[];
  webhook?: string;
  secretEnv?: string;
}

export interface Measurement {
  values: ReadonlyMap<string, number>;
  at: number;
  reportPath?: string;
  version?: number;
}

export class AlertEngine {
  private readonly rules: Rule[] = [];
  /** Webhook deliveries in flight (tests and shutdown wait on them). */
  private readonly pending = new Set<Promise<WebhookResult>>();

  constructor(
    readonly deployment: string,
    rules: readonly AlertRule[],
    private readonly sinks: AlertSinks,
    /** States saved before a restart (alert-store.ts), matched by rule name and condition. */
    saved: readonly AlertStatus[] = [],
  ) {
    for (const r of rules) {
      const parsed = parseCondition(r.when);
      // The manifest check reports bad rules where they are written; here they are skipped.
      if (!parsed.ok) {
        sinks.log.warn(`deployment ${deployment}: alert "${r.name ?? r.when}" ignored: ${parsed.message}`);
        continue;
      }
      const state = new AlertRuleState(r.name ?? r.when, r.when, parsed.condition);
      const before = saved.find((x) => x.rule === state.name && x.when === state.when);
      if (before) state.restore(before);
      this.rules.push({ state, notify: [...(r.notify ?? ['vscode'])], webhook: r.webhook, secretEnv: r.secret_env });
    }
  }

  get size(): number {
    return this.rules.length;
  }

  /** Feeds one evaluation; returns the events it sent. */
  evaluate(m: Measurement): AlertEvent[] {
    const sent: AlertEvent[] = [];
    for (const rule of this.rules) {
      const t = rule.state.evaluate(m.values, m.at);
      if (t) sent.push(this.notify(rule, t, m));
    }
    return sent;
  }

  status(): AlertStatus[] {
    return this.rules.map((r) => r.state.status());
  }

  /** Resolves once every webhook delivery started so far has finished (retries included). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private notify(rule: Rule, t: RuleTransition, m: Measurement): AlertEvent {
    const s = rule.state;
    const shown = Number.isInteger(t.value) ? String(t.value) : t.value.toPrecision(3);
    const event: AlertEvent = {
      type: 'alert',
      deployment: this.deployment,
      rule: s.name,
      when: s.when,
      state: t.state,
      value: t.value,
      at: t.at,
      version: m.version,
      reportPath: m.reportPath,
      message: t.state === 'firing' ? `${this.deployment}: ${s.name} (now ${shown})` : `${this.deployment}: cleared: ${s.name} (now ${shown})`,
    };
    this.sinks.log.info(`alert ${t.state}: ${event.message}`);
    for (const channel of rule.notify) {
      if (channel === 'vscode') this.sinks.publish(event);
      else if (channel === 'audit') {
        this.sinks.audit(t.state === 'firing' ? 'alert.fire' : 'alert.clear', `deployment:${this.deployment}`, event).catch((err) => this.sinks.log.error(`audit of alert "${s.name}" failed`, err));
      } else if (channel === 'webhook') this.sendWebhook(rule, event);
    }
    return event;
  }

  private sendWebhook(rule: Rule, event: AlertEvent): void {
    if (!rule.webhook) return void this.sinks.log.warn(`alert "${rule.state.name}": notify has webhook but no webhook URL`);
    let secret: string | undefined;
    if (rule.secretEnv) {
      secret = this.sinks.env(rule.secretEnv);
      // Unsigned delivery of a rule that asked for a signature would teach receivers to accept anything.
      if (!secret) return void this.sinks.log.error(`alert "${rule.state.name}": not sent to the webhook: environment variable ${rule.secretEnv} (secret_env) is not set in the daemon's environment`);
    }
    const p = postWebhook(rule.webhook, event, secret, this.sinks.webhook);
    this.pending.add(p);
    void p
      .then((r) => {
        if (r.ok) this.sinks.log.info(`alert "${rule.state.name}" ${event.state}: webhook answered ${r.status} after ${r.attempts} attempt(s)`);
        else this.sinks.log.error(`alert "${rule.state.name}" ${event.state}: webhook delivery failed after ${r.attempts} attempt(s): ${r.error}`);
      })
      .finally(() => this.pending.delete(p));
  }
}
