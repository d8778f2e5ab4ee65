// Crash recovery: an orchestrator killed with SIGKILL mid-run leaves detached step process
// groups behind; whoever takes over the stale run lock ends them, the store marks the run
// interrupted, and the next run resumes by skipping the steps that had finished.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PipelineRunner, recoverStaleRun } from '../../orchestrator/pipelines';
import { processStart } from '../../orchestrator/pipelines/run-lock';
import { openSqliteStore, type SqliteStore } from '../../orchestrator/store/sqlite-store';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-crash-'));
  writeFileSync(join(dir, 'mlops.yaml'), yaml);
  const store: SqliteStore = await openSqliteStore(join(dir, '.mlops'));
  const runner = new PipelineRunner({ workspace: dir, store });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async () => {
    const started = await runner.start();
    const status = await started.done;
    const detail = (await store.getRun(started.runId))!;
    return { status, child: (name: string) => detail.children.find((c) => c.name === name)! };
  };
  const count = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).length : 0);
  return { dir, store, runner, run, count };
}

describe('crash recovery', () => {
  const REPO = fileURLToPath(new URL('../../', import.meta.url));
  const groupAlive = (pgid: number) => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const gone = async (pgid: number) => {
    for (let i = 0; i < 300 && groupAlive(pgid); i++) await sleep(20);
    return !groupAlive(pgid);
  };

  test('a stale lock is taken over: only step groups whose start time still matches are killed', async () => {
    const w = await setup(`version: 1\nproject: p\nsteps:\n  s: {cmd: "true"}\n`);
    const orphan = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    const stranger = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    const deadPid = spawnSync('true').pid!;
    writeFileSync(join(w.dir, '.mlops/run.lock'), JSON.stringify({
      pid: deadPid, runId: 'f'.repeat(32), startedAt: Date.now() - 60_000,
      groups: [{ pgid: orphan.pid, start: processStart(orphan.pid!) }, { pgid: stranger.pid, start: '1' /* a recycled pid */ }],
    }));
    try {
      const recovered = recoverStaleRun(w.dir)!;
      assert.equal(recovered.runId, 'f'.repeat(32));
      assert.equal(recovered.orphansKilled, 1);
      assert.ok(await gone(orphan.pid!), 'the orphaned step group was killed');
      assert.ok(groupAlive(stranger.pid!), 'a group whose start time differs was left alone');
      assert.equal(existsSync(join(w.dir, '.mlops/run.lock')), false);
      // A live holder's lock is not touched.
      writeFileSync(join(w.dir, '.mlops/run.lock'), JSON.stringify({ pid: process.pid, runId: 'e'.repeat(32), startedAt: Date.now() }));
      assert.equal(recoverStaleRun(w.dir), undefined);
      rmSync(join(w.dir, '.mlops/run.lock'));
    } finally {
      process.kill(-stranger.pid!, 'SIGKILL');
      orphan.kill('SIGKILL');
    }
  });

  test('orchestrator killed with SIGKILL mid-run: orphans ended on recovery, run interrupted, the next run resumes', async () => {
    const w = await setup(`version: 1
project: p
steps:
  first: {cmd: "echo 1 >> first.count && echo done > first.txt", outs: [first.txt]}
  long: {cmd: "[ -f go ] || sleep 1000", needs: [first]}
`);
    // CommonJS: how tsx loads this repo's .ts files (no "type": "module").
    const script = `
      const { PipelineRunner } = require(${JSON.stringify(join(REPO, 'orchestrator/pipelines/index.ts'))});
      const { openSqliteStore } = require(${JSON.stringify(join(REPO, 'orchestrator/store/sqlite-store.ts'))});
      (async () => {
        const dir = process.env.WS;
        const store = await openSqliteStore(dir + '/.mlops');
        const runner = new PipelineRunner({ workspace: dir, store });
        runner.on((e) => { if (e.type === 'step-started' && e.step === 'long') console.log(JSON.stringify({ runId: e.runId, pgid: e.pid })); });
        await runner.start();
        setInterval(() => {}, 1000);
      })();`;
    const env: NodeJS.ProcessEnv = { ...process.env, WS: w.dir };
    delete env.NODE_TEST_CONTEXT;
    const orchestrator = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const started = await new Promise<{ runId: string; pgid: number }>((resolve, reject) => {
      let buf = '';
      orchestrator.stdout!.on('data', (d: Buffer) => {
        buf += d;
        if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!));
      });
      orchestrator.on('exit', (code) => reject(new Error(`orchestrator exited early (${code})`)));
    });
    orchestrator.kill('SIGKILL');
    await new Promise((r) => orchestrator.once('exit', r));
    assert.ok(groupAlive(started.pgid), 'the detached step outlived its orchestrator');

    // What a daemon does when it starts again.
    const interrupted = await w.store.markInterrupted();
    assert.ok(interrupted.includes(started.runId));
    assert.equal(recoverStaleRun(w.dir)!.orphansKilled, 1);
    assert.ok(await gone(started.pgid), 'no orphaned step process remains');
    assert.equal((await w.store.getRun(started.runId))!.status, 'interrupted');

    writeFileSync(join(w.dir, 'go'), '');
    const resumed = await w.run();
    assert.equal(resumed.status, 'succeeded');
    assert.deepEqual([resumed.child('first').status, resumed.child('first').message], ['skipped', 'cached']);
    assert.equal(resumed.child('long').status, 'succeeded');
    assert.equal(w.count('first.count'), 1, 'the step that finished before the crash did not run again');
  });
});
