import { suggest } from './suggest';

/** `${params.lr}`, `${datasets.penguins.path}`, `${steps.train.outs.0}`, `${run.id}`. */
export const INTERPOLATION = /\$\{\s*([^}]*?)\s*\}/g;

export interface InterpolationRef {
  expr: string;
  /** Offset of `${` within the string. */
  index: number;
  length: number;
}

export function findInterpolations(s: string): InterpolationRef[] {
  const refs: InterpolationRef[] = [];
  for (const m of s.matchAll(INTERPOLATION)) refs.push({ expr: m[1], index: m.index ?? 0, length: m[0].length });
  return refs;
}

export type Resolution = { ok: true; value: string | undefined } | { ok: false; message: string; suggestions: string[]; kind?: 'param' | 'dataset' | 'step'; name?: string };

/** What an interpolation can see: the manifest's names and values. */
export interface InterpolationScope {
  params: Record<string, unknown>;
  datasets: Record<string, { path?: unknown } | undefined>;
  steps: Record<string, { outs?: unknown } | undefined>;
}

function names(o: object): string[] {
  return Object.keys(o);
}

/** Resolves one interpolation expression against the manifest (and run-time values). */
export function resolveInterpolation(expr: string, scope: InterpolationScope, runId?: string): Resolution {
  const parts = expr.split('.');
  const [root, name, attr, index] = parts;
  switch (root) {
    case 'params': {
      if (parts.length !== 2 || !name) return { ok: false, message: `"\${${expr}}" should name one param: \${params.NAME}`, suggestions: [] };
      if (!(name in scope.params)) {
        return { ok: false, message: `unknown param "${name}" in "\${${expr}}"`, suggestions: suggest(name, names(scope.params)).map((s) => `params.${s}`), kind: 'param', name };
      }
      const v = scope.params[name];
      return { ok: true, value: Array.isArray(v) ? v.join(',') : String(v) };
    }
    case 'datasets': {
      if (!name || !(name in scope.datasets)) {
        return { ok: false, message: `unknown dataset "${name ?? ''}" in "\${${expr}}"`, suggestions: suggest(name ?? '', names(scope.datasets)).map((s) => `datasets.${s}.path`), kind: 'dataset', name };
      }
      if (attr !== 'path' || parts.length !== 3) return { ok: false, message: `"\${${expr}}": a dataset exposes only .path (write \${datasets.${name}.path})`, suggestions: [`datasets.${name}.path`] };
      const p = scope.datasets[name]?.path;
      return { ok: true, value: typeof p === 'string' ? p : undefined };
    }
    case 'steps': {
      if (!name || !(name in scope.steps)) {
        return { ok: false, message: `unknown step "${name ?? ''}" in "\${${expr}}"`, suggestions: suggest(name ?? '', names(scope.steps)).map((s) => `steps.${s}.outs.0`), kind: 'step', name };
      }
      const outs = scope.steps[name]?.outs;
      const list = Array.isArray(outs) ? outs.map((o) => (typeof o === 'string' ? o : (o as { path?: string })?.path)) : [];
      const i = Number(index);
      if (attr !== 'outs' || parts.length !== 4 || !Number.isInteger(i) || i < 0 || i >= list.length) {
        return { ok: false, message: `"\${${expr}}" does not name an output of step "${name}" (it has ${list.length}: \${steps.${name}.outs.0}…)`, suggestions: list.length ? [`steps.${name}.outs.0`] : [] };
      }
      return { ok: true, value: list[i] };
    }
    case 'run':
      if (expr === 'run.id') return { ok: true, value: runId };
      return { ok: false, message: `"\${${expr}}": the run exposes only \${run.id}`, suggestions: ['run.id'] };
    default:
      return { ok: false, message: `"\${${expr}}" does not resolve: use \${params.NAME}, \${datasets.NAME.path}, \${steps.NAME.outs.N} or \${run.id}`, suggestions: suggest(root ?? '', ['params', 'datasets', 'steps', 'run']) };
  }
}
