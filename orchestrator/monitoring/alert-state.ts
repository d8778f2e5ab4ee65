/**
 * Fire once, clear once: each rule is `ok` or `firing`; an evaluation that finds the condition
 * true while `ok` fires (one notification), true again while `firing` says nothing, false
 * while `firing` clears (one notification). Evaluations without a value for the rule's metric
 * (a stats tick for a drift rule) leave it as it is.
 */
import type { AlertCondition, AlertStatus } from '../../protocol/monitoring';
import { holds, metricKey } from './alert-rules';

export interface RuleTransition {
  state: 'firing' | 'cleared';
  value: number;
  at: number;
}

export class AlertRuleState {
  private state: 'ok' | 'firing' = 'ok';
  private since?: number;
  private value?: number;
  private evaluatedAt?: number;

  constructor(
    readonly name: string,
    readonly when: string,
    readonly condition: AlertCondition,
  ) {}

  /** Feeds measured values (by metric key); returns the transition, if this evaluation made one. */
  evaluate(values: ReadonlyMap<string, number>, at: number): RuleTransition | undefined {
    const value = values.get(metricKey(this.condition));
    if (value === undefined || Number.isNaN(value)) return undefined;
    this.value = value;
    this.evaluatedAt = at;
    const breach = holds(this.condition, value);
    if (breach && this.state === 'ok') {
      this.state = 'firing';
      this.since = at;
      return { state: 'firing', value, at };
    }
    if (!breach && this.state === 'firing') {
      this.state = 'ok';
      this.since = at;
      return { state: 'cleared', value, at };
    }
    return undefined;
  }

  get firing(): boolean {
    return this.state === 'firing';
  }

  /** Takes over a state saved before a restart, so a breach that outlived it does not fire twice. */
  restore(saved: AlertStatus): void {
    this.state = saved.state === 'firing' ? 'firing' : 'ok';
    this.since = saved.since;
    this.value = saved.value;
    this.evaluatedAt = saved.lastEvaluatedAt;
  }

  status(): AlertStatus {
    return { rule: this.name, when: this.when, state: this.state, value: this.value, since: this.since, lastEvaluatedAt: this.evaluatedAt };
  }
}
