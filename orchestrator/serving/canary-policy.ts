/**
 * The canary's judge: fed every canary request's outcome, it says when to roll back (error
 * rate or p99 over the canary's requests since it started exceeds a bound, once there are
 * `minRequests` of them) or promote (every given promote_after threshold reached, within the
 * bounds). Pure apart from the clock it is handed; the server acts on the verdict.
 */
import type { CanaryPolicy } from '../../protocol/serving';
import { isFailure, LatencyHistogram } from './stats';

export const DEFAULT_MIN_REQUESTS = 20;

export interface CanaryVerdict {
  decision: 'promote' | 'rollback';
  reason: string;
}

export class CanaryJudge {
  private requests = 0;
  private errors = 0;
  private readonly latency = new LatencyHistogram();
  private decided = false;

  constructor(
    readonly version: number,
    readonly startedAt: number,
    private readonly policy: CanaryPolicy,
  ) {}

  record(status: number, ms: number): void {
    this.requests++;
    if (isFailure(status)) this.errors++;
    this.latency.add(ms);
  }

  /** The verdict now, once: after a verdict the judge stays quiet until replaced. */
  judge(now: number): CanaryVerdict | undefined {
    if (this.decided) return undefined;
    const verdict = this.evaluate(now);
    if (verdict) this.decided = true;
    return verdict;
  }

  private evaluate(now: number): CanaryVerdict | undefined {
    const p = this.policy;
    const n = this.requests;
    const errorRate = n ? this.errors / n : 0;
    const p99 = this.latency.quantile(0.99);
    const after = `after ${n} request${n === 1 ? '' : 's'}`;
    const errorBreach = p.rollbackErrorRate !== undefined && errorRate > p.rollbackErrorRate;
    const latencyBreach = p.rollbackP99Ms !== undefined && p99 > p.rollbackP99Ms;
    if (n >= (p.minRequests ?? DEFAULT_MIN_REQUESTS)) {
      if (errorBreach) return { decision: 'rollback', reason: `error rate ${fmt(errorRate)} > ${p.rollbackErrorRate} ${after}` };
      if (latencyBreach) return { decision: 'rollback', reason: `p99 ${fmt(p99)} ms > ${p.rollbackP99Ms} ms ${after}` };
    }
    if (p.promoteAfterRequests === undefined && p.promoteAfterMinutes === undefined) return undefined;
    const minutes = (now - this.startedAt) / 60_000;
    const enoughRequests = p.promoteAfterRequests === undefined || n >= p.promoteAfterRequests;
    const enoughTime = p.promoteAfterMinutes === undefined || minutes >= p.promoteAfterMinutes;
    if (!enoughRequests || !enoughTime || errorBreach || latencyBreach) return undefined;
    const reached = [
      p.promoteAfterRequests !== undefined ? `${n} requests` : '',
      p.promoteAfterMinutes !== undefined ? `${fmt(minutes)} minutes` : '',
    ].filter(Boolean).join(' and ');
    return { decision: 'promote', reason: `${reached} within bounds (error rate ${fmt(errorRate)}, p99 ${fmt(p99)} ms)` };
  }
}

const fmt = (x: number): string => String(Math.round(x * 1000) / 1000);
