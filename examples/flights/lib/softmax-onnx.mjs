// The ONNX graph for the softmax regression in softmax-model.mjs:
//
//   input [N,F] -> Sub(mean) -> Div(std) -> MatMul(W) -> Add(b) -> Softmax -> probabilities [N,C]
//                                                               probabilities -> ArgMax(axis=1) -> label [N] (int64)
//
// Standardisation is inside the graph so a server feeds raw measurements,
// exactly the columns listed in feature_names, and needs no side file.
import { DataType, encodeModel } from './onnx-writer.mjs';

export const IR_VERSION = 8;
export const OPSET = 13;
export const PRODUCER = 'mlops-workbench';

/**
 * @param {{ features: string[], classes: string[], mean: ArrayLike<number>, std: ArrayLike<number>,
 *           W: ArrayLike<number>, b: ArrayLike<number> }} m  W row-major [F, C]
 * @param {{ docString?: string, metadata?: Record<string, string> }} [extra]
 * @returns {Uint8Array}
 */
export function softmaxRegressionToOnnx(m, extra = {}) {
  const F = m.features.length;
  const C = m.classes.length;
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [{ domain: '', version: OPSET }],
    producerName: PRODUCER,
    producerVersion: '0.1.0',
    modelVersion: 1,
    docString: extra.docString,
    // Readers such as the registry can show the signature without the JSON side file.
    metadata: {
      feature_names: JSON.stringify(m.features),
      class_labels: JSON.stringify(m.classes),
      ...extra.metadata,
    },
    graph: {
      name: 'softmax_regression',
      nodes: [
        { opType: 'Sub', name: 'center', inputs: ['input', 'mean'], outputs: ['centered'] },
        { opType: 'Div', name: 'scale', inputs: ['centered', 'std'], outputs: ['standardized'] },
        { opType: 'MatMul', name: 'matmul', inputs: ['standardized', 'W'], outputs: ['scores'] },
        { opType: 'Add', name: 'bias', inputs: ['scores', 'b'], outputs: ['logits'] },
        { opType: 'Softmax', name: 'softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: 1 } },
        { opType: 'ArgMax', name: 'argmax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 } },
      ],
      initializers: [
        { name: 'mean', dataType: DataType.FLOAT, dims: [F], values: m.mean },
        { name: 'std', dataType: DataType.FLOAT, dims: [F], values: m.std },
        { name: 'W', dataType: DataType.FLOAT, dims: [F, C], values: m.W },
        { name: 'b', dataType: DataType.FLOAT, dims: [C], values: m.b },
      ],
      inputs: [{ name: 'input', elemType: DataType.FLOAT, shape: ['N', F], doc: `raw features: ${m.features.join(', ')}` }],
      outputs: [
        { name: 'probabilities', elemType: DataType.FLOAT, shape: ['N', C], doc: `class probabilities: ${m.classes.join(', ')}` },
        { name: 'label', elemType: DataType.INT64, shape: ['N'], doc: 'index into class_labels of the most probable class' },
      ],
    },
  });
}
