/**
 * A set of 64-bit hashes in two typed arrays (open addressing, linear probing): 16 bytes per
 * distinct value at the worst load, whatever the values' length, and no per-value objects.
 * Used by `unique`; two different values collide with probability ~n²/2⁶⁵ (3·10⁻⁶ for 10M
 * distinct values), which would report one false repeat.
 */
import type { Cell } from './table';

export class HashSet64 {
  private hi: Uint32Array;
  private lo: Uint32Array;
  /** 0 = empty slot; stored `lo` values are forced odd so a real entry is never 0/0. */
  private size = 0;
  private mask: number;

  constructor(capacity = 1024) {
    let cap = 1024;
    while (cap < capacity * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  get count(): number {
    return this.size;
  }

  /** Adds the hash; false when it was already there. */
  add(h: number, l: number): boolean {
    l = (l | 1) >>> 0;
    h >>>= 0;
    let i = (h ^ Math.imul(l, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sl = this.lo[i]!;
      if (sl === 0) break;
      if (sl === l && this.hi[i] === h) return false;
      i = (i + 1) & this.mask;
    }
    this.hi[i] = h;
    this.lo[i] = l;
    if (++this.size * 2 > this.hi.length) this.grow();
    return true;
  }

  private grow(): void {
    const oh = this.hi;
    const ol = this.lo;
    this.hi = new Uint32Array(oh.length * 2);
    this.lo = new Uint32Array(ol.length * 2);
    this.mask = this.hi.length - 1;
    this.size = 0;
    for (let i = 0; i < oh.length; i++) if (ol[i] !== 0) this.add(oh[i]!, ol[i]!);
  }
}

/** Two independent 32-bit FNV-1a-style hashes of the cells (type-tagged, so 1 and "1" from JSON differ). */
export function hashCells(cells: readonly Cell[], n: number): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let k = 0; k < n; k++) {
    const c = cells[k] ?? null;
    const s = c === null ? '\u0000' : typeof c === 'string' ? c : `\u0001${typeof c}:${String(c)}`;
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 0x01000193);
      h2 = Math.imul(h2 ^ ch, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // Separator between cells so ("ab","c") and ("a","bc") differ.
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193);
    h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995);
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 ^= h2 >>> 16;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 13;
  return [h1 >>> 0, h2 >>> 0];
}
