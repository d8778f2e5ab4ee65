// A minimal ONNX (protobuf) writer: enough to serialise a small inference
// graph from JS with no Python and no npm package. Field numbers are those of
// onnx/onnx.proto (the ONNX IR spec); only the fields used here are encoded.
//
// Protobuf wire format in brief: each field is a key varint
// (field_number << 3 | wire_type) then a value; wire type 0 = varint,
// 2 = length-delimited (bytes, strings, sub-messages). Repeated scalar fields
// are written unpacked (one key per value), which every parser accepts for
// onnx.proto (a proto2 file, where unpacked is the default).

/** ONNX TensorProto.DataType values used here. */
export const DataType = Object.freeze({ FLOAT: 1, INT64: 7 });
/** ONNX AttributeProto.AttributeType values used here. */
const AttributeType = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3 });

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** Accumulates the bytes of one protobuf message. */
class ProtoWriter {
  #chunks = [];

  #varint(value) {
    // int64 semantics: negative numbers are their 64-bit two's complement
    // (10 bytes), as protobuf encodes int32/int64 fields.
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    if (v < 0n || v >= 1n << 64n) throw new RangeError(`varint out of range: ${value}`);
    const bytes = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.#chunks.push(Uint8Array.from(bytes));
  }

  #key(field, wireType) {
    this.#varint((field << 3) | wireType);
  }

  /** int32 / int64 / enum field. */
  int(field, value) {
    this.#key(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  /** float (wire type 5, 32-bit little-endian). */
  float(field, value) {
    this.#key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#chunks.push(b);
    return this;
  }

  bytes(field, data) {
    this.#key(field, WIRE_LEN);
    this.#varint(data.length);
    this.#chunks.push(data);
    return this;
  }

  string(field, text) {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  /** Embedded message, built by fill(writer). */
  message(field, fill) {
    const sub = new ProtoWriter();
    fill(sub);
    return this.bytes(field, sub.finish());
  }

  finish() {
    const total = this.#chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.#chunks) { out.set(c, at); at += c.length; }
    return out;
  }
}

// --- ONNX messages -----------------------------------------------------------

/**
 * TensorProto with raw_data (little-endian, row-major), the compact form
 * runtimes load fastest.
 * @param {ProtoWriter} w
 * @param {{ name: string, dataType: number, dims: number[], values: ArrayLike<number | bigint> }} t
 */
function writeTensor(w, t) {
  const count = t.dims.reduce((a, d) => a * d, 1);
  if (t.values.length !== count) throw new Error(`tensor ${t.name}: ${t.values.length} values for dims [${t.dims}]`);
  let raw;
  if (t.dataType === DataType.FLOAT) {
    raw = new Uint8Array(count * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, Number(t.values[i]), true);
  } else if (t.dataType === DataType.INT64) {
    raw = new Uint8Array(count * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) view.setBigInt64(i * 8, BigInt(t.values[i]), true);
  } else {
    throw new Error(`tensor ${t.name}: unsupported data type ${t.dataType}`);
  }
  for (const d of t.dims) w.int(1, d); // dims
  w.int(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, raw); // raw_data
}

/**
 * ValueInfoProto for a tensor; a string dim becomes a symbolic dim_param
 * (e.g. "N" for the batch), a number a fixed dim_value.
 * @param {ProtoWriter} w
 * @param {{ name: string, elemType: number, shape: Array<number | string>, doc?: string }} v
 */
function writeValueInfo(w, v) {
  w.string(1, v.name); // name
  w.message(2, (type) => // type: TypeProto
    type.message(1, (tensor) => { // tensor_type: TypeProto.Tensor
      tensor.int(1, v.elemType); // elem_type
      tensor.message(2, (shape) => { // shape: TensorShapeProto
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.int(1, d))); // dim_param | dim_value
        }
      });
    }));
  if (v.doc) w.string(3, v.doc); // doc_string
}

/**
 * AttributeProto. Numbers are INT unless given as { float: x }; strings are STRING.
 * @param {ProtoWriter} w
 */
function writeAttribute(w, name, value) {
  w.string(1, name);
  if (typeof value === 'number' && Number.isInteger(value)) {
    w.int(3, value).int(20, AttributeType.INT); // i, type
  } else if (typeof value === 'object' && value !== null && 'float' in value) {
    w.float(2, value.float).int(20, AttributeType.FLOAT); // f, type
  } else if (typeof value === 'string') {
    w.string(4, value).int(20, AttributeType.STRING); // s, type
  } else {
    throw new Error(`attribute ${name}: unsupported value ${JSON.stringify(value)}`);
  }
}

/**
 * @param {ProtoWriter} w
 * @param {{ opType: string, inputs: string[], outputs: string[], name?: string, domain?: string, attributes?: Record<string, unknown> }} node
 */
function writeNode(w, node) {
  for (const i of node.inputs) w.string(1, i); // input
  for (const o of node.outputs) w.string(2, o); // output
  if (node.name) w.string(3, node.name); // name
  w.string(4, node.opType); // op_type
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(5, (a) => writeAttribute(a, name, value)); // attribute
  if (node.domain) w.string(7, node.domain); // domain
}

/**
 * Serialise a ModelProto.
 * @param {{
 *   irVersion: number,
 *   opsetImports: Array<{ domain?: string, version: number }>,
 *   producerName?: string, producerVersion?: string, domain?: string,
 *   modelVersion?: number, docString?: string,
 *   metadata?: Record<string, string>,
 *   graph: {
 *     name: string, docString?: string,
 *     nodes: Parameters<typeof writeNode>[1][],
 *     initializers: Parameters<typeof writeTensor>[1][],
 *     inputs: Parameters<typeof writeValueInfo>[1][],
 *     outputs: Parameters<typeof writeValueInfo>[1][],
 *   },
 * }} model
 * @returns {Uint8Array} the .onnx file contents
 */
export function encodeModel(model) {
  const w = new ProtoWriter();
  w.int(1, model.irVersion); // ir_version
  if (model.producerName) w.string(2, model.producerName); // producer_name
  if (model.producerVersion) w.string(3, model.producerVersion); // producer_version
  if (model.domain) w.string(4, model.domain); // domain
  if (model.modelVersion !== undefined) w.int(5, model.modelVersion); // model_version
  if (model.docString) w.string(6, model.docString); // doc_string
  const g = model.graph;
  w.message(7, (gw) => { // graph: GraphProto
    for (const n of g.nodes) gw.message(1, (nw) => writeNode(nw, n)); // node
    gw.string(2, g.name); // name
    for (const t of g.initializers) gw.message(5, (tw) => writeTensor(tw, t)); // initializer
    if (g.docString) gw.string(10, g.docString); // doc_string
    for (const v of g.inputs) gw.message(11, (vw) => writeValueInfo(vw, v)); // input
    for (const v of g.outputs) gw.message(12, (vw) => writeValueInfo(vw, v)); // output
  });
  for (const op of model.opsetImports) {
    w.message(8, (ow) => { // opset_import: OperatorSetIdProto
      if (op.domain) ow.string(1, op.domain); // domain ("" = ai.onnx)
      ow.int(2, op.version); // version
    });
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (mw) => mw.string(1, key).string(2, value)); // metadata_props: StringStringEntryProto
  }
  return w.finish();
}
