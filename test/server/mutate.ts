/**
 * Deterministic mutations of manifest text for the fuzz and equivalence tests: the kinds of
 * damage an editor sees mid-typing (deleted or duplicated lines, stray bytes, broken
 * indentation) and hostile input (huge scalars, deep nesting).
 */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 0x100000000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** One edit: replace [start, end) with text (offsets into the text before the edit). */
export interface Edit {
  start: number;
  end: number;
  text: string;
  kind: string;
}

const SNIPPETS = ['${', '}', ':', '- ', '[', ']', '{', '"', "'", '#', '&a', '*a', '|', '>', '\t', '---\n', 'needs: [x]', '${params.', '${steps.a.outs.9}', '\u0000', '\uFFFD', '💥', '\r\n', '  ', '\\'];

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** A random edit of `text`. */
export function mutation(text: string, rng: Prng): Edit {
  const starts = lineStarts(text);
  const line = rng.int(starts.length);
  const ls = starts[line];
  const le = line + 1 < starts.length ? starts[line + 1] : text.length;
  const at = ls + rng.int(Math.max(1, le - ls));
  switch (rng.int(9)) {
    case 0:
      return { start: ls, end: le, text: '', kind: 'delete line' };
    case 1:
      return { start: ls, end: ls, text: text.slice(ls, le) || '\n', kind: 'duplicate line' };
    case 2:
      return { start: at, end: at, text: rng.pick(SNIPPETS), kind: 'insert token' };
    case 3: {
      const bytes = Array.from({ length: 1 + rng.int(8) }, () => String.fromCharCode(rng.int(0x3000))).join('');
      return { start: at, end: Math.min(le, at + rng.int(3)), text: bytes, kind: 'random bytes' };
    }
    case 4:
      return { start: ls, end: ls, text: ' '.repeat(1 + rng.int(5)), kind: 'indent' };
    case 5: {
      const spaces = /^ */.exec(text.slice(ls, le))![0].length;
      return { start: ls, end: ls + Math.min(spaces, 1 + rng.int(4)), text: '', kind: 'dedent' };
    }
    case 6:
      return { start: le, end: le, text: `huge: ${'x'.repeat(5_000 + rng.int(25_000))}\n`, kind: 'huge scalar' };
    case 7: {
      const depth = 50 + rng.int(400);
      const nest = rng.int(2) === 0 ? '['.repeat(depth) + ']'.repeat(depth) : Array.from({ length: Math.min(depth, 120) }, (_, i) => `${' '.repeat(2 * (i + 1))}k${i}:`).join('\n');
      return { start: le, end: le, text: `deep: ${nest}\n`, kind: 'deep nesting' };
    }
    default: {
      const len = rng.int(40);
      return { start: at, end: Math.min(text.length, at + len), text: '', kind: 'delete span' };
    }
  }
}

export function apply(text: string, e: Edit): string {
  return text.slice(0, e.start) + e.text + text.slice(e.end);
}

/** LSP position of an offset. */
export function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

export { generatedManifest } from '../../bench/lsp-manifests';
