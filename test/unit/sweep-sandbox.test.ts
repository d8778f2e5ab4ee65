// A trial's sandbox: the workspace seen through links, except the folders on the way to the
// step's outs (real, so outs land in the sandbox) and persisted outs (copied).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { makeSandbox } from '../../orchestrator/sweeps/sandbox';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-sandbox-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('links everything but the out folders; outs are absent, persisted outs copied, .mlops left out', async () => {
  const ws = path.join(root, 'ws');
  const w = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), text);
  };
  w('train.js', 'code');
  w('data/prepared/train.csv', 'rows');
  w('models/old.json', 'an unrelated file next to the out');
  w('models/model.json', 'stale out of an earlier run');
  w('state/counter.txt', '41');
  w('.mlops/store.db', 'never linked');
  const dir = path.join(ws, '.mlops', 'sweeps', 'r1', 'trial-0');
  await makeSandbox(ws, dir, {
    outs: [{ path: 'models/model.json', cache: true, persist: false }, { path: 'state/counter.txt', cache: true, persist: true }, { path: 'reports/deep/summary.txt', cache: true, persist: false }],
    metrics: 'metrics/train.json',
  });
  const kind = (rel: string) => {
    const st = fs.lstatSync(path.join(dir, rel), { throwIfNoEntry: false });
    return !st ? 'missing' : st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
  };
  assert.equal(kind('train.js'), 'link');
  assert.equal(kind('data'), 'link', 'upstream outs are read through the link');
  assert.equal(fs.readFileSync(path.join(dir, 'data/prepared/train.csv'), 'utf8'), 'rows');
  assert.equal(kind('models'), 'dir');
  assert.equal(kind('models/old.json'), 'link');
  assert.equal(kind('models/model.json'), 'missing', 'the out itself starts absent');
  assert.equal(kind('state/counter.txt'), 'file');
  assert.equal(fs.readFileSync(path.join(dir, 'state/counter.txt'), 'utf8'), '41');
  assert.equal(kind('reports/deep'), 'dir', 'folders of outs the workspace does not have yet');
  assert.equal(kind('metrics'), 'dir');
  assert.equal(kind('.mlops'), 'missing');
  // Writing the outs in the sandbox leaves the workspace alone.
  fs.writeFileSync(path.join(dir, 'models/model.json'), 'trial out');
  fs.writeFileSync(path.join(dir, 'state/counter.txt'), '42');
  assert.equal(fs.readFileSync(path.join(ws, 'models/model.json'), 'utf8'), 'stale out of an earlier run');
  assert.equal(fs.readFileSync(path.join(ws, 'state/counter.txt'), 'utf8'), '41');
  // Made again (a retried trial): starts clean.
  await makeSandbox(ws, dir, { outs: [{ path: 'models/model.json', cache: true, persist: false }] });
  assert.equal(kind('models/model.json'), 'missing');
});
