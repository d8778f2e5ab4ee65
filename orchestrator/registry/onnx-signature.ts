/**
 * A model's signature read straight from its ONNX file: a small protobuf reader that walks
 * ModelProto → GraphProto → inputs/outputs (ValueInfoProto → TypeProto.Tensor → elem_type and
 * shape), so the daemon needs no native runtime to describe a model. Field numbers are those
 * of onnx/onnx.proto (examples/penguins/lib/onnx-writer.mjs writes the same ones).
 *
 * Graph inputs that are initializers (weights listed as inputs by old exporters) are not
 * part of the signature.
 */
import type { ModelSignature, TensorSpec } from '../../protocol/registry';

/** TensorProto.DataType → name. */
const ELEM_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

// Field numbers of onnx.proto.
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8, metadataProps: 14 } as const;
const ENTRY = { key: 1, value: 2 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { initializer: 5, input: 11, output: 12 } as const;
const TENSOR = { name: 8 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { value: 1, param: 2 } as const;

interface Field {
  field: number;
  int?: bigint;
  bytes?: Uint8Array;
}

/** Thrown for bytes that are not a protobuf message (a broken or non-ONNX file). */
export class NotOnnxError extends Error {}

/** The fields of one protobuf message, in order; sub-messages stay as bytes until read. */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new NotOnnxError('truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return v;
      if (shift > 70n) throw new NotOnnxError('varint too long');
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new NotOnnxError('field number 0');
    if (wire === 0) out.push({ field, int: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new NotOnnxError('length-delimited field runs past the end');
      out.push({ field, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else throw new NotOnnxError(`unsupported wire type ${wire}`);
    if (i > buf.length) throw new NotOnnxError('truncated field');
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => (b ? new TextDecoder().decode(b) : '');
const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));

function tensorSpec(valueInfo: Uint8Array): TensorSpec {
  const f = fields(valueInfo);
  const spec: TensorSpec = { name: text(f.find((x) => x.field === VALUE_INFO.name)?.bytes), type: 'unknown' };
  const type = f.find((x) => x.field === VALUE_INFO.type)?.bytes;
  const tensor = type && fields(type).find((x) => x.field === TYPE.tensorType)?.bytes;
  if (!tensor) return spec; // a sequence or map type: named, not described further
  const tf = fields(tensor);
  const elem = tf.find((x) => x.field === TENSOR_TYPE.elemType)?.int;
  if (elem !== undefined) spec.type = ELEM_TYPES[Number(elem)] ?? `type ${elem}`;
  const shape = tf.find((x) => x.field === TENSOR_TYPE.shape)?.bytes;
  if (shape) {
    spec.shape = fields(shape)
      .filter((x) => x.field === SHAPE.dim && x.bytes)
      .map((d) => {
        const df = fields(d.bytes!);
        const value = df.find((x) => x.field === DIM.value)?.int;
        if (value !== undefined) return signed(value);
        const param = df.find((x) => x.field === DIM.param)?.bytes;
        return param ? text(param) : '?';
      });
  }
  return spec;
}

/** Parses an ONNX model's bytes; throws NotOnnxError when they are not an ONNX model. */
export function onnxSignature(bytes: Uint8Array): ModelSignature {
  const model = fields(bytes);
  const graph = model.find((x) => x.field === MODEL.graph)?.bytes;
  if (!graph) throw new NotOnnxError('no graph in the model');
  const g = fields(graph);
  const initializers = new Set(
    g.filter((x) => x.field === GRAPH.initializer && x.bytes).map((x) => text(fields(x.bytes!).find((t) => t.field === TENSOR.name)?.bytes)),
  );
  const sig: ModelSignature = {
    format: 'onnx',
    inputs: g.filter((x) => x.field === GRAPH.input && x.bytes).map((x) => tensorSpec(x.bytes!)).filter((t) => !initializers.has(t.name)),
    outputs: g.filter((x) => x.field === GRAPH.output && x.bytes).map((x) => tensorSpec(x.bytes!)),
  };
  if (sig.inputs.length === 0 && sig.outputs.length === 0) throw new NotOnnxError('the graph declares no inputs or outputs');
  const ir = model.find((x) => x.field === MODEL.irVersion)?.int;
  if (ir !== undefined) sig.irVersion = Number(ir);
  const producer = model.find((x) => x.field === MODEL.producerName)?.bytes;
  if (producer) sig.producer = text(producer);
  const opsets = model.filter((x) => x.field === MODEL.opsetImport && x.bytes);
  if (opsets.length) {
    sig.opsets = Object.fromEntries(
      opsets.map((o) => {
        const of = fields(o.bytes!);
        return [text(of.find((x) => x.field === OPSET.domain)?.bytes) || 'ai.onnx', Number(of.find((x) => x.field === OPSET.version)?.int ?? 0n)];
      }),
    );
  }
  const meta = model.filter((x) => x.field === MODEL.metadataProps && x.bytes);
  if (meta.length) {
    sig.metadata = Object.fromEntries(
      meta.map((m) => {
        const mf = fields(m.bytes!);
        return [text(mf.find((x) => x.field === ENTRY.key)?.bytes), text(mf.find((x) => x.field === ENTRY.value)?.bytes)];
      }),
    );
  }
  return sig;
}

/** `input float32 [N, 9]` */
export function formatTensor(t: TensorSpec): string {
  return `${t.name} ${t.type}${t.shape ? ` [${t.shape.join(', ')}]` : ''}`;
}
