/**
 * What a step's result depends on, and how to say what changed. The fingerprint is a sha256
 * over the components; the components themselves are kept with the last successful run so a
 * re-run can explain itself (`params changed: lr 0.1→0.05`) instead of only "hash differs".
 */
import { createHash } from 'node:crypto';
import type { StepSpec } from './step-spec';

/** Bumped when the fingerprint recipe changes, so old cache entries simply stop matching. */
const RECIPE = 'mlops-step-v1';

export interface FingerprintComponents {
  /** Interpolated command (shell-quoted values). */
  cmd: string;
  /** The command as written, to tell a cmd edit from a param change that shows up in cmd. */
  cmdTemplate: string;
  wdir: string;
  env: Record<string, string>;
  /** Param name → value as text. */
  params: Record<string, string>;
  /** Dep path → content hash ('' = missing). */
  deps: Record<string, string>;
  /** Declared out paths, sorted: adding an out means the cached result cannot be complete. */
  outs: string[];
}

export function componentsOf(spec: StepSpec, depHashes: Record<string, string>): FingerprintComponents {
  return {
    cmd: spec.cmd,
    cmdTemplate: spec.cmdTemplate,
    wdir: spec.wdir,
    env: spec.env,
    params: spec.params,
    deps: depHashes,
    outs: spec.outs.map((o) => o.path).sort(),
  };
}

function sorted(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function fingerprintOf(c: FingerprintComponents): string {
  // The template is left out: it only explains changes; the interpolated cmd is what ran.
  const canonical = JSON.stringify([RECIPE, c.cmd, c.wdir, sorted(c.env), sorted(c.params), sorted(c.deps), c.outs]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Keys whose values differ between two maps (added and removed keys included), sorted. */
function changedKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

/** `a, b, c, …`: enough to act on, short enough for one line. */
function firstFew(items: string[], max = 3): string {
  return items.length > max ? `${items.slice(0, max).join(', ')}, …` : items.join(', ');
}

/**
 * Why `cur` differs from the last successful run `prev`: `cmd changed`, `params changed: lr
 * 0.1→0.05`, `deps changed: data/x.csv`, … joined with `; ` when several apply.
 */
export function explainChange(prev: FingerprintComponents, cur: FingerprintComponents): string {
  const reasons: string[] = [];
  const params = changedKeys(prev.params ?? {}, cur.params);
  // A param change also changes the interpolated cmd; only call it a cmd change when the
  // template changed, or the cmd changed without any param changing.
  if (prev.cmdTemplate !== cur.cmdTemplate || (prev.cmd !== cur.cmd && params.length === 0)) reasons.push('cmd changed');
  if (params.length) {
    const show = (v: string | undefined) => (v === undefined ? '(unset)' : v);
    reasons.push(`params changed: ${params.map((k) => `${k} ${show(prev.params?.[k])}→${show(cur.params[k])}`).join(', ')}`);
  }
  const deps = changedKeys(prev.deps ?? {}, cur.deps);
  if (deps.length) reasons.push(`deps changed: ${firstFew(deps)}`);
  if (prev.wdir !== cur.wdir) reasons.push('wdir changed');
  const env = changedKeys(prev.env ?? {}, cur.env);
  if (env.length) reasons.push(`env changed: ${firstFew(env)}`);
  if (JSON.stringify(prev.outs ?? []) !== JSON.stringify(cur.outs)) reasons.push('outs changed');
  // Same components but a different fingerprint: the recipe itself changed.
  return reasons.length ? reasons.join('; ') : 'fingerprint changed';
}
