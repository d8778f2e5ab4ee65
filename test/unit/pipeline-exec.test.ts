// One step as a process: exit statuses, timeout, retries with backoff, cancellation of the
// whole process group, live output coalescing and the stdout metric form.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execStep, type ExecHooks, type ExecSpec } from '../../orchestrator/pipelines';
import { MetricLineParser, parseMetricLine, type ParsedMetric } from '../../orchestrator/pipelines/metric-lines';
import type { MetricPoint } from '../../protocol/types';

const root = mkdtempSync(join(tmpdir(), 'mlops-exec-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function spec(cmd: string, over: Partial<ExecSpec> = {}): ExecSpec {
  const cwd = join(root, `s${++n}`);
  mkdirSync(cwd);
  return { cmd, cwd, env: { PATH: process.env.PATH }, logFile: join(cwd, 'step.log'), retry: { limit: 0, backoffMs: 0 }, killGraceMs: 1000, ...over };
}

describe('execStep', () => {
  test('success and a plain failure', async () => {
    const ok = await execStep(spec('echo hello; echo oops >&2'));
    assert.equal(ok.status, 'succeeded');
    assert.equal(ok.exitCode, 0);
    const bad = await execStep(spec('exit 3'));
    assert.deepEqual([bad.status, bad.exitCode, bad.message], ['failed', 3, 'exited with code 3']);
  });

  test('stdout and stderr go to the log file and to coalesced live events', async () => {
    const s = spec('for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done');
    const events: string[] = [];
    await execStep(s, { onOutput: (stream, text) => events.push(`${stream}:${text}`) });
    const log = readFileSync(s.logFile, 'utf8');
    for (let i = 1; i <= 5; i++) assert.ok(log.includes(`out${i}\n`) && log.includes(`err${i}\n`), log);
    assert.ok(events.length <= 4, `coalesced into few events, got ${events.length}`);
    assert.equal(events.filter((e) => e.startsWith('stdout:')).join('').replace(/stdout:/g, ''), 'out1\nout2\nout3\nout4\nout5\n');
  });

  test('a step killed by SIGKILL reports the signal and exit 137', async () => {
    const self = await execStep(spec('kill -9 $$'));
    assert.deepEqual([self.status, self.exitCode, self.message], ['failed', 137, 'killed by SIGKILL (exit 137)']);
    // A shell that reports its child's death as 128 + 9 reads the same.
    const child = await execStep(spec('sh -c "kill -9 \\$\\$"; exit $?'));
    assert.deepEqual([child.status, child.exitCode, child.message], ['failed', 137, 'killed by SIGKILL (exit 137)']);
  });

  test('timeout: the group gets SIGTERM and the step fails with "timed out after 1s"', async () => {
    const started = Date.now();
    const r = await execStep(spec('sleep 30', { timeoutMs: 1000 }));
    assert.equal(r.status, 'failed');
    assert.equal(r.message, 'timed out after 1s');
    assert.ok(Date.now() - started < 5000);
  });

  test('a step that ignores SIGTERM is killed after the grace period', async () => {
    const r = await execStep(spec(`trap '' TERM; sleep 30 & wait; sleep 30`, { timeoutMs: 300, killGraceMs: 500 }));
    assert.equal(r.message, 'timed out after 300ms');
  });

  test('retries with exponential backoff, then success', async () => {
    const s = spec(`n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; node -e 'console.log(Date.now())' >> times; [ $n -ge 3 ]`, { retry: { limit: 3, backoffMs: 200 } });
    const attempts: number[] = [];
    const r = await execStep(s, { onAttempt: (a) => attempts.push(a) });
    assert.equal(r.status, 'succeeded');
    assert.equal(r.attempts, 3);
    assert.deepEqual(attempts, [1, 2, 3]);
    const t = readFileSync(join(s.cwd, 'times'), 'utf8').trim().split('\n').map(Number);
    assert.ok(t[1]! - t[0]! >= 200, `first pause ≥ 200 ms: ${t[1]! - t[0]!}`);
    assert.ok(t[2]! - t[1]! >= 400, `second pause doubles: ${t[2]! - t[1]!}`);
    assert.match(readFileSync(s.logFile, 'utf8'), /attempt 1 failed \(exited with code 1\); retrying in 200ms/);
    const exhausted = await execStep(spec('exit 2', { retry: { limit: 1, backoffMs: 10 } }));
    assert.equal(exhausted.message, 'exited with code 2 (after 2 attempts)');
  });

  test('cancel kills the whole process group, grandchildren included', async () => {
    const s = spec(`sh -c 'sleep 1000 & echo $! > gc.pid; wait' & wait`);
    const ac = new AbortController();
    let pgid: number | undefined;
    const running = execStep(s, { signal: ac.signal, onAttempt: (_a, pid) => (pgid = pid) });
    const gcFile = join(s.cwd, 'gc.pid');
    while (!existsSync(gcFile) || readFileSync(gcFile, 'utf8').trim() === '') await sleep(10);
    const grandchild = Number(readFileSync(gcFile, 'utf8'));
    assert.doesNotThrow(() => process.kill(grandchild, 0), 'grandchild is running');
    ac.abort();
    const r = await running;
    assert.equal(r.status, 'cancelled');
    assert.ok(pgid);
    assert.throws(() => process.kill(-pgid!, 0), { code: 'ESRCH' });
    assert.throws(() => process.kill(grandchild, 0), { code: 'ESRCH' });
  });

  test('background processes left by a step that exited are ended', async () => {
    let pgid: number | undefined;
    const r = await execStep(spec('sleep 1000 & echo started'), { onAttempt: (_a, pid) => (pgid = pid) });
    assert.equal(r.status, 'succeeded');
    assert.throws(() => process.kill(-pgid!, 0), { code: 'ESRCH' });
  });

  test('stdout metric lines (split across writes) and a metrics file with a series', async () => {
    const s = spec(`echo 'mlops:metric loss=0.5 acc=0.7 step=1'; printf 'mlops:met'; sleep 0.2; printf 'ric loss=0.25 step=2\\n'; echo 'not mlops:metric x=1'; echo '{"f1": 0.8, "curve": [3, 2, 1]}' > m.json`);
    const points: MetricPoint[] = [];
    const r = await execStep({ ...s, metricsFile: { abs: join(s.cwd, 'm.json'), shown: 'm.json' } }, { onMetrics: (p) => points.push(...p) });
    assert.equal(r.status, 'succeeded');
    assert.equal(r.message, undefined);
    assert.deepEqual(points.map((p) => [p.key, p.value, p.step]), [
      ['loss', 0.5, 1], ['acc', 0.7, 1], ['loss', 0.25, 2], ['f1', 0.8, 0], ['curve', 3, 0], ['curve', 2, 1], ['curve', 1, 2],
    ]);
  });

  test('a garbage metrics file: the exit code decides, a warning names the file', async () => {
    const s = spec(`echo 'garbage{' > metrics.json`);
    const r = await execStep({ ...s, metricsFile: { abs: join(s.cwd, 'metrics.json'), shown: 'metrics/x.json' } });
    assert.equal(r.status, 'succeeded');
    assert.match(r.message!, /^metrics file metrics\/x\.json is not valid JSON: /);
    assert.match(readFileSync(s.logFile, 'utf8'), /\[mlops\] warning: metrics file metrics\/x\.json is not valid JSON/);
    const stale = spec('exit 1');
    writeFileSync(join(stale.cwd, 'old.json'), '{"acc": 1}');
    const points: MetricPoint[] = [];
    const f = await execStep({ ...stale, metricsFile: { abs: join(stale.cwd, 'old.json'), shown: 'old.json' } }, { onMetrics: (p) => points.push(...p) } satisfies ExecHooks);
    assert.equal(f.message, 'exited with code 1');
    assert.deepEqual(points, [], 'a metrics file left by an earlier run is not read as this one');
  });

  test('a missing working folder fails clearly', async () => {
    const r = await execStep({ ...spec('true'), cwd: join(root, 'nope') });
    assert.match(r.message!, /working folder .*nope does not exist/);
  });
});

describe('metric lines', () => {
  test('parseMetricLine accepts the documented form only', () => {
    assert.deepEqual(parseMetricLine('mlops:metric a=1 b=-2.5e-3 step=7'), [{ key: 'a', value: 1, step: 7 }, { key: 'b', value: -0.0025, step: 7 }]);
    assert.deepEqual(parseMetricLine('mlops:metric loss=nan'), [{ key: 'loss', value: NaN, step: 0 }]);
    assert.equal(parseMetricLine('mlops:metric'), undefined);
    assert.equal(parseMetricLine('mlops:metric a=x'), undefined);
    assert.equal(parseMetricLine('mlops:metric a=1 step=-1'), undefined);
    assert.equal(parseMetricLine('xmlops:metric a=1'), undefined);
  });

  test('the stream parser finds the same lines wherever the chunks split', () => {
    const text = 'noise\nmlops:metric a=1 step=1\r\npartial mlops:metric z=9\nmlops:metric b=2\nmlops:metric c=3';
    const want = [['a', 1, 1], ['b', 2, 0], ['c', 3, 0]];
    const buf = Buffer.from(text);
    for (let i = 0; i <= buf.length; i++) {
      for (const j of [i, Math.min(buf.length, i + 3)]) {
        const got: ParsedMetric[] = [];
        const p = new MetricLineParser((pts) => got.push(...pts));
        p.push(buf.subarray(0, i));
        p.push(buf.subarray(i, j));
        p.push(buf.subarray(j));
        p.end();
        assert.deepEqual(got.map((m) => [m.key, m.value, m.step]), want, `split at ${i}/${j}`);
      }
    }
  });
});
