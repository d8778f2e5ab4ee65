/** Metric series helpers shared by the charts and the page model. Pure (no DOM), unit-tested. */
import type { SeriesPoint } from '../../../protocol/webview';

/** Inserts a point in step order; a point at an existing step replaces it. */
export function mergePoint(data: SeriesPoint[], p: SeriesPoint): void {
  const last = data[data.length - 1];
  if (!last || p.x > last.x) {
    data.push(p);
    return;
  }
  let lo = 0;
  let hi = data.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (data[mid].x < p.x) lo = mid + 1;
    else hi = mid;
  }
  if (data[lo]?.x === p.x) data[lo] = p;
  else data.splice(lo, 0, p);
}
