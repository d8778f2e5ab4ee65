import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ErrorCodes,
  ResponseError,
  SymbolKind,
  type DocumentLink,
  type DocumentSymbol,
  type Location,
  type Position,
  type Range,
  type SymbolInformation,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import type { Span } from '../../../orchestrator/manifest/parsed-manifest';
import { KIND_SECTIONS, SECTION_KINDS, type EntryKind, type RefKind } from '../../../orchestrator/manifest/symbols';
import { outsOf, short, type Analysis } from './analysis';
import type { FileProbe } from './file-probe';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const SYMBOL_KINDS: Record<EntryKind, SymbolKind> = {
  step: SymbolKind.Function,
  param: SymbolKind.Constant,
  dataset: SymbolKind.File,
  model: SymbolKind.Class,
  deployment: SymbolKind.Interface,
  sweep: SymbolKind.Event,
};

/** Definition, references, rename, links and the outline: everything that follows names and paths. */
export class NavigationService {
  constructor(private readonly files: FileProbe) {}

  private range(a: Analysis, s: Span): Range {
    return { start: a.doc.positionAt(s.start), end: a.doc.positionAt(s.end) };
  }

  private fileUri(a: Analysis, rel: string): string | undefined {
    if (!a.dir) return undefined;
    const abs = path.resolve(a.dir, rel);
    const st = this.files.stat(abs);
    return st && st.isFile() ? pathToFileURL(abs).toString() : undefined;
  }

  /** The name at a position: a definition key or a reference. */
  private nameAt(a: Analysis, pos: Position): { kind: EntryKind; name: string; span: Span } | undefined {
    const hit = a.index().at(a.doc.offsetAt(pos));
    if (!hit) return undefined;
    return 'def' in hit ? { kind: hit.def.kind, name: hit.def.name, span: hit.def.name_ } : { kind: hit.ref.kind, name: hit.ref.name, span: hit.ref.span };
  }

  definition(a: Analysis, pos: Position): Location[] | null {
    const offset = a.doc.offsetAt(pos);
    const idx = a.index();
    const interp = idx.interpolationAt(offset);
    if (interp) {
      // On `outs.N` of `${steps.X.outs.N}` or `path` of `${datasets.X.path}`: the value itself.
      const [root, name, attr, n] = interp.parts.map((p) => p.text);
      const onAttr = interp.parts[2] && offset >= interp.parts[2].start;
      if (onAttr && root === 'steps' && attr === 'outs' && /^\d+$/.test(n ?? '')) {
        const outs = a.entry('steps', name)?.outs;
        const item = Array.isArray(outs) ? outs[Number(n)] : undefined;
        if (item !== undefined) {
          const p = typeof item === 'object' ? ['steps', name, 'outs', Number(n), 'path'] : ['steps', name, 'outs', Number(n)];
          return [{ uri: a.doc.uri, range: this.range(a, a.parsed.valueSpan(p)) }];
        }
      }
      if (onAttr && root === 'datasets' && attr === 'path' && a.entry('datasets', name)) {
        return [{ uri: a.doc.uri, range: this.range(a, a.parsed.valueSpan(['datasets', name, 'path'])) }];
      }
    }
    const hit = idx.at(offset);
    if (hit) {
      const target = 'def' in hit ? hit.def : idx.def(hit.ref.kind, hit.ref.name);
      return target ? [{ uri: a.doc.uri, range: this.range(a, target.name_) }] : null;
    }
    const file = idx.fileAt(offset);
    if (file) {
      const uri = this.fileUri(a, file.path);
      if (uri) return [{ uri, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }];
      // An output nobody wrote yet: the step that produces it.
      for (const [s] of Object.entries(a.section('steps'))) {
        if (outsOf(a.entry('steps', s)).includes(file.path) && file.field !== 'outs') {
          const def = idx.def('step', s);
          if (def) return [{ uri: a.doc.uri, range: this.range(a, def.name_) }];
        }
      }
    }
    return null;
  }

  references(a: Analysis, pos: Position, includeDeclaration: boolean): Location[] | null {
    const hit = this.nameAt(a, pos);
    if (!hit) return null;
    const idx = a.index();
    const spans: Span[] = [];
    const def = idx.def(hit.kind, hit.name);
    if (includeDeclaration && def) spans.push(def.name_);
    if (hit.kind !== 'deployment' && hit.kind !== 'sweep') for (const r of idx.refsTo(hit.kind, hit.name)) spans.push(r.span);
    return spans.map((s) => ({ uri: a.doc.uri, range: this.range(a, s) }));
  }

  prepareRename(a: Analysis, pos: Position): { range: Range; placeholder: string } | null {
    const hit = this.nameAt(a, pos);
    if (!hit) return null;
    if (!a.index().def(hit.kind, hit.name)) throw new ResponseError(ErrorCodes.InvalidRequest, `${capital(hit.kind)} "${hit.name}" is not defined in this manifest, so there is nothing to rename.`);
    return { range: this.range(a, hit.span), placeholder: hit.name };
  }

  rename(a: Analysis, pos: Position, newName: string): WorkspaceEdit | null {
    const hit = this.nameAt(a, pos);
    if (!hit) return null;
    const idx = a.index();
    const def = idx.def(hit.kind, hit.name);
    if (!def) throw new ResponseError(ErrorCodes.InvalidRequest, `${capital(hit.kind)} "${hit.name}" is not defined in this manifest, so there is nothing to rename.`);
    if (newName === hit.name) return { changes: { [a.doc.uri]: [] } };
    if (!NAME.test(newName)) {
      throw new ResponseError(ErrorCodes.InvalidParams, `"${newName}" is not a valid ${hit.kind} name: start with a letter or _, then use letters, digits, _, . or -.`);
    }
    if (idx.def(hit.kind, newName)) {
      throw new ResponseError(ErrorCodes.InvalidParams, `A ${hit.kind} named "${newName}" already exists; pick another name.`);
    }
    const edits: TextEdit[] = [{ range: this.range(a, def.name_), newText: newName }];
    if (hit.kind !== 'deployment' && hit.kind !== 'sweep') for (const r of idx.refsTo(hit.kind as RefKind, hit.name)) edits.push({ range: this.range(a, r.span), newText: newName });
    return { changes: { [a.doc.uri]: edits } };
  }

  documentLinks(a: Analysis): DocumentLink[] {
    const links: DocumentLink[] = [];
    for (const f of a.index().files) {
      const target = this.fileUri(a, f.path);
      if (target) links.push({ range: this.range(a, f.span), target, tooltip: `Open ${f.path}` });
    }
    return links;
  }

  documentSymbols(a: Analysis): DocumentSymbol[] {
    const idx = a.index();
    const out: DocumentSymbol[] = [];
    const byKind = new Map<EntryKind, DocumentSymbol[]>();
    const lastEnd = new Map<EntryKind, number>();
    for (const d of idx.defs) {
      const list = byKind.get(d.kind) ?? [];
      if (!byKind.has(d.kind)) byKind.set(d.kind, list);
      list.push({ name: d.name, kind: SYMBOL_KINDS[d.kind], detail: this.detail(a, d.kind, d.name), range: this.range(a, d.span), selectionRange: this.range(a, d.name_) });
      lastEnd.set(d.kind, Math.max(lastEnd.get(d.kind) ?? 0, d.span.end));
    }
    const seen = new Set<string>();
    for (const s of idx.sections) {
      if (seen.has(s.name)) continue;
      seen.add(s.name);
      const kind = SECTION_KINDS[s.name];
      const children = kind ? (byKind.get(kind) ?? []) : undefined;
      const end = Math.max(s.span.end, kind ? (lastEnd.get(kind) ?? 0) : 0);
      const scalar = a.root[s.name];
      out.push({
        name: s.name,
        kind: kind ? SymbolKind.Namespace : SymbolKind.Property,
        ...(children ? { detail: `${children.length} ${children.length === 1 ? kind : KIND_SECTIONS[kind!]}` } : typeof scalar !== 'object' && scalar !== undefined ? { detail: short(String(scalar), 40) } : {}),
        range: this.range(a, { start: s.key.start, end }),
        selectionRange: this.range(a, s.key),
        ...(children ? { children } : {}),
      });
    }
    return out;
  }

  /** Named entries of the open manifests whose name contains the query (case-insensitive), at most `max`. */
  workspaceSymbols(analyses: Analysis[], query: string, max = 500): SymbolInformation[] {
    const q = query.toLowerCase();
    const out: SymbolInformation[] = [];
    for (const a of analyses) {
      for (const d of a.index().defs) {
        if (q && !d.name.toLowerCase().includes(q)) continue;
        out.push({ name: d.name, kind: SYMBOL_KINDS[d.kind], containerName: KIND_SECTIONS[d.kind], location: { uri: a.doc.uri, range: this.range(a, d.name_) } });
        if (out.length >= max) return out;
      }
    }
    return out;
  }

  private detail(a: Analysis, kind: EntryKind, name: string): string | undefined {
    if (kind === 'param') return short(JSON.stringify(a.section('params')[name]) ?? '', 40);
    const e = a.entry(KIND_SECTIONS[kind], name);
    if (!e) return undefined;
    if (kind === 'step') return typeof e.cmd === 'string' ? short(e.cmd, 50) : undefined;
    if (kind === 'dataset' || kind === 'model') return typeof e.path === 'string' ? e.path : typeof e.artifact === 'string' ? e.artifact : undefined;
    if (kind === 'deployment') return typeof e.model === 'string' ? e.model : undefined;
    return undefined;
  }
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
