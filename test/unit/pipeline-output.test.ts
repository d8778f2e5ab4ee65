// A step that prints 100 MB: the log file gets everything, live events stay few, and the
// orchestrator's memory stays bounded (it never holds a step's output).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PipelineEvent } from '../../protocol/pipeline';
import { stepLogPath } from '../../protocol/pipeline';
import { PipelineRunner } from '../../orchestrator/pipelines';
import { openSqliteStore } from '../../orchestrator/store/sqlite-store';

const dir = mkdtempSync(join(tmpdir(), 'mlops-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BYTES = 100 * 1024 * 1024;

test('a step printing 100 MB to stdout succeeds with bounded memory and a complete log', async (t) => {
  writeFileSync(join(dir, 'mlops.yaml'), `version: 1
project: p
steps:
  chatty:
    cmd: yes 'a line of output, about sixty bytes long, again and again...' | head -c ${BYTES}; echo; echo 'mlops:metric done=1'
`);
  const store = await openSqliteStore(join(dir, '.mlops'));
  try {
    const runner = new PipelineRunner({ workspace: dir, store });
    let outputEvents = 0;
    let liveBytes = 0;
    runner.on((e: PipelineEvent) => {
      if (e.type === 'step-output') {
        outputEvents++;
        liveBytes += e.text.length;
      }
    });
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = Date.now();
    const { runId, done } = await runner.start();
    const status = await done;
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(status, 'succeeded');
    const growth = (peak - rss0) / 1024 / 1024;
    assert.ok(growth < 200, `rss grew by ${growth.toFixed(0)} MB`);
    const logSize = statSync(join(dir, stepLogPath(runId, 'chatty'))).size;
    assert.ok(logSize >= BYTES && logSize < BYTES + 4096, `log holds all the output: ${logSize}`);
    // ≤ 10 events/s per stream, plus the final flush.
    assert.ok(outputEvents <= 10 * seconds + 5, `${outputEvents} events in ${seconds.toFixed(1)} s`);
    assert.ok(liveBytes < 20 * 1024 * 1024, `live events carry a bounded share: ${liveBytes}`);
    t.diagnostic(`${seconds.toFixed(1)} s, rss +${growth.toFixed(0)} MB at peak, log ${logSize} bytes, ${outputEvents} live events (${liveBytes} chars)`);
    const detail = (await store.getRun(runId))!;
    assert.equal(detail.latestMetrics.done, 1, 'a metric line after 100 MB of output is still parsed');
  } finally {
    await store.close();
  }
});
