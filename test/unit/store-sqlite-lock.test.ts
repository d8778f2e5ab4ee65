/**
 * Registry transactions are async, and the registry and the run store hold two connections to
 * one SQLite file in one process. A run-store write issued while a registry write transaction
 * is open must wait for it (without blocking the thread on SQLite's busy_timeout, which would
 * stall the holder and end in SQLITE_BUSY), and registry transactions must not interleave.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRegistryStore } from '../../orchestrator/registry/sqlite-registry-store';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-lock-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a run-store write waits for an open registry transaction instead of failing on the file lock', async () => {
  const runs = await openSqliteStore(dir);
  const registry = await openRegistryStore(dir);
  try {
    const run = await runs.createRun({ experiment: 'e', name: 'r', kind: 'pipeline' });
    const order: string[] = [];
    const t0 = Date.now();
    const slowRegistryWrite = registry.write(async (tx) => {
      await tx.reserveVersion('m', undefined, 1);
      await sleep(300); // real I/O-like wait: the event loop runs other requests meanwhile
      await tx.touchToken('nobody', 2);
      order.push('registry committed');
    });
    await sleep(20);
    const metric = runs.logMetrics(run, [{ key: 'loss', value: 0.5, step: 0, timestamp: 1 }]).then(() => order.push('metric written'));
    await Promise.all([slowRegistryWrite, metric]);
    assert.deepEqual(order, ['registry committed', 'metric written']);
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms (a blocked BEGIN would take the 5 s busy timeout)`);
    assert.equal((await runs.getLatestMetrics(run))[0]?.value, 0.5);
  } finally {
    await registry.close();
    await runs.close();
  }
});

test('concurrent registry write transactions run one after the other', async () => {
  const registry = await openRegistryStore(dir);
  try {
    const versions = await Promise.all(
      Array.from({ length: 10 }, () =>
        registry.write(async (tx) => {
          const v = await tx.reserveVersion('n', undefined, 1);
          await sleep(5);
          await tx.appendAudit({ actor: 'local', action: 'model.register', target: `n/${v}` });
          return v;
        }),
      ),
    );
    assert.deepEqual([...versions].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const chain = await registry.read((tx) => tx.auditChain());
    assert.deepEqual(chain.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  } finally {
    await registry.close();
  }
});
