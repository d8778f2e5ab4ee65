import type { RunStatus } from '../../../protocol/types';

export { formatDuration } from '../../../protocol/format';

export function formatAgo(t: number | undefined, now = Date.now()): string {
  if (!t) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toISOString().slice(0, 10);
}

/** A metric value for a tree label: four significant digits, exponent for extremes. */
export { formatNumber as formatMetric } from '../../../protocol/format';

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
