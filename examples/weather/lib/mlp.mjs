// A small multilayer perceptron for multi-class classification, in plain
// JavaScript: one hidden ReLU layer (or none: softmax regression), softmax
// output, cross-entropy loss with an L2 penalty on the weights (not the
// biases), trained by mini-batch SGD with momentum. Small enough to read, real
// enough that the learning rate, the penalty and the hidden size matter.

/** He-initialised weights from a seeded uniform stream. */
function initWeights(rows, cols, rand) {
  const w = new Float64Array(rows * cols);
  const scale = Math.sqrt(6 / rows);
  for (let i = 0; i < w.length; i++) w[i] = (rand() * 2 - 1) * scale;
  return w;
}

/**
 * @param {{ nIn: number, nHidden: number, nOut: number, rand: () => number }} spec
 *   nHidden = 0 gives softmax regression.
 */
export function createModel({ nIn, nHidden, nOut, rand }) {
  const layers = [];
  const sizes = nHidden > 0 ? [nIn, nHidden, nOut] : [nIn, nOut];
  for (let l = 0; l + 1 < sizes.length; l++) {
    layers.push({ nIn: sizes[l], nOut: sizes[l + 1], w: initWeights(sizes[l], sizes[l + 1], rand), b: new Float64Array(sizes[l + 1]) });
  }
  return { layers };
}

function softmaxInPlace(z) {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) sum += z[k] = Math.exp(z[k] - max);
  for (let k = 0; k < z.length; k++) z[k] /= sum;
  return z;
}

/** Activations of every layer for one row (the last is the class probabilities). */
function forward(model, x) {
  const acts = [x];
  model.layers.forEach((layer, l) => {
    const input = acts[l];
    const out = new Float64Array(layer.nOut);
    for (let j = 0; j < layer.nOut; j++) {
      let s = layer.b[j];
      for (let i = 0; i < layer.nIn; i++) s += input[i] * layer.w[i * layer.nOut + j];
      out[j] = s;
    }
    if (l === model.layers.length - 1) softmaxInPlace(out);
    else for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0; // ReLU
    acts.push(out);
  });
  return acts;
}

export function predictProba(model, X) {
  return X.map((x) => forward(model, x).at(-1));
}

/** Mean cross-entropy, probabilities clipped to [1e-15, 1]. */
export function logLoss(P, y) {
  let s = 0;
  for (let n = 0; n < y.length; n++) s -= Math.log(Math.max(1e-15, P[n][y[n]]));
  return s / y.length;
}

export function accuracy(P, y) {
  let ok = 0;
  for (let n = 0; n < y.length; n++) {
    const p = P[n];
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    if (best === y[n]) ok++;
  }
  return ok / y.length;
}

/**
 * One pass over the rows in a seeded random order, in mini-batches.
 * @param {{ lr: number, l2: number, batch: number, momentum: number, rand: () => number }} opts
 */
export function trainEpoch(model, X, y, opts) {
  const order = X.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(opts.rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  model.velocity ??= model.layers.map((layer) => ({ w: new Float64Array(layer.w.length), b: new Float64Array(layer.b.length) }));
  const grads = model.layers.map((layer) => ({ w: new Float64Array(layer.w.length), b: new Float64Array(layer.b.length) }));
  for (let start = 0; start < order.length; start += opts.batch) {
    const rows = order.slice(start, start + opts.batch);
    for (const g of grads) {
      g.w.fill(0);
      g.b.fill(0);
    }
    for (const n of rows) {
      const acts = forward(model, X[n]);
      // Output delta of softmax + cross-entropy: p − onehot(y).
      let delta = Float64Array.from(acts.at(-1));
      delta[y[n]] -= 1;
      for (let l = model.layers.length - 1; l >= 0; l--) {
        const layer = model.layers[l];
        const input = acts[l];
        const g = grads[l];
        for (let i = 0; i < layer.nIn; i++) {
          const xi = input[i];
          if (xi === 0) continue;
          for (let j = 0; j < layer.nOut; j++) g.w[i * layer.nOut + j] += xi * delta[j];
        }
        for (let j = 0; j < layer.nOut; j++) g.b[j] += delta[j];
        if (l > 0) {
          const back = new Float64Array(layer.nIn);
          for (let i = 0; i < layer.nIn; i++) {
            if (input[i] <= 0) continue; // ReLU gradient
            let s = 0;
            for (let j = 0; j < layer.nOut; j++) s += layer.w[i * layer.nOut + j] * delta[j];
            back[i] = s;
          }
          delta = back;
        }
      }
    }
    const m = rows.length;
    model.layers.forEach((layer, l) => {
      const v = model.velocity[l];
      const g = grads[l];
      for (let k = 0; k < layer.w.length; k++) {
        v.w[k] = opts.momentum * v.w[k] - opts.lr * (g.w[k] / m + opts.l2 * layer.w[k]);
        layer.w[k] += v.w[k];
      }
      for (let k = 0; k < layer.b.length; k++) {
        v.b[k] = opts.momentum * v.b[k] - opts.lr * (g.b[k] / m);
        layer.b[k] += v.b[k];
      }
    });
  }
}

/** Plain arrays, for JSON. */
export function modelToJson(model) {
  return { layers: model.layers.map((l) => ({ nIn: l.nIn, nOut: l.nOut, w: Array.from(l.w), b: Array.from(l.b) })) };
}

export function modelFromJson(json) {
  return { layers: json.layers.map((l) => ({ nIn: l.nIn, nOut: l.nOut, w: Float64Array.from(l.w), b: Float64Array.from(l.b) })) };
}
