/**
 * One version held by the model server: its backend, its figures, and a count of requests it is
 * answering, so a version removed by a config change is unloaded only once they are done.
 */
import type { ServedVersion } from '../../protocol/serving';
import type { ModelBackend } from './backends';
import type { VersionCounters } from './prometheus';
import { VersionStatsTracker } from './stats';

export class LoadedVersion {
  readonly version: number;
  readonly stats = new VersionStatsTracker();
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly served: ServedVersion,
    readonly backend: ModelBackend,
    readonly counters: VersionCounters,
  ) {
    this.version = served.version;
  }

  begin(): void {
    this.inFlight++;
    this.counters.inFlight++;
  }

  end(): void {
    this.inFlight--;
    this.counters.inFlight--;
    if (this.inFlight === 0 && this.waiters.length) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }

  /** Resolves when no request is being answered. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Whether `v` is this very model (so a new config can keep it loaded rather than reload it). */
  sameModel(v: ServedVersion): boolean {
    const s = this.served;
    return s.model === v.model && s.version === v.version && s.flavor === v.flavor && s.artifactPath === v.artifactPath && s.command === v.command && s.cwd === v.cwd;
  }
}
