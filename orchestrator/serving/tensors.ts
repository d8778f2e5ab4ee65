/**
 * Tensors as the serving layer holds them between the wire (Open Inference Protocol v2 JSON)
 * and a backend (ONNX Runtime): the v2 ↔ ONNX datatype names, and the typed arrays ONNX
 * Runtime wants for each, built straight from JSON numbers so the hot path copies once.
 */
import { badInput } from './http-error';

export type TensorArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

/** A named tensor: ONNX element type (`float32`, `int64`, …), dims, row-major data. */
export interface Tensor {
  name: string;
  type: string;
  dims: number[];
  data: TensorArray;
}

/** ONNX element type (as the registry's signature names it) → v2 datatype. */
const V2_OF: Record<string, string> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};
const ONNX_OF: Record<string, string> = Object.fromEntries(Object.entries(V2_OF).map(([k, v]) => [v, k]));

export function v2Datatype(onnxType: string): string {
  return V2_OF[onnxType] ?? onnxType.toUpperCase();
}

/** The ONNX type of a v2 datatype, or undefined for a name v2 does not define. */
export function onnxTypeOf(v2: string): string | undefined {
  return ONNX_OF[v2];
}

const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

/**
 * Row-major typed data of `type` from flat JSON values. Every value is checked: a string or null
 * among numbers is a 400 naming it through `locate` (`input "x", value 3` or `instance 0, feature "f"`).
 */
export function typedData(type: string, values: readonly unknown[], where: string, locate = (i: number) => `${where}, value ${i}`): TensorArray {
  const n = values.length;
  const numberAt = (i: number): number => {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'boolean' && type === 'bool') return v ? 1 : 0;
    throw badInput(`${locate(i)}: ${JSON.stringify(v) ?? String(v)} is not a ${type === 'bool' ? 'boolean' : 'finite number'}`);
  };
  const integerAt = (i: number): number => {
    const v = numberAt(i);
    if (!Number.isInteger(v)) throw badInput(`${locate(i)}: ${v} is not an integer, as ${type} needs`);
    return v;
  };
  switch (type) {
    case 'float32':
    case 'float64': {
      const out = type === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = numberAt(i);
      return out;
    }
    case 'int64':
    case 'uint64': {
      const out = type === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = integerAt(i);
        if (type === 'uint64' && v < 0) throw badInput(`${locate(i)}: ${v} is negative, as uint64 cannot be`);
        out[i] = BigInt(v);
      }
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = numberAt(i) ? 1 : 0;
      return out;
    }
    case 'string': {
      const out: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') throw badInput(`${locate(i)}: ${JSON.stringify(v)} is not a string`);
        out[i] = v;
      }
      return out;
    }
    default: {
      const range = INT_RANGE[type];
      if (!range) throw badInput(`${where}: datatype ${v2Datatype(type)} is not supported by this server`);
      const out =
        type === 'int8' ? new Int8Array(n) : type === 'int16' ? new Int16Array(n) : type === 'int32' ? new Int32Array(n)
        : type === 'uint8' ? new Uint8Array(n) : type === 'uint16' ? new Uint16Array(n) : new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const v = integerAt(i);
        if (v < range[0] || v > range[1]) throw badInput(`${locate(i)}: ${v} is out of range for ${type}`);
        out[i] = v;
      }
      return out;
    }
  }
}

/** JSON-ready values of a tensor's data (int64 as numbers: class indices and counts fit a double). */
export function jsonData(data: ArrayLike<unknown>): unknown[] {
  const out = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

/** `[N,9]` as messages show a shape. */
export function shapeText(shape: readonly (number | string)[]): string {
  return `[${shape.join(',')}]`;
}

/** Flattens nested arrays (v2 allows `data` nested like the shape) into `out`. */
export function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}
