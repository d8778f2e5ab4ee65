import { isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';

/** A path into the manifest value: keys and array indexes, as ajv's instancePath names them. */
export type ValuePath = readonly (string | number)[];

export interface Span {
  start: number;
  end: number;
}

/** One parsed piece of the manifest: a YAML document and where its text starts in the file. */
export interface ParsedPiece {
  doc: Document.Parsed;
  offset: number;
  /** The value path at which this piece's root mapping lives (e.g. ['steps'] for a step entry). */
  base: ValuePath;
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

  private firstContentSpan(): Span {
    const m = /\S/.exec(this.text);
    if (!m) return { start: 0, end: 0 };
    const lineEnd = this.text.indexOf('\n', m.index);
    return { start: m.index, end: lineEnd === -1 ? this.text.length : lineEnd };
  }
}
