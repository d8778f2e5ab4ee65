import type { SemanticTokens, SemanticTokensLegend } from 'vscode-languageserver';
import type { EntryKind } from '../../../orchestrator/manifest/symbols';
import type { Analysis } from './analysis';

/**
 * Semantic tokens make names and interpolations stand out from plain YAML: a step name reads
 * as a function wherever it appears, a param as a parameter, `${` `}` as operators.
 */
const TYPES = ['namespace', 'function', 'parameter', 'variable', 'class', 'interface', 'event', 'operator', 'property', 'number'] as const;
const MODIFIERS = ['declaration', 'readonly'] as const;

export const SEMANTIC_LEGEND: SemanticTokensLegend = { tokenTypes: [...TYPES], tokenModifiers: [...MODIFIERS] };

type TokenType = (typeof TYPES)[number];

const KIND_TYPE: Record<EntryKind, TokenType> = {
  step: 'function',
  param: 'parameter',
  dataset: 'variable',
  model: 'class',
  deployment: 'interface',
  sweep: 'event',
};

interface Token {
  start: number;
  length: number;
  type: number;
  modifiers: number;
}

export function semanticTokens(a: Analysis, range?: { start: number; end: number }): SemanticTokens {
  const tokens: Token[] = [];
  const inRange = (s: number, e: number) => !range || (e >= range.start && s <= range.end);
  // Only the pieces the range touches are read; offsets are added here rather than copied.
  a.index().forEachPiece(
    (f, o) => {
      const add = (start: number, end: number, type: TokenType, declaration = false) => {
        if (end > start && inRange(start + o, end + o)) tokens.push({ start: start + o, length: end - start, type: TYPES.indexOf(type), modifiers: declaration ? 1 : 0 });
      };
      for (const d of f.defs) add(d.name_.start, d.name_.end, KIND_TYPE[d.kind], true);
      for (const r of f.refs) if (r.via !== 'interpolation') add(r.span.start, r.span.end, KIND_TYPE[r.kind]);
      for (const i of f.interps) {
        if (!inRange(i.span.start + o, i.span.end + o)) continue;
        add(i.span.start, i.span.start + 2, 'operator');
        const [root, name, ...rest] = i.parts;
        const kind: EntryKind | undefined = root?.text === 'params' ? 'param' : root?.text === 'datasets' ? 'dataset' : root?.text === 'steps' ? 'step' : undefined;
        if (root) add(root.start, root.start + root.text.length, 'namespace');
        if (name) add(name.start, name.start + name.text.length, kind ? KIND_TYPE[kind] : 'property');
        for (const p of rest) add(p.start, p.start + p.text.length, /^\d+$/.test(p.text) ? 'number' : 'property');
        add(i.span.end - 1, i.span.end, 'operator');
      }
    },
    range?.start,
    range?.end,
  );
  tokens.sort((x, y) => x.start - y.start);
  const data: number[] = [];
  let prevLine = 0;
  let prevChar = 0;
  let lastEnd = -1;
  for (const t of tokens) {
    if (t.start < lastEnd) continue; // never overlap
    const p = a.doc.positionAt(t.start);
    const end = a.doc.positionAt(t.start + t.length);
    if (end.line !== p.line) continue; // tokens are single-line
    data.push(p.line - prevLine, p.line === prevLine ? p.character - prevChar : p.character, t.length, t.type, t.modifiers);
    prevLine = p.line;
    prevChar = p.character;
    lastEnd = t.start + t.length;
  }
  return { data };
}
