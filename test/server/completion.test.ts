import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CompletionRequest,
  CompletionResolveRequest,
  type CompletionItem,
  type CompletionList,
  type Position,
} from 'vscode-languageserver-protocol/node';
import { applyEdits, copyPenguins, openAndWait, posOf, startSession } from './authoring-session';
import type { LspSession } from './lsp-harness';

describe('completion over LSP', () => {
  let lsp: LspSession;
  const ws = copyPenguins();
  const { uri, text } = ws;
  let version = 1;

  before(async () => {
    lsp = await startSession();
    await openAndWait(lsp, uri, text);
  });
  after(async () => {
    await lsp.stop();
    ws.cleanup();
  });

  async function complete(doc: string, pos: Position): Promise<CompletionList> {
    // Edit the document to the state under test (completion runs right after an edit, as when typing).
    version++;
    lsp.change(uri, version, [{ range: { start: { line: 0, character: 0 }, end: { line: 100000, character: 0 } }, text: doc }]);
    const r = await lsp.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: pos });
    assert.ok(r && !Array.isArray(r), 'a completion list');
    return r;
  }
  const labels = (l: CompletionList) => l.items.map((i) => i.label);
  const item = (l: CompletionList, label: string): CompletionItem => {
    const found = l.items.find((i) => i.label === label);
    assert.ok(found, `"${label}" is offered; got ${labels(l).join(', ')}`);
    return found;
  };
  const docOf = (i: CompletionItem) => (typeof i.documentation === 'string' ? i.documentation : (i.documentation?.value ?? ''));

  it('offers the missing step properties, documented from the schema, with snippet bodies', async () => {
    const doc = text.replace('    timeout: 2m\n', '    timeout: 2m\n    \n');
    const l = await complete(doc, posOf(doc, '    timeout: 2m\n    \n', 20));
    for (const k of ['retries', 'env', 'resources', 'wdir']) assert.ok(labels(l).includes(k), `offers ${k}`);
    for (const k of ['cmd', 'deps', 'outs', 'timeout', 'params']) assert.ok(!labels(l).includes(k), `does not offer ${k}, already present`);
    const retries = item(l, 'retries');
    assert.match(docOf(retries), /retry the step after a failure/);
    const needsDoc = item(l, 'needs');
    assert.equal(needsDoc.textEdit && 'range' in needsDoc.textEdit ? needsDoc.textEdit.newText : '', 'needs: [$1]');
    assert.match(docOf(item(l, 'wdir')), /Examples:\n```yaml\nwdir: src/);
  });

  it('offers a snippet for a new step, dataset and model where entries are named', async () => {
    const doc = text.replace('\nmodels:\n', '\n  \nmodels:\n');
    const l = await complete(doc, posOf(doc, '\n  \nmodels:', 3));
    const snip = item(l, 'new step');
    assert.ok(snip.textEdit && 'newText' in snip.textEdit && /cmd: \$\{3:python train.py/.test(snip.textEdit.newText));
    const doc2 = text.replace('\ndeployments:\n', '\n  \ndeployments:\n');
    assert.ok(labels(await complete(doc2, posOf(doc2, '\n  \ndeployments:', 3))).includes('new model'));
    const doc3 = text.replace('\nsteps:\n', '\n  \nsteps:\n');
    assert.ok(labels(await complete(doc3, posOf(doc3, '\n  \nsteps:', 3))).includes('new dataset'));
  });

  it('offers enum values with their documentation', async () => {
    const doc = text.replace('    flavor: onnx', '    flavor: ');
    const l = await complete(doc, posOf(doc, '    flavor: ', 12));
    assert.deepEqual(labels(l).sort(), ['command', 'onnx']);
    const doc2 = text.replace('      strategy: canary', '      strategy: ca');
    const l2 = await complete(doc2, posOf(doc2, 'strategy: ca', 12));
    assert.deepEqual(labels(l2).sort(), ['ab', 'canary', 'direct', 'shadow']);
    assert.match(docOf(item(l2, 'canary')), /Rollout strategy/);
  });

  it('offers step names in needs and from (never the step itself or one already listed)', async () => {
    const doc = text.replace('    needs: [train]\n', '    needs: [train, ]\n');
    const l = await complete(doc, posOf(doc, 'needs: [train, ]', 15));
    assert.deepEqual(labels(l), ['prepare']);
    const doc2 = text.replace('    from: train', '    from: ');
    assert.deepEqual(labels(await complete(doc2, posOf(doc2, '    from: ', 10))).sort(), ['evaluate', 'prepare', 'train']);
    // Resolving an item documents the step it names.
    const resolved = await lsp.conn.sendRequest(CompletionResolveRequest.type, item(l, 'prepare'));
    assert.match(docOf(resolved), /node steps\/prepare\.mjs/);
  });

  it("offers param names in a step's params", async () => {
    const doc = text.replace('    params: [lr, epochs, l2]', '    params: [lr, ]');
    const l = await complete(doc, posOf(doc, 'params: [lr, ]', 13));
    assert.deepEqual(labels(l).sort(), ['epochs', 'l2', 'seed', 'test_size']);
    assert.match(item(l, 'seed').detail ?? '', /42/);
  });

  it('inside ${…} offers every path that resolves', async () => {
    const doc = text.replace('cmd: node steps/evaluate.mjs', 'cmd: node steps/evaluate.mjs --x ${');
    const pos = posOf(doc, '--x ${', 6);
    const l = await complete(doc, pos);
    for (const e of ['params.seed', 'params.l2', 'datasets.penguins.path', 'steps.prepare.outs.2', 'steps.train.outs.0', 'run.id']) assert.ok(labels(l).includes(e), `offers ${e}`);
    const edited = applyEdits(doc, [(item(l, 'params.lr').textEdit as { range: never; newText: string })]);
    assert.match(edited, /--x \$\{params\.lr\}\n/, 'the item closes the brace');
    const doc2 = text.replace('--lr ${params.lr}', '--lr ${params.e}');
    const l2 = await complete(doc2, posOf(doc2, '${params.e}', 10));
    const e = item(l2, 'params.epochs');
    assert.equal(applyEdits(doc2, [e.textEdit as never]).includes('--lr ${params.epochs} --epochs'), true, 'replaces the typed part inside the braces');
  });

  it('offers file paths relative to the manifest folder for deps, one folder at a time', async () => {
    const doc = text.replace('      - lib/cli.mjs\n      - lib/csv.mjs\n      - lib/metric-log.mjs', '      - lib/\n      - lib/csv.mjs\n      - lib/metric-log.mjs');
    const l = await complete(doc, posOf(doc, '      - lib/\n', 12));
    for (const f of ['cli.mjs', 'prng.mjs', 'softmax-model.mjs']) assert.ok(labels(l).includes(f), `offers ${f}`);
    const doc2 = text.replace('      - lib/cli.mjs\n      - lib/csv.mjs\n      - lib/metric-log.mjs', '      - st\n      - lib/csv.mjs\n      - lib/metric-log.mjs');
    const l2 = await complete(doc2, posOf(doc2, '      - st\n', 10));
    const steps = item(l2, 'steps/');
    assert.equal(steps.command?.command, 'editor.action.triggerSuggest', 'a folder asks for the next segment');
    assert.ok(labels(l2).includes('${datasets.penguins.path}'), 'offers dataset paths');
  });

  it('answers at once on broken YAML and at the start of an empty file', async () => {
    const broken = text.replace('    needs: [train]\n', '    needs: [train, \n  ]]: {\n');
    const l = await complete(broken, posOf(broken, 'needs: [train, ', 15));
    assert.ok(Array.isArray(l.items));
    const empty = await complete('', { line: 0, character: 0 });
    assert.ok(labels(empty).includes('version') && labels(empty).includes('steps'), labels(empty).join(', '));
  });
});
