/**
 * Live monitoring end to end on the penguins sample: a real daemon, a real model server (ONNX),
 * the manifest's monitor block. Traffic from a shifted data set (only Gentoo, 30 % heavier)
 * makes the scheduled drift check (every 100 requests) fire the alert once — on the daemon's
 * event stream (what VS Code shows), at a webhook receiver in this test that checks the HMAC
 * signature, and in the audit log — and normal traffic afterwards clears it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DaemonEvent } from '../../protocol/api';
import type { AlertEvent, MonitorStatus } from '../../protocol/monitoring';
import type { AuditEntry } from '../../protocol/registry';
import { stopWorkspaceDaemon } from './cli-harness';
import { cli, DEPLOYMENT, deployProduction, FEATURES, penguinsWorkspace, REPO, text, waitForEvent } from './deploy-support';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

const SECRET = `alert-secret-${process.pid}`;
let ws = '';
let receiver: WebhookReceiver;
const savedHome = process.env.MLOPS_HOME;
let url = '';
let token = '';
let normal: number[][] = [];
let shifted: number[][] = [];

before(async () => {
  receiver = await startWebhookReceiver(SECRET);
  ({ ws } = await penguinsWorkspace('mlops-monitor-cli-'));
  const manifest = path.join(ws, 'mlops.yaml');
  const hook = 'http://127.0.0.1:9797/mlops-alerts';
  const text0 = fs.readFileSync(manifest, 'utf8');
  assert.ok(text0.includes(hook), 'the sample declares the webhook rule');
  fs.writeFileSync(manifest, text0.replace(hook, receiver.url('/mlops-alerts')));
  process.env.MLOPS_HOME = REPO;
  process.env.MLOPS_ALERT_SECRET = SECRET; // the daemon started below inherits it (secret_env)
  delete process.env.MLOPS_TOKEN;
  ({ url, token } = await deployProduction(ws));
  const [head, ...rows] = fs.readFileSync(path.join(ws, 'data/prepared/train.csv'), 'utf8').trim().split('\n');
  const cols = head!.split(',');
  const parsed = rows.map((r) => r.split(','));
  const feats = (r: string[]) => FEATURES.map((f) => Number(r[cols.indexOf(f)]));
  normal = parsed.map((_, i) => feats(parsed[(i * 101) % parsed.length]!));
  shifted = parsed.filter((r) => r[cols.indexOf('species')] === 'Gentoo').map((r) => feats(r).map((v, i) => (i === 3 ? v * 1.3 : v)));
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  await receiver.close();
  delete process.env.MLOPS_ALERT_SECRET;
  if (savedHome === undefined) delete process.env.MLOPS_HOME;
  else process.env.MLOPS_HOME = savedHome;
  if (process.env.KEEP_WS) console.log('kept', ws);
  else fs.rmSync(ws, { recursive: true, force: true });
});

/** `n` requests of 4 rows each, cycling through `rows`. */
async function traffic(rows: number[][], n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const batch = [0, 1, 2, 3].map((k) => rows[(i * 4 + k) % rows.length]!);
    const res = await fetch(`${url}/v2/models/${DEPLOYMENT}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', shape: [4, 9], datatype: 'FP32', data: batch.flat() }] }),
    });
    assert.equal(res.status, 200, await res.text());
  }
}

async function until<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const isAlert = (state: 'firing' | 'cleared', rule: string) => (e: DaemonEvent): e is AlertEvent => e.type === 'alert' && e.state === state && e.rule === rule;

describe('alerts on a deployment fed shifted traffic (mlops drift, monitor, webhook, audit)', { timeout: 120_000 }, () => {
  it('shifted traffic fires the drift alert once: event stream, signed webhook, audit log', async () => {
    const fired = await waitForEvent(ws, isAlert('firing', 'inputs drifted'), 45_000, () => traffic(shifted, 100));
    assert.match(fired.message, /^penguins-api: inputs drifted \(now 0\.\d+\)$/);
    assert.ok(fired.value > 0.3);
    assert.ok(fired.reportPath && fs.existsSync(fired.reportPath), 'the event points at the saved report');
    const hook = await until('the webhook', () => receiver.received.find((h) => h.event.state === 'firing'));
    assert.equal(hook.verified, true, 'the receiver verified the HMAC signature');
    assert.equal(hook.event.rule, 'inputs drifted (pager)');
    const cliDrift = await cli(ws, 'drift', DEPLOYMENT, '--last', '100');
    assert.equal(cliDrift.code, 1, text(cliDrift));
    assert.ok(cliDrift.out.some((l) => /^body_mass_g .* DRIFT/.test(l)), text(cliDrift));
  });

  it('normal traffic clears it, once; mlops monitor shows the rules and the figures per version', async () => {
    const cleared = await waitForEvent(ws, isAlert('cleared', 'inputs drifted'), 60_000, () => traffic(normal, 200));
    assert.ok(cleared.value <= 0.3);
    await until('the cleared webhook', () => receiver.received.find((h) => h.event.state === 'cleared'));
    assert.equal(receiver.received.filter((h) => h.event.state === 'firing').length, 1, 'fired once, not on every check');
    const audit = await cli(ws, 'audit', 'log', '--json');
    const entries = (audit.json[0] as { entries: AuditEntry[] }).entries;
    assert.deepEqual(entries.filter((e) => e.action.startsWith('alert.')).map((e) => [e.action, e.actor, e.target]).reverse(), [
      ['alert.fire', 'monitor', 'deployment:penguins-api'],
      ['alert.clear', 'monitor', 'deployment:penguins-api'],
    ]);
    const m = await cli(ws, 'monitor', DEPLOYMENT, '--json');
    assert.equal(m.code, 0, text(m));
    const s = m.json[0] as MonitorStatus;
    assert.equal(s.requests, 300);
    assert.equal(s.performance.byVersion[0]!.version, 1);
    assert.ok(s.performance.byVersion[0]!.p99Ms > 0);
    assert.deepEqual(s.alerts.map((a) => [a.rule, a.state]), [['inputs drifted', 'ok'], ['slow answers', 'ok'], ['inputs drifted (pager)', 'ok']]);
  });
});
