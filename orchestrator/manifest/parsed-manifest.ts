import { isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';

/** A path into the manifest value: keys and array indexes, as ajv's instancePath names them. */
export type ValuePath = readonly (string | number)[];

export interface Span {
  start: number;
  end: number;
}

/** One parsed piece of the manifest: a YAML document and where its text starts in the file. */
export interface ParsedPiece {
  /** `section`, `section/entry`, or '' for a whole-text parse. */
  id: string;
  doc: Document.Parsed;
  offset: number;
  /** Offset just past the piece's text. */
  end: number;
  /** The value path at which this piece's root mapping lives (e.g. ['steps'] for a step entry). */
  base: ValuePath;
  /** The piece's own value (for an entry: `{name: …}`), shared by every parse of the same text. */
  value: unknown;
  /** A split section's header (`steps:`): its entries are pieces of their own. */
  header?: boolean;
}

/** The node at an offset: see ParsedManifest.locate. */
export interface Located {
  path: ValuePath;
  /** True when the offset is on a key (then `node` is the key and `path` the value it names). */
  onKey: boolean;
  node: Node;
  /** Offset of the node's piece in the text (node ranges are relative to it). */
  offset: number;
  /** The enclosing pair, for keys and map values. */
  pair?: Pair;
}

export interface SyntaxProblem extends Span {
  code: string;
  message: string;
  warning?: boolean;
}

/**
 * The manifest as a plain value plus a way back from value paths to source spans, whether it
 * was parsed whole or in blocks.
 */
export class ParsedManifest {
  constructor(
    readonly text: string,
    readonly value: unknown,
    readonly syntax: SyntaxProblem[],
    /** Pieces by `section` or `section/entry`; a whole-text parse has one piece under ''. */
    private readonly pieces: Map<string, ParsedPiece>,
    /** Keys defined twice across blocks (the later definitions). */
    readonly crossBlockDuplicates: { path: ValuePath; span: Span; firstSpan: Span }[],
  ) {}

  private pieceFor(path: ValuePath): { piece: ParsedPiece; rest: ValuePath } | undefined {
    const whole = this.pieces.get('');
    if (whole) return { piece: whole, rest: path };
    if (path.length >= 2) {
      const entry = this.pieces.get(`${path[0]}/${path[1]}`);
      if (entry) return { piece: entry, rest: path.slice(1) };
    }
    if (path.length >= 1) {
      const section = this.pieces.get(String(path[0]));
      if (section) return { piece: section, rest: path };
    }
    return undefined;
  }

  /** The YAML node at a path (scalars included), with the offset of its piece. */
  nodeAt(path: ValuePath): { node: Node; offset: number } | undefined {
    const found = this.pieceFor(path);
    if (!found) return undefined;
    const node = found.piece.doc.getIn(found.rest, true) as Node | undefined;
    if (!node || typeof node !== 'object' || !('range' in node)) return undefined;
    return { node, offset: found.piece.offset };
  }

  /** The key/value pair whose value is at `path` (undefined for array items and the root). */
  pairAt(path: ValuePath): { pair: Pair; offset: number } | undefined {
    if (path.length === 0) return undefined;
    const key = path[path.length - 1];
    const found = this.pieceFor(path);
    if (!found) return undefined;
    const parentRest = found.rest.slice(0, -1);
    const parent = parentRest.length === 0 ? found.piece.doc.contents : (found.piece.doc.getIn(parentRest, true) as unknown);
    if (!isMap(parent)) return undefined;
    for (const item of parent.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(key)) return { pair: item, offset: found.piece.offset };
    }
    return undefined;
  }

  /** Span of the value at a path; falls back to the nearest ancestor that exists. */
  valueSpan(path: ValuePath): Span {
    for (let p = path; ; p = p.slice(0, -1)) {
      const at = this.nodeAt(p);
      if (at?.node.range) return { start: at.offset + at.node.range[0], end: at.offset + at.node.range[1] };
      const pair = p.length ? this.pairAt(p) : undefined;
      const keyNode = pair?.pair.key as Node | undefined;
      if (pair && keyNode?.range) return { start: pair.offset + keyNode.range[0], end: pair.offset + keyNode.range[1] };
      if (p.length === 0) return this.firstContentSpan();
    }
  }

  /** Span of the key whose value is at `path`; array items and the root give the value span. */
  keySpan(path: ValuePath): Span {
    const pair = this.pairAt(path);
    const keyNode = pair?.pair.key as Node | undefined;
    if (pair && keyNode?.range) return { start: pair.offset + keyNode.range[0], end: pair.offset + keyNode.range[1] };
    return this.valueSpan(path);
  }

  /** Source text of the scalar at a path, as written (quotes included), with its span. */
  sourceAt(path: ValuePath): (Span & { source: string }) | undefined {
    const at = this.nodeAt(path);
    if (!at || !isScalar(at.node) || !at.node.range) return undefined;
    const start = at.offset + at.node.range[0];
    const end = at.offset + at.node.range[1];
    return { start, end, source: this.text.slice(start, end) };
  }

  /** Items of the sequence at a path, for reporting on individual entries. */
  isSequence(path: ValuePath): boolean {
    const at = this.nodeAt(path);
    return !!at && isSeq(at.node);
  }

  /** A piece by its id (`section`, `section/entry`, or '' for a whole-text parse). */
  pieceById(id: string): ParsedPiece | undefined {
    return this.pieces.get(id);
  }

  /** The pieces in text order. */
  piecesInOrder(): readonly ParsedPiece[] {
    if (!this.ordered) {
      // The parser adds pieces in text order; sort only if something else did not.
      const list = [...this.pieces.values()];
      for (let i = 1; i < list.length; i++) {
        if (list[i - 1].offset > list[i].offset) {
          list.sort((a, b) => a.offset - b.offset);
          break;
        }
      }
      this.ordered = list;
    }
    return this.ordered;
  }

  private ordered?: ParsedPiece[];

  /** The piece whose text holds `offset` (a cursor at a piece's end belongs to it too). */
  pieceAt(offset: number): ParsedPiece | undefined {
    const list = this.piecesInOrder();
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].offset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found === -1) return undefined;
    const p = list[found];
    return offset <= p.end ? p : undefined;
  }

  /** The same parse seen with another value (per-block checks validate one entry at a time). */
  withValue(value: unknown): ParsedManifest {
    return new ParsedManifest(this.text, value, this.syntax, this.pieces, this.crossBlockDuplicates);
  }

  /**
   * What the text at `offset` is: the value path of the innermost key or value there, and
   * whether the offset is on the key. Undefined between nodes (blank lines, comments).
   */
  locate(offset: number): Located | undefined {
    const piece = this.pieceAt(offset);
    if (!piece) return undefined;
    const rel = offset - piece.offset;
    const path: (string | number)[] = [...piece.base];
    let node: unknown = piece.doc.contents;
    let located: Located | undefined;
    const within = (n: Node | null | undefined, end = 1) => !!n?.range && rel >= n.range[0] && rel <= n.range[end];
    for (let depth = 0; depth < 200 && node; depth++) {
      if (isMap(node)) {
        let next: unknown;
        for (const item of node.items) {
          const key = item.key as Node | null;
          const value = item.value as Node | null;
          if (key && within(key)) {
            const k = isScalar(key) ? String(key.value) : '';
            return { path: [...path, k], onKey: true, node: key, offset: piece.offset, pair: item as Pair };
          }
          if (value && within(value)) {
            path.push(isScalar(key) ? String(key.value) : '');
            next = value;
            located = { path: [...path], onKey: false, node: value, offset: piece.offset, pair: item as Pair };
            break;
          }
        }
        node = next;
        continue;
      }
      if (isSeq(node)) {
        let next: unknown;
        node.items.forEach((item, i) => {
          if (next === undefined && within(item as Node)) {
            path.push(i);
            next = item;
            located = { path: [...path], onKey: false, node: item as Node, offset: piece.offset };
          }
        });
        node = next;
        continue;
      }
      break;
    }
    return located;
  }

  private firstContentSpan(): Span {
    const m = /\S/.exec(this.text);
    if (!m) return { start: 0, end: 0 };
    const lineEnd = this.text.indexOf('\n', m.index);
    return { start: m.index, end: lineEnd === -1 ? this.text.length : lineEnd };
  }
}
