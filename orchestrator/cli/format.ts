/** Plain-text rendering shared by the CLI commands: aligned tables, durations, times, metrics. */
import type { PlannedStep } from '../../protocol/pipeline';
import type { RunSummary } from '../../protocol/types';

/** Rows under a header, columns padded to the widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Local time, `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** Up to `max` metrics as `k=v`, by key; "…" says there are more. */
export function formatMetrics(latest: Record<string, number | null>, max = 3): string {
  const keys = Object.keys(latest).sort();
  const shown = keys.slice(0, max).map((k) => `${k}=${formatNumber(latest[k])}`);
  if (keys.length > max) shown.push(`(+${keys.length - max})`);
  return shown.join(' ');
}

/** What `--dry-run` prints for one step: `run`, `skip (cached)`, `restore (from cache)`. */
export function actionLabel(step: PlannedStep): string {
  return step.action === 'skip' ? 'skip (cached)' : step.action === 'restore' ? 'restore (from cache)' : 'run';
}

export function planTable(steps: PlannedStep[]): string[] {
  return table(['STEP', 'ACTION', 'REASON'], steps.map((s) => [s.step, actionLabel(s), s.reason]));
}

/** One status word plus what helps: `failed (exit 2)`. */
export function statusLabel(r: Pick<RunSummary, 'status' | 'exitCode'>): string {
  return r.exitCode !== undefined && r.exitCode !== 0 && r.status !== 'succeeded' ? `${r.status} (exit ${r.exitCode})` : r.status;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
