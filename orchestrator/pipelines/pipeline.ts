/**
 * The selected part of the pipeline: concrete step specs, who needs whom (declared `needs`
 * plus outs → deps, with interpolations resolved) and an execution order. Pure.
 */
import { MlopsError } from '../../protocol/errors';
import type { ParamValue } from '../../protocol/manifest';
import { topoOrder, type DagEdge } from '../manifest';
import { normalizePath } from '../manifest/manifest-view';
import { listNames, suggest } from '../manifest/suggest';
import type { LoadedManifest } from './load';
import { resolveStep, type OutSpec, type StepSpec } from './step-spec';

export interface Pipeline {
  loaded: LoadedManifest;
  params: Record<string, ParamValue>;
  /** Selected steps in execution order (upstream first, manifest order on ties). */
  order: string[];
  specs: Map<string, StepSpec>;
  /** Step → the selected steps it waits for. */
  needs: Map<string, string[]>;
  /** Dataset name → normalised path. */
  datasets: Map<string, string>;
  /** The step and out that produce a path (an exact out, or an out folder containing it). */
  producerOf(path: string): { step: string; out: OutSpec } | undefined;
}

export function buildPipeline(loaded: LoadedManifest, requested: readonly string[] = []): Pipeline {
  const all = Object.keys(loaded.manifest.steps ?? {});
  for (const name of requested) {
    if (!all.includes(name)) {
      const sugg = suggest(name, all);
      throw new MlopsError('BAD_REQUEST', `unknown step "${name}"${sugg.length ? `; did you mean "${sugg[0]}"?` : '.'} Steps: ${listNames(all)}.`, { name, suggestions: sugg });
    }
  }
  const specs = new Map(all.map((n) => [n, resolveStep(loaded.manifest, loaded.params, n)]));
  const byOut = new Map<string, { step: string; out: OutSpec }>();
  for (const s of specs.values()) for (const o of s.outs) if (!byOut.has(o.path)) byOut.set(o.path, { step: s.name, out: o });
  const producerOf = (path: string) => {
    // Walk up the path's folders: an out folder produces everything beneath it.
    for (let p = normalizePath(path); p; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      const found = byOut.get(p);
      if (found) return found;
    }
    return undefined;
  };

  const edges: DagEdge[] = [];
  const upstream = new Map<string, string[]>();
  for (const s of specs.values()) {
    const ups = new Set<string>();
    for (const n of loaded.manifest.steps?.[s.name]?.needs ?? []) if (specs.has(n) && n !== s.name) ups.add(n);
    for (const d of s.deps) {
      const p = producerOf(d);
      if (p && p.step !== s.name) ups.add(p.step);
    }
    upstream.set(s.name, [...ups]);
    for (const u of ups) edges.push({ from: s.name, to: u, via: 'needs', index: undefined });
  }

  // Requested steps plus everything upstream of them; nothing requested = everything.
  const selected = new Set<string>();
  const stack = requested.length ? [...requested] : [...all];
  while (stack.length) {
    const n = stack.pop()!;
    if (selected.has(n)) continue;
    selected.add(n);
    stack.push(...(upstream.get(n) ?? []));
  }
  const order = topoOrder(all, edges).filter((n) => selected.has(n));
  const needs = new Map(order.map((n) => [n, (upstream.get(n) ?? []).filter((u) => selected.has(u))]));
  const datasets = new Map(Object.entries(loaded.manifest.datasets ?? {}).map(([k, d]) => [k, normalizePath(d.path)]));
  return { loaded, params: loaded.params, order, specs: new Map(order.map((n) => [n, specs.get(n)!])), needs, datasets, producerOf };
}

/** Datasets a step reads: a dataset path that is one of its deps or inside a dep folder. */
export function datasetsOf(p: Pipeline, step: string): Map<string, string> {
  const deps = p.specs.get(step)?.deps ?? [];
  const used = new Map<string, string>();
  for (const [name, path] of p.datasets) if (deps.some((d) => path === d || path.startsWith(`${d}/`))) used.set(name, path);
  return used;
}
