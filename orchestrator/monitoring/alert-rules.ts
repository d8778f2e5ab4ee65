/**
 * The `when` of an alert rule: `METRIC OP NUMBER`, e.g. `drift_share > 0.3`,
 * `column_drift.bill_length_mm == 1`, `p99_ms >= 150`. One small grammar, parsed the same way
 * by the manifest check (a clear message on the exact value) and by the daemon.
 *
 * Metrics:
 * - drift_share: share of tested columns that drifted in the last drift check (0–1);
 * - column_drift.COLUMN: 1 when COLUMN drifted in the last check, else 0;
 * - prediction_shift: Jensen–Shannon distance (0–1) between the window's predictions and the
 *   first window's (the baseline);
 * - error_rate, p99_ms: live, per version, over the model server's last minute (the worst version);
 * - accuracy_drop: registered accuracy minus live accuracy from feedback (the worst version).
 */
import type { AlertCondition, AlertMetric, AlertOp } from '../../protocol/monitoring';
import { didYouMean, suggest } from '../manifest/suggest';

export const ALERT_METRICS: readonly AlertMetric[] = ['drift_share', 'column_drift', 'error_rate', 'p99_ms', 'prediction_shift', 'accuracy_drop'];

const OPS: readonly AlertOp[] = ['>=', '<=', '==', '!=', '>', '<'];

export type ParsedCondition = { ok: true; condition: AlertCondition } | { ok: false; message: string };

/** Parses `METRIC OP NUMBER`; the failure message says what would be right. */
export function parseCondition(when: string): ParsedCondition {
  const example = 'such as `drift_share > 0.3` or `column_drift.body_mass_g == 1`';
  const m = /^\s*([A-Za-z_][\w]*)(?:\.([^\s<>=!]+))?\s*(>=|<=|==|!=|>|<|=)?\s*(.*?)\s*$/.exec(when);
  if (!m || !when.trim()) return { ok: false, message: `Expected METRIC OP NUMBER, ${example}.` };
  const [, name, column, op, rest] = m as unknown as [string, string, string | undefined, string | undefined, string];
  if (!(ALERT_METRICS as string[]).includes(name!)) {
    const known = ALERT_METRICS.map((x) => (x === 'column_drift' ? 'column_drift.COLUMN' : x));
    return { ok: false, message: `Unknown metric "${name}" in the alert condition${didYouMean(suggest(name!, ALERT_METRICS as string[]))} Known metrics: ${known.join(', ')}.` };
  }
  const metric = name as AlertMetric;
  if (metric === 'column_drift' && !column) return { ok: false, message: 'column_drift needs a column: `column_drift.COLUMN == 1`.' };
  if (metric !== 'column_drift' && column) return { ok: false, message: `"${name}.${column}": only column_drift takes a column.` };
  if (!op) return { ok: false, message: `Missing comparison after "${name}${column ? `.${column}` : ''}": one of ${OPS.join(' ')}, ${example}.` };
  if (op === '=') return { ok: false, message: 'Use == to compare for equality.' };
  const threshold = rest!.trim() === '' ? Number.NaN : Number(rest);
  if (!Number.isFinite(threshold)) return { ok: false, message: `"${rest}" is not a number; the condition ends with a number, ${example}.` };
  if ((metric === 'drift_share' || metric === 'prediction_shift' || metric === 'error_rate') && (threshold < 0 || threshold > 1)) {
    return { ok: false, message: `${metric} is a share between 0 and 1; ${threshold} can never be crossed as meant (write 0.3, not 30).` };
  }
  return { ok: true, condition: { metric, column, op: op as AlertOp, threshold } };
}

export function holds(c: AlertCondition, value: number): boolean {
  switch (c.op) {
    case '>':
      return value > c.threshold;
    case '>=':
      return value >= c.threshold;
    case '<':
      return value < c.threshold;
    case '<=':
      return value <= c.threshold;
    case '==':
      return value === c.threshold;
    case '!=':
      return value !== c.threshold;
  }
}

/** The key a condition reads from a set of measured values: `drift_share`, `column_drift.x`. */
export function metricKey(c: AlertCondition): string {
  return c.column ? `${c.metric}.${c.column}` : c.metric;
}
