/**
 * Sorts a Float64Array in place by LSD radix sort on its IEEE-754 bits (4 passes of 16 bits):
 * for a million values about 4× faster than `Float64Array.prototype.sort`, and the same order
 * for every non-NaN value (−0 before +0). The one sort per column that KS, Wasserstein and the
 * bin counts share is most of a drift report's time. NaN must have been removed first.
 */

/** Below this, the built-in sort is as fast and allocates nothing. */
const RADIX_MIN = 1 << 14;

export function sortFloat64(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < RADIX_MIN) return a.sort();
  // Work on a copy that owns its buffer (a may be a view into a larger one).
  const keys = new Uint32Array(n * 2);
  new Float64Array(keys.buffer).set(a);
  // Map bits to unsigned order: negatives flip all bits, positives flip the sign bit.
  for (let i = 0; i < n; i++) {
    const hi = keys[2 * i + 1]!;
    if (hi & 0x80000000) {
      keys[2 * i] = ~keys[2 * i]! >>> 0;
      keys[2 * i + 1] = ~hi >>> 0;
    } else keys[2 * i + 1] = (hi | 0x80000000) >>> 0;
  }
  const counts = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const lo = keys[2 * i]!;
    const hi = keys[2 * i + 1]!;
    counts[lo & 0xffff]!++;
    counts[65536 + (lo >>> 16)]!++;
    counts[131072 + (hi & 0xffff)]!++;
    counts[196608 + (hi >>> 16)]!++;
  }
  let src = keys;
  let dst = new Uint32Array(n * 2);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    // A digit that is the same for every value leaves the order as it is: skip the pass.
    let skip = false;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[base + d]!;
      if (c === n) skip = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (skip) continue;
    const word = pass < 2 ? 0 : 1;
    const shift = pass % 2 ? 16 : 0;
    for (let i = 0; i < n; i++) {
      const lo = src[2 * i]!;
      const hi = src[2 * i + 1]!;
      const digit = ((word ? hi : lo) >>> shift) & 0xffff;
      const at = counts[base + digit]!++;
      dst[2 * at] = lo;
      dst[2 * at + 1] = hi;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1]!;
    if (hi & 0x80000000) src[2 * i + 1] = (hi & 0x7fffffff) >>> 0;
    else {
      src[2 * i] = ~src[2 * i]! >>> 0;
      src[2 * i + 1] = ~hi >>> 0;
    }
  }
  a.set(new Float64Array(src.buffer, 0, n));
  return a;
}
