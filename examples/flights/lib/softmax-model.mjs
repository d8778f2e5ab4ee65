// Multinomial logistic regression (softmax regression) trained by full-batch
// gradient descent: no randomness anywhere, so the same data and flags give
// bit-identical weights on every run, and the model is small enough to write
// out as a five-node ONNX graph.
//
// The exported model is  p = softmax(((x - mean) / std) · W + b).
// Parameters are rounded to float32 before use, because the ONNX graph stores
// float32; training on the rounded standardisation and exporting rounded
// weights keeps the JS model and the ONNX model the same function.
import { StepError } from './cli.mjs';

const f32 = Math.fround;

/**
 * Per-column mean and population standard deviation, float32-rounded.
 * A constant column (say, an island absent from the training rows) gets
 * std 1 so the division stays finite; its standardised value is then 0.
 */
export function columnStats(X) {
  const F = X[0].length;
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  for (const x of X) for (let j = 0; j < F; j++) mean[j] += x[j];
  for (let j = 0; j < F; j++) mean[j] /= X.length;
  for (const x of X) for (let j = 0; j < F; j++) std[j] += (x[j] - mean[j]) ** 2;
  for (let j = 0; j < F; j++) {
    const s = Math.sqrt(std[j] / X.length);
    std[j] = f32(s > 1e-12 ? s : 1);
    mean[j] = f32(mean[j]);
  }
  return { mean, std };
}

/** Row-wise softmax of logits in place (max-subtracted, so exp never overflows). */
function softmaxInPlace(row) {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < row.length; k++) { row[k] = Math.exp(row[k] - max); sum += row[k]; }
  for (let k = 0; k < row.length; k++) row[k] /= sum;
}

/**
 * Train on raw (unstandardised) features.
 * @param {Float64Array[]} X raw feature rows
 * @param {number[]} y class indices
 * @param {number} C number of classes
 * @param {{ lr: number, epochs: number, l2: number, onEpoch?: (epoch: number, loss: number, accuracy: number) => void }} opts
 *   onEpoch gets the loss/accuracy of the parameters *after* that epoch's update.
 * @returns {{ mean: Float64Array, std: Float64Array, W: Float64Array, b: Float64Array, loss: number }}
 *   W is row-major [F, C] (the MatMul layout), already float32-rounded, as are b, mean, std.
 */
export function trainSoftmax(X, y, C, { lr, epochs, l2, onEpoch }) {
  const n = X.length;
  const F = X[0].length;
  const { mean, std } = columnStats(X);
  const Z = X.map((x) => x.map((v, j) => (f32(v) - mean[j]) / std[j]));
  const W = new Float64Array(F * C); // zeros: deterministic, and the loss is convex anyway
  const b = new Float64Array(C);
  const gW = new Float64Array(F * C);
  const gb = new Float64Array(C);
  const p = new Float64Array(C);

  // One pass over the data: loss and accuracy of the current parameters and
  // the gradient at them (gW, gb).
  const forward = () => {
    gW.fill(0); gb.fill(0);
    let loss = 0, hits = 0;
    for (let i = 0; i < n; i++) {
      const z = Z[i];
      for (let k = 0; k < C; k++) {
        let s = b[k];
        for (let j = 0; j < F; j++) s += z[j] * W[j * C + k];
        p[k] = s;
      }
      softmaxInPlace(p);
      loss -= Math.log(Math.max(p[y[i]], 1e-300));
      if (argmax(p, 0, C) === y[i]) hits++;
      for (let k = 0; k < C; k++) {
        const d = p[k] - (k === y[i] ? 1 : 0);
        gb[k] += d;
        for (let j = 0; j < F; j++) gW[j * C + k] += z[j] * d;
      }
    }
    let penalty = 0;
    for (let q = 0; q < W.length; q++) penalty += W[q] * W[q];
    return { loss: loss / n + (l2 / 2) * penalty, accuracy: hits / n };
  };

  let state = forward();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let q = 0; q < W.length; q++) W[q] -= lr * (gW[q] / n + l2 * W[q]);
    for (let k = 0; k < C; k++) b[k] -= lr * (gb[k] / n);
    state = forward();
    if (!Number.isFinite(state.loss)) {
      throw new StepError(`training diverged at epoch ${epoch} (loss ${state.loss}); lower --lr (now ${lr})`);
    }
    onEpoch?.(epoch, state.loss, state.accuracy);
  }
  return { mean, std, W: W.map(f32), b: b.map(f32), loss: state.loss };
}

/** Index of the largest of row[offset .. offset+C); the first one wins ties, as ONNX ArgMax does. */
export function argmax(row, offset, C) {
  let best = 0;
  for (let k = 1; k < C; k++) if (row[offset + k] > row[offset + best]) best = k;
  return best;
}

/**
 * Class probabilities from a model as stored in models/penguins.json.
 * Inputs are rounded to float32 first, because that is what the ONNX model
 * receives; arithmetic is float64, so this is the reference the ONNX output
 * is checked against.
 * @param {{ mean: number[], std: number[], weights: number[][], bias: number[] }} model
 * @param {ArrayLike<number>[]} X raw feature rows
 * @returns {Float64Array} row-major [n, C]
 */
export function predictProba(model, X) {
  const F = model.mean.length;
  const C = model.bias.length;
  const out = new Float64Array(X.length * C);
  const row = new Float64Array(C);
  X.forEach((x, i) => {
    if (x.length !== F) throw new Error(`row ${i} has ${x.length} features, the model expects ${F}`);
    for (let k = 0; k < C; k++) row[k] = model.bias[k];
    for (let j = 0; j < F; j++) {
      const z = (f32(x[j]) - model.mean[j]) / model.std[j];
      for (let k = 0; k < C; k++) row[k] += z * model.weights[j][k];
    }
    softmaxInPlace(row);
    out.set(row, i * C);
  });
  return out;
}

/** Predicted class index per row of a row-major [n, C] probability array. */
export function predictLabels(probs, C) {
  const n = probs.length / C;
  return Array.from({ length: n }, (_, i) => argmax(probs, i * C, C));
}
