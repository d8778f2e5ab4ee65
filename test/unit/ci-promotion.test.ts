/**
 * Promotion from CI only (`ci_only_aliases`), through the real daemon's HTTP API with named
 * tokens of every role, on a real penguins run: people cannot move the alias (the refusal says
 * to ask CI), an approver's approval no longer moves it, and the ci token then applies the
 * approved request; an unprotected ci-only alias is set by CI alone. Tokens are made with
 * `mlops tokens create NAME --role ci`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ROLES, type AliasEvent, type PromotionRequest, type RegisteredModel, type Role } from '../../protocol/registry';
import type { RunSummary } from '../../protocol/types';
import { findDaemon } from '../../orchestrator/daemon/launcher';
import { runCli, saveEnv, stopWorkspaceDaemon, type CliResult } from './cli-harness';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = path.join(REPO, 'examples', 'penguins');
const GENERATED = new Set(['.mlops', 'models', 'metrics', path.join('data', 'prepared')]);
const MODEL = 'penguins-classifier';
const REFUSAL = (alias: string) => `alias ${alias} of ${MODEL} can only be moved by a token with the ci role (ci_only_aliases); ask CI to promote it`;

let ws: string;
let url: string;
const tokens = new Map<Role, string>();
const restoreEnv = saveEnv('MLOPS_HOME', 'MLOPS_TOKEN');
const text = (r: CliResult) => [...r.out, ...r.err].join('\n');

async function api(role: Role, method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${tokens.get(role)}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: await res.json() };
}

/** The CLI as a named token (MLOPS_TOKEN). */
async function cliAs(role: Role | undefined, ...args: string[]): Promise<CliResult> {
  if (role) process.env.MLOPS_TOKEN = tokens.get(role)!;
  try {
    return await runCli(args, ws);
  } finally {
    delete process.env.MLOPS_TOKEN;
  }
}

before(async () => {
  ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-ci-promotion-')));
  fs.cpSync(SAMPLE, ws, { recursive: true, filter: (src) => !GENERATED.has(path.relative(SAMPLE, src)) });
  const file = path.join(ws, 'mlops.yaml');
  const manifest = fs.readFileSync(file, 'utf8');
  assert.ok(manifest.includes('    approvals: {production: 1}\n'));
  fs.writeFileSync(file, manifest.replace('    approvals: {production: 1}\n', '    approvals: {production: 1}\n    ci_only_aliases: [production, qa]\n'));
  process.env.MLOPS_HOME = REPO;
  delete process.env.MLOPS_TOKEN;
  const r = await runCli(['run'], ws);
  assert.equal(r.code, 0, text(r));
  const run = ((await runCli(['runs', '--limit', '1', '--json'], ws)).json[0] as { runs: RunSummary[] }).runs[0]!;
  for (const role of ROLES) {
    const created = await runCli(['tokens', 'create', role === 'ci' ? 'github-actions' : `t-${role}`, '--role', role, '--json'], ws);
    assert.equal(created.code, 0, text(created));
    tokens.set(role, (created.json[0] as { token: string }).token);
  }
  url = (await findDaemon(ws))!.url;
  const reg = await cliAs('ci', 'models', 'register', MODEL, '--run', run.id, '--json');
  assert.equal(reg.code, 0, text(reg));
  assert.equal((reg.json[0] as { createdBy: string }).createdBy, 'github-actions');
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  restoreEnv();
  fs.rmSync(ws, { recursive: true, force: true });
});

const aliases = async (): Promise<Record<string, number>> => ((await api('viewer', 'GET', `/api/models/get?name=${MODEL}`)).body as { model: RegisteredModel }).model.aliases;

describe('ci_only_aliases', () => {
  it('lists the ci role and refuses an unknown one', async () => {
    const bad = await runCli(['tokens', 'create', 'robot', '--role', 'bot'], ws);
    assert.equal(bad.code, 2);
    assert.match(bad.err.join('\n'), /--role must be one of viewer, editor, ci, approver, admin \(got "bot"\)/);
    // A wrong CI secret is configuration: exit 2, not an infrastructure failure.
    process.env.MLOPS_TOKEN = 'mlt_' + '0'.repeat(48);
    const wrong = await runCli(['models', 'alias', `${MODEL}@qa`, '1'], ws).finally(() => delete process.env.MLOPS_TOKEN);
    assert.equal(wrong.code, 2, text(wrong));
    assert.match(wrong.err.join('\n'), /missing or wrong bearer token/);
    const list = await runCli(['tokens', 'list', '--json'], ws);
    assert.deepEqual((list.json[0] as { tokens: { name: string; role: Role }[] }).tokens.find((t) => t.name === 'github-actions')?.role, 'ci');
  });

  it('refuses every person, whatever their role, and lets the ci token set an unprotected ci-only alias', async () => {
    const viewer = await api('viewer', 'POST', '/api/models/alias', { model: MODEL, alias: 'qa', version: 1 });
    assert.equal(viewer.status, 403);
    assert.match(viewer.body.error.message, /needs the editor role/);
    for (const role of ['editor', 'approver', 'admin'] as const) {
      const r = await api(role, 'POST', '/api/models/alias', { model: MODEL, alias: 'qa', version: 1 });
      assert.equal(r.status, 403, `${role}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.message, REFUSAL('qa'), role);
    }
    // The workspace owner through the CLI is a person too (exit 1, the same words).
    const owner = await runCli(['models', 'alias', `${MODEL}@qa`, '1'], ws);
    assert.equal(owner.code, 1);
    assert.equal(owner.err.join('\n'), `mlops: ${REFUSAL('qa')}`);
    assert.deepEqual(await aliases(), {});
    const ci = await api('ci', 'POST', '/api/models/alias', { model: MODEL, alias: 'qa', version: 1 });
    assert.equal(ci.status, 200, JSON.stringify(ci.body));
    assert.deepEqual([ci.body.event.action, ci.body.event.actor, ci.body.gates.passed], ['set', 'github-actions', true]);
    // Other aliases are not affected: an editor still sets staging.
    assert.equal((await api('editor', 'POST', '/api/models/alias', { model: MODEL, alias: 'staging', version: 1 })).status, 200);
    // Nor can a person take a ci-only alias away or roll it back.
    for (const route of ['/api/models/unalias', '/api/models/rollback']) {
      const r = await api('admin', 'POST', route, { model: MODEL, alias: 'qa' });
      assert.equal(r.status, 403, route);
      assert.equal(r.body.error.message, REFUSAL('qa'));
    }
    assert.deepEqual(await aliases(), { qa: 1, staging: 1 });
  });

  it('people approve a protected ci-only alias, and only the ci token then moves it', async () => {
    // Approvals first: even CI cannot skip them.
    const early = await api('ci', 'POST', '/api/models/alias', { model: MODEL, alias: 'production', version: 1 });
    assert.equal(early.status, 403);
    assert.match(early.body.error.message, /is protected: .* request them with: mlops models request/);
    const req = await cliAs('ci', 'models', 'request', `${MODEL}@production`, '1', '-m', 'CI run 42', '--json');
    assert.equal(req.code, 0, text(req));
    assert.equal((req.json[0] as PromotionRequest).requestedBy, 'github-actions');
    // CI cannot approve its own request, nor anyone's: approving needs the approver role.
    const ciApproves = await api('ci', 'POST', '/api/models/approve', { model: MODEL, alias: 'production', version: 1 });
    assert.equal(ciApproves.status, 403);
    assert.match(ciApproves.body.error.message, /needs the approver role; token "github-actions" is ci/);

    const approved = await cliAs('approver', 'models', 'approve', `${MODEL}@production`, '1', '-m', 'looks good');
    assert.equal(approved.code, 0, text(approved));
    assert.deepEqual(approved.out, ['approved request #1 (1 of 1)', `${MODEL}@production moves when CI applies it: mlops models alias ${MODEL}@production 1 with a ci token`]);
    assert.equal((await aliases()).production, undefined, 'the approval did not move it');
    for (const role of ['approver', 'admin'] as const) {
      const r = await api(role, 'POST', '/api/models/alias', { model: MODEL, alias: 'production', version: 1 });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.message, REFUSAL('production'));
    }

    const moved = await cliAs('ci', 'models', 'alias', `${MODEL}@production`, '1', '--json');
    assert.equal(moved.code, 0, text(moved));
    const event = (moved.json[0] as { event: AliasEvent }).event;
    assert.deepEqual([event.action, event.actor, event.version, event.requestId], ['promote', 'github-actions', 1, 1]);
    assert.equal((await aliases()).production, 1);
    // An approved request is applied once: after production moves on to v2 (approved too),
    // request #1 does not take it back to v1.
    const run = ((await runCli(['models', 'show', `${MODEL}/1`, '--json'], ws)).json[0] as { runId: string }).runId;
    assert.equal((await cliAs('ci', 'models', 'register', MODEL, '--run', run)).code, 0);
    assert.equal((await cliAs('ci', 'models', 'request', `${MODEL}@production`, '2')).code, 0);
    assert.equal((await cliAs('admin', 'models', 'approve', `${MODEL}@production`, '2')).code, 0);
    assert.equal((await cliAs('ci', 'models', 'alias', `${MODEL}@production`, '2')).code, 0);
    const back = await cliAs('ci', 'models', 'alias', `${MODEL}@production`, '1');
    assert.equal(back.code, 1);
    assert.match(back.err.join('\n'), /is protected: .*request them with/);
    const history = (await runCli(['models', 'history', `${MODEL}@production`, '--json'], ws)).json[0] as { events: AliasEvent[] };
    assert.deepEqual(history.events.map((e) => [e.action, e.actor, e.version, e.requestId]), [['promote', 'github-actions', 2, 2], ['promote', 'github-actions', 1, 1]]);
    const audit = (await runCli(['audit', 'log', '--json', '--limit', '20'], ws)).json[0] as { entries: { action: string; actor: string; after?: { request?: number; approvedBy?: string[] } }[] };
    const promote = audit.entries.filter((e) => e.action === 'alias.promote').at(-1)!;
    assert.deepEqual([promote.actor, promote.after?.request, promote.after?.approvedBy], ['github-actions', 1, ['t-approver']]);
  });
});
