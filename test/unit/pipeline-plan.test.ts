// Pure parts of the pipeline engine: plan decisions and their reasons, change explanations,
// durations, shell quoting, param overrides, manifest loading and step selection.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MlopsError } from '../../protocol/errors';
import { applyParamOverrides, buildPipeline, decideStep, explainChange, formatDuration, loadManifest, parseDuration, parseParamArgs, planSteps, shellQuote, type FingerprintComponents, type StepFacts } from '../../orchestrator/pipelines';

const comps = (over: Partial<FingerprintComponents> = {}): FingerprintComponents => ({
  cmd: 'python train.py --lr 0.1', cmdTemplate: 'python train.py --lr ${params.lr}', wdir: '', env: {}, params: { lr: '0.1' }, deps: { 'data/x.csv': 'h1' }, outs: ['model.bin'], ...over,
});

/** A step that ran before with `prev`, now has `cur`; cache entry only when they match. */
function facts(name: string, over: Partial<StepFacts> = {}): StepFacts {
  return {
    name, needs: [], cmd: 'cmd', cacheable: true, components: comps(), fingerprint: 'fp', outs: [{ path: 'model.bin', cache: true, current: 'm1', restorable: false }],
    cached: { outs: [{ path: 'model.bin', hash: 'm1', size: 3 }], runId: 'r1' }, ...over,
  };
}

const miss = (prev: FingerprintComponents, cur: FingerprintComponents): Partial<StepFacts> => ({ cached: undefined, components: cur, fingerprint: 'new', previous: { fingerprint: 'old', components: prev } });

const isCode = (code: MlopsError['code'], re?: RegExp) => (e: unknown) => e instanceof MlopsError && e.code === code && (!re || re.test(e.message));

describe('plan reasons', () => {
  test('cached: fingerprint hit and outs as cached → skip', () => {
    assert.deepEqual(decideStep(facts('a'), [], false), { action: 'skip', reason: 'cached' });
  });
  test('no previous run', () => {
    assert.deepEqual(decideStep(facts('a', { cached: undefined }), [], false), { action: 'run', reason: 'no previous run' });
  });
  test('forced wins over a valid cache', () => {
    assert.deepEqual(decideStep(facts('a'), [], true), { action: 'run', reason: 'forced' });
  });
  test('cmd changed', () => {
    const d = decideStep(facts('a', miss(comps(), comps({ cmd: 'python train2.py --lr 0.1', cmdTemplate: 'python train2.py --lr ${params.lr}' }))), [], false);
    assert.deepEqual(d, { action: 'run', reason: 'cmd changed' });
  });
  test('params changed: lr 0.1→0.05 (not reported as a cmd change)', () => {
    const d = decideStep(facts('a', miss(comps(), comps({ cmd: 'python train.py --lr 0.05', params: { lr: '0.05' } }))), [], false);
    assert.deepEqual(d, { action: 'run', reason: 'params changed: lr 0.1→0.05' });
  });
  test('deps changed: names up to 3 paths then …', () => {
    const one = decideStep(facts('a', miss(comps(), comps({ deps: { 'data/x.csv': 'h2' } }))), [], false);
    assert.equal(one.reason, 'deps changed: data/x.csv');
    const prev = comps({ deps: { a: '1', b: '1', c: '1', d: '1' } });
    const many = decideStep(facts('a', miss(prev, comps({ deps: { a: '2', b: '2', c: '2', d: '2' } }))), [], false);
    assert.equal(many.reason, 'deps changed: a, b, c, …');
    const removed = decideStep(facts('a', miss(prev, comps({ deps: { a: '1', b: '1', c: '1' } }))), [], false);
    assert.equal(removed.reason, 'deps changed: d');
  });
  test('several changes are listed together', () => {
    const d = decideStep(facts('a', miss(comps(), comps({ cmd: 'x --lr 0.2', params: { lr: '0.2' }, deps: { 'data/x.csv': 'h9' } }))), [], false);
    assert.equal(d.reason, 'params changed: lr 0.1→0.2; deps changed: data/x.csv');
  });
  test('outs missing (not restorable) → run; restorable → restore', () => {
    const gone = facts('a', { outs: [{ path: 'model.bin', cache: true, current: undefined, restorable: false }] });
    assert.deepEqual(decideStep(gone, [], false), { action: 'run', reason: 'outs missing' });
    const back = facts('a', { outs: [{ path: 'model.bin', cache: true, current: undefined, restorable: true }] });
    assert.deepEqual(decideStep(back, [], false), { action: 'restore', reason: 'outs restored from cache' });
    const uncached = facts('a', { outs: [{ path: 'model.bin', cache: false, current: undefined, restorable: false }] });
    assert.deepEqual(decideStep(uncached, [], false), { action: 'run', reason: 'outs missing' });
  });
  test('upstream will run: names the upstream steps', () => {
    const plan = planSteps([facts('prepare', { cached: undefined }), facts('train', { needs: ['prepare'] }), facts('report', { needs: ['train'] })]);
    assert.deepEqual(plan.map((s) => [s.step, s.action, s.reason]), [
      ['prepare', 'run', 'no previous run'],
      ['train', 'run', 'upstream will run: prepare'],
      ['report', 'run', 'upstream will run: train'],
    ]);
  });
  test('a restored upstream does not make its dependants run', () => {
    const plan = planSteps([facts('prepare', { outs: [{ path: 'model.bin', cache: true, restorable: true }] }), facts('train', { needs: ['prepare'] })]);
    assert.deepEqual(plan.map((s) => s.action), ['restore', 'skip']);
  });
  test('explainChange: env, wdir, outs, and an unexplained difference', () => {
    assert.equal(explainChange(comps(), comps({ env: { A: '1' } })), 'env changed: A');
    assert.equal(explainChange(comps(), comps({ wdir: 'sub' })), 'wdir changed');
    assert.equal(explainChange(comps(), comps({ outs: ['model.bin', 'extra'] })), 'outs changed');
    assert.equal(explainChange(comps(), comps()), 'fingerprint changed');
  });
  test('cache: false steps always run', () => {
    assert.deepEqual(decideStep(facts('a', { cacheable: false }), [], false), { action: 'run', reason: 'always runs (cache: false)' });
  });
});

describe('durations, quoting, params', () => {
  test('parseDuration / formatDuration', () => {
    assert.equal(parseDuration(30), 30_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5'), 1500);
    assert.throws(() => parseDuration('soon'));
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(200), '200ms');
  });
  test('shellQuote leaves safe words bare and single-quotes the rest', () => {
    assert.equal(shellQuote('0.05'), '0.05');
    assert.equal(shellQuote('data/x.csv'), 'data/x.csv');
    assert.equal(shellQuote('a b; rm -rf x'), `'a b; rm -rf x'`);
    assert.equal(shellQuote(`it's`), `'it'\\''s'`);
    assert.equal(shellQuote(''), `''`);
    assert.equal(shellQuote('$(whoami)'), `'$(whoami)'`);
  });
  test('overrides are typed by the default; unknown names get a did-you-mean', () => {
    const d = { lr: 0.1, epochs: 10, name: 'x', flag: false, layers: [64, 32] };
    assert.deepEqual(applyParamOverrides(d, { lr: '0.05', epochs: '3', name: '7', flag: 'true', layers: '128,64' }), { lr: 0.05, epochs: 3, name: '7', flag: true, layers: [128, 64] });
    assert.throws(() => applyParamOverrides(d, { lrr: '1' }), isCode('BAD_REQUEST', /unknown param "lrr"; did you mean "lr"\?/));
    assert.throws(() => applyParamOverrides(d, { lr: 'fast' }), isCode('BAD_REQUEST', /param "lr" is a number/));
    assert.deepEqual(parseParamArgs(['lr=0.05', 'name=a=b']), { lr: '0.05', name: 'a=b' });
    assert.throws(() => parseParamArgs(['lr']), isCode('BAD_REQUEST'));
  });
});

describe('loading and selecting', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const ws = (yaml: string) => {
    const d = mkdtempSync(join(tmpdir(), 'mlops-load-'));
    dirs.push(d);
    writeFileSync(join(d, 'mlops.yaml'), yaml);
    return d;
  };

  test('an invalid manifest is refused with every error as mlops.yaml:line:col message', () => {
    const d = ws('version: 1\nproject: p\nsteps:\n  a:\n    cmd: echo ${params.nope}\n  b:\n    needs: [zz]\n    cmd: echo\n');
    assert.throws(() => loadManifest(d), (e: unknown) => {
      assert.ok(e instanceof MlopsError && e.code === 'INVALID_MANIFEST');
      const lines = e.message.split('\n').slice(1);
      assert.equal(lines.length, 2, e.message);
      assert.match(lines[0]!, /^mlops\.yaml:5:\d+ .*unknown param "nope"/);
      assert.match(lines[1]!, /^mlops\.yaml:7:\d+ .*Unknown step "zz"/);
      assert.match(e.message, /^mlops\.yaml has 2 errors; fix them and run again:/);
      return true;
    });
  });

  test('a selection pulls in everything upstream, in dependency order; unknown steps are refused', () => {
    const d = ws(`version: 1
project: p
steps:
  report: {cmd: "cat m", deps: [m], needs: [train]}
  train: {cmd: "cat f > m", deps: [f], outs: [m]}
  prep: {cmd: "echo > f", outs: [f]}
  other: {cmd: "true", deps: [/etc/hostname, ./a/../b//c.txt]}
`);
    const p = buildPipeline(loadManifest(d), ['report']);
    assert.deepEqual(p.order, ['prep', 'train', 'report']);
    assert.deepEqual(p.needs.get('train'), ['prep']);
    const whole = buildPipeline(loadManifest(d));
    assert.deepEqual(whole.order, ['prep', 'train', 'report', 'other']);
    assert.deepEqual(whole.specs.get('other')!.deps, ['/etc/hostname', 'b/c.txt'], 'absolute deps stay absolute, relative ones are normalised');
    assert.throws(() => buildPipeline(loadManifest(d), ['trainn']), isCode('BAD_REQUEST', /unknown step "trainn"; did you mean "train"\?/));
  });
});
