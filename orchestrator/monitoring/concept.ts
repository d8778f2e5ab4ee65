/**
 * Concept (model) drift from ground truth: per version, accuracy and macro F1 (classification)
 * or MAE and RMSE (regression) over the joined outcomes, compared with the metrics recorded
 * when the version was registered; and the A/B verdict between two versions.
 */
import type { AbResult, ConceptMetrics, TaskKind } from '../../protocol/monitoring';
import { sampleStats, samplesPerArmMeans, samplesPerArmProportions, twoProportionZ, welchT } from './ab-stats';
import type { JoinedOutcome } from './feedback-join';

/** Default allowed drop of accuracy (absolute) or rise of MAE (relative) before `degraded`. */
export const DEFAULT_TOLERANCE = 0.05;
/** Fewest labelled outcomes before a version is judged against its registration metrics. */
export const MIN_JUDGED = 30;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

/** Regression when every label and prediction is a number and they take many values; else classification. */
export function taskOf(outcomes: readonly JoinedOutcome[]): TaskKind {
  const values = new Set<number>();
  for (const o of outcomes) {
    const a = num(o.label);
    const b = num(o.prediction);
    if (a === undefined || b === undefined || typeof o.label === 'boolean') return 'classification';
    values.add(a).add(b);
  }
  return values.size > 20 ? 'regression' : 'classification';
}

/** Labels compare as text, so `1` and `"1"` (a CSV label against a JSON prediction) agree. */
const same = (a: unknown, b: unknown) => String(a) === String(b);

export function accuracy(outcomes: readonly JoinedOutcome[]): number {
  let ok = 0;
  for (const o of outcomes) if (same(o.prediction, o.label)) ok++;
  return outcomes.length ? ok / outcomes.length : Number.NaN;
}

/** Macro F1 over the labels seen as truth or prediction (sklearn's `f1_score(average='macro')`). */
export function macroF1(outcomes: readonly JoinedOutcome[]): number {
  const classes = new Set<string>();
  for (const o of outcomes) classes.add(String(o.label)).add(String(o.prediction));
  let sum = 0;
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const o of outcomes) {
      const p = String(o.prediction) === c;
      const t = String(o.label) === c;
      if (p && t) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    sum += tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
  }
  return classes.size ? sum / classes.size : Number.NaN;
}

export function absErrors(outcomes: readonly JoinedOutcome[]): number[] {
  const out: number[] = [];
  for (const o of outcomes) {
    const a = num(o.label);
    const b = num(o.prediction);
    if (a !== undefined && b !== undefined) out.push(Math.abs(b - a));
  }
  return out;
}

export function conceptMetrics(version: number, outcomes: readonly JoinedOutcome[], task: TaskKind, registered?: Record<string, number>, tolerance = DEFAULT_TOLERANCE): ConceptMetrics {
  const m: ConceptMetrics = { version, task, n: outcomes.length };
  if (task === 'classification') {
    m.accuracy = accuracy(outcomes);
    m.f1Macro = macroF1(outcomes);
  } else {
    const e = absErrors(outcomes);
    m.mae = e.reduce((s, x) => s + x, 0) / (e.length || 1);
    m.rmse = Math.sqrt(e.reduce((s, x) => s + x * x, 0) / (e.length || 1));
  }
  if (registered && Object.keys(registered).length) {
    m.registered = registered;
    if (task === 'classification' && registered.accuracy !== undefined && m.accuracy !== undefined) {
      const drop = registered.accuracy - m.accuracy;
      m.degradation = { metric: 'accuracy', registered: registered.accuracy, live: m.accuracy, drop, tolerance, degraded: outcomes.length >= MIN_JUDGED && drop > tolerance };
    } else if (task === 'regression' && registered.mae !== undefined && m.mae !== undefined) {
      const drop = m.mae - registered.mae;
      m.degradation = { metric: 'mae', registered: registered.mae, live: m.mae, drop, tolerance, degraded: outcomes.length >= MIN_JUDGED && drop > tolerance * Math.max(registered.mae, 1e-12) };
    }
  }
  return m;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(x !== 0 && Math.abs(x) < 0.01 ? 4 : 3));
const fmtP = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toPrecision(2));

/** A/B comparison of version `va` (a) and `vb` (b) on their joined outcomes. */
export function abTest(va: number, a: readonly JoinedOutcome[], vb: number, b: readonly JoinedOutcome[], task: TaskKind, alpha = 0.05): AbResult {
  if (task === 'classification') {
    const xa = a.filter((o) => same(o.prediction, o.label)).length;
    const xb = b.filter((o) => same(o.prediction, o.label)).length;
    const pa = a.length ? xa / a.length : 0;
    const pb = b.length ? xb / b.length : 0;
    const t = a.length && b.length ? twoProportionZ(xa, a.length, xb, b.length) : { statistic: 0, pValue: 1 };
    const r: Omit<AbResult, 'verdict'> & { verdict?: string } = { a: { version: va, n: a.length, value: pa }, b: { version: vb, n: b.length, value: pb }, metric: 'accuracy', test: 'two-proportion z', statistic: t.statistic, pValue: t.pValue, effect: pb - pa, alpha, significant: t.pValue < alpha };
    return withVerdict(r, () => samplesPerArmProportions(pa, pb, alpha));
  }
  const sa = sampleStats(absErrors(a));
  const sb = sampleStats(absErrors(b));
  const t = welchT(sa, sb);
  const r: Omit<AbResult, 'verdict'> & { verdict?: string } = { a: { version: va, n: sa.n, value: sa.mean }, b: { version: vb, n: sb.n, value: sb.mean }, metric: 'abs_error', test: 'Welch t', statistic: t.statistic, pValue: t.pValue, effect: sb.mean - sa.mean, alpha, significant: t.pValue < alpha };
  return withVerdict(r, () => samplesPerArmMeans(sa, sb, alpha));
}

function withVerdict(r: Omit<AbResult, 'verdict'> & { verdict?: string }, needed: () => number): AbResult {
  const label = r.metric === 'accuracy' ? 'accuracy' : 'mean absolute error';
  const n = `n = ${r.a.n}/${r.b.n}`;
  if (r.significant) {
    const bBetter = r.metric === 'accuracy' ? r.effect > 0 : r.effect < 0;
    const [win, lose] = bBetter ? [r.b, r.a] : [r.a, r.b];
    r.better = win.version;
    r.verdict = `v${win.version} is better: ${label} ${fmt(win.value)} vs ${fmt(lose.value)}, p = ${fmtP(r.pValue)}, ${n}`;
  } else {
    const need = needed();
    if (Number.isFinite(need)) r.neededPerArm = need;
    r.verdict = `not significant yet: ${label} v${r.a.version} ${fmt(r.a.value)} vs v${r.b.version} ${fmt(r.b.value)}, p = ${fmtP(r.pValue)}, ${n}; ${Number.isFinite(need) ? `need about ${need} per version to tell this difference apart` : 'no difference so far'}`;
  }
  return r as AbResult;
}
