import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HoverRequest, type Hover, type MarkupContent } from 'vscode-languageserver-protocol/node';
import { LspSession, messageOf } from './lsp-harness';

const MANIFEST = `version: 1
project: tune
params:
  lr: 0.1
  epochs: 3
  seed: 1
steps:
  train:
    cmd: node train.mjs --lr \${params.lr} --epochs \${params.epochs}
    params: [lr, epochs]
    logs_metrics: [val_loss]
sweeps:
  grid:
    step: train
    method: grid
    objective: {metric: val_los, goal: minimize}
    space:
      lr: {choice: [0.1, 0.01, 0.001]}
      epochs: {int: [1, 4]}
      seed: {choice: [1, 2]}
`;

describe('sweeps in the language server', () => {
  const lsp = new LspSession();
  const uri = 'file:///ws/sweep/mlops.yaml';
  before(async () => {
    await lsp.start();
    lsp.open(uri, MANIFEST);
  });
  after(() => lsp.stop());

  it('warns about an objective the step does not log and a param the step does not use', async () => {
    const d = await lsp.diagnostics(uri);
    const messages = d.map(messageOf);
    assert.ok(messages.some((m) => /Sweep "grid" optimises "val_los", which step "train" does not log; did you mean "val_loss"\?/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /searches over "seed", but step "train" does not list it in its params/.test(m)), messages.join('\n'));
  });

  it('shows the grid size when hovering a sweep', async () => {
    const line = MANIFEST.split('\n').indexOf('  grid:');
    const h = (await lsp.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: 3 } })) as Hover | null;
    assert.ok(h, 'a hover');
    assert.match((h.contents as MarkupContent).value, /Search space: 3 × 4 × 2 = \*\*24\*\* grid points/);
  });
});
