/**
 * The step's `metrics:` JSON file: `{key: number}` for final values, `{key: [numbers]}` for a
 * series (index = step). A broken file does not change the step's outcome (its exit code
 * decides); it produces a warning naming the file and the problem.
 */
import { readFile } from 'node:fs/promises';
import type { ParsedMetric } from './metric-lines';

export interface MetricsFileResult {
  points: ParsedMetric[];
  /** Set when the file is missing, not JSON, or has values that are not numbers. */
  warning?: string;
}

export async function readMetricsFile(abs: string, shown: string): Promise<MetricsFileResult> {
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { points: [], warning: `metrics file ${shown} was not written` };
    return { points: [], warning: `metrics file ${shown} could not be read: ${(e as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { points: [], warning: `metrics file ${shown} is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { points: [], warning: `metrics file ${shown} should hold a JSON object {key: number or [numbers]}` };
  }
  const points: ParsedMetric[] = [];
  const bad: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'number') points.push({ key, value: v, step: 0 });
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) v.forEach((x: number, step) => points.push({ key, value: x, step }));
    else bad.push(key);
  }
  const warning = bad.length ? `metrics file ${shown}: ${bad.slice(0, 3).map((k) => `"${k}"`).join(', ')}${bad.length > 3 ? ', …' : ''} not a number or a list of numbers (ignored)` : undefined;
  return { points, warning };
}
