/**
 * Reads a deployment's request log (`.mlops/deployments/<name>/requests/*.jsonl`, rotated by
 * the model server) newest first, so a window of the last N requests or the last T minutes
 * touches only the newest files. Each file is at most the rotation size (16 MiB by default):
 * it is read whole and walked from its last line back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RequestLogEntry } from '../../protocol/serving';

export interface LogWindow {
  /** At most this many requests (the newest). */
  last?: number;
  /** Only requests at or after this time (ms since the epoch). */
  since?: number;
  /** Include mirrored (shadow) requests; default false: their answers were never returned. */
  includeShadow?: boolean;
  /** Only successful requests (status < 400): failed ones have no predictions to compare. */
  okOnly?: boolean;
}

/** The log files of a folder, newest first (by modification time, then by name). */
export function logFilesNewestFirst(dir: string, ext = '.jsonl'): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith(ext));
  } catch {
    return [];
  }
  const stat = names.map((f) => {
    const full = path.join(dir, f);
    let mtime = 0;
    try {
      mtime = fs.statSync(full).mtimeMs;
    } catch {
      mtime = -1; // rotated away between readdir and stat
    }
    return { full, f, mtime };
  });
  return stat.filter((s) => s.mtime >= 0).sort((a, b) => b.mtime - a.mtime || (a.f < b.f ? 1 : a.f > b.f ? -1 : 0)).map((s) => s.full);
}

/** Lines of one file, last first; a torn last line (the writer mid-append) is skipped by the parser. */
function* linesBackwards(file: string): Generator<string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return; // rotated away while we read: its requests are older than the window anyway
  }
  let end = text.length;
  while (end > 0) {
    const nl = text.lastIndexOf('\n', end - 1);
    const line = text.slice(nl + 1, end);
    if (line.trim()) yield line;
    end = nl < 0 ? 0 : nl;
  }
}

function parseEntry(line: string): RequestLogEntry | undefined {
  try {
    const e = JSON.parse(line) as RequestLogEntry;
    return e && typeof e.id === 'string' && typeof e.at === 'number' && typeof e.version === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}

/** Entries of the window, oldest first. */
export function readRequestLog(dir: string, w: LogWindow = {}): RequestLogEntry[] {
  const out: RequestLogEntry[] = [];
  const limit = w.last ?? Number.POSITIVE_INFINITY;
  // Files may overlap in time by a little (rotation happens between two appends): stop at the
  // first file whose newest line is older than `since`, not at the first old line.
  outer: for (const file of logFilesNewestFirst(dir)) {
    let sawNewer = false;
    for (const line of linesBackwards(file)) {
      const e = parseEntry(line);
      if (!e) continue;
      if (w.since !== undefined && e.at < w.since) {
        if (!sawNewer) break outer;
        continue;
      }
      sawNewer = true;
      if (e.role === 'shadow' && !w.includeShadow) continue;
      if (w.okOnly && e.status >= 400) continue;
      out.push(e);
      if (out.length >= limit) break outer;
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** `10m`, `2h`, `30s`, `1d` → milliseconds; undefined when it is not a duration. */
export function parseDuration(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)\s*$/.exec(s);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}
