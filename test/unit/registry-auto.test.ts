/**
 * `register: auto`: the daemon registers a new version after a successful run in which the
 * model's step ran, and none after a run that took the step from the cache. A real daemon
 * in-process with the real pipeline runner on a tiny inline pipeline.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DaemonEvent } from '../../protocol/api';
import { DaemonClient } from '../../orchestrator/api-client';
import { startDaemon, type RunningDaemon } from '../../orchestrator/daemon/daemon-main';
import { silentLogger } from '../../orchestrator/daemon/log';
import { RegistryClient } from '../../orchestrator/registry/client';

const MANIFEST = `version: 1
project: auto
params:
  seed: 1
steps:
  train:
    cmd: node train.js \${params.seed}
    deps: [train.js]
    params: [seed]
    outs: [out/model.txt]
models:
  m:
    from: train
    artifact: out/model.txt
    flavor: command
    command: node serve.js
    register: auto
`;

let ws: string;
let daemon: RunningDaemon;
let http: DaemonClient;
let reg: RegistryClient;

before(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-auto-'));
  fs.writeFileSync(path.join(ws, 'mlops.yaml'), MANIFEST);
  fs.writeFileSync(path.join(ws, 'train.js'), `const fs = require('fs'); fs.mkdirSync('out', { recursive: true });
fs.writeFileSync('out/model.txt', 'seed ' + process.argv[2]); console.log('mlops:metric accuracy=0.9' + process.argv[2]);`);
  daemon = await startDaemon(ws, { log: silentLogger });
  http = new DaemonClient(`http://127.0.0.1:${daemon.info.port}`, fs.readFileSync(daemon.paths.token, 'utf8').trim());
  reg = new RegistryClient(http);
});

after(async () => {
  await daemon?.stop('test done');
  fs.rmSync(ws, { recursive: true, force: true });
});

/** Starts a run and resolves with the events up to the one `until` accepts. */
async function runUntil(params: Record<string, string>, until: (e: DaemonEvent, runId: string) => boolean): Promise<string> {
  const stream = http.events();
  await stream.ready;
  const { runId } = await http.run({ params });
  try {
    for await (const e of stream) if (until(e, runId)) return runId;
  } finally {
    stream.close();
  }
  throw new Error('the event stream ended');
}

describe('register: auto', () => {
  it('registers a version when the step runs', async () => {
    const runId = await runUntil({}, (e) => e.type === 'models-changed');
    const { versions } = await reg.getModel('m');
    assert.deepEqual(versions.map((v) => [v.version, v.runId, v.createdBy, v.metrics.accuracy]), [[1, runId, 'local', 0.91]]);
  });

  it('registers nothing when the step came from the cache, and again when it runs', async () => {
    let cachedFinished = false;
    await runUntil({}, (e, id) => e.type === 'run-finished' && e.runId === id && (cachedFinished = true));
    assert.ok(cachedFinished);
    // The next run trains again (seed changed): its version is 2, so the cached run added none.
    await runUntil({ seed: '2' }, (e) => e.type === 'models-changed');
    const { versions } = await reg.getModel('m');
    assert.deepEqual(versions.map((v) => [v.version, v.metrics.accuracy]), [[2, 0.92], [1, 0.91]]);
  });
});
