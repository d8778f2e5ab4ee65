import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Position } from 'vscode-languageserver-protocol/node';
import { LspSession } from './lsp-harness';

const ROOT = path.resolve(__dirname, '../..');

/** What a pipeline run leaves in the example folder: not part of the sources. */
const RUN_OUTPUTS = new Set(['models', 'metrics', 'data/prepared', '.mlops', 'node_modules']);

/** A copy of examples/penguins (its sources, not the outputs of a run) in a temp folder, so file paths resolve and nothing in the repo changes. */
export function copyPenguins(): { dir: string; uri: string; text: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-authoring-'));
  const src = path.join(ROOT, 'examples/penguins');
  fs.cpSync(src, dir, { recursive: true, filter: (p) => !RUN_OUTPUTS.has(path.relative(src, p).split(path.sep).join('/')) });
  const file = path.join(dir, 'mlops.yaml');
  return { dir, uri: pathToFileURL(file).toString(), text: fs.readFileSync(file, 'utf8'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** LSP position of `needle` (its `nth` occurrence, default the first) plus `delta` characters. */
export function posOf(text: string, needle: string, delta = 0, nth = 0): Position {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at === -1) throw new Error(`"${needle}" (#${nth}) not in the text`);
  }
  const offset = at + delta;
  const before = text.slice(0, offset);
  return { line: before.split('\n').length - 1, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** The text a range covers. */
export function textIn(text: string, range: { start: Position; end: Position }): string {
  const lines = text.split('\n');
  const off = (p: Position) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(off(range.start), off(range.end));
}

/** Applies LSP text edits (non-overlapping) to a text. */
export function applyEdits(text: string, edits: { range: { start: Position; end: Position }; newText: string }[]): string {
  const lines = text.split('\n');
  const off = (p: Position) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  const sorted = edits.map((e) => ({ s: off(e.range.start), e: off(e.range.end), t: e.newText })).sort((a, b) => b.s - a.s);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.s) + e.t + out.slice(e.e);
  return out;
}

/** A started session plus an open document helper. */
export async function startSession(): Promise<LspSession> {
  const lsp = new LspSession();
  await lsp.start();
  return lsp;
}

/** Opens a document and waits until the server has checked it (so every later request sees it). */
export async function openAndWait(lsp: LspSession, uri: string, text: string, version = 1): Promise<void> {
  lsp.open(uri, text, version);
  await lsp.diagnostics(uri, (p) => p.version === version);
}
