/**
 * Access control of the daemon API: the endpoint × role matrix, generated from the routes the
 * running daemon registered (not a hand-kept list). For every route and every role, a request
 * with a named token of that role is refused with 403 exactly when the role is below the one
 * the route declares, and everything else gets past authorisation. The declared policy itself
 * is checked against what the roles mean (viewer reads, editor changes, approver approves,
 * admin manages tokens and deletes).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROLES, type Role } from '../../protocol/registry';
import { startDaemon, type RunningDaemon } from '../../orchestrator/daemon/daemon-main';
import { routeKeys, type RouteKey } from '../../orchestrator/daemon/http-server';
import { silentLogger } from '../../orchestrator/daemon/log';
import type { RunnerPort } from '../../orchestrator/daemon/routes';
import { roleAllows } from '../../orchestrator/registry/roles';

let ws: string;
let daemon: RunningDaemon;
let ownerToken: string;
const tokens = new Map<Role, string>();

const fakeRunner: RunnerPort = {
  plan: async () => ({ steps: [] }),
  start: async () => ({ runId: '0'.repeat(32), plan: { steps: [] }, done: Promise.resolve('succeeded') }),
  cancel: async () => false,
  activeRunId: () => undefined,
  on: () => () => undefined,
};

function request(method: string, urlPath: string, token: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: daemon.info.port, method, path: urlPath, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        // The event stream stays open: its status is the answer.
        resolve({ status: res.statusCode!, body: '' });
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : JSON.stringify(body ?? {}));
  });
}

before(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-roles-'));
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), 'version: 1\nproject: roles\nsteps:\n  a:\n    cmd: echo a\n');
  daemon = await startDaemon(ws, { log: silentLogger, createRunner: () => fakeRunner });
  ownerToken = fs.readFileSync(daemon.paths.token, 'utf8').trim();
  for (const role of ROLES) {
    const res = await request('POST', '/api/tokens/create', ownerToken, { name: `t-${role}`, role });
    assert.equal(res.status, 200, res.body);
    tokens.set(role, (JSON.parse(res.body) as { token: string }).token);
  }
});

after(async () => {
  await daemon?.stop('test done');
  fs.rmSync(ws, { recursive: true, force: true });
});

describe('tokens', () => {
  it('refuses unknown and revoked tokens with 401, as the workspace token is refused when wrong', async () => {
    assert.equal((await request('GET', '/api/whoami', 'mlt_' + '0'.repeat(48))).status, 401);
    assert.equal((await request('GET', '/api/whoami', 'nonsense')).status, 401);
    const created = await request('POST', '/api/tokens/create', ownerToken, { name: 'leaver', role: 'admin' });
    const secret = (JSON.parse(created.body) as { token: string }).token;
    assert.deepEqual(JSON.parse((await request('GET', '/api/whoami', secret)).body), { name: 'leaver', role: 'admin' });
    assert.equal((await request('POST', '/api/tokens/revoke', ownerToken, { name: 'leaver' })).status, 200);
    assert.equal((await request('GET', '/api/whoami', secret)).status, 401);
  });
});

describe('endpoint × role matrix', () => {
  it('serves the same routes the static route table lists', () => {
    const key = (r: RouteKey) => `${r.method} ${r.path} ${r.role}`;
    assert.deepEqual(daemon.server.routes.map(key).sort(), routeKeys().map(key).sort());
  });

  it('declares a policy that matches what the roles mean', () => {
    const routes = daemon.server.routes;
    const role = (m: string, p: string) => routes.find((r) => r.method === m && r.path === p)?.role;
    for (const r of routes.filter((x) => x.method === 'GET')) {
      assert.equal(r.role, r.path === '/api/tokens' ? 'admin' : 'viewer', `${r.method} ${r.path} is a read`);
    }
    for (const p of ['/api/pipeline/run', '/api/models/register', '/api/models/alias', '/api/models/request', '/api/models/rollback']) assert.equal(role('POST', p), 'editor', p);
    for (const p of ['/api/models/approve', '/api/models/reject']) assert.equal(role('POST', p), 'approver', p);
    for (const p of ['/api/tokens/create', '/api/tokens/revoke', '/api/models/delete', '/api/daemon/stop']) assert.equal(role('POST', p), 'admin', p);
    assert.ok(routes.filter((r) => r.method !== 'GET').every((r) => r.role !== 'viewer'), 'no change is open to viewers');
    // ci is an editor for CI jobs: no endpoint is declared for it, so it reaches exactly the
    // editor's; what only it may do (move ci_only_aliases) is checked per alias (ci-promotion test).
    assert.ok(routes.every((r) => r.role !== 'ci'), 'no endpoint needs the ci role');
    assert.deepEqual(routes.filter((r) => roleAllows('ci', r.role)).map((r) => `${r.method} ${r.path}`), routes.filter((r) => roleAllows('editor', r.role)).map((r) => `${r.method} ${r.path}`));
    assert.ok(!roleAllows('ci', 'approver') && roleAllows('approver', 'ci'), 'ci neither approves nor manages tokens');
  });

  it('allows and denies each route for each role as declared', async () => {
    // Stopping the daemon goes last: it ends the test's daemon.
    const routes = [...daemon.server.routes].sort((a, b) => Number(a.path === '/api/daemon/stop') - Number(b.path === '/api/daemon/stop'));
    const rows: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const cells: string[] = [];
      // Lowest role first, so the admin's (allowed) stop comes after every denial.
      for (const role of ROLES) {
        const res = await request(route.method, route.path, tokens.get(role)!);
        const allowed = roleAllows(role, route.role);
        if (allowed) {
          assert.ok(res.status !== 401 && res.status !== 403, `${role} → ${route.method} ${route.path}: expected to get past authorisation, got ${res.status} ${res.body}`);
        } else {
          assert.equal(res.status, 403, `${role} → ${route.method} ${route.path}: expected 403, got ${res.status} ${res.body}`);
          assert.match(res.body, new RegExp(`needs the ${route.role} role; token \\\\"t-${role}\\\\" is ${role}`));
        }
        cells.push(allowed ? 'allow' : 'deny');
        checked++;
      }
      rows.push(`${`${route.method} ${route.path}`.padEnd(48)} ${cells.join(' ')}`);
    }
    assert.equal(checked, routes.length * ROLES.length);
    assert.ok(routes.length >= 40, `${routes.length} routes`);
    // The printed matrix is the documentation of the policy.
    console.log(`endpoint × role (${ROLES.join(' ')}):\n${rows.join('\n')}`);
  });
});
