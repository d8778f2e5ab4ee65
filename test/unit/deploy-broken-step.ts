// The `broken` step the deployment tests add to a copy of the penguins sample: two ONNX files
// that the registry accepts (a real signature) but that fail at inference and at load. Shared
// by the CLI tests (deploy-support.ts) and the extension-host suite, so it imports nothing.

const FEATURES = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'island_Biscoe', 'island_Dream', 'island_Torgersen', 'sex_FEMALE', 'sex_MALE'];
const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];

/** The step as mlops.yaml declares it (indented under steps:, with a blank line after). */
export const BROKEN_STEP_YAML = '  broken:\n    cmd: node steps/broken.mjs\n    deps: [steps/broken.mjs, lib/onnx-writer.mjs]\n    outs: [models/broken.onnx, models/unloadable.onnx]\n';

/** A step writing two ONNX files that look right to the registry: one fails at inference, one at load. */
export const BROKEN_STEP = `
import { mkdirSync, writeFileSync } from 'node:fs';
import { DataType, encodeModel } from '../lib/onnx-writer.mjs';
const features = ${JSON.stringify(FEATURES)};
const metadata = { feature_names: JSON.stringify(features), class_labels: JSON.stringify(${JSON.stringify(CLASSES)}) };
const model = (nodes, initializers) => encodeModel({
  irVersion: 8, opsetImports: [{ domain: '', version: 13 }], producerName: 'deploy-test', producerVersion: '0', modelVersion: 1, metadata,
  graph: {
    name: 'broken', nodes, initializers,
    inputs: [{ name: 'input', elemType: DataType.FLOAT, shape: ['N', 9] }],
    outputs: [{ name: 'probabilities', elemType: DataType.FLOAT, shape: ['M', 3] }, { name: 'label', elemType: DataType.INT64, shape: ['M'] }],
  },
});
const tail = [
  { opType: 'MatMul', name: 'matmul', inputs: ['reshaped', 'W'], outputs: ['logits'] },
  { opType: 'Softmax', name: 'softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: 1 } },
  { opType: 'ArgMax', name: 'argmax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 } },
];
const W = { name: 'W', dataType: DataType.FLOAT, dims: [7, 3], values: new Array(21).fill(0.1) };
mkdirSync('models', { recursive: true });
// N rows of 9 values reshaped to [-1, 7]: fails at run time unless 9N is a multiple of 7.
writeFileSync('models/broken.onnx', model([{ opType: 'Reshape', name: 'reshape', inputs: ['input', 'shape'], outputs: ['reshaped'] }, ...tail],
  [{ name: 'shape', dataType: DataType.INT64, dims: [2], values: [-1, 7] }, W]));
// An operator no runtime implements: the session cannot be created.
writeFileSync('models/unloadable.onnx', model([{ opType: 'NoSuchOperator', name: 'nope', inputs: ['input'], outputs: ['reshaped'] }, ...tail], [W]));
`;
