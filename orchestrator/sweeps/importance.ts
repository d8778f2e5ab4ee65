/**
 * Param importance, the simple way: for each param alone, the share of the objective's
 * variance across complete trials that its value explains — the correlation ratio
 * η² = SS_between / SS_total, with the trials grouped by the param's value (a choice, or a
 * number with few distinct values) or into up to 5 quantile bins of equal size (other
 * numbers; quantiles make log-scaled params and linear ones alike). The scores are then
 * normalised to sum to 1, as Optuna's importance evaluators report them.
 *
 * It sees main effects only (no interactions) and, with few trials, over-rates params with
 * many groups; the bins are capped at 5 and at n/2 to keep that small. Pure.
 */
export interface ImportanceInput {
  params: Record<string, string>;
  value: number;
}

const MAX_BINS = 5;

/** Group index per trial for one param's values (text, as recorded). */
export function groupsOf(values: readonly string[]): number[] {
  const nums = values.map(Number);
  const numeric = values.every((v) => v.trim() !== '') && nums.every(Number.isFinite);
  const distinct = [...new Set(values)];
  const bins = Math.max(1, Math.min(MAX_BINS, Math.floor(values.length / 2)));
  if (!numeric || distinct.length <= bins) return values.map((v) => distinct.indexOf(v));
  const order = nums.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  let prevX = NaN;
  let prevBin = 0;
  order.forEach(([x, i], rank) => {
    // Equal values share a bin, so a bin edge never splits a tie.
    const bin = x === prevX ? prevBin : Math.floor((rank * bins) / values.length);
    out[i] = bin;
    prevX = x;
    prevBin = bin;
  });
  return out;
}

/** η² of y grouped by `groups`: 0 when y does not vary. */
export function correlationRatio(groups: readonly number[], y: readonly number[]): number {
  const n = y.length;
  const mean = y.reduce((a, b) => a + b, 0) / n;
  const total = y.reduce((s, v) => s + (v - mean) ** 2, 0);
  if (!(total > 0)) return 0;
  const sums = new Map<number, { s: number; n: number }>();
  groups.forEach((g, i) => {
    const e = sums.get(g) ?? { s: 0, n: 0 };
    e.s += y[i]!;
    e.n += 1;
    sums.set(g, e);
  });
  let between = 0;
  for (const e of sums.values()) between += e.n * (e.s / e.n - mean) ** 2;
  return Math.min(1, Math.max(0, between / total));
}

/** Importance per param, highest first; empty with fewer than 3 usable trials. */
export function paramImportance(trials: readonly ImportanceInput[], params: readonly string[]): { param: string; score: number }[] {
  const usable = trials.filter((t) => Number.isFinite(t.value) && params.every((p) => t.params[p] !== undefined));
  if (usable.length < 3 || params.length === 0) return [];
  const y = usable.map((t) => t.value);
  const raw = params.map((p) => ({ param: p, score: correlationRatio(groupsOf(usable.map((t) => t.params[p]!)), y) }));
  const sum = raw.reduce((s, r) => s + r.score, 0);
  const scored = sum > 0 ? raw.map((r) => ({ param: r.param, score: r.score / sum })) : raw.map((r) => ({ param: r.param, score: 1 / raw.length }));
  return scored.sort((a, b) => b.score - a.score || a.param.localeCompare(b.param));
}
