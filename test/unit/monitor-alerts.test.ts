// Alert rules: the `when` grammar, fire-once/clear-once, and delivery to a real webhook receiver
// on 127.0.0.1 that verifies the HMAC signature (and answers 500 once, to see the retry).
import * as assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { AlertEvent } from '../../protocol/monitoring';
import { AlertEngine, type AlertSinks } from '../../orchestrator/monitoring/alert-engine';
import { parseCondition } from '../../orchestrator/monitoring/alert-rules';
import { loadAlertStates, saveAlertStates } from '../../orchestrator/monitoring/alert-store';
import { postWebhook, SIGNATURE_HEADER } from '../../orchestrator/monitoring/webhook';

const SECRET = 'test-secret-' + Math.random().toString(36).slice(2);

interface Received {
  body: AlertEvent;
  signatureOk: boolean;
}
let server: http.Server;
let url = '';
const received: Received[] = [];
let failNext = 0;
let hits = 0;

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits++;
      if (failNext > 0) {
        failNext--;
        res.writeHead(500).end('try later');
        return;
      }
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
      const got = Buffer.from(String(req.headers[SIGNATURE_HEADER] ?? ''));
      const signatureOk = got.length === expected.length && timingSafeEqual(got, expected);
      received.push({ body: JSON.parse(raw.toString('utf8')) as AlertEvent, signatureOk });
      res.writeHead(signatureOk ? 204 : 401).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function sinks(env: Record<string, string> = { ALERT_SECRET: SECRET }) {
  const published: AlertEvent[] = [];
  const audited: { action: string; target: string; detail: AlertEvent }[] = [];
  const logs: string[] = [];
  const s: AlertSinks = {
    publish: (e) => published.push(e),
    audit: async (action, target, detail) => audited.push({ action, target, detail }),
    env: (n) => env[n],
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    webhook: { backoffMs: 20, attempts: 4, timeoutMs: 2000 },
  };
  return { s, published, audited, logs };
}

test('the when grammar: metric op number, with messages that say what would be right', () => {
  assert.deepEqual(parseCondition('drift_share > 0.3'), { ok: true, condition: { metric: 'drift_share', column: undefined, op: '>', threshold: 0.3 } });
  assert.deepEqual(parseCondition('column_drift.body_mass_g==1'), { ok: true, condition: { metric: 'column_drift', column: 'body_mass_g', op: '==', threshold: 1 } });
  assert.deepEqual(parseCondition(' p99_ms >= 150 '), { ok: true, condition: { metric: 'p99_ms', column: undefined, op: '>=', threshold: 150 } });
  const bad = (w: string) => {
    const r = parseCondition(w);
    assert.equal(r.ok, false, w);
    return (r as { message: string }).message;
  };
  assert.match(bad('drift_shar > 0.3'), /Unknown metric "drift_shar".*Did you mean "drift_share"\?.*Known metrics: drift_share, column_drift\.COLUMN, error_rate, p99_ms, prediction_shift, accuracy_drop/i);
  assert.match(bad('drift_share 0.3'), /Missing comparison after "drift_share"/);
  assert.match(bad('drift_share = 0.3'), /Use == /);
  assert.match(bad('error_rate > lots'), /"lots" is not a number/);
  assert.match(bad('drift_share > 30'), /between 0 and 1/);
  assert.match(bad('column_drift > 0'), /column_drift needs a column/);
  assert.match(bad('p99_ms.x > 3'), /only column_drift takes a column/);
  assert.match(bad(''), /Expected METRIC OP NUMBER/);
});

test('a rule fires once on entering a breach, stays quiet while it lasts, and clears once', () => {
  const { s, published, audited } = sinks();
  const engine = new AlertEngine('penguins-api', [{ name: 'inputs drifted', when: 'drift_share > 0.3', notify: ['vscode', 'audit'] }, { when: 'p99_ms > 100' }], s);
  const v = (o: Record<string, number>) => new Map(Object.entries(o));
  assert.equal(engine.evaluate({ values: v({ drift_share: 0.1 }), at: 1 }).length, 0);
  const fired = engine.evaluate({ values: v({ drift_share: 0.6 }), at: 2, reportPath: '/r.json' });
  assert.deepEqual(fired.map((e) => [e.rule, e.state, e.value, e.reportPath]), [['inputs drifted', 'firing', 0.6, '/r.json']]);
  assert.equal(engine.evaluate({ values: v({ drift_share: 0.7 }), at: 3 }).length, 0, 'still breached: no second notification');
  assert.equal(engine.evaluate({ values: v({ p99_ms: 20 }), at: 4 }).length, 0, 'a stats tick leaves the drift rule alone');
  assert.equal(engine.status()[0]!.state, 'firing');
  const cleared = engine.evaluate({ values: v({ drift_share: 0.0 }), at: 5 });
  assert.deepEqual(cleared.map((e) => [e.state, e.message]), [['cleared', 'penguins-api: cleared: inputs drifted (now 0)']]);
  assert.equal(engine.evaluate({ values: v({ drift_share: 0.0 }), at: 6 }).length, 0);
  assert.deepEqual(published.map((e) => e.state), ['firing', 'cleared']);
  assert.deepEqual(audited.map((a) => [a.action, a.target]), [['alert.fire', 'deployment:penguins-api'], ['alert.clear', 'deployment:penguins-api']]);
  // The second rule (default channel vscode) fires on live figures.
  assert.equal(engine.evaluate({ values: v({ p99_ms: 250 }), at: 7, version: 2 })[0]?.rule, 'p99_ms > 100');
  assert.equal(published.at(-1)?.version, 2);
});

test('saved states carry over a restart: a rule firing before it does not fire again, and clears once', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-alert-store-'));
  try {
    const file = path.join(dir, 'monitor', 'alerts.json');
    const rules = [{ name: 'inputs drifted', when: 'drift_share > 0.3' }, { name: 'slow', when: 'p99_ms > 100' }];
    const first = sinks();
    const before = new AlertEngine('d', rules, first.s);
    assert.equal(before.evaluate({ values: new Map([['drift_share', 0.6]]), at: 10 }).length, 1);
    saveAlertStates(file, before.status(), 11);
    // The restarted daemon: same rules (one with a changed condition, which starts afresh).
    const second = sinks();
    const changed = [rules[0]!, { name: 'slow', when: 'p99_ms > 200' }];
    const after = new AlertEngine('d', changed, second.s, loadAlertStates(file));
    assert.deepEqual(after.status().map((r) => [r.rule, r.state, r.since]), [['inputs drifted', 'firing', 10], ['slow', 'ok', undefined]]);
    assert.equal(after.evaluate({ values: new Map([['drift_share', 0.7]]), at: 20 }).length, 0, 'still breached after the restart: silent');
    assert.deepEqual(after.evaluate({ values: new Map([['drift_share', 0.1]]), at: 30 }).map((e) => e.state), ['cleared']);
    assert.deepEqual(second.published.map((e) => e.state), ['cleared']);
    assert.deepEqual(loadAlertStates(path.join(dir, 'none.json')), [], 'no file: a fresh start');
    fs.writeFileSync(file, '{torn');
    assert.deepEqual(loadAlertStates(file), [], 'an unreadable file: a fresh start, not a crash');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('webhook: signed JSON that a receiver verifies, retried with backoff after a 500', async () => {
  received.length = 0;
  hits = 0;
  failNext = 1;
  const { s, logs } = sinks();
  const engine = new AlertEngine('penguins-api', [{ when: 'drift_share > 0.3', notify: ['webhook'], webhook: url, secret_env: 'ALERT_SECRET' }], s);
  const sent = engine.evaluate({ values: new Map([['drift_share', 0.5]]), at: Date.now() });
  assert.equal(sent.length, 1);
  assert.equal(hits, 0, 'evaluate returned before the webhook was even reached: it never waits for delivery');
  await engine.settled();
  assert.equal(hits, 2, 'one 500, then the retry');
  assert.equal(received.length, 1);
  assert.equal(received[0]!.signatureOk, true, 'the receiver verified the HMAC of the body');
  assert.equal(received[0]!.body.state, 'firing');
  assert.equal(received[0]!.body.deployment, 'penguins-api');
  assert.ok(logs.some((l) => /webhook answered 204 after 2 attempt/.test(l)), logs.join('\n'));
});

test('webhook: a 4xx is final, network errors are retried a bounded number of times, a missing secret sends nothing', async () => {
  hits = 0;
  const wrong = await postWebhook(url, { hello: 1 }, 'not-the-secret', { backoffMs: 10, attempts: 3 });
  assert.deepEqual([wrong.ok, wrong.status, wrong.attempts], [false, 401, 1]);
  // A closed port: connection refused each time.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const dead = await postWebhook(`http://127.0.0.1:${deadPort}/`, {}, undefined, { backoffMs: 10, attempts: 3 });
  assert.deepEqual([dead.ok, dead.attempts], [false, 3]);
  assert.ok(dead.error);

  hits = 0;
  const { s, logs } = sinks({});
  const engine = new AlertEngine('d', [{ when: 'drift_share > 0.3', notify: ['webhook'], webhook: url, secret_env: 'MISSING_SECRET' }], s);
  engine.evaluate({ values: new Map([['drift_share', 0.9]]), at: 1 });
  await engine.settled();
  assert.equal(hits, 0);
  assert.ok(logs.some((l) => /environment variable MISSING_SECRET \(secret_env\) is not set/.test(l)));
});
