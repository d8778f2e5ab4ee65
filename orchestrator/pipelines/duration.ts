/**
 * Durations as the manifest writes them (`timeout: 30m`, `backoff: 1.5s`, or a bare number of
 * seconds) and as messages print them (`timed out after 30s`). The schema already checked
 * the shape; parsing still refuses garbage so a hand-built manifest cannot turn into NaN.
 */
import type { Duration } from '../../protocol/manifest';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PAIR = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;

/** Milliseconds of a manifest duration; undefined when absent. Throws on a malformed string. */
export function parseDuration(d: Duration | undefined): number | undefined {
  if (d === undefined) return undefined;
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new Error(`invalid duration ${d}`);
    return d * 1000;
  }
  const s = d.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  let ms = 0;
  PAIR.lastIndex = 0;
  let end = 0;
  for (let m = PAIR.exec(s); m; m = PAIR.exec(s)) {
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = PAIR.lastIndex;
  }
  if (end !== s.length || end === 0) throw new Error(`invalid duration "${d}" (write e.g. 90s, 30m, 1h30m)`);
  return ms;
}

/** `200ms`, `1.5s`, `30s`, `2m`, `1m30s`, `1h5m`: short and exact enough for a status line. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const totalS = Math.round(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return (h ? `${h}h` : '') + (m ? `${m}m` : '') + (s && h === 0 ? `${s}s` : '') || '0s';
}
