// The canary judge and the per-version figures, on their own with a hand-fed clock: minRequests
// before judging, p99 and error-rate rollback with the reason a user reads, promotion after
// requests and minutes, and the rolling 60 s window.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryJudge } from '../../orchestrator/serving/canary-policy';
import { LatencyHistogram, VersionStatsTracker } from '../../orchestrator/serving/stats';

describe('canary judge', () => {
  test('no verdict before minRequests, then a p99 rollback naming the figures', () => {
    const judge = new CanaryJudge(2, 0, { weight: 10, rollbackP99Ms: 50, rollbackErrorRate: 0.5, minRequests: 10 });
    for (let i = 0; i < 9; i++) {
      judge.record(200, 200);
      assert.equal(judge.judge(1000), undefined, `request ${i + 1}: too few to judge`);
    }
    judge.record(200, 200);
    const v = judge.judge(1000);
    assert.equal(v?.decision, 'rollback');
    assert.match(v!.reason, /^p99 2\d\d(\.\d+)? ms > 50 ms after 10 requests$/);
    assert.equal(judge.judge(2000), undefined, 'a verdict is given once');
  });

  test('4xx answers are not canary errors; 5xx are', () => {
    const judge = new CanaryJudge(2, 0, { weight: 10, rollbackErrorRate: 0.1, minRequests: 20 });
    for (let i = 0; i < 30; i++) judge.record(400, 1);
    assert.equal(judge.judge(0), undefined);
    for (let i = 0; i < 4; i++) judge.record(503, 1);
    assert.deepEqual(judge.judge(0), { decision: 'rollback', reason: 'error rate 0.118 > 0.1 after 34 requests' });
  });

  test('promotes only when every given threshold is reached, within bounds', () => {
    const minute = 60_000;
    const judge = new CanaryJudge(3, 0, { weight: 10, promoteAfterRequests: 50, promoteAfterMinutes: 5, rollbackErrorRate: 0.02 });
    for (let i = 0; i < 60; i++) judge.record(200, 2);
    assert.equal(judge.judge(4 * minute), undefined, 'requests reached, minutes not yet');
    const v = judge.judge(5 * minute);
    assert.equal(v?.decision, 'promote');
    assert.match(v!.reason, /^60 requests and 5 minutes within bounds \(error rate 0, p99 2(\.\d+)? ms\)$/);
  });

  test('without promote_after it never promotes by itself', () => {
    const judge = new CanaryJudge(3, 0, { weight: 10, rollbackErrorRate: 0.02 });
    for (let i = 0; i < 500; i++) judge.record(200, 1);
    assert.equal(judge.judge(10 * 60 * 60_000), undefined);
  });
});

describe('version figures', () => {
  test('quantiles are within the 10 % bucket width', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.add(i / 10); // 0.1 .. 100 ms
    assert.ok(Math.abs(h.quantile(0.5) - 50) / 50 < 0.1, String(h.quantile(0.5)));
    assert.ok(Math.abs(h.quantile(0.99) - 99) / 99 < 0.1, String(h.quantile(0.99)));
  });

  test('the window keeps the last 60 s; totals keep everything; the rate is the last 5 s', () => {
    const t0 = 1_000_000_000;
    const s = new VersionStatsTracker(t0);
    for (let i = 0; i < 100; i++) s.record(200, 1, t0 + i * 100); // 10 s of 10 req/s
    s.record(500, 1, t0 + 10_000);
    let snap = s.snapshot(t0 + 10_500);
    assert.equal(snap.requests, 101);
    assert.equal(snap.errors, 1);
    // Seconds 6..9 (40 requests) and half of second 10 (the error): 41 in 4.5 s.
    assert.ok(Math.abs(snap.reqPerSec - 41 / 4.5) < 0.05, String(snap.reqPerSec));
    assert.equal(s.snapshot(t0 + 30_000).reqPerSec, 0, 'traffic that stopped 20 s ago is no longer a rate');
    assert.equal(s.snapshot(t0 + 30_000).requests, 101, 'but still counts in the 60 s window');
    snap = s.snapshot(t0 + 65_000);
    assert.equal(snap.requests, 41, 'only seconds 6..10 remain in the window (4 × 10 + the error)');
    assert.equal(snap.totalRequests, 101);
    assert.equal(snap.totalErrors, 1);
  });

  test('a version loaded 2 s ago at 20 req/s shows 20 req/s, not a ramp', () => {
    const t0 = 2_000_000_000;
    const s = new VersionStatsTracker(t0);
    for (let i = 0; i < 40; i++) s.record(200, 1, t0 + i * 50);
    assert.ok(Math.abs(s.snapshot(t0 + 2000).reqPerSec - 20) < 0.5, String(s.snapshot(t0 + 2000).reqPerSec));
  });
});
