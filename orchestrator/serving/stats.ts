/**
 * Per-version figures, cheap on the hot path: a request costs a few counter increments and one
 * logarithm. Latencies go into a fixed log-spaced histogram (10 % wide buckets), so p50/p99 over
 * the 60 s window are a merge of 60 one-second histograms, done once a second, not per request.
 * The request rate is over the last few seconds only, so a view polling it moves with the traffic.
 */
import type { VersionStats } from '../../protocol/serving';

const MIN_MS = 0.01;
const RATIO = 1.1;
const LOG_RATIO = Math.log(RATIO);
/** Buckets up to ~2 minutes; slower requests land in the last. */
export const BUCKETS = Math.ceil(Math.log(120_000 / MIN_MS) / LOG_RATIO) + 1;

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const b = Math.ceil(Math.log(ms / MIN_MS) / LOG_RATIO);
  return b < BUCKETS ? b : BUCKETS - 1;
}

/** Upper bound of bucket b, ms: a quantile read from the histogram is at most 10 % high. */
const upperMs = (b: number): number => MIN_MS * RATIO ** b;

export class LatencyHistogram {
  readonly counts = new Uint32Array(BUCKETS);
  total = 0;

  add(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.total++;
  }

  addAll(other: LatencyHistogram): void {
    for (let b = 0; b < BUCKETS; b++) this.counts[b]! += other.counts[b]!;
    this.total += other.total;
  }

  clear(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** The q-quantile in ms (0 when empty). */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return round(upperMs(b));
    }
    return round(upperMs(BUCKETS - 1));
  }
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** An error, for stats and the canary policy: the version failed (5xx), not the client (4xx). */
export const isFailure = (status: number): boolean => status >= 500;

interface Second {
  at: number;
  requests: number;
  errors: number;
  latency: LatencyHistogram;
}

export const WINDOW_SECONDS = 60;
/** Seconds the request rate is measured over (the current, partial second included). */
export const RATE_SECONDS = 5;

/** A version's rolling 60 s window plus totals since it was loaded. */
export class VersionStatsTracker {
  private readonly seconds: Second[] = Array.from({ length: WINDOW_SECONDS }, () => ({ at: -1, requests: 0, errors: 0, latency: new LatencyHistogram() }));
  totalRequests = 0;
  totalErrors = 0;
  retried = 0;
  readonly loadedAt: number;

  constructor(now = Date.now()) {
    this.loadedAt = now;
  }

  record(status: number, ms: number, now = Date.now()): void {
    const sec = Math.floor(now / 1000);
    const slot = this.seconds[sec % WINDOW_SECONDS]!;
    if (slot.at !== sec) {
      slot.at = sec;
      slot.requests = 0;
      slot.errors = 0;
      slot.latency.clear();
    }
    slot.requests++;
    slot.latency.add(ms);
    this.totalRequests++;
    if (isFailure(status)) {
      slot.errors++;
      this.totalErrors++;
    }
  }

  snapshot(now = Date.now()): VersionStats {
    const sec = Math.floor(now / 1000);
    const merged = new LatencyHistogram();
    let requests = 0;
    let errors = 0;
    let recent = 0;
    for (const s of this.seconds) {
      if (s.at <= sec - WINDOW_SECONDS || s.at > sec) continue;
      requests += s.requests;
      errors += s.errors;
      merged.addAll(s.latency);
      if (s.at > sec - RATE_SECONDS) recent += s.requests;
    }
    // The rate window: the last RATE_SECONDS - 1 whole seconds plus the current partial one, and
    // no earlier than the load (a version loaded 2 s ago has 2 s of traffic, not 5).
    const from = Math.max((sec - RATE_SECONDS + 1) * 1000, this.loadedAt);
    const span = Math.max(1, (now - from) / 1000);
    return {
      requests,
      errors,
      errorRate: requests ? errors / requests : 0,
      reqPerSec: Math.round((recent / span) * 100) / 100,
      p50Ms: merged.quantile(0.5),
      p99Ms: merged.quantile(0.99),
      totalRequests: this.totalRequests,
      totalErrors: this.totalErrors,
      retried: this.retried,
    };
  }
}
