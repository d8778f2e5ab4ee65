/**
 * Issue 6's "done when", end to end through the CLI: a real daemon (the TypeScript sources,
 * detached) and real training runs of the penguins sample in a temp copy. Register the trained
 * model, promote it to production with a request and an approval by two identities (named
 * tokens), fail a gate on purpose (a worse model against production, relative gate) and see
 * the table, pass it with a better one, promote that, roll production back, verify the audit
 * log — and see verification fail after the store's audit table is edited by hand.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'libsql';
import type { AuditEntry, AuditVerification, ModelVersion, ModelVersionDetail } from '../../protocol/registry';
import type { RunSummary } from '../../protocol/types';
import { main } from '../../orchestrator/cli/main';
import type { Output } from '../../orchestrator/cli/output';
import { findDaemon, stopDaemon } from '../../orchestrator/daemon/launcher';
import { isAlive } from '../../orchestrator/daemon/proc';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = path.join(REPO, 'examples', 'penguins');
const GENERATED = new Set(['.mlops', 'models', 'metrics', path.join('data', 'prepared')]);
const MODEL = 'penguins-classifier';

let ws: string;
const savedEnv = { MLOPS_HOME: process.env.MLOPS_HOME, MLOPS_TOKEN: process.env.MLOPS_TOKEN };

before(() => {
  ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-registry-cli-')));
  fs.cpSync(SAMPLE, ws, { recursive: true, filter: (src) => !GENERATED.has(path.relative(SAMPLE, src)) });
  // A second gate, relative to production: a new version may be at most 0.005 below it.
  const manifest = fs.readFileSync(path.join(ws, 'mlops.yaml'), 'utf8');
  const gate = '      - {metric: accuracy, min: 0.9}\n';
  assert.ok(manifest.includes(gate), 'the sample declares the accuracy gate');
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), manifest.replace(gate, `${gate}      - {metric: accuracy, relative_to: production, tolerance: 0.005}\n`));
  process.env.MLOPS_HOME = REPO; // evaluate borrows onnxruntime-node from the workbench
  delete process.env.MLOPS_TOKEN;
});

after(async () => {
  process.env.MLOPS_HOME = savedEnv.MLOPS_HOME;
  if (savedEnv.MLOPS_TOKEN === undefined) delete process.env.MLOPS_TOKEN;
  else process.env.MLOPS_TOKEN = savedEnv.MLOPS_TOKEN;
  if (savedEnv.MLOPS_HOME === undefined) delete process.env.MLOPS_HOME;
  const d = await findDaemon(ws);
  await stopDaemon(ws, { timeoutMs: 5000 }).catch(() => undefined);
  if (d && isAlive(d.pid)) process.kill(d.pid, 'SIGKILL');
  fs.rmSync(ws, { recursive: true, force: true });
});

interface CliResult {
  code: number;
  out: string[];
  err: string[];
  json: unknown[];
}

/** The CLI in this process; `as` presents that named token (MLOPS_TOKEN), else the workspace token. */
async function cli(as: string | undefined, ...args: string[]): Promise<CliResult> {
  const io = { out: [] as string[], err: [] as string[], json: [] as unknown[] };
  const output: Output = { out: (l) => io.out.push(l), err: (l) => io.err.push(l), json: (v) => io.json.push(JSON.parse(JSON.stringify(v))) };
  if (as) process.env.MLOPS_TOKEN = as;
  try {
    const code = await main(args, output, ws);
    return { code, ...io };
  } finally {
    delete process.env.MLOPS_TOKEN;
  }
}

const text = (r: CliResult) => [...r.out, ...r.err].join('\n');

async function train(...params: string[]): Promise<RunSummary> {
  const r = await cli(undefined, 'run', ...params.flatMap((p) => ['-p', p]));
  assert.equal(r.code, 0, text(r));
  const runs = await cli(undefined, 'runs', '--json', '--limit', '1');
  return (runs.json[0] as { runs: RunSummary[] }).runs[0]!;
}

async function register(run: RunSummary): Promise<ModelVersion> {
  const r = await cli(undefined, 'models', 'register', MODEL, '--run', run.id.slice(0, 8), '--json');
  assert.equal(r.code, 0, text(r));
  return r.json[0] as ModelVersion;
}

describe('issue 6 on the penguins sample, through the CLI', () => {
  const tokens: Record<'bob' | 'alice', string> = { bob: '', alice: '' };
  let v1: ModelVersion;

  it('registers the trained model with its metrics, signature, lineage and card', async () => {
    const run = await train();
    assert.equal(run.status, 'succeeded');
    v1 = await register(run);
    assert.equal(v1.version, 1);
    assert.ok(v1.metrics.accuracy! >= 0.95, `accuracy ${v1.metrics.accuracy}`);
    assert.equal(v1.artifact.path, 'models/penguins.onnx');
    assert.deepEqual(v1.signature?.inputs, [{ name: 'input', type: 'float32', shape: ['N', 9] }]);
    assert.deepEqual(v1.signature?.outputs, [
      { name: 'probabilities', type: 'float32', shape: ['N', 3] },
      { name: 'label', type: 'int64', shape: ['N'] },
    ]);
    assert.deepEqual(Object.keys(v1.lineage.datasets), ['penguins']);
    assert.equal(v1.lineage.runId, run.id);
    assert.equal(v1.lineage.step, 'train');
    const card = await cli(undefined, 'models', 'card', `${MODEL}/1`);
    assert.match(card.out.join('\n'), /^# penguins-classifier v1\n/);
    assert.match(card.out.join('\n'), /\| input \| float32 \| \[N, 9\] \|/);
    assert.match(card.out.join('\n'), /dataset penguins \(sha256 [0-9a-f]{12}\)/);
    const list = await cli(undefined, 'models', 'list');
    assert.match(list.out.join('\n'), /^MODEL\s+VERSIONS\s+LATEST\s+ALIASES\s+PENDING\s+UPDATED\npenguins-classifier\s+1\s+v1\s+-/);
  });

  it('creates two named tokens, shown once', async () => {
    for (const [name, role] of [['bob', 'editor'], ['alice', 'approver']] as const) {
      const r = await cli(undefined, 'tokens', 'create', name, '--role', role);
      assert.equal(r.code, 0, text(r));
      tokens[name] = r.out[0]!;
      assert.match(tokens[name], /^mlt_[0-9a-f]{48}$/);
      assert.match(r.err.join('\n'), /shown only this once/);
    }
    const list = await cli(undefined, 'tokens', 'list', '--json');
    assert.deepEqual((list.json[0] as { tokens: { name: string; role: string }[] }).tokens.map((t) => [t.name, t.role]), [['alice', 'approver'], ['bob', 'editor']]);
    assert.ok(!JSON.stringify(list.json).includes(tokens.bob.slice(4)), 'listings never show a secret');
    const who = await cli(tokens.bob, 'tokens', 'list');
    assert.equal(who.code, 1);
    assert.match(text(who), /needs the admin role; token "bob" is editor/);
  });

  it('promotes v1 to production only through a request and an approval by someone else', async () => {
    const direct = await cli(tokens.bob, 'models', 'alias', `${MODEL}@production`, '1');
    assert.equal(direct.code, 1);
    assert.match(text(direct), /penguins-classifier@production is protected: it moves only after 1 approval .* request them with: mlops models request penguins-classifier@production 1/);
    const req = await cli(tokens.bob, 'models', 'request', `${MODEL}@production`, '1', '-m', 'first release');
    assert.equal(req.code, 0, text(req));
    assert.match(req.out[0]!, /^request #1: penguins-classifier@production → v1 by bob, needs 1 approval/);
    const self = await cli(tokens.bob, 'models', 'approve', `${MODEL}@production`, '1');
    assert.equal(self.code, 1);
    assert.match(text(self), /needs the approver role; token "bob" is editor/);
    const ok = await cli(tokens.alice, 'models', 'approve', `${MODEL}@production`, '1');
    assert.equal(ok.code, 0, text(ok));
    assert.deepEqual(ok.out, ['approved request #1 (1 of 1)', 'penguins-classifier@production: (unset) → v1']);
  });

  it('fails a gate on purpose: a worse model is refused with a table of what failed', async () => {
    const worse = await train('epochs=1', 'lr=0.00001');
    const v2 = await register(worse);
    assert.equal(v2.version, 2);
    assert.ok(v2.metrics.accuracy! < v1.metrics.accuracy! - 0.005, `v2 ${v2.metrics.accuracy} vs v1 ${v1.metrics.accuracy}`);
    const r = await cli(tokens.bob, 'models', 'alias', `${MODEL}@staging`, '2');
    assert.equal(r.code, 1, text(r));
    const lines = r.err.join('\n');
    assert.match(lines, /^mlops: penguins-classifier v2 fails 1 of 2 gate conditions for @staging:$/m);
    assert.match(lines, /^ {2}METRIC\s+CONDITION\s+VALUE\s+THRESHOLD\s+RESULT$/m);
    assert.match(lines, /^ {2}accuracy\s+>= 0\.9\s+0\.9\d+\s+0\.9\s+pass$/m);
    assert.match(lines, /^ {2}accuracy\s+>= production \(v1\) - 0\.005\s+0\.9\d+\s+0\.98\d+\s+FAIL \(0\.9\d+ is below production \(v1\) 0\.98\d+ - 0\.005\)$/m);
    const json = await cli(tokens.bob, 'models', 'alias', `${MODEL}@staging`, '2', '--json');
    assert.equal(json.code, 1);
    const body = json.json[0] as { error: { code: string; details: { passed: boolean; checks: { passed: boolean }[] } } };
    assert.equal(body.error.code, 'GATE_FAILED');
    assert.deepEqual(body.error.details.checks.map((c) => c.passed), [true, false]);
    const history = await cli(undefined, 'models', 'history', `${MODEL}@staging`, '--json');
    assert.deepEqual((history.json[0] as { events: unknown[] }).events, [], 'nothing moved');
  });

  it('passes the gates with a better model, which is then promoted the same way', async () => {
    const better = await train('epochs=600');
    const v3 = await register(better);
    assert.equal(v3.version, 3);
    const gates = await cli(undefined, 'models', 'gates', `${MODEL}@production`, '3');
    assert.equal(gates.code, 0, text(gates));
    assert.match(gates.out.join('\n'), /gates for penguins-classifier v3 → @production: PASS/);
    const staging = await cli(tokens.bob, 'models', 'alias', `${MODEL}@staging`, '3');
    assert.equal(staging.code, 0, text(staging));
    assert.match(staging.out[0]!, /^penguins-classifier@staging: \(unset\) → v3$/);
    assert.equal((await cli(tokens.bob, 'models', 'request', `${MODEL}@production`, '3')).code, 0);
    const approve = await cli(tokens.alice, 'models', 'approve', `${MODEL}@production`, '3', '--json');
    assert.equal(approve.code, 0, text(approve));
    assert.deepEqual((approve.json[0] as { event: { previous: number; version: number } }).event.version, 3);
    const show = await cli(undefined, 'models', 'show', `models:/${MODEL}@production`, '--json');
    assert.equal((show.json[0] as ModelVersionDetail).version, 3);
  });

  it('rolls production back to its previous holder and keeps the history', async () => {
    const denied = await cli(tokens.bob, 'models', 'rollback', `${MODEL}@production`);
    assert.equal(denied.code, 1);
    assert.match(text(denied), /rolling back the protected alias @production needs the approver role/);
    const r = await cli(tokens.alice, 'models', 'rollback', `${MODEL}@production`);
    assert.equal(r.code, 0, text(r));
    assert.equal(r.out[0], 'rolled back penguins-classifier@production: v3 → v1');
    const resolved = await cli(undefined, 'models', 'resolve', `models:/${MODEL}@production`, '--json');
    assert.equal((resolved.json[0] as { uri: string }).uri, `models:/${MODEL}/1`);
    const history = await cli(undefined, 'models', 'history', `${MODEL}@production`);
    const rows = history.out.slice(1).map((l) => l.split(/\s{2,}/).slice(1));
    assert.deepEqual(rows, [
      ['@production', 'rollback', 'v3', 'v1', 'alice'],
      ['@production', 'promote (#2)', 'v1', 'v3', 'alice'],
      ['@production', 'promote (#1)', '-', 'v1', 'alice'],
    ]);
    const requests = await cli(undefined, 'models', 'requests', '--all', '--json');
    assert.deepEqual((requests.json[0] as { requests: { id: number; status: string; requestedBy: string }[] }).requests.map((q) => [q.id, q.status, q.requestedBy]), [[2, 'approved', 'bob'], [1, 'approved', 'bob']]);
  });

  it('verifies the audit log, then detects an entry edited by hand in the store', async () => {
    const log = await cli(undefined, 'audit', 'log', '--json');
    const entries = (log.json[0] as { entries: AuditEntry[] }).entries;
    const promote = entries.find((e) => e.action === 'alias.promote' && (e.after as { version: number }).version === 1)!;
    assert.equal(promote.actor, 'alice');
    assert.deepEqual((promote.after as { requestedBy: string }).requestedBy, 'bob');
    assert.ok(entries.some((e) => e.action === 'alias.rollback' && e.actor === 'alice'));
    const ok = await cli(undefined, 'audit', 'verify');
    assert.equal(ok.code, 0, text(ok));
    assert.match(ok.out[0]!, new RegExp(`^audit log OK: ${entries.length} entries, chain intact, head #${entries.length} [0-9a-f]{12} matches the anchor$`));

    // Someone rewrites who approved the first promotion, straight in .mlops/store.db.
    const db = new Database(path.join(ws, '.mlops', 'store.db'));
    try {
      db.prepare("UPDATE audit_log SET actor = 'bob' WHERE seq = ?").run([promote.seq]);
    } finally {
      db.close();
    }
    const bad = await cli(undefined, 'audit', 'verify');
    assert.equal(bad.code, 1);
    assert.match(bad.err.join('\n'), new RegExp(`^audit log FAILED verification \\(${entries.length} entries\\):\\n {2}entry ${promote.seq}: its content does not match its hash: the entry was edited$`));
    const json = await cli(undefined, 'audit', 'verify', '--json');
    assert.equal((json.json[0] as AuditVerification).ok, false);
    assert.deepEqual((json.json[0] as AuditVerification).problems.map((p) => p.seq), [promote.seq]);
  });

  it('reads the registry from the store when no daemon runs', async () => {
    await stopDaemon(ws, { timeoutMs: 10_000 });
    assert.equal(await findDaemon(ws), undefined);
    const r = await cli(undefined, 'models', 'show', MODEL);
    assert.equal(r.code, 0, text(r));
    assert.match(r.out.join('\n'), /aliases:\s+@production=v1 @staging=v3/);
    assert.match(r.out.join('\n'), /protected:\s+@production \(1 approval\)/);
    const verify = await cli(undefined, 'audit', 'verify');
    assert.equal(verify.code, 1, 'still broken, read in-process');
    assert.equal(await findDaemon(ws), undefined, 'reads leave no daemon behind');
  });
});

describe('a workspace with nothing registered', () => {
  it('lists no models without creating .mlops/ or starting a daemon', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-registry-empty-'));
    try {
      fs.writeFileSync(path.join(empty, 'mlops.yaml'), 'version: 1\nproject: empty\nsteps:\n  a:\n    cmd: echo a\n');
      const io = { out: [] as string[], err: [] as string[] };
      const output: Output = { out: (l) => io.out.push(l), err: (l) => io.err.push(l), json: () => undefined };
      assert.equal(await main(['models', 'list'], output, empty), 0);
      assert.deepEqual(io.out, ['no registered models yet (register one with: mlops models register NAME --run RUN)']);
      assert.equal(await main(['models', 'show', 'm@production'], output, empty), 2);
      assert.match(io.err.at(-1)!, /no registered models yet/);
      assert.equal(await main(['audit', 'verify'], output, empty), 0);
      assert.ok(!fs.existsSync(path.join(empty, '.mlops')));
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
