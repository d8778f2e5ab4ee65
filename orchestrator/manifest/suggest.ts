/** Levenshtein distance, two rows: names here are short. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** Candidates close enough to `name` to be a typo of it, closest first. */
export function suggest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(1, Math.floor(name.length / 3));
  const scored: { c: string; d: number }[] = [];
  const lower = name.toLowerCase();
  for (const c of candidates) {
    // The length gap bounds the distance from below: skip the quadratic work when it cannot match.
    const prefix = name.length >= 3 && c.toLowerCase().startsWith(lower);
    if (!prefix && Math.abs(c.length - name.length) > limit) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d <= limit || prefix) scored.push({ c, d });
  }
  return scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c)).slice(0, max).map((s) => s.c);
}

/** `; did you mean "x"?` or `.`: ends the first sentence of a message about an unknown name. */
export function didYouMean(suggestions: string[]): string {
  return suggestions.length ? `; did you mean "${suggestions[0]}"?` : '.';
}

/** A short list for messages: `a, b, c` or `a, b, c … (12 in all)`. */
export function listNames(names: readonly string[], max = 8): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} … (${names.length} in all)` : shown;
}
