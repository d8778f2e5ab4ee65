// Pruners: the median rule and hyperband (successive halving per bracket) decide from the
// series of intermediate values; every recorded decision can be recomputed from the series.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PruneRecord } from '../../protocol/sweep';
import { paramImportance, correlationRatio, groupsOf } from '../../orchestrator/sweeps/importance';
import { bracketBudgets, bracketOf, checkPruneRecord, HyperbandPruner, makePruner, MedianPruner, type PrunerTrial } from '../../orchestrator/sweeps/pruners';

const series = (values: number[], from = 1) => new Map(values.map((v, i) => [i + from, v] as const));
const trial = (number: number, state: PrunerTrial['state'], values: number[]): PrunerTrial => ({ number, state, series: series(values) });

/** Feeds a trial's values one step at a time, as a running step reports them; returns the first prune. */
function run(p: MedianPruner | HyperbandPruner, number: number, values: number[], others: PrunerTrial[]): PruneRecord | undefined {
  const live: PrunerTrial = { number, state: 'running', series: new Map() };
  for (let i = 0; i < values.length; i++) {
    (live.series as Map<number, number>).set(i + 1, values[i]!);
    const r = p.decide(live, i + 1, [...others, live], 1000 + i);
    if (r) return r;
  }
  return undefined;
}

describe('median pruner', () => {
  const done = [trial(0, 'complete', [1.0, 0.8, 0.6, 0.5]), trial(1, 'complete', [1.2, 0.9, 0.7, 0.6]), trial(2, 'complete', [0.9, 0.7, 0.5, 0.4])];

  test('waits for the start-up trials and the warm-up steps', () => {
    const p = new MedianPruner({ warmupSteps: 2, startupTrials: 3 }, 'minimize');
    assert.equal(run(p, 9, [5, 5, 5], done.slice(0, 2)), undefined, 'only 2 of 3 start-up trials completed');
    const r = run(p, 9, [5, 5, 5], done)!;
    assert.equal(r.step, 2, 'step 1 is in the warm-up');
    assert.deepEqual({ value: r.value, median: r.median, rule: r.rule, basis: r.basis }, { value: 5, median: 0.8, rule: 'median', basis: [0, 1, 2].map((t) => ({ trial: t, step: 2 })) });
  });

  test("compares the trial's best value so far with the median of completed trials at the same step", () => {
    const p = new MedianPruner({ warmupSteps: 0, startupTrials: 1 }, 'minimize');
    // 0.95 at step 1 and 0.75 at step 2 beat the medians 1.0 and 0.8; at step 3 the best so far (0.72) is worse than 0.6.
    const r = run(p, 9, [0.95, 0.75, 0.72, 0.3], done)!;
    assert.deepEqual([r.step, r.value, r.median], [3, 0.72, 0.6]);
    // Running and pruned trials are not in the basis; a pruned decision ignores the trial's own later values.
    assert.equal(run(p, 9, [0.5, 0.5, 0.5, 0.3], [...done, trial(5, 'pruned', [0.1, 0.1]), trial(6, 'running', [9, 9])]), undefined);
    assert.deepEqual(checkPruneRecord(r, 'minimize', (n) => (n === 9 ? series([0.95, 0.75, 0.72, 0.3]) : done.find((t) => t.number === n)?.series)), []);
  });

  test('maximize flips the comparison; NaN is always worse', () => {
    const p = new MedianPruner({ warmupSteps: 0, startupTrials: 1 }, 'maximize');
    const acc = [trial(0, 'complete', [0.5, 0.6]), trial(1, 'complete', [0.7, 0.8])];
    assert.equal(run(p, 2, [0.65, 0.75], acc), undefined, 'at the median or better');
    assert.equal(run(p, 2, [0.55, 0.6], acc)?.step, 1);
    assert.equal(run(p, 3, [NaN], acc)?.step, 1);
  });

  test('a record that does not match the series is caught', () => {
    const p = new MedianPruner({ warmupSteps: 0, startupTrials: 1 }, 'minimize');
    const r = run(p, 9, [5], done)!;
    const seriesOf = (n: number) => (n === 9 ? series([5]) : done.find((t) => t.number === n)?.series);
    assert.deepEqual(checkPruneRecord(r, 'minimize', seriesOf), []);
    assert.match(checkPruneRecord({ ...r, median: 0.95 }, 'minimize', seriesOf).join(), /median: recorded 0.95, series say 1/);
    assert.match(checkPruneRecord({ ...r, value: 0.2 }, 'minimize', seriesOf).join(), /value: recorded 0.2/);
  });
});

describe('hyperband pruner', () => {
  const cfg = { reductionFactor: 3, minResource: 1, maxResource: 27 };

  test("brackets and their budgets follow Optuna's allocation; a trial's bracket depends on its number only", () => {
    assert.deepEqual(bracketBudgets(cfg), [27, 12, 6, 4]);
    const counts = [0, 0, 0, 0];
    for (let t = 0; t < 4900; t++) counts[bracketOf(t, bracketBudgets(cfg))]!++;
    assert.ok(counts.every((c, i) => Math.abs(c / 4900 - [27, 12, 6, 4][i]! / 49) < 0.03), counts.join());
    assert.equal(bracketOf(17, bracketBudgets(cfg)), bracketOf(17, bracketBudgets(cfg)));
  });

  test('successive halving: keeps the top 1/η at each rung (rungs at 1, 3, 9 steps in bracket 0)', () => {
    const p = new HyperbandPruner(cfg, 'minimize');
    const budgets = bracketBudgets(cfg);
    const inBracket0 = Array.from({ length: 200 }, (_, i) => i).filter((t) => bracketOf(t, budgets) === 0);
    const [a, b, c, d] = inBracket0 as [number, number, number, number];
    // Three rivals in bracket 0 with values at rungs 1, 3 and 9.
    const rivals = [trial(a, 'complete', [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]), trial(b, 'complete', [1.0, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4]), trial(c, 'pruned', [2.0])];
    // Rung 0 (step 1): competing 0.9, 1.0, 2.0 and 0.95 → ⌊4/3⌋−1 = 0: must be <= the best, 0.9.
    const r = run(p, d, [0.95, 0.1], rivals)!;
    assert.deepEqual([r.rule, r.step, r.rung, r.bracket, r.threshold], ['hyperband', 1, 0, 0, 0.9]);
    assert.deepEqual(r.basis, [a, b, c].sort((x, y) => x - y).map((t) => ({ trial: t, step: 1 })));
    assert.deepEqual(checkPruneRecord(r, 'minimize', (n) => (n === d ? series([0.95]) : rivals.find((t) => t.number === n)?.series)), []);
    // The best at every rung goes on to the end.
    assert.equal(run(p, d, [0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05, 0.01, 0.001], rivals), undefined);
  });

  test('"auto" max resource waits for the first complete trial', () => {
    const p = new HyperbandPruner({ reductionFactor: 3, minResource: 1 }, 'minimize');
    assert.equal(p.maxResource([trial(0, 'running', [1, 2])]), undefined);
    assert.equal(p.maxResource([trial(0, 'complete', [1, 2, 3, 4, 5, 6, 7, 8, 9])]), 9);
  });

  test('the manifest block maps to a pruner with Optuna defaults', () => {
    assert.equal(makePruner(undefined, 'minimize'), undefined);
    assert.deepEqual((makePruner({ median: {} }, 'minimize') as MedianPruner).cfg, { warmupSteps: 0, startupTrials: 5 });
    assert.deepEqual((makePruner({ hyperband: { max_resource: 60 } }, 'minimize') as HyperbandPruner).cfg, { reductionFactor: 3, minResource: 1, maxResource: 60 });
  });
});

describe('param importance (correlation ratio η², normalised)', () => {
  test('η² is 1 when the groups explain everything and 0 when they explain nothing', () => {
    assert.equal(correlationRatio([0, 0, 1, 1], [1, 1, 5, 5]), 1);
    assert.equal(correlationRatio([0, 1, 0, 1], [1, 1, 5, 5]), 0);
  });
  test('numbers go into quantile bins that never split ties; choices are their own groups', () => {
    assert.deepEqual(groupsOf(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    assert.deepEqual(groupsOf(['1', '2', '2', '2', '2', '3', '4', '5', '6', '7']), [0, 0, 0, 0, 0, 2, 3, 3, 4, 4]);
    assert.deepEqual(groupsOf(['5', '5', '5', '1', '9', '9']), [0, 0, 0, 1, 2, 2], 'few distinct values: one group each');
    assert.deepEqual(groupsOf(['a', 'b', 'a']), [0, 1, 0]);
  });
  test('the param that drives the objective ranks first', () => {
    const trials = Array.from({ length: 40 }, (_, i) => {
      const lr = 10 ** (-4 + (i % 8) / 2);
      const noise = ((i * 7919) % 13) / 13;
      return { params: { lr: String(lr), noise: String(noise), act: i % 2 ? 'relu' : 'tanh' }, value: (Math.log10(lr) + 2) ** 2 + 0.01 * noise };
    });
    const imp = paramImportance(trials, ['lr', 'noise', 'act']);
    assert.equal(imp[0]!.param, 'lr');
    assert.ok(imp[0]!.score > 0.8, JSON.stringify(imp));
    assert.ok(Math.abs(imp.reduce((s, x) => s + x.score, 0) - 1) < 1e-12);
    assert.deepEqual(paramImportance(trials.slice(0, 2), ['lr']), [], 'too few trials');
  });
});
