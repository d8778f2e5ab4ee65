// Classification metrics, written out so the sample needs no npm package and
// so each definition is visible. Conventions follow scikit-learn:
// f1 of a class with no predicted and no true members is 0 (zero_division=0),
// multi-class AUC is the unweighted mean of one-vs-rest AUCs.

/** Fraction of equal labels. */
export function accuracy(yTrue, yPred) {
  if (yTrue.length !== yPred.length || yTrue.length === 0) throw new Error('accuracy: need two equal, non-empty label lists');
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/**
 * Macro-averaged F1 over classes 0..nClasses-1 (every class counts, even one
 * absent from this sample, so the score does not flatter a model that never
 * predicts a rare class).
 */
export function f1Macro(yTrue, yPred, nClasses) {
  let sum = 0;
  for (let k = 0; k < nClasses; k++) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < yTrue.length; i++) {
      if (yPred[i] === k && yTrue[i] === k) tp++;
      else if (yPred[i] === k) fp++;
      else if (yTrue[i] === k) fn++;
    }
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / nClasses;
}

/**
 * Binary ROC AUC from ranks (the Mann–Whitney U statistic): the probability
 * that a random positive scores above a random negative, ties counting 1/2.
 * Tied scores share the average of their ranks, which is exactly that 1/2.
 * O(n log n), unlike the O(n_pos * n_neg) pair count it equals.
 * @param {ArrayLike<number>} scores
 * @param {ArrayLike<boolean>} positive
 * @returns {number} NaN when one class is absent (AUC is undefined then)
 */
export function binaryAuc(scores, positive) {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let nPos = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]] === scores[order[start]]) end++;
    const avgRank = (start + end) / 2 + 1; // ranks are 1-based
    for (let j = start; j <= end; j++) if (positive[order[j]]) { rankSumPos += avgRank; nPos++; }
    start = end + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Macro one-vs-rest AUC. probs is row-major [n, nClasses].
 * Throws if some class has no positive or no negative: a mean over fewer
 * classes would be silently incomparable between runs.
 */
export function aucMacroOvr(yTrue, probs, nClasses) {
  const n = yTrue.length;
  if (probs.length !== n * nClasses) throw new Error(`aucMacroOvr: probs has ${probs.length} values, expected ${n}×${nClasses}`);
  let sum = 0;
  for (let k = 0; k < nClasses; k++) {
    const scores = new Float64Array(n);
    const positive = new Array(n);
    for (let i = 0; i < n; i++) { scores[i] = probs[i * nClasses + k]; positive[i] = yTrue[i] === k; }
    const auc = binaryAuc(scores, positive);
    if (Number.isNaN(auc)) throw new Error(`aucMacroOvr: class ${k} is absent or the only class present; AUC is undefined`);
    sum += auc;
  }
  return sum / nClasses;
}
