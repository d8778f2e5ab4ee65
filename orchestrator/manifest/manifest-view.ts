import type { ValuePath } from './parsed-manifest';

/**
 * Defensive accessors over a manifest value that may be invalid in any way: semantic checks
 * run on half-typed documents and must never throw on a wrong shape.
 */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function section(root: unknown, name: string): Obj {
  const v = isObj(root) ? root[name] : undefined;
  return isObj(v) ? v : {};
}

/** A list field that may also be written as a single string. */
export function stringList(v: unknown): { value: string; index: number | undefined }[] {
  if (typeof v === 'string') return [{ value: v, index: undefined }];
  if (!Array.isArray(v)) return [];
  return v.flatMap((x, i) => (typeof x === 'string' ? [{ value: x, index: i }] : []));
}

/** Output paths: strings or `{path: …}` objects. */
export function outPaths(step: unknown): { value: string; path: ValuePath }[] {
  const outs = isObj(step) ? step.outs : undefined;
  if (!Array.isArray(outs)) return [];
  return outs.flatMap((o, i) => {
    if (typeof o === 'string') return [{ value: o, path: [i] }];
    if (isObj(o) && typeof o.path === 'string') return [{ value: o.path, path: [i, 'path'] }];
    return [];
  });
}

export function normalizePath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && parts.length && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}
