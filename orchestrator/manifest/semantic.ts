import type { ManifestDiagnostic } from '../../protocol/diagnostics';
import { buildDag, findCycles, producerOf, producers } from './dag';
import { findInterpolations, resolveInterpolation, type InterpolationRef, type InterpolationScope, type Resolution } from './interpolation';
import { isObj, normalizePath, outPaths, section, stringList, type Obj } from './manifest-view';
import type { ParsedManifest, Span, ValuePath } from './parsed-manifest';
import { didYouMean, listNames, suggest } from './suggest';
import { checkAlertRules } from '../monitoring/manifest-check';

export interface SemanticOptions {
  /** Whether a path (relative to the manifest folder) exists on disk; omit to skip the check. */
  fileExists?: (relPath: string) => boolean;
}

/** Fields of a step whose strings may hold interpolations. */
const INTERPOLATED_FIELDS = ['cmd', 'deps', 'outs', 'metrics', 'wdir', 'env', 'path'] as const;

/** Checks that no schema can express: references, the step graph, outputs, interpolations. */
export function semanticDiagnostics(parsed: ParsedManifest, opts: SemanticOptions = {}): ManifestDiagnostic[] {
  const root = parsed.value;
  const steps = section(root, 'steps');
  const params = section(root, 'params');
  const datasets = section(root, 'datasets');
  const models = section(root, 'models');
  const stepNames = Object.keys(steps);
  const paramNames = Object.keys(params);
  const out: ManifestDiagnostic[] = [];
  const err = (span: Span, code: ManifestDiagnostic['code'], message: string, extra: Partial<ManifestDiagnostic> = {}) =>
    out.push({ severity: 'error', code, message, ...span, ...extra });

  for (const d of parsed.crossBlockDuplicates) {
    const line = parsed.text.slice(0, d.firstSpan.start).split('\n').length;
    err(d.span, 'duplicate-key', `Duplicate key "${d.path[d.path.length - 1]}" (first defined on line ${line}); the later definition is ignored.`, {
      related: [{ ...d.firstSpan, message: 'first defined here' }],
    });
  }

  const scope: InterpolationScope = { params, datasets: datasets as InterpolationScope['datasets'], steps: steps as InterpolationScope['steps'] };
  const resolveAll = (s: string): string | undefined => {
    let ok = true;
    const v = s.replace(/\$\{\s*([^}]*?)\s*\}/g, (_, expr: string) => {
      const r = resolveInterpolation(expr, scope);
      if (!r.ok || r.value === undefined) ok = false;
      return r.ok && r.value !== undefined ? r.value : '';
    });
    return ok ? v : undefined;
  };

  // References by name.
  const knownSets = new WeakMap<string[], Set<string>>();
  const refCheck = (path: ValuePath, name: string, known: string[], kind: 'step' | 'param' | 'dataset' | 'model', context: string) => {
    // Membership through a Set: thousands of steps each naming others must stay linear.
    let set = knownSets.get(known);
    if (!set) knownSets.set(known, (set = new Set(known)));
    if (set.has(name)) return;
    const sugg = suggest(name, known);
    err(parsed.valueSpan(path), kind === 'param' ? 'unknown-param' : kind === 'dataset' ? 'unknown-dataset' : kind === 'model' ? 'unknown-model' : 'unknown-step',
      `Unknown ${kind} "${name}" in ${context}${didYouMean(sugg)} Known ${kind}s: ${listNames(known)}.`, { data: { suggestions: sugg, name, kind } });
  };

  for (const [name, step] of Object.entries(steps)) {
    if (!isObj(step)) continue;
    for (const n of stringList(step.needs)) {
      refCheck(['steps', name, 'needs', ...(n.index === undefined ? [] : [n.index])], n.value, stepNames, 'step', `the needs of step "${name}"`);
    }
    for (const p of stringList(step.params)) {
      refCheck(['steps', name, 'params', ...(p.index === undefined ? [] : [p.index])], p.value, paramNames, 'param', `the params of step "${name}"`);
    }
    checkInterpolations(parsed, ['steps', name], step, scope, out);
  }
  for (const [name, ds] of Object.entries(datasets)) if (isObj(ds)) checkInterpolations(parsed, ['datasets', name], { path: ds.path }, scope, out);

  for (const [name, model] of Object.entries(models)) {
    if (isObj(model) && typeof model.from === 'string') refCheck(['models', name, 'from'], model.from, stepNames, 'step', `the source of model "${name}"`);
  }
  checkDeployments(parsed, root, models, out);
  checkSweeps(parsed, root, steps, params, out, refCheck);
  checkGraph(parsed, root, stepNames, resolveAll, out);
  checkOutputs(parsed, steps, out);
  if (opts.fileExists) checkDeps(parsed, steps, resolveAll, opts.fileExists, out);
  checkGateMetrics(parsed, models, steps, out);
  return out;
}

/**
 * Diagnostics for the `${…}` of one string that do not resolve, each on the `${…}` itself when
 * it appears verbatim in the source (it does unless escaped). Shared with the incremental check.
 */
export function reportInterpolations(
  parsed: ParsedManifest,
  path: ValuePath,
  value: string,
  refs: InterpolationRef[],
  resolve: (expr: string) => Resolution,
  out: ManifestDiagnostic[],
): void {
  const src = parsed.sourceAt(path);
  let searchFrom = 0;
  for (const ref of refs) {
    const r = resolve(ref.expr);
    const literal = value.slice(ref.index, ref.index + ref.length);
    let span: Span = src ?? parsed.valueSpan(path);
    if (src) {
      const at = src.source.indexOf(literal, searchFrom);
      if (at !== -1) {
        span = { start: src.start + at, end: src.start + at + literal.length };
        searchFrom = at + literal.length;
      }
    }
    if (!r.ok) {
      out.push({ severity: 'error', code: 'unresolved-interpolation', message: `Interpolation does not resolve: ${r.message}${didYouMean(r.suggestions.map((x) => `\${${x}}`))}`.replace(/\.$/, ''), ...span,
        data: { suggestions: r.suggestions, ...(r.name ? { name: r.name } : {}), ...(r.kind ? { kind: r.kind } : {}) } });
    }
  }
}

function checkInterpolations(parsed: ParsedManifest, base: ValuePath, obj: Obj, scope: InterpolationScope, out: ManifestDiagnostic[]): void {
  const visit = (path: ValuePath, v: unknown) => {
    if (typeof v === 'string') {
      if (v.includes('${')) reportInterpolations(parsed, path, v, findInterpolations(v), (expr) => resolveInterpolation(expr, scope), out);
    } else if (Array.isArray(v)) v.forEach((x, i) => visit([...path, i], x));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) visit([...path, k], x);
  };
  for (const field of INTERPOLATED_FIELDS) if (field in obj) visit([...base, field], obj[field]);
}

function modelNameOf(ref: string): string {
  const m = /^models:\/([^/@]+)/.exec(ref);
  return m ? m[1] : ref;
}

export function checkDeployments(parsed: ParsedManifest, root: unknown, models: Obj, out: ManifestDiagnostic[]): void {
  const known = Object.keys(models);
  for (const [name, dep] of Object.entries(section(root, 'deployments'))) {
    if (isObj(dep)) checkAlertRules(parsed, name, dep, out);
    if (!isObj(dep) || typeof dep.model !== 'string') continue;
    const isUri = dep.model.startsWith('models:/');
    const model = modelNameOf(dep.model);
    if (known.includes(model)) continue;
    const sugg = suggest(model, known);
    out.push({
      severity: isUri ? 'warning' : 'error',
      code: 'unknown-model',
      message: isUri
        ? `Model "${model}" is not declared under models:, so deployment "${name}" works only if it is already registered${didYouMean(sugg)}`
        : `Deployment "${name}" uses unknown model "${model}"${didYouMean(sugg)} Known models: ${listNames(known)}.`,
      ...parsed.valueSpan(['deployments', name, 'model']),
      data: { suggestions: sugg, name: model, kind: 'model' },
    });
  }
}

/**
 * Sweeps: the step exists, each searched name is a param (and one the step uses, or trials
 * would all run the same command), and the objective is a metric the step logs (where it
 * declares `logs_metrics`).
 */
export function checkSweeps(
  parsed: ParsedManifest,
  root: unknown,
  steps: Obj,
  params: Obj,
  out: ManifestDiagnostic[],
  refCheck: (path: ValuePath, name: string, known: string[], kind: 'step' | 'param', context: string) => void,
): void {
  for (const [name, sweep] of Object.entries(section(root, 'sweeps'))) {
    if (!isObj(sweep)) continue;
    if (typeof sweep.step === 'string') refCheck(['sweeps', name, 'step'], sweep.step, Object.keys(steps), 'step', `sweep "${name}"`);
    const step = typeof sweep.step === 'string' ? steps[sweep.step] : undefined;
    const used = isObj(step) && Array.isArray(step.params) ? stringList(step.params).map((p) => p.value) : undefined;
    if (isObj(sweep.space)) for (const p of Object.keys(sweep.space)) {
      if (!(p in params)) {
        const sugg = suggest(p, Object.keys(params));
        out.push({ severity: 'error', code: 'unknown-param', message: `Sweep "${name}" searches over "${p}", which is not a param${didYouMean(sugg)} Params: ${listNames(Object.keys(params))}.`,
          ...parsed.keySpan(['sweeps', name, 'space', p]), data: { suggestions: sugg, name: p, kind: 'param' } });
      } else if (used && !used.includes(p)) {
        out.push({ severity: 'warning', code: 'unknown-param', message: `Sweep "${name}" searches over "${p}", but step "${String(sweep.step)}" does not list it in its params, so every trial would run the same command. Its params: ${listNames(used)}.`,
          ...parsed.keySpan(['sweeps', name, 'space', p]) });
      }
    }
    const metric = isObj(sweep.objective) ? sweep.objective.metric : undefined;
    if (typeof metric === 'string' && isObj(step) && Array.isArray(step.logs_metrics)) {
      const logged = stringList(step.logs_metrics).map((m) => m.value);
      if (!logged.includes(metric)) {
        const sugg = suggest(metric, logged);
        out.push({ severity: 'warning', code: 'unlogged-metric', message: `Sweep "${name}" optimises "${metric}", which step "${String(sweep.step)}" does not log${didYouMean(sugg)} It logs: ${listNames(logged)}.`,
          ...parsed.valueSpan(['sweeps', name, 'objective', 'metric']), data: { suggestions: sugg } });
      }
    }
  }
}

function checkGraph(parsed: ParsedManifest, root: unknown, stepNames: string[], resolve: (s: string) => string | undefined, out: ManifestDiagnostic[]): void {
  const edges = buildDag(root, resolve);
  for (const cycle of findCycles(stepNames, edges)) {
    const names = [...cycle.map((e) => e.from), cycle[0].from].join(' → ');
    for (const e of cycle) {
      const path: ValuePath = ['steps', e.from, e.via, ...(e.index === undefined ? [] : [e.index])];
      const how = e.via === 'needs' ? `needs "${e.to}"` : `depends on an output of "${e.to}"`;
      out.push({ severity: 'error', code: 'cycle', message: `Cycle in the pipeline: ${names} (here "${e.from}" ${how}). Remove one of these edges.`,
        ...parsed.valueSpan(path), data: { edge: { from: e.from, to: e.to, via: e.via } } });
    }
  }
}

function checkOutputs(parsed: ParsedManifest, steps: Obj, out: ManifestDiagnostic[]): void {
  const byOut = producers(steps);
  for (const [name, step] of Object.entries(steps)) {
    for (const o of outPaths(step)) {
      const owners = byOut.get(normalizePath(o.value)) ?? [];
      if (owners.length < 2) continue;
      const others = owners.filter((s) => s !== name).map((s) => `"${s}"`);
      out.push({ severity: 'error', code: 'duplicate-out', message: `Output "${o.value}" is also declared by step ${others.join(', ')}; each output must have exactly one producing step.`,
        ...parsed.valueSpan(['steps', name, 'outs', ...o.path]) });
    }
  }
}

function checkDeps(parsed: ParsedManifest, steps: Obj, resolve: (s: string) => string | undefined, fileExists: (p: string) => boolean, out: ManifestDiagnostic[]): void {
  const byOut = producers(steps);
  for (const [name, step] of Object.entries(steps)) {
    if (!isObj(step)) continue;
    for (const d of stringList(step.deps)) {
      const dep = resolve(d.value);
      if (dep === undefined || /[*?[]/.test(dep)) continue;
      if (producerOf(dep, byOut).length || fileExists(normalizePath(dep))) continue;
      out.push({ severity: 'warning', code: 'missing-dep', message: `Dependency "${dep}" of step "${name}" is not produced by any step and does not exist on disk.`,
        ...parsed.valueSpan(['steps', name, 'deps', ...(d.index === undefined ? [] : [d.index])]) });
    }
  }
}

/**
 * A gate reads the metrics of the pipeline run that produced the model, so any step may log
 * the metric (evaluate usually does, not train). Checkable only where the source step
 * declares `logs_metrics`.
 */
export function checkGateMetrics(parsed: ParsedManifest, models: Obj, steps: Obj, out: ManifestDiagnostic[]): void {
  let logged: string[] | undefined; // computed only when some gate is checkable
  for (const [name, model] of Object.entries(models)) {
    if (!isObj(model) || typeof model.from !== 'string' || !Array.isArray(model.gates)) continue;
    const step = steps[model.from];
    if (!isObj(step) || !Array.isArray(step.logs_metrics)) continue;
    logged ??= [...new Set(Object.values(steps).flatMap((s) => (isObj(s) ? stringList(s.logs_metrics).map((m) => m.value) : [])))];
    const known = logged;
    model.gates.forEach((g, i) => {
      if (!isObj(g) || typeof g.metric !== 'string' || known.includes(g.metric)) return;
      const sugg = suggest(g.metric, known);
      out.push({ severity: 'warning', code: 'unlogged-metric', message: `Gate of model "${name}" checks metric "${g.metric}", which no step logs (per logs_metrics)${didYouMean(sugg)} Logged: ${listNames(known)}.`,
        ...parsed.valueSpan(['models', name, 'gates', i, 'metric']), data: { suggestions: sugg } });
    });
  }
}
