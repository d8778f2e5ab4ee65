/**
 * A/B analysis on a data set big enough for the test to mean something: two versions of the
 * flights-delay model (logistic regression on distance; on distance and departure hour) serve
 * 50/50 behind one deployment, 60,000 held-back flights are replayed as traffic (100 rows per
 * request, sticky by flight batch, so the split is the same every time) and their true labels
 * sent with `mlops feedback`. After 1,000 rows `mlops monitor` must say the difference is not
 * significant yet (with the sample size it would need); after all of them, that v2 is better,
 * with accuracies equal to the ones computed here from the answers and the p-value of the
 * two-proportion z-test on those counts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { twoProportionZ } from '../../orchestrator/monitoring/ab-stats';
import type { MonitorStatus } from '../../protocol/monitoring';
import { runCli, stopWorkspaceDaemon } from './cli-harness';
import { REPO } from './deploy-support';
import { monitor, monitorText, replay, setUpAb, type AbSetup, type Replayed } from './flights-ab-support';

const savedHome = process.env.MLOPS_HOME;
let s: AbSetup | undefined;
const seen: Replayed = { rows: 0, byVersion: {} };

before(async () => {
  process.env.MLOPS_HOME = REPO;
  delete process.env.MLOPS_TOKEN;
  s = await setUpAb();
});

after(async () => {
  if (s) await stopWorkspaceDaemon(s.ws);
  if (savedHome === undefined) delete process.env.MLOPS_HOME;
  else process.env.MLOPS_HOME = savedHome;
  if (s && !process.env.KEEP_WS) fs.rmSync(s.ws, { recursive: true, force: true });
});

const acc = (v: number) => seen.byVersion[v]!.right / seen.byVersion[v]!.n;

describe('A/B verdict from feedback on flights-200k (rollout.strategy ab, feedback, monitor)', { timeout: 120_000 }, () => {
  it('the two versions were registered with different held-out accuracy', () => {
    assert.ok(s!.registered[2]! > s!.registered[1]! + 0.01, JSON.stringify(s!.registered));
  });

  it('after 1,000 rows: not significant yet, and how many it would take', async () => {
    await replay(s!, 0, 1000, seen);
    const m = await monitor(s!);
    const ab = m.ab!;
    assert.ok(ab, 'an A/B result once both versions have labelled outcomes');
    assert.equal(ab.test, 'two-proportion z');
    assert.deepEqual([ab.a.version, ab.b.version], [1, 2]);
    assert.equal(ab.a.n + ab.b.n, 1000);
    assert.equal(ab.significant, false, ab.verdict);
    assert.ok(ab.neededPerArm! > ab.a.n, `needs ${ab.neededPerArm} per arm`);
    assert.match(ab.verdict, /^not significant yet: accuracy v1 0\.\d{3} vs v2 0\.\d{3}, p = 0\.\d+, n = \d+\/\d+; need about \d+ per version/);
  });

  it('after 60,000 rows: v2 is better, with the accuracies of the answers and the z-test p-value', async () => {
    await replay(s!, 1000, 60_000, seen);
    const m = await monitor(s!);
    const ab = m.ab!;
    assert.equal(ab.a.n, seen.byVersion[1]!.n);
    assert.equal(ab.b.n, seen.byVersion[2]!.n);
    assert.equal(ab.a.n + ab.b.n, 60_000);
    assert.equal(ab.a.value, acc(1));
    assert.equal(ab.b.value, acc(2));
    const z = twoProportionZ(seen.byVersion[1]!.right, seen.byVersion[1]!.n, seen.byVersion[2]!.right, seen.byVersion[2]!.n);
    assert.equal(ab.pValue, z.pValue);
    assert.ok(ab.pValue < 0.001, `p = ${ab.pValue}`);
    assert.equal(ab.significant, true);
    assert.equal(ab.better, 2);
    // Live accuracy stays where registration measured it (same population, another sample).
    for (const c of m.concept) {
      assert.ok(Math.abs(c.accuracy! - s!.registered[c.version]!) < 0.01, `v${c.version}: live ${c.accuracy} vs registered ${s!.registered[c.version]}`);
      assert.equal(c.degradation?.degraded, false);
    }
    const lines = await monitorText(s!);
    assert.ok(lines.some((l) => /^A\/B \(two-proportion z\): v2 is better: accuracy 0\.5\d\d vs 0\.5\d\d, p = .+, n = \d+\/\d+$/.test(l)), lines.join('\n'));
  });

  it('over a window: the newest 10 requests (1,000 rows) per version, and clear refusals of bad windows', async () => {
    const r = await runCli(['monitor', 'flights-api', '--last', '10', '--json'], s!.ws);
    assert.equal(r.code, 0, r.err.join('\n'));
    const m = r.json[0] as MonitorStatus;
    assert.deepEqual(m.window, { last: 10 });
    assert.equal(m.requests, 10);
    assert.equal(m.concept.reduce((n, c) => n + c.n, 0), 1000);
    assert.equal(m.unmatchedFeedback, 59_000, 'labels of older requests are outside the window');
    const since = await runCli(['monitor', 'flights-api', '--since', '1h', '--json'], s!.ws);
    assert.equal((since.json[0] as MonitorStatus).requests, 600);
    const bad = await runCli(['monitor', 'flights-api', '--last', '0'], s!.ws);
    assert.equal(bad.code, 2);
    assert.match(bad.err.join('\n'), /--last 0: expected a number of requests/);
    const both = await runCli(['monitor', 'flights-api', '--last', '5', '--since', '1h'], s!.ws);
    assert.equal(both.code, 2);
    assert.match(both.err.join('\n'), /give one window, not both/);
  });
});
