import { parseDocument, type Document } from 'yaml';
import { splitBlocks, type Block } from './blocks';
import { ParsedManifest, type ParsedPiece, type Span, type SyntaxProblem, type ValuePath } from './parsed-manifest';

/** Cooperative cancellation: long parses check it between blocks. */
export interface Cancellation {
  readonly isCancelled: boolean;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

interface CachedPiece {
  doc: Document.Parsed;
  value: unknown;
  syntax: SyntaxProblem[]; // relative to the piece
  crashed?: string;
  generation: number;
}

/**
 * Parses manifests block by block and keeps each block's result keyed by its text, so the
 * next version of the same document re-parses only the blocks an edit touched. One cache
 * per open document: entries not used by the last two parses are dropped.
 */
export class ManifestParser {
  private readonly cache = new Map<string, CachedPiece>();
  private generation = 0;
  /** The last result: asking again for the same text (a request right after validation) is free. */
  private last?: ParsedManifest;
  /** The asynchronous parse under way, which a synchronous caller of the same text finishes instead of starting over. */
  private inflight?: { text: string; run: Generator<void, ParsedManifest> };

  /** Parse, yielding to the event loop every `sliceMs` so other requests are served meanwhile. */
  async parse(text: string, cancel?: Cancellation, sliceMs = 8): Promise<ParsedManifest> {
    if (this.last?.text === text) return this.last;
    let sliceStart = Date.now();
    const run = this.run(text, ++this.generation, () => Date.now() - sliceStart >= sliceMs);
    this.inflight = { text, run };
    try {
      for (;;) {
        const step = run.next();
        if (step.done) return (this.last = step.value);
        await new Promise<void>((resolve) => setImmediate(resolve));
        // A request needed this text meanwhile and finished the parse synchronously.
        if (this.last?.text === text) return this.last;
        if (cancel?.isCancelled) throw new CancelledError();
        sliceStart = Date.now();
      }
    } finally {
      if (this.inflight?.run === run) this.inflight = undefined;
    }
  }

  /** Synchronous parse (CLI, tests, and requests that need the current text right away). */
  parseSync(text: string): ParsedManifest {
    if (this.last?.text === text) return this.last;
    const inflight = this.inflight;
    if (inflight?.text === text) {
      this.inflight = undefined;
      for (;;) {
        const step = inflight.run.next();
        if (step.done) return (this.last = step.value);
      }
    }
    const step = this.run(text, ++this.generation, () => false).next();
    if (!step.done) throw new Error('synchronous parse yielded');
    return (this.last = step.value);
  }

  /** The parse as a generator: it yields where an async caller may let other work in. */
  private *run(text: string, gen: number, shouldYield: () => boolean): Generator<void, ParsedManifest> {
    const split = splitBlocks(text);
    if (split.kind === 'whole') return this.parseWhole(text, gen);
    const pieces = new Map<string, ParsedPiece>();
    const syntax: SyntaxProblem[] = [];
    const root: Record<string, unknown> = {};
    const duplicates: { path: ValuePath; span: Span; firstSpan: Span }[] = [];
    for (const block of split.blocks) {
      if (shouldYield()) yield;
      const piece = this.piece(text.slice(block.start, block.end), gen);
      for (const p of piece.syntax) syntax.push({ ...p, start: p.start + block.start, end: p.end + block.start });
      if (piece.crashed) syntax.push({ code: 'TOO_COMPLEX', message: piece.crashed, start: block.start, end: lineEndFrom(text, block.start) });
      this.merge(root, block, piece, pieces, duplicates);
    }
    this.sweep(gen);
    return new ParsedManifest(text, root, syntax, pieces, duplicates);
  }

  private merge(
    root: Record<string, unknown>,
    block: Block,
    piece: CachedPiece,
    pieces: Map<string, ParsedPiece>,
    duplicates: { path: ValuePath; span: Span; firstSpan: Span }[],
  ): void {
    const value = piece.value as Record<string, unknown> | null;
    // Spans of first definitions are computed only when a duplicate needs them.
    const keySpan = (doc: Document.Parsed, offset: number): Span => {
      const key = (doc.contents as { items?: { key?: { range?: number[] } }[] } | null)?.items?.[0]?.key?.range;
      return key ? { start: offset + key[0], end: offset + key[1] } : { start: offset, end: offset };
    };
    if (block.entry === undefined) {
      const id = block.section;
      const first = pieces.get(id);
      if (first) {
        duplicates.push({ path: [block.section], span: keySpan(piece.doc, block.start), firstSpan: keySpan(first.doc, first.offset) });
        return;
      }
      pieces.set(id, { id, doc: piece.doc, offset: block.start, end: block.end, base: [], value: piece.value, ...(block.header ? { header: true } : {}) });
      const v = value && typeof value === 'object' ? value[block.section] : undefined;
      // A split section's header holds no value of its own: its entries fill it in.
      root[block.section] = block.header ? {} : v;
      return;
    }
    const id = `${block.section}/${block.entry}`;
    const section = (root[block.section] ??= {}) as Record<string, unknown>;
    const first = pieces.get(id);
    if (first) {
      duplicates.push({ path: [block.section, block.entry], span: keySpan(piece.doc, block.start), firstSpan: keySpan(first.doc, first.offset) });
      return;
    }
    pieces.set(id, { id, doc: piece.doc, offset: block.start, end: block.end, base: [block.section], value: piece.value });
    if (value && typeof value === 'object') Object.assign(section, value);
  }

  private piece(text: string, gen: number): CachedPiece {
    const hit = this.cache.get(text);
    if (hit) {
      hit.generation = gen;
      return hit;
    }
    const piece = parsePiece(text, gen);
    this.cache.set(text, piece);
    return piece;
  }

  private parseWhole(text: string, gen: number): ParsedManifest {
    const piece = this.piece(text, gen);
    const syntax = [...piece.syntax];
    if (piece.crashed) syntax.push({ code: 'TOO_COMPLEX', message: piece.crashed, start: 0, end: lineEndFrom(text, 0) });
    this.sweep(gen);
    return new ParsedManifest(text, piece.value, syntax, new Map([['', { id: '', doc: piece.doc, offset: 0, end: text.length, base: [], value: piece.value }]]), []);
  }

  private sweep(gen: number): void {
    for (const [k, v] of this.cache) if (v.generation < gen - 1) this.cache.delete(k);
  }
}

function lineEndFrom(text: string, start: number): number {
  const nl = text.indexOf('\n', start);
  return nl === -1 ? text.length : nl;
}

function parsePiece(text: string, generation: number): CachedPiece {
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  } catch (e) {
    // Pathological input (e.g. nesting thousands deep) can exhaust the parser's stack.
    const empty = parseDocument('');
    return { doc: empty, value: null, syntax: [], crashed: `This YAML is too deeply nested or complex to read (${(e as Error).message}); simplify it.`, generation };
  }
  const syntax: SyntaxProblem[] = [...doc.errors, ...doc.warnings].map((e) => ({
    code: e.code,
    message: e.message,
    start: e.pos[0],
    end: Math.max(e.pos[1], e.pos[0] + 1),
    ...(e.name === 'YAMLWarning' ? { warning: true } : {}),
  }));
  let value: unknown = null;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { doc, value: null, syntax, crashed: `The YAML could not be turned into data: ${(e as Error).message}`, generation };
  }
  return { doc, value, syntax, generation };
}
