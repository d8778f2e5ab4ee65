import type { RunStatus } from '../../../protocol/types';

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatAgo(t: number | undefined, now = Date.now()): string {
  if (!t) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toISOString().slice(0, 10);
}

export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'NaN';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Codicon per status, coloured by theme colour where one fits. */
export function statusIcon(status: RunStatus | undefined): { id: string; color?: string } {
  switch (status) {
    case 'succeeded':
      return { id: 'pass', color: 'testing.iconPassed' };
    case 'failed':
      return { id: 'error', color: 'testing.iconFailed' };
    case 'running':
      return { id: 'sync~spin' };
    case 'queued':
      return { id: 'clock' };
    case 'cancelled':
      return { id: 'circle-slash' };
    case 'interrupted':
      return { id: 'debug-disconnect', color: 'testing.iconErrored' };
    case 'skipped':
      return { id: 'pass-filled', color: 'testing.iconSkipped' };
    default:
      return { id: 'circle-outline' };
  }
}

/** The metric a run is best summarised by: a conventional quality metric if present. */
export function keyMetric(metrics: Record<string, number>): [string, number] | undefined {
  for (const k of ['accuracy', 'val_accuracy', 'auc', 'val_auc', 'f1', 'f1_macro', 'r2', 'val_loss', 'loss', 'rmse']) {
    if (k in metrics) return [k, metrics[k]];
  }
  const first = Object.entries(metrics)[0];
  return first;
}
