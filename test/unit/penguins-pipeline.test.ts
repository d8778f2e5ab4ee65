// End-to-end tests of the penguins sample (examples/penguins): each test works
// on a copy of the sample folder in a temp dir (as a user or the orchestrator
// would run it, away from the repo) and runs the real step scripts as child
// processes on the real data. Expected values are recomputed here from the
// files, independently of the sample's own lib code where it matters (the
// split bookkeeping, the JS reference probabilities, the ONNX header).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = join(REPO, 'examples', 'penguins');
const GENERATED = ['data/prepared', 'models', 'metrics'].map((p) => p.split('/').join(sep));
const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];
const NUMERIC = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'];
// The documented stdout metric form: "mlops:metric " + key=value pairs + optional step=N.
const METRIC_LINE = /^mlops:metric( [A-Za-z_][A-Za-z0-9_.-]*=-?\d+(\.\d+)?)+( step=\d+)?$/;

const scratch = mkdtempSync(join(tmpdir(), 'penguins-test-'));
let copies = 0;

/** A fresh copy of the sample without any outputs a developer may have left in the repo. */
function copySample(): string {
  const dir = join(scratch, `copy-${++copies}`);
  cpSync(SAMPLE, dir, {
    recursive: true,
    filter: (src) => !GENERATED.some((g) => relative(SAMPLE, src) === g || relative(SAMPLE, src).startsWith(g + sep)),
  });
  return dir;
}

type StepResult = { status: number | null; stdout: string; stderr: string; ms: number };

/** Run a step script in dir as the orchestrator would: cwd = project folder, MLOPS_HOME = workbench. */
function step(dir: string, script: string, args: string[] = [], env: Record<string, string | undefined> = {}): StepResult {
  const childEnv: Record<string, string | undefined> = { ...process.env, MLOPS_HOME: REPO, ...env };
  for (const k of ['NODE_OPTIONS', 'NODE_PATH', 'NODE_TEST_CONTEXT']) delete childEnv[k];
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const started = performance.now();
  const r = spawnSync(process.execPath, [join('steps', script), ...args], { cwd: dir, env: childEnv, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

function ok(r: StepResult, what: string): StepResult {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return r;
}

/** Plain comma split: the sample's files have no quoted fields (asserted for the raw file). */
function readCsv(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const header = head!.split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    assert.equal(cells.length, header.length, `${path}: ragged row ${l}`);
    return Object.fromEntries(header.map((h, j) => [h, cells[j]!]));
  });
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

type Model = { features: string[]; classes: string[]; mean: number[]; std: number[]; weights: number[][]; bias: number[] };

/** Reference probabilities computed straight from penguins.json (float32 inputs, float64 arithmetic). */
function jsProbabilities(model: Model, rows: number[][]): number[][] {
  return rows.map((x) => {
    const logits = model.bias.map((b, k) => x.reduce((s, v, j) => s + ((Math.fround(v) - model.mean[j]!) / model.std[j]!) * model.weights[j]![k]!, b));
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const sum = e.reduce((a, b) => a + b);
    return e.map((v) => v / sum);
  });
}

const argmax = (xs: ArrayLike<number>) => Array.from(xs).reduce((best, v, k, a) => (v > a[best]! ? k : best), 0);

/** Minimal protobuf field reader, to check the ONNX header fields onnxruntime does not expose. */
function protoFields(buf: Uint8Array): Array<{ field: number; int?: bigint; bytes?: Uint8Array }> {
  const out: Array<{ field: number; int?: bigint; bytes?: Uint8Array }> = [];
  let i = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3, wire = key & 7;
    if (wire === 0) out.push({ field, int: varint() });
    else if (wire === 2) { const len = Number(varint()); out.push({ field, bytes: buf.subarray(i, i + len) }); i += len; }
    else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}
const text = (b?: Uint8Array) => new TextDecoder().decode(b);

describe('penguins sample pipeline', () => {
  let main = '';
  const runs: Record<string, StepResult> = {};

  before(() => {
    main = copySample();
    runs.prepare = ok(step(main, 'prepare.mjs', ['--seed', '42', '--test-size', '0.25']), 'prepare');
    runs.train = ok(step(main, 'train.mjs', ['--lr', '0.1', '--epochs', '300', '--l2', '0.0001']), 'train');
    runs.evaluate = ok(step(main, 'evaluate.mjs'), 'evaluate');
    const ms = Object.entries(runs).map(([k, r]) => `${k} ${r.ms.toFixed(0)} ms`).join(', ');
    console.log(`penguins step times: ${ms}`);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('split: disjoint by id, covers all complete rows, stratified', () => {
    const rawText = readFileSync(join(main, 'data/penguins.csv'), 'utf8');
    assert.ok(!rawText.includes('"'), 'raw CSV has no quoted fields (this test splits on commas)');
    const raw = readCsv(join(main, 'data/penguins.csv'));
    assert.equal(raw.length, 344);
    const complete = raw.flatMap((r, id) => (NUMERIC.every((c) => r[c] !== '') && r.species !== '' ? [id] : []));
    assert.equal(complete.length, 342);

    const train = readCsv(join(main, 'data/prepared/train.csv'));
    const test_ = readCsv(join(main, 'data/prepared/test.csv'));
    const trainIds = train.map((r) => Number(r.id));
    const testIds = test_.map((r) => Number(r.id));
    assert.equal(new Set(trainIds).size, trainIds.length, 'train ids unique');
    assert.equal(new Set(testIds).size, testIds.length, 'test ids unique');
    assert.deepEqual(trainIds.filter((id) => testIds.includes(id)), [], 'train and test share no id');
    assert.deepEqual([...trainIds, ...testIds].sort((a, b) => a - b), complete);
    // Rows are the raw rows: the id points back to the same measurements and species.
    for (const r of [...train, ...test_]) {
      const src = raw[Number(r.id)]!;
      assert.equal(r.species, src.species);
      for (const c of NUMERIC) assert.equal(Number(r[c]), Number(src[c]));
      assert.equal(r[`island_${src.island}`], '1');
    }
    for (const cls of CLASSES) {
      const nTrain = train.filter((r) => r.species === cls).length;
      const nTest = test_.filter((r) => r.species === cls).length;
      assert.ok(nTrain > 0 && nTest > 0, `${cls} in both splits`);
      assert.ok(Math.abs(nTest - 0.25 * (nTrain + nTest)) <= 1, `${cls}: ${nTest} of ${nTrain + nTest} held out`);
    }
    const spec = readJson(join(main, 'data/prepared/features.json'));
    assert.deepEqual(spec.classes, CLASSES);
    assert.equal(spec.features.length, 9);
    assert.deepEqual(spec.dropped_ids, [3, 339]);
  });

  test('deterministic for a seed; a different seed gives a different split', () => {
    const again = copySample();
    ok(step(again, 'prepare.mjs', ['--seed', '42', '--test-size', '0.25']), 'prepare (again)');
    const train2 = ok(step(again, 'train.mjs', ['--lr', '0.1', '--epochs', '300', '--l2', '0.0001']), 'train (again)');
    for (const f of ['data/prepared/train.csv', 'data/prepared/test.csv', 'data/prepared/features.json', 'models/penguins.onnx', 'models/penguins.json', 'metrics/train.json']) {
      assert.ok(readFileSync(join(again, f)).equals(readFileSync(join(main, f))), `${f} identical across runs`);
    }
    assert.equal(train2.stdout.split('\n').filter((l) => l.startsWith('mlops:metric')).join('\n'),
      runs.train!.stdout.split('\n').filter((l) => l.startsWith('mlops:metric')).join('\n'));

    const other = copySample();
    ok(step(other, 'prepare.mjs', ['--seed', '7']), 'prepare --seed 7');
    assert.notDeepEqual(readFileSync(join(other, 'data/prepared/test.csv'), 'utf8'), readFileSync(join(main, 'data/prepared/test.csv'), 'utf8'));
  });

  test('train logs its curve in the documented metric form and writes metrics/train.json', () => {
    const lines = runs.train!.stdout.split('\n').filter((l) => l.startsWith('mlops:metric'));
    for (const l of lines) assert.match(l, METRIC_LINE);
    const points = lines.map((l) => {
      const m = /^mlops:metric train_loss=(\d+\.\d+) train_accuracy=(\d+(?:\.\d+)?) step=(\d+)$/.exec(l);
      assert.ok(m, l);
      return { loss: Number(m[1]), step: Number(m[3]) };
    });
    assert.deepEqual(points.map((p) => p.step), Array.from({ length: 30 }, (_, i) => (i + 1) * 10));
    for (let i = 1; i < points.length; i++) assert.ok(points[i]!.loss <= points[i - 1]!.loss, 'loss never rises (convex, small lr)');
    const m = readJson(join(main, 'metrics/train.json'));
    assert.ok(Math.abs(m.train_loss - points.at(-1)!.loss) < 1e-6);
    assert.ok(m.train_loss > 0 && m.train_loss < 0.2, `train_loss ${m.train_loss}`);
    assert.ok(m.train_accuracy >= 0.95 && m.train_accuracy <= 1);
    for (const r of Object.values(runs)) for (const l of r.stdout.split('\n')) if (l.startsWith('mlops:metric')) assert.match(l, METRIC_LINE);
  });

  test('held-out metrics: accuracy >= 0.95, F1 and AUC in [0,1] and sensible', () => {
    const m = readJson(join(main, 'metrics/eval.json'));
    assert.deepEqual(Object.keys(m).sort(), ['accuracy', 'auc_macro', 'f1_macro', 'n_test']);
    assert.equal(m.n_test, readCsv(join(main, 'data/prepared/test.csv')).length);
    for (const k of ['accuracy', 'f1_macro', 'auc_macro']) assert.ok(m[k] >= 0 && m[k] <= 1, `${k}=${m[k]} in [0,1]`);
    assert.ok(m.accuracy >= 0.95, `accuracy ${m.accuracy}`);
    assert.ok(m.f1_macro >= 0.9, `f1_macro ${m.f1_macro}`);
    assert.ok(m.auc_macro >= 0.98, `auc_macro ${m.auc_macro}`);
    const line = runs.evaluate!.stdout.split('\n').find((l) => l.startsWith('mlops:metric'));
    assert.match(line ?? '', /^mlops:metric accuracy=[\d.]+ f1_macro=[\d.]+ auc_macro=[\d.]+$/);
  });

  describe('the ONNX model (onnxruntime-node in this process)', () => {
    let session: ort.InferenceSession;
    before(async () => {
      session = await ort.InferenceSession.create(join(main, 'models/penguins.onnx'), { intraOpNumThreads: 1 });
    });
    after(async () => session?.release());

    test('probabilities equal the JS model to <= 1e-6 and labels match', async () => {
      const model: Model = readJson(join(main, 'models/penguins.json'));
      const rows = readCsv(join(main, 'data/prepared/test.csv'));
      const X = rows.map((r) => model.features.map((f) => Number(r[f])));
      const n = X.length, F = model.features.length, C = model.classes.length;
      const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(X.flat()), [n, F]) });
      const probs = out.probabilities!.data as Float32Array;
      const labels = Array.from(out.label!.data as BigInt64Array, Number);
      assert.deepEqual(out.probabilities!.dims, [n, C]);
      assert.deepEqual(out.label!.dims, [n]);
      const ref = jsProbabilities(model, X);
      let maxDiff = 0;
      ref.forEach((p, i) => p.forEach((v, k) => { maxDiff = Math.max(maxDiff, Math.abs(v - probs[i * C + k]!)); }));
      assert.ok(maxDiff <= 1e-6, `max |Δp| ${maxDiff}`);
      assert.deepEqual(labels, ref.map(argmax));
      // Rows sum to 1 and the labels are the held-out species most of the time.
      for (let i = 0; i < n; i++) assert.ok(Math.abs(probs[i * C]! + probs[i * C + 1]! + probs[i * C + 2]! - 1) < 1e-5);
      const hits = labels.filter((k, i) => model.classes[k] === rows[i]!.species).length;
      assert.ok(hits / n >= 0.95);
    });

    test('declares input/output names, types and shapes', () => {
      assert.deepEqual(session.inputNames, ['input']);
      assert.deepEqual(session.outputNames, ['probabilities', 'label']);
      const meta = (m: ort.InferenceSession.ValueMetadata) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name });
      assert.deepEqual(session.inputMetadata.map(meta), [{ name: 'input', type: 'float32', shape: ['N', 9] }]);
      assert.deepEqual(session.outputMetadata.map(meta), [
        { name: 'probabilities', type: 'float32', shape: ['N', 3] },
        { name: 'label', type: 'int64', shape: ['N'] },
      ]);
    });

    test('header: IR 8, opset 13 (default domain), producer, graph ops, metadata', () => {
      const top = protoFields(readFileSync(join(main, 'models/penguins.onnx')));
      assert.equal(top.find((f) => f.field === 1)?.int, 8n); // ir_version
      assert.equal(text(top.find((f) => f.field === 2)?.bytes), 'mlops-workbench'); // producer_name
      const opsets = top.filter((f) => f.field === 8).map((f) => protoFields(f.bytes!));
      assert.deepEqual(opsets.map((o) => [text(o.find((f) => f.field === 1)?.bytes), o.find((f) => f.field === 2)?.int]), [['', 13n]]);
      const graph = protoFields(top.find((f) => f.field === 7)!.bytes!);
      const ops = graph.filter((f) => f.field === 1).map((n) => text(protoFields(n.bytes!).find((f) => f.field === 4)?.bytes));
      assert.deepEqual(ops, ['Sub', 'Div', 'MatMul', 'Add', 'Softmax', 'ArgMax']);
      const metadata = Object.fromEntries(top.filter((f) => f.field === 14).map((e) => {
        const kv = protoFields(e.bytes!);
        return [text(kv.find((f) => f.field === 1)?.bytes), text(kv.find((f) => f.field === 2)?.bytes)];
      }));
      assert.deepEqual(JSON.parse(metadata.class_labels!), CLASSES);
      assert.equal(JSON.parse(metadata.feature_names!).length, 9);
    });
  });

  describe('failures are clear and non-zero', () => {
    test('prepare on a CSV missing a required column names the column', () => {
      const dir = copySample();
      const lines = readFileSync(join(dir, 'data/penguins.csv'), 'utf8').trimEnd().split('\n');
      const drop = lines[0]!.split(',').indexOf('body_mass_g');
      writeFileSync(join(dir, 'data/bad.csv'), lines.map((l) => l.split(',').filter((_, j) => j !== drop).join(',')).join('\n') + '\n');
      const r = step(dir, 'prepare.mjs', ['--input', 'data/bad.csv']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /missing required column\(s\): body_mass_g/);
      assert.ok(!existsSync(join(dir, 'data/prepared/train.csv')), 'no partial outputs');
    });

    test('train on an empty or header-only train.csv says so', () => {
      const dir = copySample();
      cpSync(join(main, 'data/prepared'), join(dir, 'data/prepared'), { recursive: true });
      writeFileSync(join(dir, 'data/prepared/train.csv'), '');
      const empty = step(dir, 'train.mjs');
      assert.notEqual(empty.status, 0);
      assert.match(empty.stderr, /^train: error: data\/prepared\/train\.csv is empty/m);
      const header = readFileSync(join(main, 'data/prepared/train.csv'), 'utf8').split('\n')[0] + '\n';
      writeFileSync(join(dir, 'data/prepared/train.csv'), header);
      const headerOnly = step(dir, 'train.mjs');
      assert.notEqual(headerOnly.status, 0);
      assert.match(headerOnly.stderr, /train\.csv has a header but no data rows/);
      assert.ok(!existsSync(join(dir, 'models/penguins.onnx')));
    });

    test('evaluate refuses an ONNX file that does not match the JS model', () => {
      const dir = copySample();
      for (const d of ['data/prepared', 'models']) cpSync(join(main, d), join(dir, d), { recursive: true });
      const model = readJson(join(dir, 'models/penguins.json'));
      model.bias[0] += 0.5;
      writeFileSync(join(dir, 'models/penguins.json'), JSON.stringify(model));
      const r = step(dir, 'evaluate.mjs');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /ONNX model disagrees with models\/penguins\.json: max \|Δp\|/);
      assert.ok(!existsSync(join(dir, 'metrics/eval.json')));
    });

    test('evaluate outside the repo without MLOPS_HOME names the package and MLOPS_HOME', (t) => {
      // Only meaningful if no node_modules above the temp dir would satisfy the import.
      for (let d = scratch; ; d = dirname(d)) {
        if (existsSync(join(d, 'node_modules', 'onnxruntime-node'))) return t.skip(`onnxruntime-node reachable from ${d}`);
        if (dirname(d) === d) break;
      }
      const dir = copySample();
      for (const d of ['data/prepared', 'models']) cpSync(join(main, d), join(dir, d), { recursive: true });
      const r = step(dir, 'evaluate.mjs', [], { MLOPS_HOME: undefined });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /cannot find the npm package "onnxruntime-node".*MLOPS_HOME is not set/s);
      const bad = step(dir, 'evaluate.mjs', [], { MLOPS_HOME: scratch });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /MLOPS_HOME is set to .* but it has no node_modules\/onnxruntime-node/);
    });
  });
});
