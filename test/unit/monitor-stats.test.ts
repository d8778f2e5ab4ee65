// A/B statistics and concept metrics against scipy (test/fixtures/monitoring/make_fixtures.py).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { sampleStats, samplesPerArmProportions, tTwoSided, twoProportionZ, welchT } from '../../orchestrator/monitoring/ab-stats';
import { abTest, absErrors, accuracy, conceptMetrics, macroF1 } from '../../orchestrator/monitoring/concept';
import type { JoinedOutcome } from '../../orchestrator/monitoring/feedback-join';

interface Fixture {
  z_tests: { x1: number; n1: number; x2: number; n2: number; statistic: number; p_value: number }[];
  n_per_arm: { p1: number; p2: number; n: number }[];
  welch: { a: number[]; b: number[]; statistic: number; p_value: number }[];
  t_tails: { t: number; df: number; p_value: number }[];
  classification: { y: string[]; p: string[]; accuracy: number; f1_macro: number };
  regression: { y: number[]; p: number[]; mae: number; rmse: number };
}
const fx = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/monitoring/scipy-values.json'), 'utf8')) as Fixture;
const close = (a: number, b: number, rel = 1e-9, what = '') => assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300), `${what}: ${a} vs scipy ${b}`);
const outcomes = (y: unknown[], p: unknown[], version = 1): JoinedOutcome[] => y.map((label, i) => ({ id: String(i), version, at: i, label, prediction: p[i] }));

test('the two-proportion z-test matches scipy (statistic and two-sided p)', () => {
  for (const c of fx.z_tests) {
    const r = twoProportionZ(c.x1, c.n1, c.x2, c.n2);
    close(r.statistic, c.statistic, 1e-12, 'z');
    close(r.pValue, c.p_value, 1e-9, `p of ${c.x1}/${c.n1} vs ${c.x2}/${c.n2}`);
  }
});

test('Student t tails and Welch t-test match scipy ttest_ind(equal_var=False)', () => {
  for (const c of fx.t_tails) close(tTwoSided(c.t, c.df), c.p_value, 1e-9, `t=${c.t} df=${c.df}`);
  for (const c of fx.welch) {
    const r = welchT(sampleStats(c.a), sampleStats(c.b));
    close(r.statistic, c.statistic, 1e-9, 'Welch t');
    close(r.pValue, c.p_value, 1e-8, `Welch p (n ${c.a.length}/${c.b.length})`);
  }
});

test('samples per arm for 80 % power match the formula with scipy norm.ppf', () => {
  for (const c of fx.n_per_arm) assert.equal(samplesPerArmProportions(c.p1, c.p2), c.n, `${c.p1} vs ${c.p2}`);
});

test('accuracy, macro F1, MAE and RMSE match numpy', () => {
  const c = outcomes(fx.classification.y, fx.classification.p);
  close(accuracy(c), fx.classification.accuracy, 1e-12, 'accuracy');
  close(macroF1(c), fx.classification.f1_macro, 1e-12, 'macro F1');
  const r = conceptMetrics(2, outcomes(fx.regression.y, fx.regression.p), 'regression');
  close(r.mae!, fx.regression.mae, 1e-9, 'MAE');
  close(r.rmse!, fx.regression.rmse, 1e-9, 'RMSE');
  assert.equal(absErrors(outcomes(['1', 'x'], [2, 3])).length, 1, 'labels that are not numbers are left out of errors');
});

test('a version is degraded when live accuracy falls more than the tolerance below its registered accuracy', () => {
  const y = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? 'a' : 'b'));
  const p = y.map((v, i) => (i < 20 ? (v === 'a' ? 'b' : 'a') : v)); // 80 % right
  const m = conceptMetrics(3, outcomes(y, p, 3), 'classification', { accuracy: 0.95 });
  assert.equal(m.accuracy, 0.8);
  assert.equal(m.degradation?.degraded, true);
  assert.ok(Math.abs(m.degradation!.drop - 0.15) < 1e-12);
  assert.equal(conceptMetrics(3, outcomes(y, p, 3), 'classification', { accuracy: 0.82 }).degradation?.degraded, false);
  assert.equal(conceptMetrics(3, outcomes(y.slice(0, 10), p.slice(0, 10), 3), 'classification', { accuracy: 0.99 }).degradation?.degraded, false, 'too few labels to judge');
});

test('the A/B verdict says which version is better with p and n, or how many samples it still needs', () => {
  const arm = (n: number, right: number, v: number) => outcomes(Array.from({ length: n }, () => 'y'), Array.from({ length: n }, (_, i) => (i < right ? 'y' : 'n')), v);
  const big = abTest(1, arm(4000, 2640, 1), 2, arm(4000, 2840, 2), 'classification');
  assert.equal(big.significant, true);
  assert.equal(big.better, 2);
  close(big.pValue, fx.z_tests[2]!.p_value, 1e-9, 'A/B p');
  assert.equal(big.verdict, 'v2 is better: accuracy 0.710 vs 0.660, p = 1.5e-6, n = 4000/4000');
  const small = abTest(1, arm(120, 60, 1), 2, arm(118, 70, 2), 'classification');
  assert.equal(small.significant, false);
  assert.equal(small.better, undefined);
  assert.match(small.verdict, /^not significant yet: accuracy v1 0\.500 vs v2 0\.593, p = 0\.15, n = 120\/118; need about \d+ per version/);
  assert.equal(small.neededPerArm, samplesPerArmProportions(0.5, 70 / 118));
  const reg = abTest(1, outcomes([1, 2, 3, 4], [1.5, 2.5, 3.5, 4.5], 1), 2, outcomes([1, 2, 3, 4], [1.1, 2.1, 2.9, 4.1], 2), 'regression');
  assert.equal(reg.test, 'Welch t');
  assert.equal(reg.metric, 'abs_error');
  assert.ok(reg.effect < 0);
});
