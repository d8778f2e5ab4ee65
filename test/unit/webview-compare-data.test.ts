// Loading a comparison from the daemon port: runs in the order asked, every metric's series
// in column order, NaN restored from JSON null, one point per step; and live point merging.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MetricPoint, RunDetail } from '../../protocol/types';
import { loadComparison, mapLimit, toSeries } from '../../client/src/webviews/compare-data';
import { runIdsFromArgs } from '../../client/src/webviews/run-args';
import { mergePoint } from '../../media/src/lib/series';

const detail = (id: string, params: Record<string, string>, latestMetrics: Record<string, number | null>): RunDetail =>
  ({ id, experiment: 'e', name: 'p', kind: 'pipeline', status: 'succeeded', startedAt: 1, tags: {}, params, latestMetrics, children: [], artifacts: [], datasetHashes: {} }) as unknown as RunDetail;

const pt = (key: string, step: number, value: number | null, timestamp = step): MetricPoint => ({ key, step, value: value as number, timestamp });

describe('loadComparison', () => {
  test('runs in the order asked, series per key in column order, NaN from null', async () => {
    const runs: Record<string, RunDetail> = {
      r1: detail('r1', { lr: '0.1' }, { loss: 0.2, acc: null }),
      r2: detail('r2', { lr: '0.05' }, { loss: 0.3 }),
    };
    const history: Record<string, MetricPoint[]> = {
      'r1/loss': [pt('loss', 20, 0.2), pt('loss', 10, 0.5)],
      'r1/acc': [pt('acc', 0, null)],
      'r2/loss': [pt('loss', 10, 0.6), pt('loss', 20, 0.3), pt('loss', 30, 0.25)],
    };
    let inFlight = 0;
    let most = 0;
    const source = {
      getRun: async (id: string) => runs[id],
      metricHistory: async (id: string, key: string) => {
        most = Math.max(most, ++inFlight);
        // r1's answers come last, as a slow request would.
        await new Promise((r) => setTimeout(r, id === 'r1' ? 20 : 1));
        inFlight--;
        return history[`${id}/${key}`];
      },
    };
    const data = await loadComparison(source, ['r1', 'r2']);
    assert.deepEqual(data.runs.map((r) => r.id), ['r1', 'r2']);
    assert.ok(Number.isNaN(data.runs[0].metrics.acc));
    assert.deepEqual(data.series.loss.map((s) => [s.runId, s.points.length]), [['r1', 2], ['r2', 3]]);
    assert.deepEqual(data.series.loss[0].points, [{ x: 10, y: 0.5 }, { x: 20, y: 0.2 }]);
    assert.deepEqual(data.series.acc.map((s) => s.runId), ['r1']);
    assert.ok(most <= 8);
  });

  test('two values at one step keep the last logged', () => {
    assert.deepEqual(toSeries('r', [pt('k', 5, 2, 200), pt('k', 5, 1, 100), pt('k', 1, 0)]).points, [{ x: 1, y: 0 }, { x: 5, y: 2 }]);
  });

  test('mapLimit keeps order and bounds concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 30, 20, 40]);
    assert.equal(most, 2);
  });
});

describe('live points', () => {
  test('appended in step order; a repeated step replaces its point', () => {
    const data = [{ x: 10, y: 1 }, { x: 30, y: 3 }];
    mergePoint(data, { x: 40, y: 4 });
    mergePoint(data, { x: 20, y: 2 });
    mergePoint(data, { x: 30, y: 3.5 });
    mergePoint(data, { x: 0, y: 0 });
    assert.deepEqual(data, [{ x: 0, y: 0 }, { x: 10, y: 1 }, { x: 20, y: 2 }, { x: 30, y: 3.5 }, { x: 40, y: 4 }]);
  });
});

describe('Compare Runs command arguments', () => {
  const node = (id: string) => ({ kind: 'run', run: { id } });
  test('ids as an array, as separate arguments, or as tree nodes with the selection', () => {
    assert.deepEqual(runIdsFromArgs([['a', 'b', 'a']]), ['a', 'b']);
    assert.deepEqual(runIdsFromArgs(['a', 'b', 'c']), ['a', 'b', 'c']);
    assert.deepEqual(runIdsFromArgs([node('a'), [node('a'), node('b')]]), ['a', 'b']);
    assert.deepEqual(runIdsFromArgs([node('a')]), ['a']);
    assert.deepEqual(runIdsFromArgs(['a', ['b']]), ['a', 'b']);
    assert.deepEqual(runIdsFromArgs([]), []);
    assert.deepEqual(runIdsFromArgs([{ kind: 'experiment' }, 42, null]), []);
  });
});
