import { isSeq, type Node, type YAMLSeq } from 'yaml';
import { CodeActionKind, type CodeAction, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import type { DiagnosticData } from '../../../protocol/diagnostics';
import type { Span } from '../../../orchestrator/manifest/parsed-manifest';
import { KIND_SECTIONS, type RefKind } from '../../../orchestrator/manifest/symbols';
import type { Analysis } from './analysis';
import { DIAGNOSTIC_SOURCE } from './to-lsp';

/**
 * Quick fixes for the validator's diagnostics, driven by the facts each diagnostic carries in
 * `data` (suggestions, the unknown name and its kind, a cycle's edge).
 */
export class CodeActionService {
  actions(a: Analysis, diagnostics: Diagnostic[]): CodeAction[] {
    const out: CodeAction[] = [];
    for (const d of diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      try {
        out.push(...this.forDiagnostic(a, d));
      } catch {
        // A fix that cannot be computed on this version is simply not offered.
      }
    }
    return out;
  }

  private forDiagnostic(a: Analysis, d: Diagnostic): CodeAction[] {
    const data = (d.data ?? {}) as DiagnosticData;
    const uri = a.doc.uri;
    const fix = (title: string, edits: TextEdit[], preferred = false): CodeAction => ({
      title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      ...(preferred ? { isPreferred: true } : {}),
      edit: { changes: { [uri]: edits } },
    });
    const out: CodeAction[] = [];
    const start = a.doc.offsetAt(d.range.start);
    const end = a.doc.offsetAt(d.range.end);
    const current = a.text.slice(start, end);

    // Did you mean …?
    for (const [i, s] of (data.suggestions ?? []).entries()) {
      let newText = s;
      let range = d.range;
      if (d.code === 'unresolved-interpolation') newText = `\${${s}}`;
      else if (d.code === 'unknown-model' && current.startsWith('models:/') && data.name) {
        // Only the name inside models:/NAME@alias.
        const at = start + current.indexOf(data.name);
        range = { start: a.doc.positionAt(at), end: a.doc.positionAt(at + data.name.length) };
      } else if (/^["']/.test(current)) newText = JSON.stringify(s);
      out.push(fix(`Change to "${d.code === 'unresolved-interpolation' ? newText : s}"`, [{ range, newText }], i === 0));
    }

    // Create what is missing.
    if (data.name && data.kind && (d.code === 'unknown-step' || d.code === 'unknown-param' || d.code === 'unknown-dataset' || d.code === 'unknown-model' || d.code === 'unresolved-interpolation')) {
      if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(data.name)) {
        const edit = this.createEntry(a, data.kind, data.name);
        if (edit) out.push(fix(`Create ${data.kind} "${data.name}"`, [edit]));
      }
    }

    if (d.code === 'duplicate-out') {
      const del = this.deleteItem(a, start);
      if (del) out.push(fix(`Remove the duplicate output "${a.text.slice(start, end).replace(/^["']|["']$/g, '')}" from this step`, [del], true));
    }

    if (d.code === 'cycle' && data.edge) {
      const { from, to, via } = data.edge;
      const del = this.deleteItem(a, start);
      if (del) out.push(fix(via === 'needs' ? `Break the cycle: remove "${to}" from the needs of "${from}"` : `Break the cycle: remove the dependency "${current}" of "${from}"`, [del], true));
    }
    return out;
  }

  /** A stub for a missing entry, at the end of its section (the section is created when absent). */
  private createEntry(a: Analysis, kind: RefKind, name: string): TextEdit | undefined {
    const section = KIND_SECTIONS[kind];
    const idx = a.index();
    const body: Record<RefKind, string[]> = {
      step: [`${name}:`, `  cmd: echo "TODO: ${name}"`],
      param: [`${name}: 0`],
      dataset: [`${name}:`, `  path: data/${name}.csv`],
      model: [`${name}:`, '  from: TODO', `  artifact: models/${name}.onnx`],
    };
    const defs = idx.defs.filter((x) => x.kind === kind);
    const header = idx.sections.find((s) => s.name === section);
    let indent = '  ';
    let at: number;
    if (defs.length) {
      const last = defs[defs.length - 1];
      const lineStart = a.text.lastIndexOf('\n', last.name_.start - 1) + 1;
      indent = a.text.slice(lineStart, last.name_.start).replace(/["']$/, '');
      if (!/^ *$/.test(indent)) return undefined;
      at = lineEndAfter(a.text, trimEnd(a.text, last.span.end));
    } else if (header) {
      const value = a.root[section];
      if (value !== null && value !== undefined) return undefined; // `params: {}` and the like: edit by hand
      at = lineEndAfter(a.text, header.key.end);
    } else {
      const lines = body[kind].map((l) => `  ${l}`);
      const sep = a.text.endsWith('\n') || a.text === '' ? '' : '\n';
      const pos = a.doc.positionAt(a.text.length);
      return { range: { start: pos, end: pos }, newText: `${sep}${section}:\n${lines.join('\n')}\n` };
    }
    const pos = a.doc.positionAt(at);
    const unit = indent.length ? indent.length : 2;
    const lines = body[kind].map((l) => indent + l.replace(/^ {2}/, ' '.repeat(unit)));
    return { range: { start: pos, end: pos }, newText: `\n${lines.join('\n')}` };
  }

  /** Deletes the list item that holds `offset` (a whole `- item` line, or an inline item and its comma). */
  private deleteItem(a: Analysis, offset: number): TextEdit | undefined {
    const loc = a.parsed.locate(offset);
    if (!loc) return undefined;
    // Walk up to the innermost list item containing the offset.
    let path = loc.path;
    while (path.length && typeof path[path.length - 1] !== 'number') path = path.slice(0, -1);
    if (!path.length) return undefined;
    const seqAt = a.parsed.nodeAt(path.slice(0, -1));
    if (!seqAt || !isSeq(seqAt.node)) return undefined;
    const seq = seqAt.node as YAMLSeq;
    const i = path[path.length - 1] as number;
    const item = seq.items[i] as Node | undefined;
    if (!item?.range) return undefined;
    const o = seqAt.offset;
    const text = a.text;
    const span = (s: Span) => ({ start: a.doc.positionAt(s.start), end: a.doc.positionAt(s.end) });
    if (seq.items.length === 1) {
      // The list would be empty: remove the key and its list.
      const pair = a.parsed.pairAt(path.slice(0, -1));
      const key = pair?.pair.key as Node | undefined;
      if (!pair || !key?.range) return undefined;
      const ks = pair.offset + key.range[0];
      const lineStart = text.lastIndexOf('\n', ks - 1) + 1;
      const ve = trimEnd(text, o + seq.range![1]);
      if (text.slice(lineStart, ks).trim() !== '') return { range: span({ start: ks, end: ve }), newText: '' };
      return { range: span({ start: lineStart, end: lineEndAfter(text, ve) + 1 }), newText: '' };
    }
    if (seq.flow) {
      const s = o + item.range[0];
      const e = o + item.range[1];
      const next = seq.items[i + 1] as Node | undefined;
      const prev = seq.items[i - 1] as Node | undefined;
      if (next?.range) return { range: span({ start: s, end: o + next.range[0] }), newText: '' };
      if (prev?.range) return { range: span({ start: o + prev.range[1], end: e }), newText: '' };
      return undefined;
    }
    const s = o + item.range[0];
    const lineStart = text.lastIndexOf('\n', s - 1) + 1;
    if (!/^\s*-\s*$/.test(text.slice(lineStart, s))) return undefined;
    const e = lineEndAfter(text, trimEnd(text, o + item.range[1]));
    return { range: span({ start: lineStart, end: Math.min(text.length, e + 1) }), newText: '' };
  }
}

/** Offset of the line break ending the line that holds `offset` (or the text's end). */
function lineEndAfter(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl;
}

/** Moves back over trailing whitespace and line breaks before `end`. */
function trimEnd(text: string, end: number): number {
  let e = end;
  while (e > 0 && /\s/.test(text[e - 1])) e--;
  return e;
}
