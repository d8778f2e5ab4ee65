import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver-protocol';
import { LspSession, messageOf } from './lsp-harness';

const MANIFEST = (target: string) => `version: 1
project: p
export:
  target: ${target}
steps:
  prep:
    cmd: echo prep
    image: alpine:3.20
  train:
    cmd: python train.py --run \${run.id}
    needs: [prep]
    retries: {limit: 2, backoff: 2h}
    resources: {gpu: 1}
`;

describe('export parity warnings in the language server', () => {
  const lsp = new LspSession();
  before(() => lsp.start());
  after(() => lsp.stop());

  it('shows Warning and Information diagnostics on the step key when export.target is set', async () => {
    const uri = 'file:///ws/parity/mlops.yaml';
    lsp.open(uri, MANIFEST('kfp'));
    const d = await lsp.diagnostics(uri, (p) => p.version === 1);
    const parity = d.filter((x) => String(x.code).startsWith('export-'));
    assert.deepEqual(parity.map((x) => [x.code, x.severity]).sort(), [
      ['export-backoff-cap', DiagnosticSeverity.Warning],
      ['export-gpu-without-resources', DiagnosticSeverity.Warning],
      ['export-no-image', DiagnosticSeverity.Warning],
      ['export-retries', DiagnosticSeverity.Information],
      ['export-run-id', DiagnosticSeverity.Information],
    ]);
    for (const x of parity) {
      assert.deepEqual(x.range, { start: { line: 8, character: 2 }, end: { line: 8, character: 7 } }, 'on the key "train"');
      assert.equal(x.source, 'mlops');
      assert.match(messageOf(x), /^KFP export: /);
    }
    assert.equal(d.length, parity.length, 'nothing else is reported');
  });

  it('follows edits: a new target, a fixed step, and no target at all', async () => {
    const uri = 'file:///ws/parity-edit/mlops.yaml';
    lsp.open(uri, MANIFEST('argo'), 1);
    const v1 = await lsp.diagnostics(uri, (p) => p.version === 1);
    assert.ok(v1.some((x) => x.code === 'export-retries' && /retryStrategy\.limit "2": Argo counts retries after the first attempt/.test(messageOf(x))));
    assert.ok(!v1.some((x) => x.code === 'export-backoff-cap' && x.severity === DiagnosticSeverity.Warning), 'the 1 h cap is KFP\'s');
    // Give the step resources (line 12 is "    resources: {gpu: 1}").
    lsp.change(uri, 2, [{ range: { start: { line: 12, character: 17 }, end: { line: 12, character: 23 } }, text: '{gpu: 1, cpu: 4, memory: 8Gi}' }]);
    const v2 = await lsp.diagnostics(uri, (p) => p.version === 2);
    assert.ok(!v2.some((x) => x.code === 'export-gpu-without-resources'), JSON.stringify(v2.map((x) => x.code)));
    assert.ok(v2.some((x) => x.code === 'export-no-image'));
    // Remove the export section: no parity diagnostics at all.
    lsp.change(uri, 3, [{ range: { start: { line: 2, character: 0 }, end: { line: 4, character: 0 } }, text: '' }]);
    const v3 = await lsp.diagnostics(uri, (p) => p.version === 3);
    assert.deepEqual(v3.filter((x) => String(x.code).startsWith('export-')), []);
  });

  it('says nothing about export on a manifest without export.target', async () => {
    const uri = 'file:///ws/parity-none/mlops.yaml';
    lsp.open(uri, MANIFEST('argo').replace('export:\n  target: argo\n', ''));
    assert.deepEqual(await lsp.diagnostics(uri), []);
  });
});
