// Our drift statistics against scipy/numpy values committed in test/fixtures/drift (made by
// make_fixtures.py with Debian's scipy): KS statistic and p-value (exact and asymptotic),
// kstwo.sf, Wasserstein, PSI, Jensen-Shannon, chi-square, z-test, chi2.sf, the normal CDF.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kstwoSf } from '../../orchestrator/drift/kolmogorov';
import { ks2Samp, ksPValue, ksStatistic } from '../../orchestrator/drift/ks';
import { chi2Sf, normCdf } from '../../orchestrator/drift/special';
import { binnedShares, chiSquareTest, ksAndWasserstein, countsSorted, distinctSorted, histogramSorted, jensenShannon, psi, stdPop, sturgesEdges, wasserstein, zTest } from '../../orchestrator/drift/stats';

const FIX = JSON.parse(readFileSync(join(fileURLToPath(new URL('.', import.meta.url)), '../fixtures/drift/scipy-values.json'), 'utf8'));

/** |a − b| ≤ tol · max(1, |b|)... relative for large values, absolute near zero. */
function close(actual: number, expected: number, tol: number, what: string): void {
  const err = Math.abs(actual - expected);
  assert.ok(err <= tol * Math.max(Math.abs(expected), 1e-300) || err <= 1e-300, `${what}: ${actual} vs scipy ${expected} (relative error ${(err / Math.abs(expected)).toExponential(2)})`);
}

const sorted = (xs: number[]) => Float64Array.from(xs).sort();

function binned(ref: Float64Array, cur: Float64Array) {
  if (distinctSorted(ref) > 20) {
    const edges = sturgesEdges(ref, cur);
    return binnedShares(histogramSorted(ref, edges), histogramSorted(cur, edges), ref.length, cur.length);
  }
  const c = countsSorted(ref, cur);
  return binnedShares(c.a, c.b, ref.length, cur.length);
}

describe('drift statistics vs scipy', () => {
  it(`fixtures come from scipy ${FIX.scipy}, numpy ${FIX.numpy}`, () => assert.ok(FIX.numeric.length >= 5));

  for (const c of FIX.numeric) {
    it(`numeric: ${c.name}`, () => {
      const ref = sorted(c.reference);
      const cur = sorted(c.current);
      const ks = ks2Samp(ref, cur);
      assert.equal(ks.statistic, c.ks_statistic, 'KS D exactly');
      close(ks.pValue, c.ks_pvalue, 1e-10, 'KS p-value');
      close(wasserstein(ref, cur), c.wasserstein, 1e-12, 'Wasserstein');
      close(stdPop(ref), c.std_reference, 1e-13, 'std');
      const b = binned(ref, cur);
      close(psi(b.ref, b.cur), c.psi, 1e-11, 'PSI');
      close(jensenShannon(b.ref, b.cur), c.jensenshannon, 1e-12, 'Jensen-Shannon');
    });
  }

  it('KS D from the merge walk equals scipy on every numeric case; the fused KS + Wasserstein walk gives the same numbers', () => {
    for (const c of FIX.numeric) {
      const a = sorted(c.reference);
      const b = sorted(c.current);
      assert.ok(Math.abs(ksStatistic(a, b) - c.ks_statistic) < 1e-15);
      const fused = ksAndWasserstein(a, b);
      assert.equal(fused.d, ksStatistic(a, b));
      assert.equal(fused.wasserstein, wasserstein(a, b));
    }
  });

  for (const c of FIX.ks_pvalues) {
    it(`KS p-value n1=${c.n1} n2=${c.n2} D=${c.d.toFixed(5)}`, () => {
      const r = ksPValue(c.n1, c.n2, c.d);
      assert.equal(r.method, Math.max(c.n1, c.n2) <= 10_000 ? 'exact' : 'asymptotic');
      close(r.pValue, c.pvalue, r.method === 'exact' ? 1e-9 : 1e-8, 'p-value');
    });
  }

  it('kstwo.sf over every branch of the Kolmogorov distribution', () => {
    let worst = 0;
    for (const c of FIX.kstwo_sf) {
      const got = kstwoSf(c.n, c.x);
      const err = Math.abs(got - c.sf);
      // Relative where the value is representable, absolute 1e-14 below that.
      if (err > 1e-14) worst = Math.max(worst, err / c.sf);
      assert.ok(err <= 1e-14 || err <= 1e-8 * c.sf, `kstwo.sf(${c.x}, ${c.n}) = ${got}, scipy ${c.sf}`);
    }
    assert.ok(worst < 1e-8, `worst relative error ${worst}`);
  });

  it('chi-square goodness of fit (Evidently: current counts vs reference proportions)', () => {
    for (const c of FIX.chisquare) {
      const r = chiSquareTest(c.reference, c.current);
      close(r.statistic, c.statistic, 1e-12, 'chi-square statistic');
      close(r.pValue, c.pvalue, 1e-11, 'chi-square p-value');
    }
  });

  it('two-proportion z-test', () => {
    for (const c of FIX.ztest) {
      const r = zTest(c.ref_first, c.n_ref, c.cur_first, c.n_cur);
      close(r.statistic, c.statistic, 1e-12, 'z');
      assert.ok(Math.abs(r.pValue - c.pvalue) < 1e-14, `z-test p ${r.pValue} vs ${c.pvalue}`);
    }
  });

  it('chi2.sf and the normal CDF', () => {
    for (const c of FIX.special.chi2_sf) close(chi2Sf(c.x, c.df), c.sf, 1e-12, `chi2.sf(${c.x}, ${c.df})`);
    for (const c of FIX.special.norm_cdf) close(normCdf(c.x), c.cdf, 1e-14, `norm.cdf(${c.x})`);
  });
});

describe('shared sort and number parsing', () => {
  it('the radix sort orders like Float64Array.prototype.sort (−0, ±Infinity, ties, tiny and huge values)', async () => {
    const { sortFloat64 } = await import('../../orchestrator/drift/radix-sort');
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const n of [5, 20_000, 300_000]) {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20) * (i % 13 ? 1 : 0);
      a[0] = -0;
      a[1] = Infinity;
      a[2] = -Infinity;
      a[3] = Number.MIN_VALUE;
      const want = a.slice().sort();
      const got = sortFloat64(a.slice());
      for (let i = 0; i < n; i++) assert.ok(Object.is(got[i], want[i]), `n=${n} index ${i}: ${got[i]} vs ${want[i]}`);
    }
  });

  it('numbers: plain decimals fast, other forms strictly', async () => {
    const { numberOf } = await import('../../orchestrator/data');
    assert.deepEqual(['12', '-0.5', '.25', '+3', '1e5', ' 7 ', '-Infinity', '1.'].map(numberOf), [12, -0.5, 0.25, 3, 1e5, 7, -Infinity, 1]);
    for (const s of ['0x1A', '0b1', '1,000', '', '--5', '1 2', 'abc', '0_1']) assert.ok(Number.isNaN(numberOf(s)), s);
  });
});
