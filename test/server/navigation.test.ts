import assert from 'node:assert/strict';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  DefinitionRequest,
  DocumentLinkRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  WorkspaceSymbolRequest,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  type DocumentSymbol,
  type Hover,
  type Location,
  type MarkupContent,
  type Position,
} from 'vscode-languageserver-protocol/node';
import { applyEdits, copyPenguins, openAndWait, posOf, startSession, textIn } from './authoring-session';
import type { LspSession } from './lsp-harness';

describe('hover and navigation over LSP', () => {
  let lsp: LspSession;
  const ws = copyPenguins();
  const { uri, text } = ws;
  const td = { uri };

  before(async () => {
    lsp = await startSession();
    await openAndWait(lsp, uri, text);
  });
  after(async () => {
    await lsp.stop();
    ws.cleanup();
  });

  const hover = async (pos: Position) => {
    const h = (await lsp.conn.sendRequest(HoverRequest.type, { textDocument: td, position: pos })) as Hover | null;
    assert.ok(h, 'a hover');
    return { text: (h.contents as MarkupContent).value, range: h.range! };
  };
  const definition = async (pos: Position) => (await lsp.conn.sendRequest(DefinitionRequest.type, { textDocument: td, position: pos })) as Location[] | null;

  describe('hover', () => {
    it('documents a key from the schema, with examples', async () => {
      const h = await hover(posOf(text, '    timeout: 2m', 6));
      assert.match(h.text, /\*\*timeout\*\*/);
      assert.match(h.text, /Maximum run time of the step/);
      assert.match(h.text, /```yaml\ntimeout: 30m/);
      assert.equal(textIn(text, h.range), 'timeout');
    });

    it("shows a referenced step's command and outputs", async () => {
      const h = await hover(posOf(text, 'needs: [prepare]', 10));
      assert.equal(textIn(text, h.range), 'prepare');
      assert.match(h.text, /node steps\/prepare\.mjs --input/);
      assert.match(h.text, /`data\/prepared\/train\.csv` — `\$\{steps\.prepare\.outs\.0\}`/);
      assert.match(h.text, /Used by step `train`/);
    });

    it("shows a param's default and where it is used", async () => {
      const h = await hover(posOf(text, '--epochs ${params.epochs}', 19));
      assert.equal(textIn(text, h.range), 'epochs');
      assert.match(h.text, /`\$\{params\.epochs\}` → `300`/);
      assert.match(h.text, /\*\*param\*\* `epochs` = `300`/);
      assert.match(h.text, /Used by step `train` \(\$\{…\}, params\)/);
    });

    it("shows a dataset's path and size on disk", async () => {
      const h = await hover(posOf(text, '${datasets.penguins.path}', 13));
      assert.match(h.text, /Path: `data\/penguins\.csv` \(\d+(\.\d)? KB, modified/);
    });

    it('shows what a step output interpolation resolves to', async () => {
      const h = await hover(posOf(text, '${steps.prepare.outs.2}', 18));
      assert.match(h.text, /`\$\{steps\.prepare\.outs\.2\}` → `data\/prepared\/features\.json`/);
    });
  });

  describe('definition', () => {
    it('goes from a step, param, dataset or model reference to its definition (also inside ${…})', async () => {
      const cases: [Position, string, string][] = [
        [posOf(text, 'needs: [prepare]', 10), '  prepare:\n', 'prepare'],
        [posOf(text, '${params.seed}', 10), '  seed: 42', 'seed'],
        [posOf(text, '${datasets.penguins.path}', 13), '  penguins:\n    path', 'penguins'],
        [posOf(text, '${steps.prepare.outs.0}', 9), '  prepare:\n', 'prepare'],
        [posOf(text, '    from: train', 11), '  train:\n', 'train'],
        [posOf(text, '    model: penguins-classifier', 12), '  penguins-classifier:\n', 'penguins-classifier'],
      ];
      for (const [pos, where, name] of cases) {
        const d = await definition(pos);
        assert.ok(d && d.length === 1, `a definition for ${name}`);
        assert.equal(d[0].uri, uri);
        assert.equal(textIn(text, d[0].range), name);
        assert.deepEqual(d[0].range.start, posOf(text, where, where.indexOf(name)));
      }
    });

    it('goes from outs.N of ${steps.X.outs.N} to that output', async () => {
      const d = await definition(posOf(text, '${steps.prepare.outs.2}', 20));
      assert.equal(textIn(text, d![0].range), 'data/prepared/features.json');
    });

    it('opens the file a path names', async () => {
      const d = await definition(posOf(text, '      - lib/csv.mjs', 10));
      assert.equal(d![0].uri, pathToFileURL(path.join(ws.dir, 'lib/csv.mjs')).toString());
      const cmd = await definition(posOf(text, 'node steps/evaluate.mjs', 8));
      assert.equal(cmd![0].uri, pathToFileURL(path.join(ws.dir, 'steps/evaluate.mjs')).toString());
    });
  });

  describe('references and rename', () => {
    it('finds every use of a step, including interpolations', async () => {
      const refs = (await lsp.conn.sendRequest(ReferencesRequest.type, { textDocument: td, position: posOf(text, '  prepare:\n', 3), context: { includeDeclaration: true } }))!;
      assert.equal(refs.length, 4);
      assert.ok(refs.every((r) => textIn(text, r.range) === 'prepare'));
      const without = (await lsp.conn.sendRequest(ReferencesRequest.type, { textDocument: td, position: posOf(text, 'needs: [prepare]', 10), context: { includeDeclaration: false } }))!;
      assert.equal(without.length, 3);
    });

    it('renames a step everywhere, ${…} included, and the result validates clean', async () => {
      const prep = await lsp.conn.sendRequest(PrepareRenameRequest.type, { textDocument: td, position: posOf(text, '${steps.prepare.outs.0}', 10) });
      assert.deepEqual(prep && 'placeholder' in prep ? prep.placeholder : undefined, 'prepare');
      const edit = await lsp.conn.sendRequest(RenameRequest.type, { textDocument: td, position: posOf(text, 'needs: [prepare]', 10), newName: 'split' });
      const edits = edit!.changes![uri];
      assert.equal(edits.length, 4);
      const renamed = applyEdits(text, edits);
      assert.ok(!/needs: \[prepare\]|steps\.prepare\.|^ {2}prepare:/m.test(renamed), 'no step reference to "prepare" is left');
      assert.match(renamed, /^ {2}split:\n/m);
      assert.match(renamed, /needs: \[split\]/);
      assert.match(renamed, /\$\{steps\.split\.outs\.0\}\n\s+- \$\{steps\.split\.outs\.2\}/);
      assert.match(renamed, /node steps\/prepare\.mjs/, 'file paths are not names');
      const check = 'file:///ws/rename-check/mlops.yaml';
      lsp.open(check, renamed);
      assert.deepEqual((await lsp.diagnostics(check)).filter((d) => d.severity === 1), []);
    });

    it('renames a param and a model across the manifest', async () => {
      const p = await lsp.conn.sendRequest(RenameRequest.type, { textDocument: td, position: posOf(text, '  lr: 0.1', 3), newName: 'learning_rate' });
      const after = applyEdits(text, p!.changes![uri]);
      assert.match(after, /learning_rate: 0\.1/);
      assert.match(after, /--lr \$\{params\.learning_rate\}/);
      assert.match(after, /params: \[learning_rate, epochs, l2\]/);
      const m = await lsp.conn.sendRequest(RenameRequest.type, { textDocument: td, position: posOf(text, 'model: penguins-classifier', 10), newName: 'penguin-clf' });
      const afterM = applyEdits(text, m!.changes![uri]);
      assert.match(afterM, /\n {2}penguin-clf:\n/);
      assert.match(afterM, /model: penguin-clf\n/);
    });

    it('refuses to rename onto an existing name or an invalid one', async () => {
      await assert.rejects(lsp.conn.sendRequest(RenameRequest.type, { textDocument: td, position: posOf(text, '  prepare:\n', 3), newName: 'train' }), /A step named "train" already exists/);
      await assert.rejects(lsp.conn.sendRequest(RenameRequest.type, { textDocument: td, position: posOf(text, '  seed: 42', 3), newName: 'bad name' }), /not a valid param name/);
    });
  });

  describe('outline, folding and links', () => {
    it('lists sections and their entries as document symbols', async () => {
      const symbols = (await lsp.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: td })) as DocumentSymbol[];
      const names = symbols.map((s) => s.name);
      assert.deepEqual(names, ['version', 'project', 'description', 'params', 'datasets', 'steps', 'models', 'deployments']);
      const steps = symbols.find((s) => s.name === 'steps')!;
      assert.deepEqual(steps.children!.map((c) => c.name), ['prepare', 'train', 'evaluate']);
      assert.equal(textIn(text, steps.children![1].selectionRange), 'train');
      assert.match(steps.children![1].detail ?? '', /node steps\/train\.mjs/);
      assert.ok(steps.range.end.line >= posOf(text, '    timeout: 2m', 0, 1).line, 'the steps section spans its entries');
    });

    it('finds entries of the open manifests as workspace symbols', async () => {
      const found = (await lsp.conn.sendRequest(WorkspaceSymbolRequest.type, { query: 'pengu' })) as { name: string; containerName?: string; location: Location }[];
      const names = found.filter((s) => s.location.uri === uri).map((s) => `${s.containerName}/${s.name}`);
      assert.deepEqual(names, ['datasets/penguins', 'models/penguins-classifier', 'deployments/penguins-api']);
    });

    it('folds sections, entries, lists and comment blocks', async () => {
      const folds = (await lsp.conn.sendRequest(FoldingRangeRequest.type, { textDocument: td }))!;
      const starts = new Set(folds.map((f) => f.startLine));
      for (const needle of ['steps:\n', '  prepare:\n', '    deps:\n', 'datasets:\n', '    expect:\n']) assert.ok(starts.has(posOf(text, needle).line), `folds at ${needle.trim()}`);
      assert.ok(folds.some((f) => f.kind === 'comment' && f.startLine === 0 && f.endLine === 3), 'the header comment folds');
    });

    it('links the paths that exist on disk', async () => {
      const links = (await lsp.conn.sendRequest(DocumentLinkRequest.type, { textDocument: td }))!;
      const targets = links.map((l) => path.relative(ws.dir, new URL(l.target!).pathname));
      for (const f of ['data/penguins.csv', 'steps/prepare.mjs', 'lib/onnx-writer.mjs']) assert.ok(targets.includes(f), `links ${f}`);
      assert.ok(!targets.includes('models/penguins.onnx'), 'an output not yet produced is not a link');
    });
  });
});
