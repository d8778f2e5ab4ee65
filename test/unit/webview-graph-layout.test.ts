// Layered layout of the pipeline graph, the graph model read from a manifest, and the
// step-key span the graph reveals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ManifestParser } from '../../orchestrator/manifest';
import { graphFromManifest, stepKeySpan } from '../../client/src/webviews/graph-model';
import { assignLayers, backEdges, edgePath, layeredLayout } from '../../media/src/lib/graph-layout';

const box = (id: string) => ({ id, width: 100, height: 40 });

describe('layered layout', () => {
  test('each node sits in the column of its longest path from a source', () => {
    const edges = [{ from: 'prepare', to: 'train' }, { from: 'train', to: 'evaluate' }, { from: 'prepare', to: 'evaluate' }];
    const l = layeredLayout(['prepare', 'train', 'evaluate'].map(box), edges);
    assert.deepEqual(l.nodes.map((n) => [n.id, n.layer]), [['prepare', 0], ['train', 1], ['evaluate', 2]]);
    // Columns go left to right; nodes never overlap.
    const [p, t, e] = l.nodes;
    assert.ok(p.x + p.width < t.x && t.x + t.width < e.x);
    // The long edge bends through a waypoint beside `train` instead of crossing it.
    const long = l.edges.find((x) => x.from === 'prepare' && x.to === 'evaluate')!;
    assert.equal(long.points.length, 4);
    const way = long.points[1];
    assert.ok(way.y < t.y || way.y > t.y + t.height, `waypoint ${way.y} clears train ${t.y}..${t.y + t.height}`);
    assert.match(edgePath(long), /^M[\d.]+,[\d.]+ (C|L)/);
    assert.ok(l.width >= e.x + e.width && l.height >= t.height);
  });

  test('nodes in one column are stacked without overlap, ordered to follow their parents', () => {
    const nodes = ['a', 'b', 'a1', 'b1', 'a2'].map(box);
    const edges = [{ from: 'b', to: 'b1' }, { from: 'a', to: 'a1' }, { from: 'a', to: 'a2' }];
    const l = layeredLayout(nodes, edges);
    const col1 = l.nodes.filter((n) => n.layer === 1).sort((x, y) => x.y - y.y);
    for (let i = 1; i < col1.length; i++) assert.ok(col1[i].y >= col1[i - 1].y + col1[i - 1].height);
    assert.deepEqual(col1.map((n) => n.id), ['a1', 'a2', 'b1']);
  });

  test('a cycle (invalid manifest) still lays out, with its closing edge marked back', () => {
    const edges = [{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }, { from: 'c', to: 'c' }];
    assert.deepEqual([...backEdges(['a', 'b', 'c'], edges)], [1, 2]);
    const l = layeredLayout(['a', 'b', 'c'].map(box), edges);
    assert.deepEqual(l.edges.map((e) => e.back), [false, true, true]);
    assert.deepEqual(l.nodes.map((n) => n.layer), [0, 1, 0]);
  });

  test('edges to unknown nodes are dropped; a 3000-step chain is fast', () => {
    assert.equal(layeredLayout([box('a')], [{ from: 'a', to: 'ghost' }]).edges.length, 0);
    const ids = Array.from({ length: 3000 }, (_, i) => `s${i}`);
    const edges = ids.slice(1).map((id, i) => ({ from: ids[i], to: id }));
    const t0 = Date.now();
    const layers = assignLayers(ids, edges, backEdges(ids, edges));
    const l = layeredLayout(ids.map(box), edges);
    assert.equal(layers.get('s2999'), 2999);
    assert.equal(l.nodes.length, 3000);
    assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  });
});

describe('graph model of the penguins manifest', () => {
  const text = readFileSync(new URL('../../examples/penguins/mlops.yaml', import.meta.url), 'utf8');

  test('three steps in DAG order, arrows upstream → downstream, statuses attached', () => {
    const g = graphFromManifest(new ManifestParser(), text, new Map([['train', { status: 'succeeded' as const }]]));
    assert.deepEqual(g.nodes.map((n) => [n.step, n.status]), [['prepare', undefined], ['train', 'succeeded'], ['evaluate', undefined]]);
    assert.deepEqual(g.edges.map((e) => `${e.from}>${e.to}:${e.via}`).sort(), ['prepare>evaluate:deps', 'prepare>train:needs', 'train>evaluate:needs']);
    assert.match(g.nodes[1].description ?? '', /Softmax regression/);
  });

  test('a manifest without steps says why', () => {
    assert.match(graphFromManifest(new ManifestParser(), 'version: 1\n').message ?? '', /no steps/);
  });

  test('the step key span selects the name under steps:', () => {
    const s = stepKeySpan(new ManifestParser(), text, 'train')!;
    assert.equal(text.slice(s.start, s.end), 'train');
    assert.match(text.slice(s.start - 3, s.end + 1), /^\n {2}train:$/);
    assert.equal(stepKeySpan(new ManifestParser(), text, 'nope'), undefined);
    const quoted = 'version: 1\nsteps:\n  "fit model":\n    cmd: echo\n';
    const q = stepKeySpan(new ManifestParser(), quoted, 'fit model')!;
    assert.equal(quoted.slice(q.start, q.end), 'fit model');
  });
});
