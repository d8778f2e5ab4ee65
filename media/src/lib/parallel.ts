/**
 * Parallel coordinates as data: one axis per param that differs between runs, then the
 * objective metric; each run is a polyline through its value on every axis. Numbers get a
 * linear axis (log when positive and spanning two decades or more, as learning rates and
 * penalties do), anything else a categorical axis. Pure (no DOM), unit-tested.
 */
import type { CompareRun } from '../../../protocol/webview';
import { valuesDiffer } from './compare-table';

export type Axis =
  | { key: string; role: 'param' | 'objective'; kind: 'number'; min: number; max: number; log: boolean }
  | { key: string; role: 'param' | 'objective'; kind: 'category'; values: string[] };

function asNumber(v: string | number | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function buildAxis(key: string, role: 'param' | 'objective', values: (string | number | undefined)[]): Axis {
  const present = values.filter((v): v is string | number => v !== undefined && v !== '');
  const nums = present.map(asNumber);
  if (role === 'objective' || (present.length > 0 && nums.every((n) => n !== undefined))) {
    const finite = nums.filter((n): n is number => n !== undefined);
    const min = finite.length ? Math.min(...finite) : 0;
    const max = finite.length ? Math.max(...finite) : 1;
    return { key, role, kind: 'number', min, max, log: min > 0 && max / min >= 100 };
  }
  const cats = [...new Set(present.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return { key, role, kind: 'category', values: cats };
}

/** Where a value sits on its axis: 0 bottom … 1 top; undefined when the run has no value. */
export function axisPosition(axis: Axis, value: string | number | undefined): number | undefined {
  if (axis.kind === 'category') {
    if (value === undefined) return undefined;
    const i = axis.values.indexOf(String(value));
    if (i < 0) return undefined;
    return axis.values.length === 1 ? 0.5 : i / (axis.values.length - 1);
  }
  const n = asNumber(value);
  if (n === undefined) return undefined;
  if (axis.max === axis.min) return 0.5;
  if (axis.log) return (Math.log10(n) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
  return (n - axis.min) / (axis.max - axis.min);
}

/** Tick labels for an axis, bottom to top. */
export function axisTicks(axis: Axis, format: (n: number) => string): { at: number; label: string }[] {
  if (axis.kind === 'category') return axis.values.map((v, i) => ({ at: axis.values.length === 1 ? 0.5 : i / (axis.values.length - 1), label: v }));
  if (axis.max === axis.min) return [{ at: 0.5, label: format(axis.min) }];
  const mid = axis.log ? Math.sqrt(axis.min * axis.max) : (axis.min + axis.max) / 2;
  return [
    { at: 0, label: format(axis.min) },
    { at: 0.5, label: format(mid) },
    { at: 1, label: format(axis.max) },
  ];
}

export interface ParallelModel {
  axes: Axis[];
  /** Per run (in input order): position on each axis, undefined where the run has no value. */
  lines: { runId: string; positions: (number | undefined)[] }[];
}

/** Params that differ between the runs (all params when none differ), then the objective. */
export function buildParallel(runs: CompareRun[], objective: string | undefined): ParallelModel {
  const keys: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.params)) if (!keys.includes(k)) keys.push(k);
  const differing = keys.filter((k) => valuesDiffer(runs.map((r) => r.params[k])));
  const axes: Axis[] = (differing.length ? differing : keys).map((k) => buildAxis(k, 'param', runs.map((r) => r.params[k])));
  if (objective) axes.push(buildAxis(objective, 'objective', runs.map((r) => r.metrics[objective])));
  const lines = runs.map((r) => ({
    runId: r.id,
    positions: axes.map((a) => axisPosition(a, a.role === 'objective' ? r.metrics[a.key] : r.params[a.key])),
  }));
  return { axes, lines };
}
