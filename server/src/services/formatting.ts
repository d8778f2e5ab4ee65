import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import type { FormattingOptions, TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';

/**
 * Formats a manifest through the `yaml` package's document model, which keeps comments, key
 * order, blank lines and flow/block styles: only indentation and spacing change. Refuses
 * (returns no edits) on YAML with errors and whenever the result would read as another value.
 */
export function formatManifest(doc: TextDocument, options: FormattingOptions): TextEdit[] {
  const text = doc.getText();
  if (!text.trim()) return [];
  const parsed = parseDocument(text, { keepSourceTokens: false });
  if (parsed.errors.length) return [];
  const indentSeq = !/^( *)[^\s#-][^\n]*:[ \t]*(#[^\n]*)?\r?\n(?:\1[ \t]*(?:#[^\n]*)?\r?\n)*\1- /m.test(text);
  let out: string;
  try {
    out = parsed.toString({ indent: Math.max(1, Math.min(8, options.tabSize || 2)), indentSeq, lineWidth: 0, flowCollectionPadding: false });
  } catch {
    return [];
  }
  if (text.includes('\r\n')) out = out.replace(/\r?\n/g, '\r\n');
  if (options.insertFinalNewline === false && !text.endsWith('\n')) out = out.replace(/\r?\n$/, '');
  if (options.trimFinalNewlines !== false) out = out.replace(/(\r?\n)+$/, '$1');
  const again = parseDocument(out);
  if (again.errors.length || !isDeepStrictEqual(again.toJS({ maxAliasCount: -1 }), parsed.toJS({ maxAliasCount: -1 }))) return [];
  return minimalEdit(doc, text, out);
}

/** One edit covering only the lines that differ (cursors and folds elsewhere stay put). */
function minimalEdit(doc: TextDocument, before: string, after: string): TextEdit[] {
  if (before === after) return [];
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const startLine = head;
  const endLineA = a.length - tail; // exclusive
  const endLineB = b.length - tail;
  const start = { line: startLine, character: 0 };
  const endOffset = endLineA >= a.length ? before.length : doc.offsetAt({ line: endLineA, character: 0 });
  const newText = b.slice(startLine, endLineB).join('\n') + (endLineA >= a.length ? '' : '\n');
  return [{ range: { start, end: doc.positionAt(endOffset) }, newText }];
}
