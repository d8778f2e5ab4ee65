/**
 * The routing table of one applied config: which loaded version gets a request. Immutable; a
 * config change or a canary verdict builds a new one and swaps the reference, so a request sees
 * one consistent table from the moment it is routed.
 */
import type { ServedVersion, VersionRole } from '../../protocol/serving';
import type { LoadedVersion } from './loaded-version';

export interface RouteEntry {
  loaded: LoadedVersion;
  role: VersionRole;
  weight: number;
}

export class RoutingTable {
  /** Non-shadow versions with weight > 0, and their cumulative weights. */
  private readonly primaries: { entry: RouteEntry; upTo: number }[] = [];
  private readonly total: number;
  readonly shadows: RouteEntry[];
  readonly byVersion: Map<number, RouteEntry>;

  constructor(readonly entries: RouteEntry[]) {
    let upTo = 0;
    for (const e of entries) {
      if (e.role === 'shadow' || e.weight <= 0) continue;
      upTo += e.weight;
      this.primaries.push({ entry: e, upTo });
    }
    this.total = upTo;
    this.shadows = entries.filter((e) => e.role === 'shadow');
    this.byVersion = new Map(entries.map((e) => [e.loaded.version, e]));
  }

  static fromConfig(versions: ServedVersion[], loaded: (v: ServedVersion) => LoadedVersion): RoutingTable {
    return new RoutingTable(versions.map((v) => ({ loaded: loaded(v), role: v.role, weight: v.role === 'shadow' ? 0 : v.weight })));
  }

  /** A version for one request: weighted at random, or by the sticky key's hash (same key, same version). */
  pick(stickyKey?: string): RouteEntry | undefined {
    if (this.primaries.length === 0) return undefined;
    const u = (stickyKey !== undefined ? (fnv1a(stickyKey) % 10_000) / 10_000 : Math.random()) * this.total;
    for (const p of this.primaries) if (u < p.upTo) return p.entry;
    return this.primaries[this.primaries.length - 1]!.entry;
  }

  /** Where a failed canary request goes again: the heaviest non-canary primary. */
  retryTarget(failed: RouteEntry): RouteEntry | undefined {
    let best: RouteEntry | undefined;
    for (const { entry } of this.primaries) {
      if (entry === failed || entry.role === 'canary' || entry.loaded.version === failed.loaded.version) continue;
      if (!best || entry.weight > best.weight) best = entry;
    }
    return best;
  }

  /** The running canary (role canary, weight > 0). */
  canary(): RouteEntry | undefined {
    return this.entries.find((e) => e.role === 'canary');
  }

  /** The version most traffic goes to (metadata describes it). */
  main(): RouteEntry | undefined {
    let best: RouteEntry | undefined;
    for (const { entry } of this.primaries) if (!best || entry.weight > best.weight) best = entry;
    return best ?? this.entries[0];
  }

  /** A copy with the canary's weight moved: rollback gives it 0, promote gives it everything. */
  withCanaryVerdict(version: number, decision: 'promote' | 'rollback'): RoutingTable {
    return new RoutingTable(
      this.entries.map((e): RouteEntry => {
        if (e.role === 'shadow') return e;
        const isCanary = e.loaded.version === version;
        if (decision === 'promote') return isCanary ? { ...e, role: 'stable', weight: 100 } : { ...e, weight: 0 };
        if (isCanary) return { ...e, weight: 0 };
        // The canary's share goes back to the stable version.
        return e.role === 'stable' ? { ...e, weight: e.weight + (this.byVersion.get(version)?.weight ?? 0) } : e;
      }),
    );
  }
}

/** 32-bit FNV-1a of a string: fast, stable across processes and restarts. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
