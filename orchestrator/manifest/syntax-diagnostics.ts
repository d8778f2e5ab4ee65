import type { ManifestDiagnostic } from '../../protocol/diagnostics';
import type { ParsedManifest } from './parsed-manifest';

/** The parser's own problems as diagnostics (shared by the full and the incremental check). */
export function syntaxDiagnostics(parsed: ParsedManifest): ManifestDiagnostic[] {
  return parsed.syntax.map((p) => ({
    severity: p.warning ? 'warning' : 'error',
    code: p.code === 'TOO_COMPLEX' ? 'too-complex' : p.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax',
    message: p.code === 'DUPLICATE_KEY' ? `Duplicate key: ${p.message}; each key may appear once.` : `YAML syntax: ${p.message}${syntaxHint(parsed.text, p.start)}`,
    start: p.start,
    end: p.end,
  }));
}

/**
 * `[a, ${x}]` is a YAML error (braces are flow indicators): say how to write it. The question
 * "is there a `${` after a `[` or `{` with no quote between them?" is answered in one pass; a
 * regex like /[[{][^'"]*\$\{/ backtracks quadratically on long lines (`[[[…` 20 000 deep).
 */
function syntaxHint(text: string, start: number): string {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  let lineEnd = text.indexOf('\n', start);
  if (lineEnd === -1) lineEnd = text.length;
  let open = false;
  for (let i = lineStart; i < lineEnd; i++) {
    const c = text.charCodeAt(i);
    if (c === 39 || c === 34) open = false;
    else if (c === 36 /* $ */ && text.charCodeAt(i + 1) === 123 && open && i + 1 < lineEnd) {
      return ' (inside [ ] or { }, quote interpolations: "${params.x}")';
    } else if (c === 91 || c === 123) open = true;
  }
  return '';
}
