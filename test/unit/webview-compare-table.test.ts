// Compare Runs table logic: differences, best cells by metric direction, default objective,
// which metrics get a chart; and the parallel-coordinates axes and positions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CompareRun } from '../../protocol/webview';
import { bestColumns, buildTable, chartKeys, defaultObjective, metricDirection, valuesDiffer } from '../../media/src/lib/compare-table';
import { axisPosition, axisTicks, buildAxis, buildParallel } from '../../media/src/lib/parallel';

const run = (id: string, params: Record<string, string>, metrics: Record<string, number>): CompareRun => ({ id, name: 'penguins', status: 'succeeded', startedAt: 0, params, metrics });

const a = run('a', { lr: '0.1', epochs: '300', seed: '42' }, { accuracy: 0.97, train_loss: 0.2, n_test: 84 });
const b = run('b', { lr: '0.05', epochs: '300', seed: '42' }, { accuracy: 0.95, train_loss: 0.3, n_test: 84 });

describe('metric direction', () => {
  test('losses and errors go down, scores go up, counts have no best', () => {
    assert.equal(metricDirection('train_loss'), 'min');
    assert.equal(metricDirection('val_loss'), 'min');
    assert.equal(metricDirection('rmse'), 'min');
    assert.equal(metricDirection('latency_ms'), 'min');
    assert.equal(metricDirection('accuracy'), 'max');
    assert.equal(metricDirection('f1_macro'), 'max');
    assert.equal(metricDirection('n_test'), 'none');
    assert.equal(metricDirection('epochs'), 'none');
  });
});

describe('differences', () => {
  test('missing values differ from present ones; NaN equals NaN', () => {
    assert.equal(valuesDiffer(['1', '1']), false);
    assert.equal(valuesDiffer(['1', undefined]), true);
    assert.equal(valuesDiffer([Number.NaN, Number.NaN]), false);
    assert.equal(valuesDiffer([1, 2]), true);
  });

  test('only differences (the default) keeps lr and the metrics that changed', () => {
    const t = buildTable([a, b], true);
    assert.deepEqual(t.params.map((r) => r.key), ['lr']);
    assert.deepEqual(t.metrics.map((r) => r.key), ['accuracy', 'train_loss']);
    assert.equal(t.hiddenParams, 2);
    assert.equal(t.hiddenMetrics, 1);
  });

  test('with the toggle off every row is there, in first-seen order', () => {
    const c = run('c', { lr: '0.2', l2: '0.01' }, {});
    const t = buildTable([a, b, c], false);
    assert.deepEqual(t.params.map((r) => r.key), ['lr', 'epochs', 'seed', 'l2']);
    assert.deepEqual(t.params.find((r) => r.key === 'l2')!.values, [undefined, undefined, '0.01']);
    assert.equal(t.hiddenParams, 0);
  });
});

describe('best cells', () => {
  test('highest accuracy and lowest loss win; counts and all-equal rows have none', () => {
    const t = buildTable([a, b], false);
    const best = Object.fromEntries(t.metrics.map((r) => [r.key, r.best]));
    assert.deepEqual(best, { accuracy: [0], train_loss: [0], n_test: [] });
  });

  test('ties all win, NaN and missing never do, a single value is not "best"', () => {
    assert.deepEqual(bestColumns([0.9, 0.9, 0.8], 'max'), [0, 1]);
    assert.deepEqual(bestColumns([Number.NaN, 0.5, undefined, 0.7], 'min'), [1]);
    assert.deepEqual(bestColumns([0.5, undefined], 'max'), []);
    assert.deepEqual(bestColumns([1, 1], 'max'), []);
  });

  test('scales to many runs (no cap)', () => {
    const runs = Array.from({ length: 500 }, (_, i) => run(`r${i}`, { lr: String(i / 1000) }, { accuracy: i === 321 ? 0.99 : 0.5 }));
    const t = buildTable(runs, true);
    assert.equal(t.params[0].values.length, 500);
    assert.deepEqual(t.metrics[0].best, [321]);
  });
});

describe('objective and charts', () => {
  test('a conventional quality metric that varies is the default objective', () => {
    assert.equal(defaultObjective([a, b]), 'accuracy');
    // Same accuracy everywhere: the loss says more about the params.
    const same = [run('x', {}, { accuracy: 0.98, train_loss: 0.1, n_test: 3 }), run('y', {}, { accuracy: 0.98, train_loss: 0.2, n_test: 4 })];
    assert.equal(defaultObjective(same), 'train_loss');
    assert.equal(defaultObjective([same[0], { ...same[0], id: 'z' }]), 'accuracy');
    assert.equal(defaultObjective([run('x', {}, { n_rows: 3, mse: 0.1 })]), 'mse');
    assert.equal(defaultObjective([run('x', {}, {})]), undefined);
  });

  test('only metrics with more than one step get a chart', () => {
    const series = { train_loss: [{ points: [1, 2, 3] }, { points: [1] }], accuracy: [{ points: [1] }, { points: [1] }] };
    assert.deepEqual(chartKeys(series), ['train_loss']);
  });
});

describe('parallel coordinates', () => {
  test('axes are the differing params then the objective; positions span 0..1', () => {
    const m = buildParallel([a, b], 'accuracy');
    assert.deepEqual(m.axes.map((x) => [x.key, x.role]), [['lr', 'param'], ['accuracy', 'objective']]);
    assert.deepEqual(m.lines.map((l) => l.positions), [[1, 1], [0, 0]]);
  });

  test('all params when none differ; no objective axis without an objective', () => {
    const m = buildParallel([a, { ...a, id: 'a2' }], undefined);
    assert.deepEqual(m.axes.map((x) => x.key), ['lr', 'epochs', 'seed']);
    assert.deepEqual(m.lines[0].positions, [0.5, 0.5, 0.5]);
  });

  test('log scale across decades, categories for text, gaps for missing values', () => {
    const l2 = buildAxis('l2', 'param', ['0.0001', '0.01', '0.001']);
    assert.ok(l2.kind === 'number' && l2.log);
    assert.equal(axisPosition(l2, '0.001'), 0.5);
    const opt = buildAxis('optimizer', 'param', ['sgd', 'adam', undefined]);
    assert.deepEqual(opt.kind === 'category' && opt.values, ['adam', 'sgd']);
    assert.equal(axisPosition(opt, 'sgd'), 1);
    assert.equal(axisPosition(opt, undefined), undefined);
    assert.deepEqual(axisTicks(l2, String).map((t) => t.label), ['0.0001', '0.001', '0.01']);
  });
});
