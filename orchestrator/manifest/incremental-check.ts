import type { DiagnosticCode, ManifestDiagnostic } from '../../protocol/diagnostics';
import { findCycles, type DagEdge } from './dag';
import { findInterpolations, resolveInterpolation, type InterpolationScope, type Resolution } from './interpolation';
import { isObj, normalizePath, outPaths, section, stringList, type Obj } from './manifest-view';
import { CancelledError, type Cancellation, type ManifestParser } from './parse';
import type { ParsedManifest, ParsedPiece, Span, ValuePath } from './parsed-manifest';
import { syntaxDiagnostics } from './syntax-diagnostics';
import { schemaDiagnostics } from './schema-check';
import { checkDeployments, checkGateMetrics, checkSweeps, reportInterpolations, semanticDiagnostics, type SemanticOptions } from './semantic';
import { didYouMean, listNames, suggest } from './suggest';
import { validateManifest, type ValidationResult } from './validate';

/**
 * The validator's checks, done incrementally for an editor that re-checks a big manifest on
 * every keystroke. The diagnostics are exactly those of `validateManifest` (a unit test holds
 * the two side by side), but:
 *  - schema errors are computed per block (one ajv pass per entry, on that entry alone) and
 *    cached by the block's parsed document, so an edit re-validates only the entry it touched;
 *  - the whole-document semantic checks read per-step facts (lists, normalised outputs,
 *    interpolations) cached by the step's value object, which the parser reuses while the
 *    step's text is unchanged; what remains per check is set and map look-ups.
 * Manifests that are parsed whole (anchors, several documents…) take the plain path.
 */
export class ManifestChecker {
  private readonly schemaCache = new WeakMap<object, Map<string, ManifestDiagnostic[] | null>>();
  private readonly stepFacts = new WeakMap<object, StepFacts>();
  /** Work done so far (entries validated against the schema, steps read): what the caches save shows here. */
  readonly work = { entrySchemas: 0, stepFacts: 0 };

  /** Every diagnostic of a parsed manifest, synchronously. */
  check(parsed: ParsedManifest, opts: SemanticOptions = {}): ManifestDiagnostic[] {
    const run = this.run(parsed, opts, () => false);
    for (;;) {
      const step = run.next();
      if (step.done) return step.value;
    }
  }

  /** The same, yielding to the event loop every `sliceMs` and stopping when cancelled. */
  async checkAsync(parsed: ParsedManifest, opts: SemanticOptions = {}, cancel?: Cancellation, sliceMs = 8): Promise<ManifestDiagnostic[]> {
    let sliceStart = Date.now();
    const run = this.run(parsed, opts, () => Date.now() - sliceStart >= sliceMs);
    for (;;) {
      const step = run.next();
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (cancel?.isCancelled) throw new CancelledError();
      sliceStart = Date.now();
    }
  }

  private *run(parsed: ParsedManifest, opts: SemanticOptions, shouldYield: () => boolean): Generator<void, ManifestDiagnostic[]> {
    const pieces = parsed.piecesInOrder();
    const diagnostics = syntaxDiagnostics(parsed);
    if (pieces.length === 1 && pieces[0].id === '') {
      diagnostics.push(...schemaDiagnostics(parsed), ...semanticDiagnostics(parsed, opts));
    } else {
      diagnostics.push(...(yield* this.schema(parsed, pieces, shouldYield)), ...(yield* this.semantic(parsed, opts, shouldYield)));
    }
    return diagnostics.sort((a, b) => a.start - b.start || a.end - b.end);
  }

  private *schema(parsed: ParsedManifest, pieces: readonly ParsedPiece[], shouldYield: () => boolean): Generator<void, ManifestDiagnostic[]> {
    const root = parsed.value;
    // The top level, with split sections emptied: their entries are checked one by one below.
    const skeleton: Obj = {};
    if (isObj(root)) for (const k of Object.keys(root)) skeleton[k] = root[k];
    for (const p of pieces) if (p.header && isObj(skeleton[p.id])) skeleton[p.id] = {};
    const all = schemaDiagnostics(parsed.withValue(isObj(root) ? skeleton : root));
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if ((i & 63) === 63 && shouldYield()) yield;
      if (p.base.length !== 1) continue;
      const d = this.entrySchema(parsed, p);
      if (d.length) all.push(...d);
    }
    const seen = new Set<string>();
    return all.filter((d) => {
      const id = `${d.start}:${d.end}:${d.message}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  /** Schema errors of one entry block, from the cache when its text is unchanged. */
  private entrySchema(parsed: ParsedManifest, p: ParsedPiece): ManifestDiagnostic[] {
    const sectionName = String(p.base[0]);
    let bySection = this.schemaCache.get(p.doc);
    if (!bySection) this.schemaCache.set(p.doc, (bySection = new Map()));
    const cached = bySection.get(sectionName);
    if (cached) return cached.map((d) => shift(d, p.offset));
    this.work.entrySchemas++;
    const value = p.value && typeof p.value === 'object' ? Object.assign({}, p.value) : {};
    // Valid stand-ins for the required top-level keys, so only this entry's errors remain.
    const diags = schemaDiagnostics(parsed.withValue({ version: 1, project: 'p', [sectionName]: value }));
    // Errors placed outside the block (e.g. on the section's key) depend on other blocks: not cached.
    const local = diags.every((d) => d.start >= p.offset && d.end <= p.end && (d.related ?? []).every((r) => r.start >= p.offset && r.end <= p.end));
    bySection.set(sectionName, local ? diags.map((d) => shift(d, -p.offset)) : null);
    return diags;
  }

  private facts(step: Obj): StepFacts {
    let f = this.stepFacts.get(step);
    if (!f) {
      this.work.stepFacts++;
      f = {
        needs: stringList(step.needs),
        params: stringList(step.params),
        deps: stringList(step.deps).map((d) => (d.value.includes('${') ? d : { ...d, norm: normalizePath(d.value) })),
        outs: outPaths(step).map((o) => ({ ...o, norm: normalizePath(o.value) })),
        interpolated: interpolatedStrings(step),
      };
      this.stepFacts.set(step, f);
    }
    return f;
  }

  /** semanticDiagnostics (semantic.ts), check for check and in the same order, over cached facts. */
  private *semantic(parsed: ParsedManifest, opts: SemanticOptions, shouldYield: () => boolean): Generator<void, ManifestDiagnostic[]> {
    const root = parsed.value;
    const steps = section(root, 'steps');
    const params = section(root, 'params');
    const datasets = section(root, 'datasets');
    const models = section(root, 'models');
    const stepNames = Object.keys(steps);
    const paramNames = Object.keys(params);
    const out: ManifestDiagnostic[] = [];
    const err = (span: Span, code: DiagnosticCode, message: string, extra: Partial<ManifestDiagnostic> = {}) => out.push({ severity: 'error', code, message, ...span, ...extra });

    let lineStarts: number[] | undefined;
    const lineOf = (offset: number) => {
      if (!lineStarts) {
        lineStarts = [0];
        for (let i = parsed.text.indexOf('\n'); i !== -1; i = parsed.text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
      }
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      // As text.slice(0, offset).split('\n').length: one more than the line breaks before `offset`.
      return lo + 1;
    };
    for (const d of parsed.crossBlockDuplicates) {
      err(d.span, 'duplicate-key', `Duplicate key "${d.path[d.path.length - 1]}" (first defined on line ${lineOf(d.firstSpan.start)}); the later definition is ignored.`, {
        related: [{ ...d.firstSpan, message: 'first defined here' }],
      });
    }

    const scope: InterpolationScope = { params, datasets: datasets as InterpolationScope['datasets'], steps: steps as InterpolationScope['steps'] };
    const resolutions = new Map<string, Resolution>();
    const resolveExpr = (expr: string): Resolution => {
      let r = resolutions.get(expr);
      if (!r) resolutions.set(expr, (r = resolveInterpolation(expr, scope)));
      return r;
    };
    const resolvedStrings = new Map<string, string | undefined>();
    const resolveAll = (s: string): string | undefined => {
      if (!s.includes('${')) return s;
      if (resolvedStrings.has(s)) return resolvedStrings.get(s);
      let ok = true;
      const v = s.replace(/\$\{\s*([^}]*?)\s*\}/g, (_, expr: string) => {
        const r = resolveExpr(expr);
        if (!r.ok || r.value === undefined) ok = false;
        return r.ok && r.value !== undefined ? r.value : '';
      });
      const result = ok ? v : undefined;
      resolvedStrings.set(s, result);
      return result;
    };

    const knownSets = new WeakMap<string[], Set<string>>();
    const refCheck = (path: ValuePath, name: string, known: string[], kind: 'step' | 'param' | 'dataset' | 'model', context: string) => {
      let set = knownSets.get(known);
      if (!set) knownSets.set(known, (set = new Set(known)));
      if (set.has(name)) return;
      const sugg = suggest(name, known);
      err(parsed.valueSpan(path), kind === 'param' ? 'unknown-param' : kind === 'dataset' ? 'unknown-dataset' : kind === 'model' ? 'unknown-model' : 'unknown-step',
        `Unknown ${kind} "${name}" in ${context}${didYouMean(sugg)} Known ${kind}s: ${listNames(known)}.`, { data: { suggestions: sugg, name, kind } });
    };

    const interpolationErrors = (base: ValuePath, strings: InterpolatedString[]) => {
      for (const s of strings) {
        if (s.refs.every((ref) => resolveExpr(ref.expr).ok)) continue;
        reportInterpolations(parsed, [...base, ...s.path], s.value, s.refs, resolveExpr, out);
      }
    };

    // Each step's facts, looked up once per check.
    const stepFacts: { name: string; f: StepFacts }[] = [];
    for (const name of stepNames) {
      const step = steps[name];
      if (isObj(step)) stepFacts.push({ name, f: this.facts(step) });
    }
    const stepSet = new Set(stepNames);
    const paramSet = new Set(paramNames);
    knownSets.set(stepNames, stepSet);
    knownSets.set(paramNames, paramSet);
    for (const [i, { name, f }] of stepFacts.entries()) {
      if ((i & 127) === 127 && shouldYield()) yield;
      for (const n of f.needs) if (!stepSet.has(n.value)) refCheck(['steps', name, 'needs', ...(n.index === undefined ? [] : [n.index])], n.value, stepNames, 'step', `the needs of step "${name}"`);
      for (const p of f.params) if (!paramSet.has(p.value)) refCheck(['steps', name, 'params', ...(p.index === undefined ? [] : [p.index])], p.value, paramNames, 'param', `the params of step "${name}"`);
      if (f.interpolated.length) interpolationErrors(['steps', name], f.interpolated);
    }
    for (const [name, ds] of Object.entries(datasets)) if (isObj(ds)) interpolationErrors(['datasets', name], interpolatedStrings({ path: ds.path }));

    for (const [name, model] of Object.entries(models)) {
      if (isObj(model) && typeof model.from === 'string') refCheck(['models', name, 'from'], model.from, stepNames, 'step', `the source of model "${name}"`);
    }
    checkDeployments(parsed, root, models, out);
    checkSweeps(parsed, root, steps, params, out, refCheck);

    // Outputs by normalised path, then the graph (needs + outs→deps), as dag.ts builds it.
    const byOut = new Map<string, string[]>();
    for (const { name, f } of stepFacts) {
      for (const o of f.outs) {
        if (o.value.includes('${')) continue;
        const list = byOut.get(o.norm);
        if (!list) byOut.set(o.norm, [name]);
        else if (!list.includes(name)) list.push(name);
      }
    }
    const NONE: string[] = [];
    const producerOfNorm = (norm: string): string[] => {
      for (let p = norm; p; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
        const hit = byOut.get(p);
        if (hit) return hit;
      }
      return NONE;
    };
    /** The dep resolved and normalised, or undefined when an interpolation in it does not resolve. */
    const depNorm = (d: StepFacts['deps'][number]): string | undefined => {
      if (d.norm !== undefined) return d.norm;
      const dep = resolveAll(d.value);
      return dep === undefined ? undefined : normalizePath(dep);
    };
    const edges: DagEdge[] = [];
    const seen = new Set<string>();
    for (const [i, { name, f }] of stepFacts.entries()) {
      if ((i & 127) === 127 && shouldYield()) yield;
      seen.clear();
      for (const n of f.needs) {
        if (!(n.value in steps)) continue;
        seen.add(n.value);
        edges.push({ from: name, to: n.value, via: 'needs', index: n.index });
      }
      for (const d of f.deps) {
        const norm = depNorm(d);
        if (norm === undefined) continue;
        const from = producerOfNorm(norm);
        for (const p of from) {
          if (p === name && from.length > 1) continue;
          if (seen.has(p)) continue;
          seen.add(p);
          edges.push({ from: name, to: p, via: 'deps', index: d.index });
        }
      }
    }
    if (shouldYield()) yield;
    if (hasCycle(stepNames, edges)) {
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

    for (const { name, f } of stepFacts) {
      for (const o of f.outs) {
        const owners = byOut.get(o.norm);
        if (!owners || owners.length < 2) continue;
        const others = owners.filter((s) => s !== name).map((s) => `"${s}"`);
        out.push({ severity: 'error', code: 'duplicate-out', message: `Output "${o.value}" is also declared by step ${others.join(', ')}; each output must have exactly one producing step.`,
          ...parsed.valueSpan(['steps', name, 'outs', ...o.path]) });
      }
    }

    if (opts.fileExists) {
      for (const { name, f } of stepFacts) {
        for (const d of f.deps) {
          const dep = d.norm !== undefined ? d.value : resolveAll(d.value);
          if (dep === undefined || /[*?[]/.test(dep)) continue;
          const norm = d.norm ?? normalizePath(dep);
          if (producerOfNorm(norm).length || opts.fileExists(norm)) continue;
          out.push({ severity: 'warning', code: 'missing-dep', message: `Dependency "${dep}" of step "${name}" is not produced by any step and does not exist on disk.`,
            ...parsed.valueSpan(['steps', name, 'deps', ...(d.index === undefined ? [] : [d.index])]) });
        }
      }
    }
    checkGateMetrics(parsed, models, steps, out);
    return out;
  }
}

/** validateManifest with a ManifestChecker: same result, incremental work. */
export async function validateIncremental(
  text: string,
  opts: SemanticOptions & { parser: ManifestParser; checker: ManifestChecker; cancel?: Cancellation; sliceMs?: number },
): Promise<ValidationResult> {
  // Binary or empty text: the plain validator answers those before (or instead of) checking.
  if (prechecked(text)) {
    return validateManifest(text, { parser: opts.parser, ...(opts.cancel ? { cancel: opts.cancel } : {}), ...(opts.fileExists ? { fileExists: opts.fileExists } : {}) });
  }
  const parsed = await opts.parser.parse(text, opts.cancel, opts.sliceMs);
  if (opts.cancel?.isCancelled) throw new CancelledError();
  return { diagnostics: await opts.checker.checkAsync(parsed, opts.fileExists ? { fileExists: opts.fileExists } : {}, opts.cancel, opts.sliceMs), parsed };
}

/** Whether validate.ts's pre-check settles this text by itself (binary data, an empty file). */
function prechecked(text: string): boolean {
  if (text.includes('\0') || !text.trim()) return true;
  const sample = text.slice(0, 65536);
  if (sample.length <= 64) return false;
  let bad = 0;
  for (let i = 0; i < sample.length; i++) if (sample.charCodeAt(i) === 0xfffd) bad++;
  return bad / sample.length > 0.05;
}

interface InterpolatedString {
  /** Path below the entry. */
  path: ValuePath;
  value: string;
  refs: { expr: string; index: number; length: number }[];
}

interface StepFacts {
  needs: { value: string; index: number | undefined }[];
  params: { value: string; index: number | undefined }[];
  /** `norm`: the normalised path, for deps without interpolation. */
  deps: { value: string; index: number | undefined; norm?: string }[];
  outs: { value: string; path: ValuePath; norm: string }[];
  interpolated: InterpolatedString[];
}

const INTERPOLATED_FIELDS = ['cmd', 'deps', 'outs', 'metrics', 'wdir', 'env', 'path'] as const;

/** The strings holding `${…}` under the interpolated fields, in the order semantic.ts visits them. */
function interpolatedStrings(obj: Obj): InterpolatedString[] {
  const found: InterpolatedString[] = [];
  const visit = (path: ValuePath, v: unknown) => {
    if (typeof v === 'string') {
      if (v.includes('${')) found.push({ path, value: v, refs: findInterpolations(v) });
    } else if (Array.isArray(v)) v.forEach((x, i) => visit([...path, i], x));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) visit([...path, k], x);
  };
  for (const field of INTERPOLATED_FIELDS) if (field in obj) visit([field], obj[field]);
  return found;
}

/** Kahn's algorithm: true when some steps can never become ready (a cycle, self-loops included). */
function hasCycle(nodes: string[], edges: DagEdge[]): boolean {
  const id = new Map<string, number>();
  nodes.forEach((n, i) => id.set(n, i));
  const indeg = new Int32Array(nodes.length);
  const heads = new Int32Array(nodes.length).fill(-1);
  const next = new Int32Array(edges.length);
  const target = new Int32Array(edges.length);
  let count = 0;
  edges.forEach((e, k) => {
    const from = id.get(e.from);
    const to = id.get(e.to);
    if (from === undefined || to === undefined) return;
    // Edge to → from: `from` waits for `to`.
    target[k] = from;
    next[k] = heads[to];
    heads[to] = k;
    indeg[from]++;
    count++;
  });
  if (count === 0) return false;
  const queue: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (indeg[i] === 0) queue.push(i);
  let done = 0;
  while (queue.length) {
    const n = queue.pop()!;
    done++;
    for (let k = heads[n]; k !== -1; k = next[k]) if (--indeg[target[k]] === 0) queue.push(target[k]);
  }
  return done < nodes.length;
}

function shift(d: ManifestDiagnostic, by: number): ManifestDiagnostic {
  return { ...d, start: d.start + by, end: d.end + by, ...(d.related ? { related: d.related.map((r) => ({ ...r, start: r.start + by, end: r.end + by })) } : {}) };
}

// The small whole-manifest checks below are semantic.ts's own, over sections of a handful of entries.

