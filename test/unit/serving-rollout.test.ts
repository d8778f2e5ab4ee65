// Rollouts inside one model server, with real ONNX models: the weighted split and sticky
// assignment, shadow mirroring, canary retries, the canary policy (rollback and promote), config
// switches under load with no failed request, and a config that cannot load leaving the old one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import autocannon from 'autocannon';
import { auth, config, get, post, readRequestLog, ROWS, startTestServer, tempDir, version, writeModels, type TestServer } from './serving-harness';

const PREDICT = { instances: [ROWS[0]] };

/** Sends n /predict requests, `parallel` at a time; returns the answering version of each. */
async function fire(s: TestServer, n: number, parallel = 16, headers: (i: number) => Record<string, string> = () => ({})): Promise<{ status: number; version: number }[]> {
  const out: { status: number; version: number }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        const r = await post(`${s.url}/predict`, PREDICT, headers(i));
        out.push({ status: r.status, version: Number(r.headers.get('x-mlops-version')) });
      }
    }),
  );
  return out;
}

const count = (xs: { version: number }[], v: number): number => xs.filter((x) => x.version === v).length;

function metric(text: string, name: string, version: number): number {
  const m = new RegExp(`^${name}\\{[^}]*version="${version}"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('model server rollouts', () => {
  let models: { good: string; broken: string };
  let s: TestServer;

  before(async () => {
    models = await writeModels(tempDir());
    s = await startTestServer();
  });
  after(() => s.handle.close());

  test('a 90/10 split holds within tolerance over 2000 requests', async () => {
    await s.handle.configure(config([version(1, models.good, 'stable', 90), version(2, models.good, 'canary', 10)]));
    const got = await fire(s, 2000);
    assert.ok(got.every((g) => g.status === 200));
    // Binomial(2000, 0.1): mean 200, sd 13.4; ±50 is beyond 3.7 sd.
    const canary = count(got, 2);
    assert.ok(canary > 150 && canary < 250, `canary got ${canary} of 2000`);
    assert.equal(count(got, 1) + canary, 2000);
  });

  test('sticky: the same header value always reaches the same version, and both versions get users', async () => {
    await s.handle.configure(config([version(1, models.good, 'ab', 50), version(2, models.good, 'ab', 50)], { sticky: 'X-User' }));
    const got = await fire(s, 400, 16, (i) => ({ 'x-user': `user-${i % 40}` }));
    const byUser = new Map<string, Set<number>>();
    // fire() loses the request order, so ask again per user and compare with a second round.
    for (let u = 0; u < 40; u++) {
      const seen = new Set<number>();
      for (let k = 0; k < 3; k++) seen.add(Number((await post(`${s.url}/predict`, PREDICT, { 'x-user': `user-${u}` })).headers.get('x-mlops-version')));
      byUser.set(`user-${u}`, seen);
    }
    assert.ok([...byUser.values()].every((v) => v.size === 1), 'each user sees one version');
    const users1 = [...byUser.values()].filter((v) => v.has(1)).length;
    assert.ok(users1 > 8 && users1 < 32, `${users1} of 40 users on version 1`);
    assert.ok(count(got, 1) > 0 && count(got, 2) > 0);
  });

  test('shadow: every request is mirrored after the answer, recorded with role shadow, never returned', async () => {
    await s.handle.configure(config([version(1, models.good, 'stable', 100), version(7, models.broken, 'shadow', 0), version(8, models.good, 'shadow', 0)]));
    for (let i = 0; i < 5; i++) {
      const r = await post(`${s.url}/predict`, PREDICT, { 'x-request-id': `shadow-${i}` });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-mlops-version'), '1');
      assert.deepEqual(r.json, { predictions: ['Adelie'] });
    }
    await s.handle.configure(config([version(1, models.good, 'stable', 100)]));
    await waitUntil(() => readRequestLog(s.dir).filter((e) => e.id.startsWith('shadow-')).length === 15);
    const lines = readRequestLog(s.dir).filter((e) => e.id.startsWith('shadow-'));
    for (let i = 0; i < 5; i++) {
      const mine = lines.filter((e) => e.id === `shadow-${i}`);
      assert.deepEqual(mine.map((e) => [e.version, e.role, e.status]).sort(), [[1, 'stable', 200], [7, 'shadow', 500], [8, 'shadow', 200]]);
      assert.deepEqual(mine.find((e) => e.version === 8).predictions, ['Adelie']);
    }
    const text = (await get(`${s.url}/metrics`)).text;
    assert.equal(metric(text, 'mlops_serving_shadow_requests_total', 8), 5);
  });

  test('a failing canary request is answered by the stable version; the failure still counts for the canary', async () => {
    await s.handle.configure(config([version(1, models.good, 'stable', 50), version(2, models.broken, 'canary', 50)]));
    const before = await get(`${s.url}/metrics`);
    const got = await fire(s, 60, 8);
    assert.ok(got.every((g) => g.status === 200 && g.version === 1), 'every client got the stable answer');
    const text = (await get(`${s.url}/metrics`)).text;
    const errors = metric(text, 'mlops_serving_errors_total', 2) - metric(before.text, 'mlops_serving_errors_total', 2);
    const retries = metric(text, 'mlops_serving_canary_retries_total', 2) - metric(before.text, 'mlops_serving_canary_retries_total', 2);
    assert.ok(errors > 10, `canary errors counted: ${errors}`);
    assert.equal(retries, errors);
    assert.match(text, /mlops_serving_requests_total\{[^}]*version="2",code="500"\} \d+/);
    await waitUntil(() => readRequestLog(s.dir).some((e) => e.role === 'retry'));
    const retryLine = readRequestLog(s.dir).find((e) => e.role === 'retry');
    const canaryLine = readRequestLog(s.dir).find((e) => e.id === retryLine.id && e.role === 'canary');
    assert.equal(canaryLine.status, 500);
    assert.match(canaryLine.error, /the model failed/);
    assert.equal(retryLine.version, 1);
  });

  test('policy: a canary breaching the error rate is rolled back at once and the daemon told why', async () => {
    const startedAt = Date.now();
    await s.handle.configure(
      config([version(1, models.good, 'stable', 50), version(3, models.broken, 'canary', 50)], {
        canary: { version: 3, startedAt, weight: 50, rollbackErrorRate: 0.02, rollbackP99Ms: 1000, promoteAfterRequests: 1000, minRequests: 20 },
      }),
    );
    const got = await fire(s, 120, 1);
    assert.ok(got.every((g) => g.status === 200));
    const decision = await s.waitFor('canary-decision', (m) => m.version === 3);
    assert.equal(decision.decision, 'rollback');
    assert.equal(decision.reason, 'error rate 1 > 0.02 after 20 requests');
    assert.ok(decision.stats.totalErrors >= 20);
    // After the decision, no request reaches the canary (weight 0 in-process, before any new config).
    const after = await fire(s, 50, 4);
    assert.equal(count(after, 3), 0);
    assert.match((await get(`${s.url}/metrics`)).text, /mlops_serving_canary_weight\{[^}]*version="3"\} 0/);
  });

  test('policy: a healthy canary is promoted once promote_after is reached, and takes all traffic', async () => {
    await s.handle.configure(
      config([version(1, models.good, 'stable', 80), version(4, models.good, 'canary', 20)], {
        canary: { version: 4, startedAt: Date.now(), weight: 20, rollbackErrorRate: 0.02, rollbackP99Ms: 1000, promoteAfterRequests: 30 },
      }),
    );
    await fire(s, 400, 4);
    const decision = await s.waitFor('canary-decision', (m) => m.version === 4);
    assert.equal(decision.decision, 'promote');
    assert.match(decision.reason, /^30 requests within bounds \(error rate 0, p99 [\d.]+ ms\)$/);
    const after = await fire(s, 50, 4);
    assert.equal(count(after, 4), 50);
  });

  test('config switches under load: versions load before traffic moves and no request fails', async () => {
    await s.handle.configure(config([version(1, models.good, 'stable', 100)]));
    const load = autocannon({
      url: `${s.url}/predict`,
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(PREDICT),
      connections: 16,
      duration: 3,
    });
    const applied: number[] = [];
    const switches = (async () => {
      // New version numbers each time: every switch loads a session and unloads the old one.
      for (let v = 20; v < 32; v++) {
        await s.handle.configure(config(v % 3 === 0 ? [version(v, models.good, 'stable', 100)] : [version(v, models.good, 'stable', 70), version(v + 100, models.good, 'canary', 30)]));
        applied.push(v);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const [result] = await Promise.all([load, switches]);
    assert.equal(applied.length, 12);
    assert.ok(result.requests.total > 500, `only ${result.requests.total} requests`);
    assert.equal(result.non2xx, 0, 'no request failed during the switches');
    assert.equal(result.errors, 0);
  });

  test('a config that cannot load is refused with apply-failed and the old one keeps serving', async () => {
    await s.handle.configure(config([version(5, models.good, 'stable', 100)]));
    const bad = config([version(5, models.good, 'stable', 90), version(6, '/nonexistent/model.onnx', 'canary', 10)]);
    await assert.rejects(s.handle.configure(bad), /could not load: cannot read the model file \/nonexistent\/model.onnx/);
    const failed = await s.waitFor('apply-failed', (m) => m.configId === bad.configId);
    assert.match(failed.message, /nonexistent/);
    const wrong = config([version(5, models.good, 'stable', 60)]);
    await assert.rejects(s.handle.configure(wrong), /weights of the non-shadow versions sum to 60, not 100/);
    const got = await fire(s, 20, 4);
    assert.ok(got.every((g) => g.status === 200 && g.version === 5));
  });

  test('stats are sent once a second with per-version figures and health', async () => {
    const msg = await s.waitFor('stats', (m) => (m.versions[5]?.totalRequests ?? 0) >= 20, 3000);
    const v = msg.versions[5]!;
    assert.equal(v.health, 'ready');
    assert.ok(v.requests >= 20 && v.totalRequests >= 20);
    assert.ok(v.p50Ms > 0 && v.p99Ms >= v.p50Ms);
    assert.equal(v.errorRate, 0);
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
