/**
 * A manifest step made concrete: `${…}` resolved, paths normalised, durations in ms. Pure, so
 * the planner, the executor and `--dry-run` agree on what a step is.
 *
 * Values interpolated into `cmd` are shell-quoted: a param such as `a b; rm -rf x` reaches the
 * command as one argument, never as shell syntax. Paths and env values are not quoted (they
 * are not parsed by a shell).
 */
import type { Manifest, ParamValue, Step } from '../../protocol/manifest';
import { findInterpolations, resolveInterpolation, type InterpolationScope } from '../manifest';
import { normalizePath } from '../manifest/manifest-view';
import { parseDuration } from './duration';
import { paramText } from './params';

/** Marker left in place of `${run.id}` until the step run exists (fingerprints must not see it). */
const RUN_ID_EXPR = 'run.id';

export interface OutSpec {
  /** Normalised, relative to the manifest folder. */
  path: string;
  /** Saved in the content-addressed cache (default true). */
  cache: boolean;
  /** Kept in place when the step runs again (default false: deleted first, as DVC does). */
  persist: boolean;
}

export interface StepSpec {
  name: string;
  /** Command template as written (a list joined with ` && `), before interpolation. */
  cmdTemplate: string;
  /** Interpolated, shell-quoted command for display and the fingerprint; `${run.id}` left as is. */
  cmd: string;
  /** Working folder relative to the manifest folder ('' = the manifest folder). */
  wdir: string;
  env: Record<string, string>;
  /** Declared params plus params the step interpolates, with their values as text. */
  params: Record<string, string>;
  deps: string[];
  outs: OutSpec[];
  /** Metrics JSON file relative to the manifest folder. */
  metrics?: string;
  timeoutMs?: number;
  retry: { limit: number; backoffMs: number };
  /** `cache: false` steps always run. */
  cacheable: boolean;
}

/** POSIX shell quoting: bare when only safe characters, else single quotes with `'` escaped. */
export function shellQuote(v: string): string {
  if (v !== '' && /^[A-Za-z0-9_\-.,/:=@%+]+$/.test(v)) return v;
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** `retries: N` backs off exponentially from 1 s; `{limit, backoff}` from `backoff` (schema default: no pause). */
const DEFAULT_BACKOFF_MS = 1000;

export function scopeOf(manifest: Manifest, params: Record<string, ParamValue>): InterpolationScope {
  return {
    params,
    datasets: (manifest.datasets ?? {}) as InterpolationScope['datasets'],
    steps: (manifest.steps ?? {}) as InterpolationScope['steps'],
  };
}

/**
 * Replaces every `${…}`. `quote` shell-quotes values (for cmd); `runId` fills `${run.id}`
 * (left literal when absent). Resolved values may themselves hold `${…}` (an out path written
 * with a param), so a few rounds run. Names params used on the way into `usedParams`.
 */
export function interpolate(s: string, scope: InterpolationScope, opts: { quote?: boolean; runId?: string; usedParams?: Set<string> } = {}): string {
  const expand = (text: string, depth: number): string => {
    if (!text.includes('${')) return text;
    let out = '';
    let last = 0;
    for (const ref of findInterpolations(text)) {
      out += text.slice(last, ref.index);
      last = ref.index + ref.length;
      const literal = text.slice(ref.index, last);
      if (ref.expr === RUN_ID_EXPR && opts.runId === undefined) {
        out += literal;
        continue;
      }
      const r = resolveInterpolation(ref.expr, scope, opts.runId);
      // The validator refuses unresolvable interpolations before a run, so this is a broken invariant.
      if (!r.ok || r.value === undefined) throw new Error(`cannot resolve ${literal}: ${r.ok ? 'no value' : r.message}`);
      if (ref.expr.startsWith('params.')) opts.usedParams?.add(ref.expr.slice('params.'.length));
      const value = depth < 3 ? expand(r.value, depth + 1) : r.value;
      out += opts.quote ? shellQuote(value) : value;
    }
    return out + text.slice(last);
  };
  return expand(s, 0);
}

/** The command to hand to `/bin/sh -c`: a list runs item after item and stops at the first failure. */
export function shellCommand(cmd: Step['cmd'], scope: InterpolationScope, runId?: string): string {
  const items = (Array.isArray(cmd) ? cmd : [cmd]).map((c) => interpolate(c, scope, { quote: true, runId }));
  // Braces group without a subshell, so `cd` in one item still applies to the next.
  return items.length === 1 ? items[0]! : items.map((c) => `{ ${c}\n}`).join(' && ');
}

export function resolveStep(manifest: Manifest, params: Record<string, ParamValue>, name: string): StepSpec {
  const step = manifest.steps?.[name];
  if (!step) throw new Error(`no step "${name}" in the manifest`);
  const scope = scopeOf(manifest, params);
  const used = new Set<string>(step.params ?? []);
  const path = (s: string) => {
    const p = interpolate(s, scope, { usedParams: used });
    // normalizePath makes everything relative; an absolute dep (shared data) must stay absolute.
    return p.startsWith('/') ? `/${normalizePath(p)}` : normalizePath(p);
  };
  const items = Array.isArray(step.cmd) ? step.cmd : [step.cmd];
  const cmd = items.map((c) => interpolate(c, scope, { quote: true, usedParams: used })).join(' && ');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.env ?? {})) env[k] = interpolate(String(v), scope, { usedParams: used });
  const outs: OutSpec[] = (step.outs ?? []).map((o) =>
    typeof o === 'string' ? { path: path(o), cache: true, persist: false } : { path: path(o.path), cache: o.cache !== false, persist: o.persist === true },
  );
  const deps = [...new Set((step.deps ?? []).map(path))];
  const wdir = step.wdir === undefined ? '' : path(step.wdir);
  const metrics = step.metrics === undefined ? undefined : path(step.metrics);
  const retries = step.retries ?? 0;
  const retry =
    typeof retries === 'number'
      ? { limit: Math.max(0, Math.floor(retries)), backoffMs: DEFAULT_BACKOFF_MS }
      : { limit: Math.max(0, Math.floor(retries.limit)), backoffMs: parseDuration(retries.backoff) ?? 0 };
  const paramValues: Record<string, string> = {};
  for (const p of [...used].sort()) if (p in params) paramValues[p] = paramText(params[p]);
  return {
    name,
    cmdTemplate: items.join(' && '),
    cmd,
    wdir,
    env,
    params: paramValues,
    deps,
    outs,
    metrics,
    timeoutMs: parseDuration(step.timeout),
    retry,
    cacheable: step.cache !== false,
  };
}
