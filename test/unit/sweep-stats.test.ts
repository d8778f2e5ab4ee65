// The statistics behind sweeps: the normal distribution helpers and the Mann–Whitney U test
// (checked on cases computed by hand, below each test).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logGaussMass, mannWhitneyU, median, midranks, normCdf, normPpf } from '../../orchestrator/sweeps/stats';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

describe('normal distribution', () => {
  test('Φ at known points', () => {
    close(normCdf(0), 0.5, 1e-9);
    close(normCdf(1.959963984540054), 0.975, 2e-7);
    close(normCdf(-3), 0.0013498980316301, 1e-9);
    close(normCdf(-8) / 6.220960574271785e-16, 1, 1e-6, 'relative accuracy in the tail');
  });
  test('Φ⁻¹ inverts Φ, tails included', () => {
    for (const p of [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.8, 0.999, 1 - 1e-9]) close(normCdf(normPpf(p)) / p, 1, 1e-6, `p=${p}`);
    close(normPpf(0.975), 1.959963984540054, 1e-6);
  });
  test('log mass of an interval, in either tail and across 0', () => {
    close(Math.exp(logGaussMass(-1, 1)), 0.6826894921370859, 1e-7);
    close(logGaussMass(10, 11), Math.log(normCdf(-10) - normCdf(-11)), 1e-6);
    close(logGaussMass(-11, -10), logGaussMass(10, 11), 1e-12);
    assert.ok(Number.isFinite(logGaussMass(40, 41)), 'far tails stay finite in log space');
    assert.equal(logGaussMass(1, 1), -Infinity);
  });
  test('median interpolates between the middle values and ignores NaN', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([NaN, 5, 1]), 3);
    assert.ok(Number.isNaN(median([])));
  });
});

describe('Mann–Whitney U (normal approximation, tie and continuity corrections)', () => {
  test('midranks share tied ranks', () => {
    assert.deepEqual(midranks([1, 2, 2, 2, 3, 3, 4, 5]), { ranks: [1, 3, 3, 3, 5.5, 5.5, 7, 8], ties: [3, 2] });
  });

  test('no ties: x = [1,2,3] < y = [4,5,6]', () => {
    // By hand: R₁ = 1+2+3 = 6, U₁ = 6 − 3·4/2 = 0, μ = 9/2 = 4.5,
    // σ² = 9/12·(6+1) = 5.25, σ = 2.291288; H1 "x less": U₂ = 9,
    // z = (9 − 4.5 − 0.5)/2.291288 = 1.745743, p = 1 − Φ(1.745743) = 0.040428.
    const r = mannWhitneyU([1, 2, 3], [4, 5, 6], 'less');
    assert.equal(r.u1, 0);
    close(r.z, 1.745743, 1e-6);
    close(r.p, 0.040428, 1e-6);
    // The other direction is not supported at all.
    assert.ok(mannWhitneyU([1, 2, 3], [4, 5, 6], 'greater').p > 0.95);
  });

  test('with ties: x = [1,2,2,3], y = [2,3,4,5]', () => {
    // By hand: pooled 1,2,2,2,3,3,4,5 → ranks 1, 3,3,3, 5.5,5.5, 7, 8.
    // R₁ = 1 + 3 + 3 + 5.5 = 12.5, U₁ = 12.5 − 4·5/2 = 2.5, U₂ = 16 − 2.5 = 13.5, μ = 8.
    // Ties: t = 3 and t = 2 → Σ(t³ − t) = 24 + 6 = 30; n = 8, n(n−1) = 56.
    // σ² = 16/12·(9 − 30/56) = 11.285714, σ = 3.359422.
    // z = (13.5 − 8 − 0.5)/3.359422 = 1.488351, p = 1 − Φ(1.488351) = 0.068329.
    const r = mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 5], 'less');
    assert.equal(r.u1, 2.5);
    close(r.z, 1.488351, 1e-6);
    close(r.p, 0.068329, 1e-6);
    close(mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 5], 'two-sided').p, 2 * 0.068329, 2e-6);
  });

  test('identical samples give no evidence', () => {
    assert.equal(mannWhitneyU([1, 1, 1], [1, 1, 1], 'less').p, 1);
    assert.ok(mannWhitneyU([1, 2, 3, 4], [1, 2, 3, 4], 'less').p > 0.4);
  });
});
