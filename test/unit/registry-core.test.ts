/**
 * The registry's pure parts: model references, gates (absolute and relative to an alias
 * holder), the rollback stack, the ONNX signature reader (checked against onnxruntime-node on
 * the sample's real model), the model card, and the audit chain's tamper detection.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Gate } from '../../protocol/manifest';
import type { ModelVersion } from '../../protocol/registry';
import { holderStack, planRollback } from '../../orchestrator/registry/alias-history';
import { anchorFor, chainEntry, entryHash, mac, verifyChain, type StoredAuditEntry } from '../../orchestrator/registry/audit-chain';
import { generateCard, signatureLine } from '../../orchestrator/registry/card';
import { evaluateGates, gateError, gateTable } from '../../orchestrator/registry/gates';
import { NotOnnxError, onnxSignature } from '../../orchestrator/registry/onnx-signature';
import { formatRef, parseAliasRef, parseModelRef, parseVersion } from '../../orchestrator/registry/refs';
import { roleAllows } from '../../orchestrator/registry/roles';
// @ts-expect-error the sample's plain-JS ONNX writer has no type declarations
import { softmaxRegressionToOnnx } from '../../examples/penguins/lib/softmax-onnx.mjs';
// @ts-expect-error the sample's plain-JS ONNX writer has no type declarations
import { DataType, encodeModel } from '../../examples/penguins/lib/onnx-writer.mjs';

describe('model references', () => {
  it('parses every accepted form', () => {
    assert.deepEqual(parseModelRef('models:/penguins-classifier@production'), { model: 'penguins-classifier', alias: 'production' });
    assert.deepEqual(parseModelRef('models:/penguins-classifier/3'), { model: 'penguins-classifier', version: 3 });
    assert.deepEqual(parseModelRef('penguins-classifier@staging'), { model: 'penguins-classifier', alias: 'staging' });
    assert.deepEqual(parseModelRef('penguins-classifier/v12'), { model: 'penguins-classifier', version: 12 });
    assert.deepEqual(parseModelRef('penguins-classifier'), { model: 'penguins-classifier', latest: true });
    assert.deepEqual(parseModelRef('models:/m/latest'), { model: 'm', latest: true });
    assert.equal(formatRef({ model: 'm', alias: 'champion' }), 'models:/m@champion');
    assert.equal(formatRef({ model: 'm', version: 2 }), 'models:/m/2');
  });

  it('refuses malformed references with the forms that exist', () => {
    for (const bad of ['models:/', 'models:/@prod', 'm/0', 'm/x', 'm@', '9lives', 'a b']) {
      assert.throws(() => parseModelRef(bad), (e: Error & { code?: string }) => e.code === 'BAD_REQUEST' && /models:\/NAME@ALIAS/.test(e.message), bad);
    }
    assert.throws(() => parseAliasRef('m/3'), /names no alias/);
    assert.throws(() => parseVersion('0'), /not a version/);
    assert.equal(parseVersion('v7'), 7);
  });
});

describe('gates', () => {
  const base = { model: 'm', version: 4, alias: 'production', approvalsRequired: 1 };
  const holders: Record<string, { version: number; metrics: Record<string, number> }> = { production: { version: 2, metrics: { auc: 0.97, loss: 0.3 } } };
  const holder = (a: string) => holders[a];

  it('checks absolute bounds and says why a value fails', () => {
    const gates: Gate[] = [{ metric: 'accuracy', min: 0.9 }, { metric: 'loss', max: 0.2 }];
    const r = evaluateGates({ ...base, metrics: { accuracy: 0.85, loss: 0.1 }, gates, holder });
    assert.equal(r.passed, false);
    assert.deepEqual(r.checks.map((c) => [c.metric, c.passed]), [['accuracy', false], ['loss', true]]);
    assert.match(r.checks[0]!.note!, /0\.85 is below the minimum 0\.9/);
  });

  it('holds a version to the current holder of another alias, with a tolerance', () => {
    const gates: Gate[] = [{ metric: 'auc', relative_to: 'production', tolerance: 0.01 }];
    assert.equal(evaluateGates({ ...base, metrics: { auc: 0.96 }, gates, holder }).passed, true, '0.96 >= 0.97 - 0.01 (float slack)');
    const fail = evaluateGates({ ...base, metrics: { auc: 0.955 }, gates, holder });
    assert.equal(fail.passed, false);
    assert.deepEqual(fail.checks[0]!.reference, { alias: 'production', version: 2, value: 0.97 });
    assert.ok(Math.abs(fail.checks[0]!.threshold! - 0.96) < 1e-12);
    const table = gateTable(fail).join('\n');
    assert.match(table, /METRIC\s+CONDITION\s+VALUE\s+THRESHOLD\s+RESULT/);
    assert.match(table, /auc\s+>= production \(v2\) - 0\.01\s+0\.955\s+0\.96\s+FAIL/);
  });

  it('passes a relative gate when nobody holds the alias yet, and fails a missing metric', () => {
    const r = evaluateGates({ ...base, metrics: {}, gates: [{ metric: 'auc', relative_to: 'champion' }, { metric: 'auc', min: 0.5 }], holder });
    assert.deepEqual(r.checks.map((c) => c.passed), [true, false]);
    assert.match(r.checks[0]!.note!, /no version holds champion yet/);
    assert.match(r.checks[1]!.note!, /has no metric "auc"/);
    const err = gateError(r);
    assert.equal(err.code, 'GATE_FAILED');
    assert.equal(err.status, 412);
    assert.match(err.message, /m v4 fails 1 of 2 gate conditions for @production:\n {2}METRIC/);
  });
});

describe('alias history and rollback', () => {
  const set = (version: number) => ({ action: 'set' as const, version });
  it('rolls back one holder at a time, like a stack (not an undo)', () => {
    const events = [set(1), set(2), set(3)];
    const exists = () => true;
    assert.deepEqual(planRollback(events, exists), { ok: true, from: 3, to: 2 });
    const after1 = [...events, { action: 'rollback' as const, version: 2 }];
    assert.deepEqual(holderStack(after1), [1, 2]);
    assert.deepEqual(planRollback(after1, exists), { ok: true, from: 2, to: 1 });
    const after2 = [...after1, { action: 'rollback' as const, version: 1 }];
    assert.deepEqual(planRollback(after2, exists), { ok: false, reason: 'it has had no other holder to go back to' });
  });

  it('skips deleted versions and restores an unset alias', () => {
    assert.deepEqual(planRollback([set(1), set(2), set(3)], (v) => v !== 2), { ok: true, from: 3, to: 1 });
    assert.deepEqual(planRollback([set(1), { action: 'unset' }], () => true), { ok: true, to: 1 });
    assert.deepEqual(planRollback([set(1), set(2)], (v) => v !== 1), { ok: false, reason: 'none of its previous holders exists any more' });
  });
});

describe('ONNX signature', () => {
  const model = softmaxRegressionToOnnx({
    features: ['a', 'b', 'c'],
    classes: ['x', 'y'],
    mean: [0, 0, 0],
    std: [1, 1, 1],
    W: [1, 0, 0, 1, 1, 1],
    b: [0, 0],
  }) as Uint8Array;

  it("reads names, types and shapes, as onnxruntime sees the model", async () => {
    const sig = onnxSignature(model);
    assert.deepEqual(sig.inputs, [{ name: 'input', type: 'float32', shape: ['N', 3] }]);
    assert.deepEqual(sig.outputs, [
      { name: 'probabilities', type: 'float32', shape: ['N', 2] },
      { name: 'label', type: 'int64', shape: ['N'] },
    ]);
    assert.equal(sig.irVersion, 8);
    assert.deepEqual(sig.opsets, { 'ai.onnx': 13 });
    assert.equal(sig.producer, 'mlops-workbench');
    assert.equal(sig.metadata?.feature_names, '["a","b","c"]');
    const session = await ort.InferenceSession.create(model);
    assert.deepEqual(sig.inputs.map((t) => t.name), session.inputNames);
    assert.deepEqual(sig.outputs.map((t) => t.name), session.outputNames);
    assert.equal(signatureLine({ signature: sig }), 'input float32 [N, 3] → probabilities float32 [N, 2], label int64 [N]');
  });

  it('leaves initializers listed as graph inputs (old exporters) out of the signature', () => {
    const bytes = encodeModel({
      irVersion: 3,
      opsetImports: [{ domain: '', version: 9 }],
      graph: {
        name: 'g',
        nodes: [{ opType: 'Add', name: 'add', inputs: ['x', 'w'], outputs: ['y'] }],
        initializers: [{ name: 'w', dataType: DataType.FLOAT, dims: [2], values: [1, 2] }],
        inputs: [
          { name: 'x', elemType: DataType.FLOAT, shape: [1, 2] },
          { name: 'w', elemType: DataType.FLOAT, shape: [2] },
        ],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 2] }],
      },
    }) as Uint8Array;
    assert.deepEqual(onnxSignature(bytes).inputs, [{ name: 'x', type: 'float32', shape: [1, 2] }]);
  });

  it('says a file is not ONNX instead of guessing', () => {
    assert.throws(() => onnxSignature(new TextEncoder().encode('{"weights": [1, 2, 3]}')), NotOnnxError);
    assert.throws(() => onnxSignature(randomBytes(64)), NotOnnxError);
    assert.throws(() => onnxSignature(model.subarray(0, model.length - 20)), NotOnnxError);
  });
});

describe('model card', () => {
  it('has metrics, params, signature, lineage and the promotion rules', () => {
    const v: ModelVersion = {
      model: 'm', version: 3, artifact: { path: 'models/m.onnx', hash: 'ab'.repeat(32), size: 1234 }, runId: 'c'.repeat(32),
      createdAt: Date.UTC(2025, 0, 2, 3, 4, 5), createdBy: 'alice', description: 'Classifies things.', tags: { team: 'ml' },
      metrics: { accuracy: 0.98765432 }, aliases: [],
      signature: { format: 'onnx', inputs: [{ name: 'input', type: 'float32', shape: ['N', 9] }], outputs: [{ name: 'label', type: 'int64', shape: ['N'] }] },
      lineage: { datasets: { penguins: 'd'.repeat(64) }, runId: 'c'.repeat(32), runName: 'train', experiment: 'penguins', pipelineRunId: 'e'.repeat(32), step: 'train', gitCommit: 'f'.repeat(40), gitDirty: true, params: { lr: '0.1' } },
    };
    const card = generateCard(v, { gates: [{ metric: 'accuracy', min: 0.9 }, { metric: 'auc', relative_to: 'production', tolerance: 0.01 }], approvals: { production: 2 } });
    assert.match(card, /^# m v3\n\nClassifies things\.\n/);
    assert.match(card, /\| Registered \| 2025-01-02 03:04:05 UTC by `alice` \|/);
    assert.match(card, /\| accuracy \| 0\.987654 \|/);
    assert.match(card, /\| lr \| 0\.1 \|/);
    assert.match(card, /\| input \| float32 \| \[N, 9\] \|/);
    assert.match(card, /dataset penguins \(sha256 dddddddddddd\)\n {2}→ pipeline run eeeeeeee\n {2}→ run cccccccc \(train\)\n {2}→ models\/m\.onnx \(sha256 abababababab\)\n {2}→ m v3/);
    assert.match(card, /- gate: accuracy >= 0\.9\n- gate: auc >= @production's - 0\.01\n- @production needs 2 approvals/);
    assert.match(card, /## Intended use/);
  });
});

describe('audit chain', () => {
  const key = randomBytes(32).toString('hex');
  function chain(n: number, k = key): StoredAuditEntry[] {
    const out: StoredAuditEntry[] = [];
    for (let i = 0; i < n; i++) out.push(chainEntry(k, out.at(-1), { at: 1000 + i, actor: i % 2 ? 'alice' : 'bob', action: 'alias.set', target: 'm@production', before: JSON.stringify({ version: i }), after: JSON.stringify({ version: i + 1 }) }));
    return out;
  }
  const head = (c: StoredAuditEntry[], k = key) => anchorFor(k, c.at(-1)!.seq, c.at(-1)!.hash);

  it('accepts an intact chain and an empty log', () => {
    const c = chain(5);
    assert.deepEqual(verifyChain(c, key, head(c)), { ok: true, entries: 5, anchor: { seq: 5, hash: c[4]!.hash }, problems: [] });
    assert.equal(verifyChain([], undefined, undefined).ok, true);
  });

  it('names an edited entry', () => {
    const c = chain(5);
    c[2] = { ...c[2]!, actor: 'mallory' };
    const r = verifyChain(c, key, head(c));
    assert.equal(r.ok, false);
    assert.deepEqual(r.problems.map((p) => p.seq), [3]);
    assert.match(r.problems[0]!.problem, /edited/);
  });

  it('names a deleted entry in the middle and deleted entries at the end', () => {
    const c = chain(5);
    const anchor = head(c);
    const middle = verifyChain([c[0]!, c[1]!, c[3]!, c[4]!], key, anchor);
    assert.ok(middle.problems.some((p) => p.seq === 4 && /entry 3 is missing before it \(deleted\)/.test(p.problem)), JSON.stringify(middle.problems));
    const tail = verifyChain(c.slice(0, 3), key, anchor);
    assert.equal(tail.ok, false);
    assert.match(tail.problems[0]!.problem, /ends at entry 3, but the anchored head is entry 5: entries 4–5 were deleted/);
  });

  it('catches a chain recomputed end to end without the key, and one rewritten to a new anchor', () => {
    const forged = chain(5, 'not-the-key');
    const r = verifyChain(forged, key, head(chain(5)));
    assert.equal(r.ok, false);
    assert.ok(r.problems.some((p) => /not signed by the workspace audit key/.test(p.problem)));
    // Forged entries and a forged head: the head's signature fails too.
    const both = verifyChain(forged, key, head(forged, 'not-the-key'));
    assert.ok(both.problems.some((p) => /anchored head .* is not signed/.test(p.problem)), JSON.stringify(both.problems));
    // The hash covers every field.
    const e = chain(1)[0]!;
    assert.notEqual(entryHash({ ...e, target: 'm@staging' }), e.hash);
    assert.equal(mac(key, e.hash), e.mac);
  });
});

describe('roles', () => {
  it('orders viewer < editor < approver < admin', () => {
    assert.equal(roleAllows('admin', 'approver'), true);
    assert.equal(roleAllows('approver', 'editor'), true);
    assert.equal(roleAllows('editor', 'approver'), false);
    assert.equal(roleAllows('viewer', 'editor'), false);
  });
});
