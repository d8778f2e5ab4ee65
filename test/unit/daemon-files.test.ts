/**
 * The daemon's files and process bookkeeping, without a daemon: token, lock, paths, the
 * orphan reaper, UTF-8-safe log chunks and the SSE parser.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { MlopsError } from '../../protocol/errors';
import { SseParser } from '../../orchestrator/api-client/sse';
import { acquireLock, lockHolder } from '../../orchestrator/daemon/lock';
import { completeUtf8Length } from '../../orchestrator/daemon/logs';
import { isInside, mlopsPaths, runPidsFile } from '../../orchestrator/daemon/paths';
import { groupMembers, isAlive, processIdentity } from '../../orchestrator/daemon/proc';
import { reapOrphanedSteps, StepPidRecorder } from '../../orchestrator/daemon/step-pids';
import { ensureToken, readToken, tokenMatches } from '../../orchestrator/daemon/token';

const temps: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-daemon-files-'));
  temps.push(d);
  return d;
}
after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A pid that certainly belongs to no process: one that just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('token', () => {
  it('is created as 64 hex chars with mode 0600, and read back unchanged', () => {
    const file = path.join(tempDir(), '.mlops', 'token');
    const token = ensureToken(file);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(ensureToken(file), token);
    assert.equal(readToken(file), token);
  });

  it('narrows a token file that is readable by others to 0600', () => {
    const file = path.join(tempDir(), 'token');
    const token = ensureToken(file);
    fs.chmodSync(file, 0o644);
    assert.equal(ensureToken(file), token);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it('replaces a malformed token file', () => {
    const file = path.join(tempDir(), 'token');
    fs.writeFileSync(file, 'not a token\n', { mode: 0o600 });
    assert.equal(readToken(file), undefined);
    assert.match(ensureToken(file), /^[0-9a-f]{64}$/);
  });

  it('compares in constant time and only equal tokens match', () => {
    const t = 'a'.repeat(64);
    assert.ok(tokenMatches(t, t));
    assert.ok(!tokenMatches('a'.repeat(63), t));
    assert.ok(!tokenMatches('', t));
  });
});

describe('daemon.lock', () => {
  it('is exclusive while its holder lives and released by it', () => {
    const file = path.join(tempDir(), 'daemon.lock');
    const lock = acquireLock(file);
    assert.equal(lockHolder(file), process.pid);
    assert.throws(() => acquireLock(file), (e: unknown) => e instanceof MlopsError && e.code === 'CONFLICT' && e.message.includes(String(process.pid)));
    lock.release();
    assert.ok(!fs.existsSync(file));
  });

  it('replaces a stale lock whose process is dead', async () => {
    const file = path.join(tempDir(), 'daemon.lock');
    fs.writeFileSync(file, `${await deadPid()} 12345\n`);
    assert.equal(lockHolder(file), undefined);
    const lock = acquireLock(file);
    assert.equal(lockHolder(file), process.pid);
    lock.release();
  });

  it('treats a live pid with another identity (pid reuse) as stale', () => {
    const file = path.join(tempDir(), 'daemon.lock');
    fs.writeFileSync(file, `${process.pid} not-my-start-time\n`);
    if (processIdentity(process.pid)) {
      acquireLock(file).release();
    } else {
      assert.throws(() => acquireLock(file)); // without /proc a live pid is trusted
    }
  });
});

describe('paths', () => {
  it('isInside refuses .. escapes and sibling prefixes', () => {
    assert.ok(isInside('/w/.mlops/runs', '/w/.mlops/runs/abc/logs/x.log'));
    assert.ok(!isInside('/w/.mlops/runs', '/w/.mlops/runs/../token'));
    assert.ok(!isInside('/w/.mlops/runs', '/w/.mlops/runs-evil/x'));
    assert.ok(!isInside('/w/.mlops/runs', '/etc/passwd'));
    assert.ok(isInside('/w/.mlops/runs', '/w/.mlops/runs/..x'));
  });
});

describe('orphaned step process groups', () => {
  it('are recorded from step events and killed by the next daemon', async () => {
    const ws = tempDir();
    const paths = mlopsPaths(ws);
    // A step as the runner starts it: a shell in its own process group, with a child.
    const step = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30; wait'], { detached: true, stdio: 'ignore' });
    step.unref();
    const pgid = step.pid!;
    const runId = 'a'.repeat(32);
    const recorder = new StepPidRecorder(paths);
    recorder.onEvent({ type: 'step-started', runId, stepRunId: 'b'.repeat(32), step: 'train', attempt: 1, pid: pgid });
    assert.match(fs.readFileSync(runPidsFile(paths, runId), 'utf8'), new RegExp(`^${pgid} \\S+ train\\n$`));
    await waitFor(() => groupMembers(pgid).length >= 2);

    const reaped = await reapOrphanedSteps(paths, 1000);
    assert.deepEqual(reaped, [{ runId, step: 'train', pgid }]);
    await waitFor(() => groupMembers(pgid).length === 0);
    assert.ok(!isAlive(pgid));
    assert.ok(!fs.existsSync(runPidsFile(paths, runId)));
  });

  it('drops the record when the step finishes, and leaves a reused pid alone', async () => {
    const ws = tempDir();
    const paths = mlopsPaths(ws);
    const runId = 'c'.repeat(32);
    const recorder = new StepPidRecorder(paths);
    recorder.onEvent({ type: 'step-started', runId, stepRunId: 'd'.repeat(32), step: 'a', attempt: 1, pid: 999_999 });
    recorder.onEvent({ type: 'step-finished', runId, stepRunId: 'd'.repeat(32), step: 'a', status: 'succeeded', durationMs: 1 });
    assert.ok(!fs.existsSync(runPidsFile(paths, runId)));

    // A record naming a live group leader with a different start time: not ours any more.
    const stranger = spawn('/bin/sh', ['-c', 'sleep 30'], { detached: true, stdio: 'ignore' });
    try {
      fs.mkdirSync(path.dirname(runPidsFile(paths, runId)), { recursive: true });
      fs.writeFileSync(runPidsFile(paths, runId), `${stranger.pid} 1 a\n`);
      if (processIdentity(stranger.pid!)) {
        assert.deepEqual(await reapOrphanedSteps(paths, 100), []);
        assert.ok(isAlive(stranger.pid!));
      }
    } finally {
      process.kill(-stranger.pid!, 'SIGKILL');
    }
  });
});

describe('log chunks', () => {
  it('never end inside a UTF-8 sequence', () => {
    const b = Buffer.from('aé€😀', 'utf8'); // 1 + 2 + 3 + 4 bytes
    assert.equal(completeUtf8Length(b), 10);
    for (const [cut, expect] of [[2, 1], [3, 3], [4, 3], [5, 3], [6, 6], [7, 6], [9, 6]] as const) {
      assert.equal(completeUtf8Length(b.subarray(0, cut)), expect, `cut at ${cut}`);
    }
  });
});

describe('SSE parser', () => {
  it('joins data lines, ignores comments and handles split chunks and CRLF', () => {
    const p = new SseParser();
    assert.deepEqual(p.push(': connected\n\ndata: {"a":'), []);
    assert.deepEqual(p.push('1}\n\n: ping\n\ndata: x\r\ndata: y\r'), ['{"a":1}']);
    assert.deepEqual(p.push('\n\r\n'), ['x\ny']);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
