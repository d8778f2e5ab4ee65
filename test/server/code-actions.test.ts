import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CodeActionRequest, type CodeAction, type Diagnostic } from 'vscode-languageserver-protocol/node';
import { applyEdits, startSession } from './authoring-session';
import { messageOf, type LspSession } from './lsp-harness';

const BROKEN = `version: 1
project: fixes
params:
  lr: 0.1
steps:
  prepare:
    cmd: node prepare.mjs \${params.lrr} \${params.batch}
    outs:
      - data/features.csv
      - data/extra.csv
  train:
    needs: [prepar]
    cmd: node train.mjs
    outs:
      - data/features.csv
      - model.onnx
    timeoutt: 5m
  evaluate:
    cmd: node eval.mjs
    needs: [score]
models:
  clf:
    from: train
    artifact: model.onnx
    flavor: onx
`;

const CYCLE = `version: 1
project: cycle
steps:
  a:
    cmd: echo a
    needs: [c]
  b:
    cmd: echo b
    needs: [a]
  c:
    cmd: echo c
    needs:
      - b
`;

describe('quick fixes over LSP', () => {
  let lsp: LspSession;
  before(async () => {
    lsp = await startSession();
  });
  after(() => lsp.stop());

  async function fixesFor(uri: string, text: string, pick: (d: Diagnostic) => boolean): Promise<{ diag: Diagnostic; actions: CodeAction[] }> {
    lsp.open(uri, text);
    const diags = await lsp.diagnostics(uri);
    const diag = diags.find(pick);
    assert.ok(diag, `a matching diagnostic among:\n${diags.map(messageOf).join('\n')}`);
    const actions = (await lsp.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diag.range, context: { diagnostics: [diag] } })) as CodeAction[];
    return { diag, actions };
  }
  const applyAction = (text: string, uri: string, a: CodeAction) => applyEdits(text, a.edit!.changes![uri]);

  /** Re-validates a fixed text and returns its messages. */
  async function recheck(name: string, text: string): Promise<string[]> {
    const uri = `file:///ws/fixed-${name}/mlops.yaml`;
    lsp.open(uri, text);
    return (await lsp.diagnostics(uri)).map(messageOf);
  }

  it('replaces a misspelt step name with the suggestion', async () => {
    const uri = 'file:///ws/fix1/mlops.yaml';
    const { actions } = await fixesFor(uri, BROKEN, (d) => d.code === 'unknown-step' && messageOf(d).includes('"prepar"'));
    const change = actions.find((a) => a.title === 'Change to "prepare"');
    assert.ok(change?.isPreferred, actions.map((a) => a.title).join('\n'));
    const fixed = applyAction(BROKEN, uri, change);
    assert.match(fixed, /needs: \[prepare\]/);
    assert.ok(!(await recheck('1', fixed)).some((m) => m.includes('"prepar"')));
  });

  it('fixes a misspelt interpolation, property and enum value', async () => {
    const uri = 'file:///ws/fix2/mlops.yaml';
    const interp = await fixesFor(uri, BROKEN, (d) => d.code === 'unresolved-interpolation' && messageOf(d).includes('lrr'));
    assert.match(applyAction(BROKEN, uri, interp.actions.find((a) => a.title === 'Change to "${params.lr}"')!), /prepare\.mjs \$\{params\.lr\} /);
    const prop = await fixesFor(uri, BROKEN, (d) => messageOf(d).includes('Unknown property "timeoutt"'));
    assert.match(applyAction(BROKEN, uri, prop.actions.find((a) => a.title === 'Change to "timeout"')!), /\n {4}timeout: 5m\n/);
    const en = await fixesFor(uri, BROKEN, (d) => messageOf(d).includes('"onx"'));
    assert.match(applyAction(BROKEN, uri, en.actions.find((a) => a.title === 'Change to "onnx"')!), /flavor: onnx\n/);
  });

  it('creates a missing step and a missing param', async () => {
    const uri = 'file:///ws/fix3/mlops.yaml';
    const step = await fixesFor(uri, BROKEN, (d) => d.code === 'unknown-step' && messageOf(d).includes('"score"'));
    const create = step.actions.find((a) => a.title === 'Create step "score"');
    assert.ok(create, step.actions.map((a) => a.title).join('\n'));
    const withStep = applyAction(BROKEN, uri, create);
    assert.match(withStep, /needs: \[score\]\n {2}score:\n {4}cmd: echo "TODO: score"\nmodels:/);
    assert.ok(!(await recheck('3a', withStep)).some((m) => m.includes('Unknown step "score"')));
    const param = await fixesFor(uri, BROKEN, (d) => d.code === 'unresolved-interpolation' && messageOf(d).includes('batch'));
    const withParam = applyAction(BROKEN, uri, param.actions.find((a) => a.title === 'Create param "batch"')!);
    assert.match(withParam, /params:\n {2}lr: 0\.1\n {2}batch: 0\n/);
    assert.ok(!(await recheck('3b', withParam)).some((m) => m.includes('unknown param "batch"')));
  });

  it('removes a duplicate output from the step it is on', async () => {
    const uri = 'file:///ws/fix4/mlops.yaml';
    const { actions } = await fixesFor(uri, BROKEN, (d) => d.code === 'duplicate-out' && d.range.start.line === 14);
    const remove = actions.find((a) => a.title.startsWith('Remove the duplicate output "data/features.csv"'));
    assert.ok(remove, actions.map((a) => a.title).join('\n'));
    const fixed = applyAction(BROKEN, uri, remove);
    assert.match(fixed, /needs: \[prepar\]\n {4}cmd: node train\.mjs\n {4}outs:\n {6}- model\.onnx\n/);
    assert.ok(!(await recheck('4', fixed)).some((m) => m.includes('also declared')));
  });

  it('breaks a cycle by removing the chosen needs edge, inline or block list', async () => {
    const uri = 'file:///ws/fix5/mlops.yaml';
    const inline = await fixesFor(uri, CYCLE, (d) => d.code === 'cycle' && d.range.start.line === 5);
    const brk = inline.actions.find((a) => a.title === 'Break the cycle: remove "c" from the needs of "a"');
    assert.ok(brk, inline.actions.map((a) => a.title).join('\n'));
    const fixed = applyAction(CYCLE, uri, brk);
    assert.ok(!fixed.includes('needs: [c]'));
    assert.deepEqual(await recheck('5a', fixed), []);
    const block = await fixesFor(uri, CYCLE, (d) => d.code === 'cycle' && d.range.start.line === 12);
    const fixed2 = applyAction(CYCLE, uri, block.actions.find((a) => a.title === 'Break the cycle: remove "b" from the needs of "c"')!);
    assert.match(fixed2, / {2}c:\n {4}cmd: echo c\n$/);
    assert.deepEqual(await recheck('5b', fixed2), []);
  });
});
