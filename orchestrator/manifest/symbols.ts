import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar } from 'yaml';
import { INTERPOLATION } from './interpolation';
import type { ParsedManifest, ParsedPiece, Span, ValuePath } from './parsed-manifest';

/**
 * Where every name of a manifest is defined and used, with the exact characters of each name
 * (for rename, references, semantic tokens and go to definition). Computed per parsed piece
 * and cached by the piece's YAML document, which the parser reuses while its text is
 * unchanged: after an edit only the touched block is walked again.
 */

/** Kinds of things a manifest refers to by name. */
export type RefKind = 'step' | 'param' | 'dataset' | 'model';
/** Kinds of named entries a manifest defines. */
export type EntryKind = RefKind | 'deployment' | 'sweep';

export const SECTION_KINDS: Readonly<Record<string, EntryKind>> = {
  steps: 'step',
  params: 'param',
  datasets: 'dataset',
  models: 'model',
  deployments: 'deployment',
  sweeps: 'sweep',
};

export const KIND_SECTIONS: Readonly<Record<EntryKind, string>> = {
  step: 'steps',
  param: 'params',
  dataset: 'datasets',
  model: 'models',
  deployment: 'deployments',
  sweep: 'sweeps',
};

export interface Owner {
  kind: EntryKind;
  name: string;
}

/** A named entry: `train:` under `steps:`. */
export interface EntryDef {
  kind: EntryKind;
  name: string;
  /** The name's characters (inside quotes when quoted). */
  name_: Span;
  /** From the key to the end of the entry's value. */
  span: Span;
}

/** A top-level key: `steps:`, `version:`… */
export interface SectionDef {
  name: string;
  key: Span;
  span: Span;
}

export type RefVia = 'needs' | 'params' | 'from' | 'sweep' | 'space' | 'deployment' | 'interpolation';

/** A use of a name. */
export interface NameRef {
  kind: RefKind;
  name: string;
  /** The name's characters only. */
  span: Span;
  via: RefVia;
  owner: Owner;
  /** For a use inside `${…}`: the whole interpolation. */
  interpolation?: Span;
}

/** One `${…}` and its parts. */
export interface InterpolationSite {
  /** From `${` to `}`. */
  span: Span;
  expr: string;
  /** Each dot-separated part of the expression with its offset. */
  parts: { text: string; start: number }[];
  owner: Owner;
  /** Value path of the string that holds it. */
  path: ValuePath;
}

/** A path to a file or folder, relative to the manifest folder, as written. */
export interface FileSite {
  path: string;
  span: Span;
  field: 'deps' | 'outs' | 'metrics' | 'path' | 'artifact' | 'cmd' | 'wdir';
  owner: Owner;
}

export interface Facts {
  sections: SectionDef[];
  defs: EntryDef[];
  refs: NameRef[];
  interps: InterpolationSite[];
  files: FileSite[];
}

// By document, then by the piece's base path: the parser shares one document between equal
// block texts, and the same entry text means different things under steps: and models:.
const factsCache = new WeakMap<Document, Map<string, Facts>>();

/**
 * Names, references, interpolations and file paths of a whole manifest. Lookups at an offset
 * or of one name touch only the pieces they need; the whole lists (outline, tokens, links)
 * are put together on first use. Each piece's facts are computed once per piece text.
 */
export class ManifestIndex {
  private static readonly cache = new WeakMap<ParsedManifest, ManifestIndex>();
  private all?: Facts;

  static of(parsed: ParsedManifest): ManifestIndex {
    let idx = ManifestIndex.cache.get(parsed);
    if (!idx) ManifestIndex.cache.set(parsed, (idx = new ManifestIndex(parsed)));
    return idx;
  }

  private constructor(private readonly parsed: ParsedManifest) {}

  /**
   * Computes the facts of pieces not seen before, until `deadline` (Date.now() value); true
   * when all are done. Lets a server do this work while idle instead of in a request.
   */
  warm(deadline: number): boolean {
    for (const piece of this.parsed.piecesInOrder()) {
      factsOf(this.parsed.text, piece);
      if (Date.now() > deadline) return false;
    }
    return true;
  }

  /**
   * Calls `fn` with the facts of each piece that overlaps [start, end] (all pieces without a
   * range), unshifted, with the offset to add: no copies, for whole-document passes.
   */
  forEachPiece(fn: (facts: Readonly<Facts>, offset: number) => void, start = 0, end = Infinity): void {
    for (const piece of this.parsed.piecesInOrder()) {
      if (piece.end < start) continue;
      if (piece.offset > end) break;
      fn(factsOf(this.parsed.text, piece), piece.offset);
    }
  }

  private facts(piece: ParsedPiece): Facts {
    return shifted(factsOf(this.parsed.text, piece), piece.offset);
  }

  private whole(): Facts {
    if (!this.all) {
      const all: Facts = { sections: [], defs: [], refs: [], interps: [], files: [] };
      for (const piece of this.parsed.piecesInOrder()) {
        const f = this.facts(piece);
        all.sections.push(...f.sections);
        all.defs.push(...f.defs);
        all.refs.push(...f.refs);
        all.interps.push(...f.interps);
        all.files.push(...f.files);
      }
      this.all = all;
    }
    return this.all;
  }

  get sections(): SectionDef[] {
    return this.whole().sections;
  }
  get defs(): EntryDef[] {
    return this.whole().defs;
  }
  get refs(): NameRef[] {
    return this.whole().refs;
  }
  get interps(): InterpolationSite[] {
    return this.whole().interps;
  }
  get files(): FileSite[] {
    return this.whole().files;
  }

  /** The first definition of a name (later duplicates are ignored by the validator too). */
  def(kind: EntryKind, name: string): EntryDef | undefined {
    const piece = this.parsed.pieceById(`${KIND_SECTIONS[kind]}/${name}`);
    if (piece) {
      const d = this.facts(piece).defs.find((x) => x.kind === kind && x.name === name);
      if (d) return d;
    }
    // Parsed whole, or a section written inline: look through everything.
    return this.whole().defs.find((x) => x.kind === kind && x.name === name);
  }

  /** Every use of a name, in text order. */
  refsTo(kind: RefKind, name: string): NameRef[] {
    if (this.all) return this.all.refs.filter((r) => r.kind === kind && r.name === name);
    const out: NameRef[] = [];
    for (const piece of this.parsed.piecesInOrder()) {
      const f = factsOf(this.parsed.text, piece);
      for (const r of f.refs) if (r.name === name && r.kind === kind) out.push(shiftRef(r, piece.offset));
    }
    return out;
  }

  /** Names defined for a kind, in text order. */
  namesOf(kind: EntryKind): string[] {
    const seen = new Set<string>();
    for (const d of this.whole().defs) if (d.kind === kind) seen.add(d.name);
    return [...seen];
  }

  private local(offset: number): Facts | undefined {
    const piece = this.parsed.pieceAt(offset);
    return piece ? this.facts(piece) : undefined;
  }

  /** The definition name or reference under `offset` (a cursor right after a name counts). */
  at(offset: number): { def: EntryDef } | { ref: NameRef } | undefined {
    const f = this.local(offset);
    if (!f) return undefined;
    const inside = (s: Span) => offset >= s.start && offset <= s.end;
    const ref = findSorted(f.refs, offset, (r) => r.span);
    if (ref && inside(ref.span)) return { ref };
    const def = findSorted(f.defs, offset, (d) => d.name_);
    if (def && inside(def.name_)) return { def };
    return undefined;
  }

  interpolationAt(offset: number): InterpolationSite | undefined {
    const f = this.local(offset);
    const i = f && findSorted(f.interps, offset, (x) => x.span);
    return i && offset >= i.span.start && offset <= i.span.end ? i : undefined;
  }

  fileAt(offset: number): FileSite | undefined {
    const f = this.local(offset);
    const x = f && findSorted(f.files, offset, (y) => y.span);
    return x && offset >= x.span.start && offset <= x.span.end ? x : undefined;
  }
}

function sh(s: Span, o: number): Span {
  return { start: s.start + o, end: s.end + o };
}

function shiftRef(r: NameRef, o: number): NameRef {
  return { ...r, span: sh(r.span, o), ...(r.interpolation ? { interpolation: sh(r.interpolation, o) } : {}) };
}

/** A piece's facts at its offset in the text. */
function shifted(f: Facts, o: number): Facts {
  if (o === 0) return f;
  return {
    sections: f.sections.map((s) => ({ name: s.name, key: sh(s.key, o), span: sh(s.span, o) })),
    defs: f.defs.map((d) => ({ ...d, name_: sh(d.name_, o), span: sh(d.span, o) })),
    refs: f.refs.map((r) => shiftRef(r, o)),
    interps: f.interps.map((i) => ({ ...i, span: sh(i.span, o), parts: i.parts.map((p) => ({ text: p.text, start: p.start + o })) })),
    files: f.files.map((x) => ({ ...x, span: sh(x.span, o) })),
  };
}

/** The last item whose span starts at or before `offset` (items sorted by start). */
function findSorted<T>(items: T[], offset: number, span: (t: T) => Span): T | undefined {
  let lo = 0;
  let hi = items.length - 1;
  let found: T | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (span(items[mid]).start <= offset) {
      found = items[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function factsOf(text: string, piece: ParsedPiece): Facts {
  let byBase = factsCache.get(piece.doc);
  if (!byBase) factsCache.set(piece.doc, (byBase = new Map()));
  const baseKey = piece.base.join('/');
  let f = byBase.get(baseKey);
  if (!f) {
    f = walkPiece(text.slice(piece.offset, piece.end), piece);
    for (const list of [f.defs, f.refs, f.interps, f.files] as { span?: Span; name_?: Span }[][]) {
      list.sort((a, b) => (a.name_ ?? a.span!).start - (b.name_ ?? b.span!).start);
    }
    byBase.set(baseKey, f);
  }
  return f;
}

/** Characters of a scalar's value in the source: inside quotes, or undefined when escapes make them differ. */
export function scalarChars(src: string, node: Scalar): Span | undefined {
  if (!node.range || typeof node.value !== 'string') return undefined;
  const [start, end] = node.range;
  const raw = src.slice(start, end);
  if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
    return raw.slice(1, -1) === node.value ? { start: start + 1, end: end - 1 } : undefined;
  }
  if (node.type === 'PLAIN') return raw === node.value ? { start, end } : undefined;
  return undefined;
}

const INTERPOLATED_FIELDS = new Set(['cmd', 'deps', 'outs', 'metrics', 'wdir', 'env', 'path']);

function walkPiece(src: string, piece: ParsedPiece): Facts {
  const f: Facts = { sections: [], defs: [], refs: [], interps: [], files: [] };
  const contents = piece.doc.contents;
  if (!isMap(contents)) return f;
  if (piece.base.length === 1) {
    walkEntries(src, String(piece.base[0]), contents.items as Pair[], f);
    return f;
  }
  for (const pair of contents.items as Pair[]) {
    const key = pair.key as Node | null;
    if (!isScalar(key) || !key.range) continue;
    const name = String(key.value);
    const value = pair.value as Node | null;
    f.sections.push({ name, key: { start: key.range[0], end: key.range[1] }, span: { start: key.range[0], end: value?.range ? value.range[1] : key.range[1] } });
    if (SECTION_KINDS[name] && isMap(value)) walkEntries(src, name, value.items as Pair[], f);
  }
  return f;
}

function walkEntries(src: string, section: string, pairs: Pair[], f: Facts): void {
  const kind = SECTION_KINDS[section];
  if (!kind) return;
  for (const pair of pairs) {
    const key = pair.key as Node | null;
    if (!isScalar(key) || !key.range) continue;
    const name = String(key.value);
    const chars = scalarChars(src, key) ?? { start: key.range[0], end: key.range[1] };
    const value = pair.value as Node | null;
    f.defs.push({ kind, name, name_: chars, span: { start: key.range[0], end: value?.range ? value.range[1] : key.range[1] } });
    const owner: Owner = { kind, name };
    if (!isMap(value)) continue;
    const base: ValuePath = [section, name];
    for (const field of value.items as Pair[]) {
      const fk = field.key as Node | null;
      if (!isScalar(fk)) continue;
      const fname = String(fk.value);
      const fv = field.value as Node | null;
      if (!fv) continue;
      const path = [...base, fname];
      if (INTERPOLATED_FIELDS.has(fname) && (kind === 'step' || (kind === 'dataset' && fname === 'path'))) interpolations(src, fv, path, owner, f);
      switch (kind) {
        case 'step':
          if (fname === 'needs') names(src, fv, 'step', 'needs', owner, f);
          else if (fname === 'params') names(src, fv, 'param', 'params', owner, f);
          else if (fname === 'deps' || fname === 'outs' || fname === 'metrics') files(src, fv, fname, owner, f);
          else if (fname === 'wdir') files(src, fv, 'wdir', owner, f);
          else if (fname === 'cmd') commandFiles(src, fv, owner, f);
          break;
        case 'dataset':
          if (fname === 'path') files(src, fv, 'path', owner, f);
          break;
        case 'model':
          if (fname === 'from') names(src, fv, 'step', 'from', owner, f);
          else if (fname === 'artifact') files(src, fv, 'artifact', owner, f);
          break;
        case 'deployment':
          if (fname === 'model' && isScalar(fv)) {
            const c = scalarChars(src, fv);
            const m = /^(models:\/)?([^/@]+)/.exec(String(fv.value));
            if (c && m) f.refs.push({ kind: 'model', name: m[2], span: { start: c.start + (m[1]?.length ?? 0), end: c.start + (m[1]?.length ?? 0) + m[2].length }, via: 'deployment', owner });
          }
          break;
        case 'sweep':
          if (fname === 'step') names(src, fv, 'step', 'sweep', owner, f);
          else if (fname === 'space' && isMap(fv)) {
            for (const sp of fv.items as Pair[]) {
              const k = sp.key as Node | null;
              if (!isScalar(k)) continue;
              const c = scalarChars(src, k);
              if (c) f.refs.push({ kind: 'param', name: String(k.value), span: c, via: 'space', owner });
            }
          }
          break;
        default:
          break;
      }
    }
  }
}

/** Names in a list (or a single name). */
function names(src: string, node: Node, kind: RefKind, via: RefVia, owner: Owner, f: Facts): void {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  for (const item of items) {
    if (!isScalar(item)) continue;
    const c = scalarChars(src, item);
    if (c && c.end > c.start) f.refs.push({ kind, name: String(item.value), span: c, via, owner });
  }
}

function files(src: string, node: Node, field: FileSite['field'], owner: Owner, f: Facts): void {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  for (const item of items) {
    let s: Node | undefined = item;
    if (isMap(item)) s = (item.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === 'path')?.value as Node | undefined;
    if (!isScalar(s)) continue;
    const c = scalarChars(src, s);
    const v = String(s.value);
    if (c && v && !v.includes('${')) f.files.push({ path: v, span: c, field, owner });
  }
}

/** Words of a command that look like paths (`steps/train.py`, `./run.sh`): candidates for links. */
function commandFiles(src: string, node: Node, owner: Owner, f: Facts): void {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  for (const item of items) {
    if (!isScalar(item) || !item.range || typeof item.value !== 'string') continue;
    const c = scalarChars(src, item);
    if (!c) continue;
    const raw = src.slice(c.start, c.end);
    for (const m of raw.matchAll(/[^\s'"=;|&<>()]+/g)) {
      const w = m[0];
      if (m.index === 0 || w.includes('${') || w.startsWith('-') || !/[/.]/.test(w) || /^\d|:\/\//.test(w)) continue;
      f.files.push({ path: w, span: { start: c.start + m.index!, end: c.start + m.index! + w.length }, field: 'cmd', owner });
    }
  }
}

/** Every `${…}` in the strings under `node`, with the names it uses. */
function interpolations(src: string, node: Node, path: ValuePath, owner: Owner, f: Facts): void {
  if (isScalar(node)) {
    if (typeof node.value !== 'string' || !node.value.includes('${') || !node.range) return;
    const raw = src.slice(node.range[0], node.range[1]);
    for (const m of raw.matchAll(INTERPOLATION)) {
      const start = node.range[0] + m.index!;
      const expr = m[1];
      const exprStart = start + m[0].indexOf(expr, 2);
      const parts: { text: string; start: number }[] = [];
      let at = exprStart;
      for (const text of expr.split('.')) {
        parts.push({ text, start: at });
        at += text.length + 1;
      }
      const span = { start, end: start + m[0].length };
      f.interps.push({ span, expr, parts, owner, path });
      const root = parts[0]?.text;
      const name = parts[1];
      const kind: RefKind | undefined = root === 'params' ? 'param' : root === 'datasets' ? 'dataset' : root === 'steps' ? 'step' : undefined;
      if (kind && name && name.text) f.refs.push({ kind, name: name.text, span: { start: name.start, end: name.start + name.text.length }, via: 'interpolation', owner, interpolation: span });
    }
    return;
  }
  if (isSeq(node)) (node.items as Node[]).forEach((x, i) => x && interpolations(src, x, [...path, i], owner, f));
  else if (isMap(node)) for (const p of node.items as Pair[]) if (p.value && isScalar(p.key)) interpolations(src, p.value as Node, [...path, String(p.key.value)], owner, f);
}
