// Seeded randomness. Math.random cannot be seeded, and a pipeline whose split
// changes on every run cannot be cached or compared, so the split uses
// mulberry32: tiny, fast, and good enough for shuffling a few hundred rows.

/**
 * @param {number} seed any integer; only its low 32 bits matter
 * @returns {() => number} uniform floats in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place (unbiased, unlike sort(() => rand() - 0.5)). */
export function shuffleInPlace(items, rand) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
