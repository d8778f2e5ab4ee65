/**
 * Concept drift with ground truth, end to end on the penguins sample: a real daemon and model
 * server; held-out rows sent to /predict with request ids (single rows and batches); their true
 * labels sent with `mlops feedback --file` and with `POST /v2/models/{name}/feedback`; `mlops
 * monitor --json` must report the accuracy computed here from the answers. Then rows labelled
 * deliberately wrong make the live accuracy fall below the registered one and the
 * `accuracy_drop` rule fires (on the event stream VS Code listens to). Bad input to `mlops
 * feedback` gets a clear message and exit 2. Last, a daemon restarted while the rule fires
 * does not fire it again (the states are saved under .mlops/deployments/NAME/monitor/).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DaemonEvent } from '../../protocol/api';
import type { AlertEvent, AlertStatus, MonitorStatus } from '../../protocol/monitoring';
import type { AuditEntry } from '../../protocol/registry';
import { stopWorkspaceDaemon } from './cli-harness';
import { cli, daemonClient, DEPLOYMENT, deployProduction, heldOut, penguinsWorkspace, REPO, rowRecord, status, text, waitForEvent } from './deploy-support';

const RULE = 'accuracy fell';
let ws = '';
let url = '';
let token = '';
const savedHome = process.env.MLOPS_HOME;
let header: string[] = [];
let rows: string[][] = [];
/** What this test saw: per feedback id, the answer and the true species. */
const answers: { id: string; predicted: string; truth: string }[] = [];

before(async () => {
  ({ ws } = await penguinsWorkspace('mlops-monitor-feedback-'));
  const manifest = path.join(ws, 'mlops.yaml');
  const text0 = fs.readFileSync(manifest, 'utf8');
  const anchor = '      alerts:\n';
  assert.ok(text0.includes(anchor));
  fs.writeFileSync(manifest, text0.replace(anchor, `${anchor}        - {name: ${RULE}, when: accuracy_drop > 0.1, notify: [vscode, audit]}\n`));
  process.env.MLOPS_HOME = REPO;
  delete process.env.MLOPS_TOKEN;
  ({ url, token } = await deployProduction(ws));
  ({ header, rows } = heldOut(ws));
});

after(async () => {
  await stopWorkspaceDaemon(ws);
  if (savedHome === undefined) delete process.env.MLOPS_HOME;
  else process.env.MLOPS_HOME = savedHome;
  if (process.env.KEEP_WS) console.log('kept', ws);
  else fs.rmSync(ws, { recursive: true, force: true });
});

async function predict(id: string, batch: string[][]): Promise<string[]> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ instances: batch.map((r) => rowRecord(header, r)) }),
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(res.headers.get('x-request-id'), id);
  return (JSON.parse(body) as { predictions: string[] }).predictions;
}

const species = (r: string[]) => r[header.indexOf('species')]!;
const accuracyOf = (xs: typeof answers) => xs.filter((a) => a.predicted === a.truth).length / xs.length;

function writeCsv(name: string, lines: string[][]): string {
  const file = path.join(ws, name);
  fs.writeFileSync(file, lines.map((l) => l.join(',')).join('\n') + '\n');
  return file;
}

const isAlert = (state: 'firing' | 'cleared') => (e: DaemonEvent): e is AlertEvent => e.type === 'alert' && e.rule === RULE && e.state === state;

describe('feedback joined to logged predictions (mlops feedback, POST …/feedback, mlops monitor)', { timeout: 120_000 }, () => {
  it('accuracy from feedback equals the accuracy of the answers the test got', async () => {
    const half = Math.floor(rows.length / 2);
    // The first half one row per request (ids `one-N`), the rest five rows per request (`five-K:ROW`).
    for (let i = 0; i < half; i++) {
      const [p] = await predict(`one-${i}`, [rows[i]!]);
      answers.push({ id: `one-${i}`, predicted: p!, truth: species(rows[i]!) });
    }
    const batches: { id: string; truths: string[] }[] = [];
    for (let i = half, k = 0; i < rows.length; i += 5, k++) {
      const batch = rows.slice(i, i + 5);
      const ps = await predict(`five-${k}`, batch);
      batch.forEach((r, j) => answers.push({ id: `five-${k}:${j}`, predicted: ps[j]!, truth: species(r) }));
      batches.push({ id: `five-${k}`, truths: batch.map(species) });
    }
    // Single rows through the CLI, from a CSV with its own column names.
    const labels = writeCsv('labels.csv', [['request', 'truth'], ...answers.filter((a) => a.id.startsWith('one-')).map((a) => [a.id, a.truth])]);
    const fb = await cli(ws, 'feedback', DEPLOYMENT, '--file', labels, '--id-column', 'request', '--label-column', 'truth', '--json');
    assert.equal(fb.code, 0, text(fb));
    assert.deepEqual(fb.json[0], { deployment: DEPLOYMENT, sent: half, accepted: half, skipped: 0, unknown: 0 });
    // Batches through the endpoint, one body per request with its labels in row order.
    for (const b of batches) {
      const res = await fetch(`${url}/v2/models/${DEPLOYMENT}/feedback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: b.id, labels: b.truths }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    const m = await cli(ws, 'monitor', DEPLOYMENT, '--json');
    assert.equal(m.code, 0, text(m));
    const s = m.json[0] as MonitorStatus;
    assert.equal(s.concept.length, 1, JSON.stringify(s.concept));
    const c = s.concept[0]!;
    assert.equal(c.version, 1);
    assert.equal(c.task, 'classification');
    assert.equal(c.n, rows.length);
    assert.equal(c.accuracy, accuracyOf(answers));
    assert.ok(c.accuracy! > 0.9, `held-out accuracy ${c.accuracy}`);
    assert.equal(typeof c.registered?.accuracy, 'number', 'the metrics recorded at registration');
    assert.equal(c.degradation?.degraded, false);
    assert.equal(s.unmatchedFeedback, 0);
    const human = await cli(ws, 'monitor', DEPLOYMENT);
    assert.ok(human.out.some((l) => /^v1\s+\d+\s+accuracy 0\.\d+ · F1 0\.\d+\s+accuracy 0\.\d+ at registration: ok/.test(l)), text(human));
  });

  it('bad input to mlops feedback: clear messages, exit 2, nothing sent', async () => {
    const noLabel = writeCsv('no-label.csv', [['id', 'species'], ['one-0', 'Adelie']]);
    const r1 = await cli(ws, 'feedback', DEPLOYMENT, '--file', noLabel);
    assert.equal(r1.code, 2);
    assert.match(text(r1), /no column "label" \(columns: id, species\); name them with --id-column and --label-column/);
    const strangers = writeCsv('strangers.csv', [['id', 'label'], ['one-0', 'Adelie'], ['nobody-1', 'Gentoo'], ['five-0:99', 'Gentoo']]);
    const r2 = await cli(ws, 'feedback', DEPLOYMENT, '--file', strangers);
    assert.equal(r2.code, 2);
    assert.match(text(r2), /2 of 3 id\(s\) name no logged prediction of penguins-api \("nobody-1", "five-0:99"\).*--skip-unknown sends the others/);
    const r3 = await cli(ws, 'feedback', 'penguins-apu', '--file', strangers);
    assert.equal(r3.code, 2);
    assert.match(text(r3), /no deployment "penguins-apu" in mlops.yaml \(it declares: penguins-api\)/);
    const r4 = await cli(ws, 'feedback', DEPLOYMENT, '--file', 'missing.csv');
    assert.equal(r4.code, 2);
    assert.match(text(r4), /--file: no such file: missing\.csv/);
    const s = (await cli(ws, 'monitor', DEPLOYMENT, '--json')).json[0] as MonitorStatus;
    assert.equal(s.concept[0]!.n, rows.length, 'none of the refused labels arrived');
    assert.equal(s.unmatchedFeedback, 0);
  });

  it('wrongly labelled traffic makes accuracy_drop fire once, and a restarted daemon does not fire it again', async () => {
    const wrong: string[][] = [['id', 'label']];
    const fired = await waitForEvent(ws, isAlert('firing'), 30_000, async () => {
      for (let i = 0; i < rows.length; i++) {
        const [p] = await predict(`wrong-${i}`, [rows[i]!]);
        // A label that is never the answer: the live accuracy of these rows is 0.
        wrong.push([`wrong-${i}`, p === 'Gentoo' ? 'Adelie' : 'Gentoo']);
      }
      const fb = await cli(ws, 'feedback', DEPLOYMENT, '--file', writeCsv('wrong.csv', wrong));
      assert.equal(fb.code, 0, text(fb));
    });
    const s = (await cli(ws, 'monitor', DEPLOYMENT, '--json')).json[0] as MonitorStatus;
    const c = s.concept[0]!;
    assert.equal(c.n, 2 * rows.length);
    assert.equal(c.accuracy, accuracyOf(answers) / 2);
    assert.equal(c.degradation?.degraded, true);
    assert.ok(Math.abs(fired.value - c.degradation!.drop) < 1e-12, `fired at ${fired.value}, drop ${c.degradation!.drop}`);
    assert.match(fired.message, /^penguins-api: accuracy fell \(now 0\.\d+\)$/);
    assert.deepEqual(s.alerts.find((a) => a.rule === RULE)?.state, 'firing');
    const saved = JSON.parse(fs.readFileSync(path.join(ws, '.mlops', 'deployments', DEPLOYMENT, 'monitor', 'alerts.json'), 'utf8')) as { rules: { rule: string; state: string }[] };
    assert.equal(saved.rules.find((r) => r.rule === RULE)?.state, 'firing');

    // Restart: the deployment comes back, the feedback is evaluated again (still breached), silently.
    await stopWorkspaceDaemon(ws);
    const d = await cli(ws, 'deploy', DEPLOYMENT);
    assert.equal(d.code, 0, text(d));
    ({ token } = await daemonClient(ws));
    url = (await status(ws)).url!;
    const deadline = Date.now() + 20_000;
    let rule: AlertStatus | undefined;
    for (;;) {
      const now = (await cli(ws, 'monitor', DEPLOYMENT, '--json')).json[0] as MonitorStatus;
      rule = now.alerts.find((a) => a.rule === RULE);
      // The restarted daemon evaluated the feedback again (still breached).
      if (rule?.lastEvaluatedAt !== undefined && rule.lastEvaluatedAt > fired.at) break;
      assert.ok(Date.now() < deadline, `the restarted daemon did not evaluate the feedback: ${JSON.stringify(rule)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(rule.state, 'firing');
    const audit = await cli(ws, 'audit', 'log', '--json');
    const fires = (audit.json[0] as { entries: AuditEntry[] }).entries.filter((e) => e.action === 'alert.fire');
    assert.equal(fires.length, 1, 'notified once, before the restart only');
  });
});
