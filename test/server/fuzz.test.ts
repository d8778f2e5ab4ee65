import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentLinkRequest,
  DocumentSymbolRequest,
  ErrorCodes,
  FoldingRangeRequest,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  ResponseError,
  SemanticTokensRangeRequest,
  SemanticTokensRequest,
  type Position,
} from 'vscode-languageserver-protocol/node';
import { ServerStatusRequest } from '../../protocol/lsp';
import { copyPenguins, startSession } from './authoring-session';
import type { LspSession } from './lsp-harness';
import { apply, generatedManifest, mutation, Prng } from './mutate';

const EDITS = Number(process.env.MLOPS_FUZZ_EDITS ?? 2000);
const MAX_TEXT = 80_000;

/** Offsets → LSP positions for one version of a text. */
function positions(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - starts[lo] };
  };
}

describe('fuzz: mutated manifests never take the server down', () => {
  let lsp: LspSession;
  const ws = copyPenguins();
  before(async () => {
    lsp = await startSession();
  });
  after(async () => {
    await lsp.stop();
    ws.cleanup();
  });

  // A bound, not a speed target (that is the bench): generous for a loaded 2-core CI machine.
  it(`answers every request through ${EDITS} random edits`, { timeout: 300_000 }, async () => {
    const seeds = [ws.text, fs.readFileSync(path.resolve(__dirname, '../../examples/penguins/mlops.yaml'), 'utf8').replace(/needs: \[train\]/, 'needs: [train, evaluate]'), generatedManifest(30)];
    const rng = new Prng(0x5eed);
    const uri = ws.uri;
    let text = seeds[0];
    let version = 1;
    lsp.open(uri, text, version);
    const pending: Promise<unknown>[] = [];
    const counts = { requests: 0, refused: 0, kinds: new Map<string, number>() };
    const slowest = { ms: 0, what: '' };
    const send = <R>(what: string, p: Promise<R>) => {
      counts.requests++;
      const t = Date.now();
      const at = `${what} at edit ${version}`;
      pending.push(
        p.then(
          () => {
            if (Date.now() - t > slowest.ms) Object.assign(slowest, { ms: Date.now() - t, what: at });
          },
          (e: unknown) => {
            // A refusal the user would see (e.g. a rename onto an existing name) is an answer; an internal error is not.
            if (e instanceof ResponseError && (e.code === ErrorCodes.InvalidRequest || e.code === ErrorCodes.InvalidParams)) counts.refused++;
            else throw new Error(`${what} failed at version ${version}: ${(e as Error)?.message ?? e}`);
          },
        ),
      );
    };
    const started = Date.now();
    for (let i = 0; i < EDITS; i++) {
      const reset = text.length > MAX_TEXT || i % 250 === 249;
      const before = text;
      const pos = positions(before);
      if (reset) {
        text = seeds[(i / 250) % seeds.length | 0];
        lsp.change(uri, ++version, [{ range: { start: { line: 0, character: 0 }, end: pos(before.length) }, text }]);
      } else {
        const e = mutation(before, rng);
        counts.kinds.set(e.kind, (counts.kinds.get(e.kind) ?? 0) + 1);
        text = apply(before, e);
        lsp.change(uri, ++version, [{ range: { start: pos(e.start), end: pos(e.end) }, text: e.text }]);
      }
      // One or two requests at random places of the new text, as an editor sends while typing.
      const at = positions(text);
      const td = { textDocument: { uri } };
      for (let r = 0; r < 1 + rng.int(2); r++) {
        const position = at(rng.int(text.length + 1));
        switch (rng.int(12)) {
          case 0: send('completion', lsp.conn.sendRequest(CompletionRequest.type, { ...td, position })); break;
          case 1: send('hover', lsp.conn.sendRequest(HoverRequest.type, { ...td, position })); break;
          case 2: send('definition', lsp.conn.sendRequest(DefinitionRequest.type, { ...td, position })); break;
          case 3: send('references', lsp.conn.sendRequest(ReferencesRequest.type, { ...td, position, context: { includeDeclaration: true } })); break;
          case 4: send('documentSymbol', lsp.conn.sendRequest(DocumentSymbolRequest.type, td)); break;
          case 5: send('foldingRange', lsp.conn.sendRequest(FoldingRangeRequest.type, td)); break;
          case 6: send('documentLink', lsp.conn.sendRequest(DocumentLinkRequest.type, td)); break;
          case 7: send('semanticTokens', lsp.conn.sendRequest(SemanticTokensRequest.type, td)); break;
          case 8: send('semanticTokens/range', lsp.conn.sendRequest(SemanticTokensRangeRequest.type, { ...td, range: { start: position, end: at(text.length) } })); break;
          case 9: {
            const diags = lsp.publications(uri).at(-1)?.diagnostics ?? [];
            send('codeAction', lsp.conn.sendRequest(CodeActionRequest.type, { ...td, range: { start: position, end: position }, context: { diagnostics: diags.slice(0, 20) } }));
            break;
          }
          case 10:
            send('prepareRename', lsp.conn.sendRequest(PrepareRenameRequest.type, { ...td, position }));
            send('rename', lsp.conn.sendRequest(RenameRequest.type, { ...td, position, newName: rng.int(2) ? 'renamed_x' : 'train' }));
            break;
          default:
            if (i % 100 === 0) send('formatting', lsp.conn.sendRequest(DocumentFormattingRequest.type, { ...td, options: { tabSize: 2, insertSpaces: true } }));
        }
      }
      if (i % 100 === 99) {
        await Promise.all(pending.splice(0));
        if (process.env.MLOPS_FUZZ_TRACE) console.log(`edit ${i + 1}: ${Date.now() - started} ms, slowest ${slowest.what} ${slowest.ms} ms`);
        assert.ok(lsp.alive, `the server is alive after ${i + 1} edits:\n${lsp.stderr.slice(-2000)}`);
      }
    }
    await Promise.all(pending.splice(0));
    // The server caught up with the last version and still reports its state.
    await lsp.diagnostics(uri, (p) => p.version === version, 30_000);
    const status = await lsp.conn.sendRequest(ServerStatusRequest);
    assert.equal(status.documents, 1);
    assert.ok(lsp.alive);
    assert.doesNotMatch(lsp.stderr, /uncaught|unhandled rejection/);
    assert.ok(counts.requests > EDITS, `sent ${counts.requests} requests`);
    for (const kind of ['delete line', 'duplicate line', 'random bytes', 'indent', 'dedent', 'huge scalar', 'deep nesting']) assert.ok((counts.kinds.get(kind) ?? 0) > 10, `exercised "${kind}"`);
    console.log(`fuzz: ${EDITS} edits, ${counts.requests} requests (${counts.refused} refused renames), ${Date.now() - started} ms; slowest answer ${slowest.ms} ms (${slowest.what})`);
  });
});
