// The orchestrator's documented stdout metric form:
//   mlops:metric key=value [key=value ...] [step=N]
// One line per call, written in one write so lines from a busy step are never
// interleaved mid-line. Values are printed in fixed notation (no exponent) so
// even a strict parser reads them.

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * @param {Record<string, number>} metrics
 * @param {number} [step] training step / epoch, a non-negative integer
 */
export function formatMetricLine(metrics, step) {
  const parts = ['mlops:metric'];
  for (const [key, value] of Object.entries(metrics)) {
    if (!KEY.test(key) || key === 'step') throw new Error(`bad metric key ${JSON.stringify(key)}`);
    if (!Number.isFinite(value)) throw new Error(`metric ${key} is not a finite number: ${value}`);
    parts.push(`${key}=${Number.isInteger(value) ? value : value.toFixed(6)}`);
  }
  if (parts.length === 1) throw new Error('a metric line needs at least one key=value');
  if (step !== undefined) {
    if (!Number.isInteger(step) || step < 0) throw new Error(`bad metric step ${step}`);
    parts.push(`step=${step}`);
  }
  return parts.join(' ');
}

export function logMetrics(metrics, step) {
  process.stdout.write(formatMetricLine(metrics, step) + '\n');
}
