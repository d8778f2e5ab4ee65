import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DocumentFormattingRequest,
  InitializedNotification,
  InitializeRequest,
  SemanticTokensRangeRequest,
  SemanticTokensRequest,
  type SemanticTokensLegend,
} from 'vscode-languageserver-protocol/node';
import { applyEdits, copyPenguins, openAndWait } from './authoring-session';
import { LspSession } from './lsp-harness';

const MESSY = `# Pipeline of the demo.
version:   1
project:    demo   # the name

params:
    lr:   0.1     # learning rate
    epochs: 10
steps:
    prepare:
          cmd: node prepare.mjs    # split
          deps: [ prepare.mjs,   data/raw.csv ]
          outs:
          - data/features.csv

    # training comes last
    train:
          needs: [prepare]
          cmd: node train.mjs --lr \${params.lr}
          deps: [data/features.csv]
`;

const FORMATTED = `# Pipeline of the demo.
version: 1
project: demo # the name

params:
  lr: 0.1 # learning rate
  epochs: 10
steps:
  prepare:
    cmd: node prepare.mjs # split
    deps: [prepare.mjs, data/raw.csv]
    outs:
    - data/features.csv

  # training comes last
  train:
    needs: [prepare]
    cmd: node train.mjs --lr \${params.lr}
    deps: [data/features.csv]
`;

/** Decodes LSP semantic tokens into [line, char, text, type, modifiers]. */
function decode(text: string, data: number[], legend: SemanticTokensLegend): [number, number, string, string, string[]][] {
  const lines = text.split('\n');
  const out: [number, number, string, string, string[]][] = [];
  let line = 0;
  let char = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    char = data[i] === 0 ? char + data[i + 1] : data[i + 1];
    const mods = legend.tokenModifiers.filter((_, b) => data[i + 4] & (1 << b));
    out.push([line, char, lines[line].slice(char, char + data[i + 2]), legend.tokenTypes[data[i + 3]], mods]);
  }
  return out;
}

describe('formatting and semantic tokens over LSP', () => {
  let lsp: LspSession;
  let legend: SemanticTokensLegend;
  const ws = copyPenguins();

  before(async () => {
    // Initialize by hand to read the token legend the server announces.
    lsp = new LspSession();
    const init = await lsp.conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {} });
    await lsp.conn.sendNotification(InitializedNotification.type, {});
    legend = init.capabilities.semanticTokensProvider!.legend;
  });
  after(async () => {
    await lsp.stop();
    ws.cleanup();
  });

  it('formats indentation and spacing, keeping comments, blank lines and key order', async () => {
    const uri = 'file:///ws/format/mlops.yaml';
    await openAndWait(lsp, uri, MESSY);
    const edits = await lsp.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    const formatted = applyEdits(MESSY, edits!);
    assert.equal(formatted, FORMATTED);
    assert.ok(edits![0].range.start.line >= 1, 'the edit starts at the first changed line');
    // Formatting is idempotent.
    lsp.change(uri, 2, [{ range: { start: { line: 0, character: 0 }, end: { line: 1000, character: 0 } }, text: formatted }]);
    assert.deepEqual(await lsp.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), []);
  });

  it('keeps the example manifest as it is apart from comment spacing', async () => {
    await openAndWait(lsp, ws.uri, ws.text);
    const edits = await lsp.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: ws.uri }, options: { tabSize: 2, insertSpaces: true } });
    const formatted = applyEdits(ws.text, edits!);
    assert.equal(formatted.replace(/ +#/g, ' #'), ws.text.replace(/ +#/g, ' #'));
  });

  it('leaves YAML with syntax errors alone', async () => {
    const uri = 'file:///ws/format-broken/mlops.yaml';
    await openAndWait(lsp, uri, 'version: 1\nproject: x\nsteps:\n  a: [unclosed\n');
    assert.deepEqual(await lsp.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), []);
  });

  it('marks names and interpolations with semantic tokens', async () => {
    const uri = 'file:///ws/tokens/mlops.yaml';
    await openAndWait(lsp, uri, FORMATTED);
    const t = await lsp.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
    const tokens = decode(FORMATTED, t!.data, legend);
    const find = (text: string, type: string) => tokens.find((x) => x[2] === text && x[3] === type);
    assert.ok(find('prepare', 'function')?.[4].includes('declaration'), 'the step definition');
    assert.ok(tokens.some((x) => x[2] === 'prepare' && x[3] === 'function' && x[4].length === 0), 'the step reference in needs');
    assert.ok(find('lr', 'parameter')?.[4].includes('declaration'), 'the param definition');
    const line = FORMATTED.split('\n').findIndex((l) => l.includes('${params.lr}'));
    const onLine = tokens.filter((x) => x[0] === line).map((x) => `${x[2]}:${x[3]}`);
    assert.deepEqual(onLine, ['${:operator', 'params:namespace', 'lr:parameter', '}:operator']);
    const range = await lsp.conn.sendRequest(SemanticTokensRangeRequest.type, { textDocument: { uri }, range: { start: { line, character: 0 }, end: { line, character: 100 } } });
    assert.deepEqual(decode(FORMATTED, range!.data, legend).map((x) => x[2]), ['${', 'params', 'lr', '}']);
  });
});
