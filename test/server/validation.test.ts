import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServerStatusRequest } from '../../protocol/lsp';
import { LspSession, messageOf } from './lsp-harness';

const VALID = 'version: 1\nproject: p\nsteps:\n  a:\n    cmd: echo a\n  b:\n    cmd: echo b\n    needs: [a]\n';

/** A manifest of about `bytes` bytes: many ~200-byte steps, each chained to the previous one. */
function bigManifest(bytes: number): string {
  const parts = ['version: 1\nproject: big\nparams:\n  lr: 0.1\nsteps:\n'];
  let size = parts[0].length;
  for (let i = 0; size < bytes; i++) {
    const s = `  step${i}:\n    description: generated step ${i} of a large manifest\n    cmd: node run.mjs --index ${i} --lr \${params.lr}\n    needs: [${i ? `step${i - 1}` : ''}]\n    outs: [out/${i}.csv]\n    params: [lr]\n`;
    parts.push(s);
    size += s.length;
  }
  return parts.join('');
}

describe('language server over stdio', () => {
  const lsp = new LspSession({ maxProblems: 500 });
  before(() => lsp.start());
  after(() => lsp.stop());

  it('publishes no diagnostics for a valid manifest', async () => {
    lsp.open('file:///ws/valid/mlops.yaml', VALID);
    assert.deepEqual(await lsp.diagnostics('file:///ws/valid/mlops.yaml'), []);
  });

  it('publishes ranged diagnostics and updates them on an incremental change', async () => {
    const uri = 'file:///ws/edit/mlops.yaml';
    lsp.open(uri, VALID, 1);
    await lsp.diagnostics(uri, (p) => p.version === 1);
    // Replace "needs: [a]" with "needs: [c]" (line 7, characters 12..13).
    lsp.change(uri, 2, [{ range: { start: { line: 7, character: 12 }, end: { line: 7, character: 13 } }, text: "c" }]);
    const d = await lsp.diagnostics(uri, (p) => p.version === 2);
    assert.equal(d.length, 1);
    assert.match(messageOf(d[0]), /Unknown step "c" in the needs of step "b"/);
    assert.deepEqual(d[0].range, { start: { line: 7, character: 12 }, end: { line: 7, character: 13 } });
    assert.equal(d[0].source, 'mlops');
    assert.equal(d[0].code, 'unknown-step');
  });

  it('publishes only the newest version when edits arrive faster than checks', async () => {
    const uri = 'file:///ws/burst/mlops.yaml';
    lsp.open(uri, bigManifest(300_000), 1);
    for (let v = 2; v <= 20; v++) lsp.change(uri, v, [{ range: { start: { line: 1, character: 9 }, end: { line: 1, character: 12 } }, text: `b${v % 10}g` }]);
    const last = await lsp.diagnostics(uri, (p) => p.version === 20);
    assert.deepEqual(last, []);
    const versions = lsp.publications(uri).map((p) => p.version);
    assert.ok(versions.length < 19, `stale versions were skipped (published: ${versions.join(',')})`);
  });

  it('checks a 5 MB manifest to its last line and answers other requests meanwhile', async () => {
    const uri = 'file:///ws/huge/mlops.yaml';
    const text = bigManifest(5 * 1024 * 1024) + '  last:\n    cmd: echo last\n    needs: [no-such-step]\n';
    const lastLine = text.split('\n').length - 2;
    lsp.open(uri, text);
    // While the big file is being checked, the server keeps answering.
    const status = await lsp.conn.sendRequest(ServerStatusRequest);
    assert.deepEqual(status.validating, [uri]);
    lsp.open('file:///ws/small/mlops.yaml', 'version: 1\nproject: s\nsteps:\n  x:\n    cmdd: echo\n');
    const small = await lsp.diagnostics('file:///ws/small/mlops.yaml');
    assert.ok(lsp.publications(uri).length === 0, 'the small file was answered before the 5 MB one finished');
    assert.match(small.map(messageOf).join('\n'), /Unknown property "cmdd"/);
    const d = await lsp.diagnostics(uri, () => true, 120_000);
    assert.equal(d.length, 1, d.map(messageOf).join('\n'));
    assert.equal(d[0].range.start.line, lastLine);
    assert.match(messageOf(d[0]), /Unknown step "no-such-step"/);
  });

  it('answers binary data with one clear diagnostic', async () => {
    const uri = 'file:///ws/binary/mlops.yaml';
    lsp.open(uri, 'version: 1\n\u0000\u0007\u0010\u00ff garbage \u0000');
    const d = await lsp.diagnostics(uri);
    assert.equal(d.length, 1);
    assert.match(messageOf(d[0]), /binary data \(a NUL byte on line 2\); mlops.yaml must be UTF-8 YAML text/);
  });

  it('caps thousands of errors with a summary and keeps serving', async () => {
    const uri = 'file:///ws/many/mlops.yaml';
    const steps = Array.from({ length: 2000 }, (_, i) => `  s${i}:\n    cmd: x\n    needs: [ghost${i}]\n`).join('');
    lsp.open(uri, `version: 1\nproject: many\nsteps:\n${steps}`);
    const d = await lsp.diagnostics(uri);
    assert.equal(d.length, 501);
    assert.match(messageOf(d[500]), /Showing the first 500 of 2000 problems/);
  });

  it('survives deeply nested YAML and an empty file', async () => {
    lsp.open('file:///ws/deep/mlops.yaml', 'version: 1\nproject: d\nparams:\n  p: ' + '['.repeat(20000) + ']'.repeat(20000) + '\n');
    const deep = await lsp.diagnostics('file:///ws/deep/mlops.yaml');
    assert.ok(deep.length >= 1);
    lsp.open('file:///ws/empty/mlops.yaml', '');
    assert.match(messageOf((await lsp.diagnostics('file:///ws/empty/mlops.yaml'))[0]), /The manifest is empty/);
    const status = await lsp.conn.sendRequest(ServerStatusRequest);
    assert.ok(status.documents >= 8);
    assert.ok(lsp.alive);
  });
});
