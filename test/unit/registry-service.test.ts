/**
 * ModelRegistry in-process on each store backend (SQLite, PostgreSQL) in a temp workspace: registration from runs
 * (metrics, lineage, signature, card, the content-addressed copy), aliases with gates,
 * protected aliases and promotion requests by several identities, rollback, deletes, named
 * tokens, and the audit log's verification after the store file is edited by hand.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Caller } from '../../protocol/registry';
import { ObjectCache } from '../../orchestrator/pipelines/cache';
import { sha256File } from '../../orchestrator/pipelines/hash-files';
import { entryHash } from '../../orchestrator/registry/audit-chain';
import { ModelRegistry } from '../../orchestrator/registry/registry';
import type { RegistryStore } from '../../orchestrator/registry/registry-store';
import type { Store } from '../../orchestrator/store/store';
import { forEachBackend } from './store-backends';
// @ts-expect-error the sample's plain-JS ONNX writer has no type declarations
import { softmaxRegressionToOnnx } from '../../examples/penguins/lib/softmax-onnx.mjs';

const MANIFEST = `version: 1
project: reg
steps:
  train:
    cmd: echo train
    outs: [models/m.onnx]
models:
  m:
    from: train
    artifact: models/m.onnx
    description: A test model.
    tags: {team: ml}
    gates:
      - {metric: accuracy, min: 0.9}
      - {metric: accuracy, relative_to: production, tolerance: 0.01}
    approvals: {production: 2}
  free:
    from: train
    artifact: models/m.onnx
`;

const owner: Caller = { name: 'local', role: 'admin' };
const bob: Caller = { name: 'bob', role: 'editor' };
const alice: Caller = { name: 'alice', role: 'approver' };
const carol: Caller = { name: 'carol', role: 'approver' };
const viewer: Caller = { name: 'vic', role: 'viewer' };

let ws: string;
let runs: Store;
let store: RegistryStore;
let reg: ModelRegistry;

function isCode(code: string, msg?: RegExp) {
  return (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    if (msg) assert.match(e.message, msg);
    return true;
  };
}

/** A pipeline run with a train step that wrote a model with `weight` and logged `accuracy`. */
async function trainedRun(accuracy: number, weight: number, status: 'succeeded' | 'failed' = 'succeeded'): Promise<{ pipeline: string; step: string }> {
  fs.mkdirSync(path.join(ws, 'models'), { recursive: true });
  const file = path.join(ws, 'models/m.onnx');
  fs.writeFileSync(file, softmaxRegressionToOnnx({ features: ['a', 'b'], classes: ['x', 'y'], mean: [0, 0], std: [1, 1], W: [weight, 0, 0, 1], b: [0, 0] }) as Uint8Array);
  const { hash, bytes } = await sha256File(file);
  const artifact = { path: 'models/m.onnx', hash, size: bytes };
  await new ObjectCache(ws).save(artifact.path, { kind: 'file', hash, size: bytes });
  const pipeline = await runs.createRun({ experiment: 'reg', name: 'reg', kind: 'pipeline', params: { lr: '0.1' }, gitCommit: 'a'.repeat(40), gitDirty: false, tags: { 'mlops.manifest.hash': 'f'.repeat(64) } });
  const step = await runs.createRun({ experiment: 'reg', name: 'train', kind: 'step', parentId: pipeline, params: { lr: '0.1' } });
  await runs.recordArtifacts(step, [artifact]);
  await runs.recordArtifacts(pipeline, [artifact]);
  await runs.recordDatasetHashes(pipeline, { data: 'd'.repeat(64) });
  await runs.logMetrics(pipeline, [{ key: 'accuracy', value: accuracy, step: 0, timestamp: Date.now() }, { key: 'loss', value: NaN, step: 0, timestamp: Date.now() }]);
  await runs.updateRun(step, { status, endedAt: Date.now() });
  await runs.updateRun(pipeline, { status, endedAt: Date.now() });
  return { pipeline, step };
}

// The same suite for both backends (see store-backends.ts); each gets its own workspace and store.
forEachBackend('ModelRegistry', (backend) => {
  before(async () => {
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-registry-')));
    fs.writeFileSync(path.join(ws, 'mlops.yaml'), MANIFEST);
    await backend.prepare(path.join(ws, '.mlops'));
    runs = await backend.openStore(path.join(ws, '.mlops'));
    store = await backend.openRegistryStore(path.join(ws, '.mlops'));
    reg = new ModelRegistry({ runs, store, workspace: ws });
  });

  after(async () => {
    await store?.close();
    await runs?.close();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  describe('registering versions', () => {
    it('copies a run artifact with metrics, lineage, signature, tags and a card', async () => {
      const { pipeline } = await trainedRun(0.95, 1);
      const v = await reg.register(bob, { model: 'm', runId: pipeline });
      assert.equal(v.version, 1);
      assert.equal(v.createdBy, 'bob');
      assert.equal(v.description, 'A test model.');
      assert.deepEqual(v.tags, { team: 'ml' });
      assert.equal(v.metrics.accuracy, 0.95);
      assert.ok(Number.isNaN(v.metrics.loss!), 'NaN metrics survive');
      assert.deepEqual(v.signature?.inputs, [{ name: 'input', type: 'float32', shape: ['N', 2] }]);
      assert.deepEqual(v.lineage.datasets, { data: 'd'.repeat(64) });
      assert.equal(v.lineage.step, 'train');
      assert.equal(v.lineage.manifestHash, 'f'.repeat(64));
      assert.ok(new ObjectCache(ws).has(v.artifact.hash));
      const detail = await reg.getVersion('models:/m/1');
      assert.match(detail.card, /^# m v1/);
      assert.ok(Number.isNaN(detail.metrics.loss!));
    });

    it('registers from a step run, taking metrics and lineage from its pipeline run', async () => {
      const { pipeline, step } = await trainedRun(0.96, 2);
      const v = await reg.register(bob, { model: 'm', runId: step, tags: { note: 'from step' } });
      assert.equal(v.version, 2);
      assert.equal(v.metrics.accuracy, 0.96);
      assert.equal(v.lineage.pipelineRunId, pipeline);
      assert.equal(v.lineage.runName, 'train');
      assert.equal(v.tags.note, 'from step');
    });

    it('refuses failed runs, unknown artifacts, viewers, and an uncached artifact whose file changed', async () => {
      const failed = await trainedRun(0.99, 3, 'failed');
      await assert.rejects(reg.register(bob, { model: 'm', runId: failed.pipeline }), isCode('CONFLICT', /is failed; register a model from a successful run/));
      const ok = await trainedRun(0.99, 4);
      await assert.rejects(reg.register(bob, { model: 'm', runId: ok.pipeline, artifact: 'models/other.onnx' }), isCode('NOT_FOUND', /recorded no artifact models\/other\.onnx; it has: models\/m\.onnx/));
      await assert.rejects(reg.register(viewer, { model: 'm', runId: ok.pipeline }), isCode('FORBIDDEN', /needs the editor role; token "vic" is a viewer/));
      await assert.rejects(reg.register(bob, { model: 'bad name', runId: ok.pipeline }), isCode('BAD_REQUEST'));
      await assert.rejects(reg.register(bob, { model: 'm', runId: 'f'.repeat(32) }), isCode('NOT_FOUND'));
    });
  });

  describe('aliases and gates', () => {
    it('moves an unprotected alias once the gates pass, and refuses with the table when one fails', async () => {
      const low = await trainedRun(0.85, 5);
      const v3 = await reg.register(bob, { model: 'm', runId: low.pipeline });
      const auditBefore = (await reg.auditLog()).total;
      await assert.rejects(reg.setAlias(bob, 'm', 'staging', v3.version), (e: Error & { code?: string; details?: { passed: boolean } }) => {
        assert.equal(e.code, 'GATE_FAILED');
        assert.match(e.message, /m v3 fails 1 of 2 gate conditions for @staging:\n {2}METRIC\s+CONDITION/);
        assert.match(e.message, /accuracy\s+>= 0\.9\s+0\.85\s+0\.9\s+FAIL \(0\.85 is below the minimum 0\.9\)/);
        assert.equal(e.details?.passed, false);
        return true;
      });
      assert.equal((await reg.auditLog()).total, auditBefore, 'a refused move writes nothing');
      assert.deepEqual(await reg.history('m', 'staging'), []);
      const res = await reg.setAlias(bob, 'm', 'staging', 1);
      assert.equal(res.gates.passed, true);
      assert.deepEqual([res.event?.action, res.event?.version, res.event?.previous, res.event?.actor], ['set', 1, undefined, 'bob']);
      assert.equal((await reg.resolve('models:/m@staging')).version, 1);
      assert.equal((await reg.resolve('m')).version, 3, 'NAME alone is the latest version');
      await assert.rejects(reg.resolve('m@champion'), isCode('NOT_FOUND', /m has no alias @champion \(it has @staging\)/));
    });

    it('refuses to move a protected alias directly, naming the approvals missing', async () => {
      await assert.rejects(reg.setAlias(owner, 'm', 'production', 1), isCode('FORBIDDEN', /m@production is protected: it moves only after 2 approvals .* v1 has none \(0 of 2\); request them with: mlops models request m@production 1/));
    });
  });

  describe('promotions', () => {
    it('needs approvals from identities other than the requester; the last one moves the alias', async () => {
      const r = await reg.requestPromotion(alice, 'm', 'production', 1, 'first release');
      assert.deepEqual([r.status, r.required, r.requestedBy], ['pending', 2, 'alice']);
      await assert.rejects(reg.requestPromotion(bob, 'm', 'production', 1), isCode('CONFLICT', /already pending/));
      await assert.rejects(reg.approve(alice, { model: 'm', alias: 'production', version: 1 }), isCode('FORBIDDEN', /made by "alice"; an approval must come from another identity/));
      await assert.rejects(reg.approve(bob, { model: 'm', alias: 'production', version: 1 }), isCode('FORBIDDEN', /needs the approver role/));
      const first = await reg.approve(carol, { model: 'm', alias: 'production', version: 1 });
      assert.equal(first.event, undefined, 'one of two approvals does not move it');
      assert.equal(first.request.approvals.length, 1);
      await assert.rejects(reg.approve(carol, { id: r.id }), isCode('CONFLICT', /already approved/));
      await assert.rejects(reg.setAlias(owner, 'm', 'production', 1), isCode('FORBIDDEN', /request #1 for v1 has 1 of 2/));
      const second = await reg.approve(owner, { id: r.id }, 'ship it');
      assert.equal(second.request.status, 'approved');
      assert.deepEqual([second.event?.action, second.event?.version, second.event?.requestId], ['promote', 1, r.id]);
      assert.equal((await reg.resolve('m@production')).version, 1);
      const models = await reg.listModels();
      assert.deepEqual(models.find((m) => m.name === 'm')?.protectedAliases, { production: 2 });
    });

    it('checks gates relative to the current production holder', async () => {
      const worse = await trainedRun(0.93, 6); // production (v1) has 0.95; tolerance 0.01
      const v = await reg.register(bob, { model: 'm', runId: worse.pipeline });
      const report = await reg.checkGates('m', v.version, 'production');
      assert.equal(report.passed, false);
      assert.deepEqual(report.checks[1]?.reference, { alias: 'production', version: 1, value: 0.95 });
      await assert.rejects(reg.requestPromotion(bob, 'm', 'production', v.version), isCode('GATE_FAILED', /accuracy\s+>= production \(v1\) - 0\.01\s+0\.93\s+0\.94\s+FAIL/));
    });

    it('records rejections and withdrawals by the right people only', async () => {
      const r = await reg.requestPromotion(bob, 'm', 'production', 2);
      await assert.rejects(reg.cancelRequest({ name: 'dave', role: 'editor' }, { id: r.id }), isCode('FORBIDDEN', /only they \(or an admin\)/));
      const rejected = await reg.reject(alice, { id: r.id }, 'not yet');
      assert.deepEqual([rejected.status, rejected.rejection?.actor, rejected.rejection?.comment], ['rejected', 'alice', 'not yet']);
      await assert.rejects(reg.approve(carol, { id: r.id }), isCode('CONFLICT', /already rejected/));
      const again = await reg.requestPromotion(bob, 'm', 'production', 2);
      assert.equal((await reg.cancelRequest(bob, { id: again.id })).status, 'cancelled');
      assert.deepEqual((await reg.listRequests({ model: 'm' })).map((x) => x.status), ['cancelled', 'rejected', 'approved']);
    });

    it('refuses a request for an alias that needs no approvals', async () => {
      await assert.rejects(reg.requestPromotion(bob, 'm', 'staging', 1), isCode('BAD_REQUEST', /needs no approvals .* set it directly: mlops models alias m@staging 1/));
    });
  });

  describe('rollback, history, deletes', () => {
    it('rolls an alias back through its previous holders', async () => {
      await reg.setAlias(bob, 'm', 'staging', 2);
      await reg.setAlias(bob, 'm', 'staging', 3).catch(() => undefined); // v3 fails the gates: no move
      const r = await reg.rollback(bob, 'm', 'staging');
      assert.deepEqual([r.action, r.previous, r.version], ['rollback', 2, 1]);
      await assert.rejects(reg.rollback(bob, 'm', 'staging'), isCode('CONFLICT', /cannot be rolled back: it has had no other holder/));
      const history = await reg.history('m', 'staging');
      assert.deepEqual(history.map((e) => [e.action, e.previous ?? null, e.version ?? null]), [['rollback', 2, 1], ['set', 1, 2], ['set', null, 1]]);
    });

    it('needs the approver role to roll back a protected alias', async () => {
      await assert.rejects(reg.rollback(bob, 'm', 'production'), isCode('FORBIDDEN', /rolling back the protected alias @production needs the approver role/));
      await assert.rejects(reg.rollback(alice, 'm', 'production'), isCode('CONFLICT', /no other holder/));
    });

    it('deletes only versions no alias points at, never reusing numbers', async () => {
      await assert.rejects(reg.deleteVersion(owner, 'm', 1), isCode('CONFLICT', /holds @production, @staging/));
      await assert.rejects(reg.deleteVersion(bob, 'm', 3), isCode('FORBIDDEN'));
      await reg.deleteVersion(owner, 'm', 3);
      await assert.rejects(reg.resolve('m/3'), isCode('NOT_FOUND', /m has no version 3/));
      const { pipeline } = await trainedRun(0.97, 7);
      assert.equal((await reg.register(bob, { model: 'm', runId: pipeline })).version, 5, 'numbers 3 and 4 stay used');
      await assert.rejects(reg.deleteModel(owner, 'm'), isCode('CONFLICT', /still has @production, @staging/));
      const free = await reg.register(bob, { model: 'free', runId: pipeline });
      await reg.setAlias(bob, 'free', 'champion', free.version);
      await reg.unsetAlias(bob, 'free', 'champion');
      await reg.deleteModel(owner, 'free');
      await assert.rejects(reg.getModel('free'), isCode('NOT_FOUND'));
    });
  });

  describe('named tokens', () => {
    it('authenticates by hash, refuses revoked tokens, keeps no secret', async () => {
      const { token, info } = await reg.createToken(owner, 'erin', 'approver');
      assert.match(token, /^mlt_[0-9a-f]{48}$/);
      assert.deepEqual([info.name, info.role, info.createdBy], ['erin', 'approver', 'local']);
      assert.deepEqual(await reg.authenticate(token), { name: 'erin', role: 'approver' });
      assert.equal(await reg.authenticate(token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')), undefined);
      await assert.rejects(reg.createToken(owner, 'erin', 'viewer'), isCode('CONFLICT'));
      await assert.rejects(reg.createToken(owner, 'local', 'viewer'), isCode('BAD_REQUEST', /reserved/));
      await assert.rejects(reg.createToken(alice, 'x', 'viewer'), isCode('FORBIDDEN'));
      await reg.revokeToken(owner, 'erin');
      assert.equal(await reg.authenticate(token), undefined);
      const dump = JSON.stringify(await backend.sql(path.join(ws, '.mlops'), 'SELECT * FROM api_tokens'));
      assert.ok(!dump.includes(token.slice(4)), 'the secret is not stored');
    });
  });

  describe('audit log', () => {
    const sql = (query: string, args: unknown[] = []) => backend.sql<Record<string, unknown>>(path.join(ws, '.mlops'), query, args);

    it('records every change with its actor and verifies', async () => {
      const { entries, total } = await reg.auditLog(1000);
      assert.ok(total >= 20, `${total} entries`);
      const actions = new Set(entries.map((e) => e.action));
      for (const a of ['model.register', 'alias.set', 'alias.unset', 'alias.rollback', 'alias.promote', 'request.create', 'request.approve', 'request.reject', 'request.cancel', 'version.delete', 'model.delete', 'token.create', 'token.revoke']) {
        assert.ok(actions.has(a as never), `has ${a}`);
      }
      const promote = entries.find((e) => e.action === 'alias.promote')!;
      assert.equal(promote.actor, 'local');
      assert.deepEqual(promote.before, { version: null });
      assert.equal(fs.statSync(path.join(ws, '.mlops/audit.key')).mode & 0o777, 0o600);
      assert.deepEqual(await reg.verifyAudit(), { ok: true, entries: total, anchor: { seq: total, hash: entries[0]!.hash }, problems: [] });
    });

    it('detects an entry edited in the store file', async () => {
      const actor = (await sql('SELECT actor FROM audit_log WHERE seq = 5'))[0]!.actor;
      await sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5");
      const r = await reg.verifyAudit();
      assert.equal(r.ok, false);
      assert.deepEqual(r.problems.map((p) => p.seq), [5]);
      await sql('UPDATE audit_log SET actor = ? WHERE seq = 5', [actor]);
      assert.equal((await reg.verifyAudit()).ok, true, 'restored');
    });

    it('detects a chain recomputed end to end (without the key) and deletions', async () => {
      const stored = await store.read((tx) => tx.auditChain());
      // Drop entry 3 and rebuild every hash after it, as a careful forger would.
      await sql('DELETE FROM audit_log WHERE seq = 3');
      let prev = '';
      let seq = 0;
      for (const e of stored.filter((x) => x.seq !== 3)) {
        seq++;
        const hash = entryHash({ ...e, seq, prevHash: prev });
        await sql('UPDATE audit_log SET seq = ?, prev_hash = ?, hash = ? WHERE seq = ?', [seq, prev, hash, e.seq]);
        prev = hash;
      }
      const r = await reg.verifyAudit();
      assert.equal(r.ok, false);
      assert.ok(r.problems.some((p) => /not signed by the workspace audit key/.test(p.problem)), JSON.stringify(r.problems.slice(0, 3)));
      assert.ok(r.problems.some((p) => /anchored head/.test(p.problem)));
      await sql('DELETE FROM audit_log');
      const emptied = await reg.verifyAudit();
      assert.match(emptied.problems[0]!.problem, /the log is empty, but the anchored head says it had \d+ entries/);
    });
  });
});
