/**
 * The live monitor's series: one DeploymentSample per version per `stats` message (once a
 * second), kept for the last 10 minutes, so memory stays bounded (~600 points per version).
 */
import type { DeploymentSample, ServerMessage, VersionHealth, VersionStats } from '../../protocol/serving';

export const SAMPLE_WINDOW_MS = 10 * 60_000;

type StatsMessage = Extract<ServerMessage, { type: 'stats' }>;

export class SampleSeries {
  private samples: DeploymentSample[] = [];
  /** The latest figures per version (for the status listing). */
  latest: Record<number, VersionStats & { health: VersionHealth }> = {};
  latestAt = 0;

  constructor(private readonly windowMs = SAMPLE_WINDOW_MS) {}

  add(m: StatsMessage): void {
    this.latest = m.versions;
    this.latestAt = m.at;
    for (const [v, s] of Object.entries(m.versions)) {
      this.samples.push({ at: m.at, version: Number(v), reqPerSec: s.reqPerSec, errorRate: s.errorRate, p50Ms: s.p50Ms, p99Ms: s.p99Ms });
    }
    const oldest = m.at - this.windowMs;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop]!.at < oldest) drop++;
    if (drop > 0) this.samples = this.samples.slice(drop);
  }

  since(since = 0): DeploymentSample[] {
    return this.samples.filter((s) => s.at > since);
  }

  clear(): void {
    this.samples = [];
    this.latest = {};
    this.latestAt = 0;
  }
}
