// Unit tests for the penguins sample's small libraries (examples/penguins/lib):
// the metric definitions, CSV round trips, the metric line form, the seeded
// PRNG and the protobuf varints. The end-to-end pipeline is in
// penguins-pipeline.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const LIB = fileURLToPath(new URL('../../examples/penguins/lib/', import.meta.url));
// The sample is plain .mjs without type declarations: load it dynamically and
// describe only what the tests call.
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(LIB, file)).href)) as T;

type Metrics = {
  accuracy(y: number[], p: number[]): number;
  f1Macro(y: number[], p: number[], c: number): number;
  binaryAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number;
  aucMacroOvr(y: number[], probs: ArrayLike<number>, c: number): number;
};

/** O(n_pos * n_neg) definition of AUC, the reference for the rank formula. */
function pairwiseAuc(scores: number[], positive: boolean[]): number {
  let wins = 0, pairs = 0;
  scores.forEach((s, i) => {
    if (!positive[i]) return;
    scores.forEach((t, j) => {
      if (positive[j]) return;
      pairs++;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('penguins lib/metrics.mjs', () => {
  test('binary AUC on hand-computed cases, including ties', async () => {
    const { binaryAuc } = await load<Metrics>('metrics.mjs');
    // Classic example: 3 of 4 positive/negative pairs ranked right.
    assert.equal(binaryAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
    // pos {0.5, 0.9} vs neg {0.5, 0.2}: 0.5 (tie) + 1 + 1 + 1 = 3.5 of 4 pairs.
    assert.equal(binaryAuc([0.5, 0.5, 0.2, 0.9], [true, false, false, true]), 0.875);
    // All scores tied: every pair counts one half.
    assert.equal(binaryAuc([0.3, 0.3, 0.3, 0.3, 0.3], [true, false, true, false, false]), 0.5);
    // Perfect and perfectly wrong rankings.
    assert.equal(binaryAuc([0.9, 0.8, 0.1], [true, true, false]), 1);
    assert.equal(binaryAuc([0.1, 0.2, 0.9], [true, true, false]), 0);
    // Undefined with one class only.
    assert.ok(Number.isNaN(binaryAuc([0.1, 0.2], [true, true])));
  });

  test('rank AUC equals the pairwise definition on data with many ties', async () => {
    const { binaryAuc } = await load<Metrics>('metrics.mjs');
    const { mulberry32 } = await load<{ mulberry32(seed: number): () => number }>('prng.mjs');
    const rand = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(rand() * 40);
      const scores = Array.from({ length: n }, () => Math.floor(rand() * 5) / 4); // 5 distinct values
      const positive = scores.map((_, i) => (i === 0 ? true : i === 1 ? false : rand() < 0.4));
      const expected = pairwiseAuc(scores, positive);
      assert.ok(Math.abs(binaryAuc(scores, positive) - expected) < 1e-12, `trial ${trial}`);
    }
  });

  test('macro one-vs-rest AUC, F1 and accuracy on a tiny 3-class case', async () => {
    const { aucMacroOvr, binaryAuc, f1Macro, accuracy } = await load<Metrics>('metrics.mjs');
    const y = [0, 0, 1, 1, 2, 2];
    const probs = [ // row-major [6, 3]
      0.6, 0.2, 0.2,
      0.3, 0.4, 0.3,
      0.3, 0.5, 0.2,
      0.1, 0.2, 0.7,
      0.2, 0.1, 0.7,
      0.2, 0.3, 0.5,
    ];
    const col = (k: number) => y.map((_, i) => probs[i * 3 + k]!);
    // Class 0: pos {.6,.3} vs neg {.3,.1,.2,.2}: .6 wins 4; .3 ties one (.5) and wins 3 -> 7.5/8.
    assert.equal(binaryAuc(col(0), y.map((c) => c === 0)), 7.5 / 8);
    // Class 1: pos {.5,.2} vs neg {.2,.4,.1,.3}: .5 wins 4; .2 ties one, wins one -> 5.5/8.
    assert.equal(binaryAuc(col(1), y.map((c) => c === 1)), 5.5 / 8);
    // Class 2: pos {.7,.5} vs neg {.2,.3,.2,.7}: .7 wins 3, ties one; .5 wins 3 -> 6.5/8.
    assert.equal(binaryAuc(col(2), y.map((c) => c === 2)), 6.5 / 8);
    assert.equal(aucMacroOvr(y, probs, 3), (7.5 + 5.5 + 6.5) / 8 / 3);

    const pred = [0, 1, 1, 2, 2, 2];
    assert.equal(accuracy(y, pred), 4 / 6);
    // per class F1: c0 tp1 fp0 fn1 -> 2/3; c1 tp1 fp1 fn1 -> 1/2; c2 tp2 fp1 fn0 -> 4/5.
    assert.ok(Math.abs(f1Macro(y, pred, 3) - (2 / 3 + 1 / 2 + 4 / 5) / 3) < 1e-15);
    // A class never predicted and never present scores 0 and still counts.
    assert.ok(Math.abs(f1Macro([0, 0], [0, 0], 2) - 0.5) < 1e-15);
    assert.throws(() => aucMacroOvr([0, 0, 1], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 3), /class 2/);
  });
});

describe('penguins lib helpers', () => {
  test('CSV: quotes, doubled quotes, embedded newlines, CRLF, BOM, empty cells', async () => {
    const { parseCsv, formatCsv } = await load<{
      parseCsv(t: string): string[][];
      formatCsv(h: string[], rows: Record<string, unknown>[]): string;
    }>('csv.mjs');
    assert.deepEqual(parseCsv('\uFEFFa,b,c\r\n1,"x, y",\r\n"say ""hi""","line1\nline2",3\n\n'), [
      ['a', 'b', 'c'],
      ['1', 'x, y', ''],
      ['say "hi"', 'line1\nline2', '3'],
    ]);
    const rows = [{ a: 'p,q', b: '"', c: '' }, { a: 1.5, b: null, c: ' pad' }];
    const text = formatCsv(['a', 'b', 'c'], rows);
    assert.deepEqual(parseCsv(text), [['a', 'b', 'c'], ['p,q', '"', ''], ['1.5', '', ' pad']]);
    assert.throws(() => parseCsv('a\n"open'), /quoted field/);
  });

  test('metric lines follow "mlops:metric key=value ... [step=N]"', async () => {
    const { formatMetricLine } = await load<{ formatMetricLine(m: Record<string, number>, step?: number): string }>('metric-log.mjs');
    assert.equal(formatMetricLine({ train_loss: 0.41234567 }, 12), 'mlops:metric train_loss=0.412346 step=12');
    assert.equal(formatMetricLine({ accuracy: 1, f1_macro: 0.5 }), 'mlops:metric accuracy=1 f1_macro=0.500000');
    assert.throws(() => formatMetricLine({ loss: NaN }), /finite/);
    assert.throws(() => formatMetricLine({ 'bad key': 1 }), /bad metric key/);
    assert.throws(() => formatMetricLine({}), /at least one/);
  });

  test('mulberry32 is deterministic per seed and shuffles are permutations', async () => {
    const { mulberry32, shuffleInPlace } = await load<{
      mulberry32(seed: number): () => number;
      shuffleInPlace<T>(a: T[], r: () => number): T[];
    }>('prng.mjs');
    const a = mulberry32(42), b = mulberry32(42), c = mulberry32(43);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(Array.from({ length: 5 }, () => b()), xs);
    assert.notDeepEqual(Array.from({ length: 5 }, () => c()), xs);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const shuffled = shuffleInPlace([...Array(50).keys()], mulberry32(1));
    assert.deepEqual([...shuffled].sort((p, q) => p - q), [...Array(50).keys()]);
  });

  test('ONNX writer: int64 attributes encode negative values as 10-byte varints', async () => {
    const { encodeModel } = await load<{ encodeModel(m: unknown): Uint8Array }>('onnx-writer.mjs');
    const bytes = encodeModel({
      irVersion: 8,
      opsetImports: [{ version: 13 }],
      graph: {
        name: 'g',
        nodes: [{ opType: 'Softmax', inputs: ['x'], outputs: ['y'], attributes: { axis: -1 } }],
        initializers: [],
        inputs: [{ name: 'x', elemType: 1, shape: ['N', 2] }],
        outputs: [{ name: 'y', elemType: 1, shape: ['N', 2] }],
      },
    });
    // AttributeProto.i (field 3, varint) = -1: key 0x18 then ff ff ff ff ff ff ff ff ff 01.
    const hex = Buffer.from(bytes).toString('hex');
    assert.ok(hex.includes('18ffffffffffffffffff01'), hex);
    assert.equal(hex.slice(0, 4), '0808'); // ModelProto.ir_version = 8 comes first
  });
});
