/**
 * Request bodies as the wire carries them, checked for shape only (no model needed yet):
 * Open Inference Protocol v2 `infer` bodies and `/predict` bodies (rows, records, or MLflow's
 * `dataframe_split`). Checking against a version's signature happens in schema.ts, once the
 * router has picked the version, because versions of one deployment may differ.
 */
import { badInput } from './http-error';
import { flatten, onnxTypeOf, shapeText } from './tensors';

/** One v2 input with its data flattened row-major. */
export interface V2Input {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export type Row = unknown[];

/** A `/predict` body: rows in feature order, records by feature name, or named columns with rows. */
export type RawTable =
  | { form: 'rows'; rows: Row[] }
  | { form: 'records'; records: Record<string, unknown>[] }
  | { form: 'columns'; columns: string[]; rows: Row[] };

export type ParsedRequest =
  | { kind: 'v2'; inputs: V2Input[]; outputs?: string[] }
  | { kind: 'predict'; table: RawTable };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** An Open Inference Protocol v2 inference request. */
export function parseV2Body(body: unknown): ParsedRequest {
  if (!isObject(body)) throw badInput('the body must be a JSON object with "inputs"');
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw badInput('"inputs" must be a non-empty list of tensors {name, shape, datatype, data}');
  const inputs = body.inputs.map((raw, i): V2Input => {
    if (!isObject(raw)) throw badInput(`inputs[${i}] must be an object {name, shape, datatype, data}`);
    const { name, shape, datatype, data } = raw;
    if (typeof name !== 'string' || !name) throw badInput(`inputs[${i}]: "name" must be a non-empty string`);
    const where = `input "${name}"`;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw badInput(`${where}: "shape" must be a list of non-negative integers`);
    }
    if (typeof datatype !== 'string' || !onnxTypeOf(datatype)) throw badInput(`${where}: unknown datatype ${JSON.stringify(datatype)} (e.g. FP32, INT64, BYTES)`);
    if (!Array.isArray(data)) throw badInput(`${where}: "data" must be a list`);
    const flat: unknown[] = [];
    flatten(data, flat);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (flat.length !== count) throw badInput(`${where}: shape ${shapeText(shape as number[])} needs ${count} values, got ${flat.length}`);
    return { name, shape: shape as number[], datatype, data: flat };
  });
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.name)) throw badInput(`input "${input.name}" is given twice`);
    seen.add(input.name);
  }
  let outputs: string[] | undefined;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs) || !body.outputs.every((o) => isObject(o) && typeof o.name === 'string')) {
      throw badInput('"outputs" must be a list of {name}');
    }
    outputs = body.outputs.map((o) => (o as { name: string }).name);
  }
  return { kind: 'v2', inputs, outputs };
}

/** A `/predict` request: `{"instances": [[...]]}`, `{"instances": [{feature: value}]}` or `{"dataframe_split": {columns, data}}`. */
export function parsePredictBody(body: unknown): ParsedRequest {
  if (!isObject(body)) throw badInput('the body must be a JSON object with "instances" or "dataframe_split"');
  if (body.instances !== undefined) {
    const instances = body.instances;
    if (!Array.isArray(instances) || instances.length === 0) throw badInput('"instances" must be a non-empty list');
    if (instances.every(Array.isArray)) return { kind: 'predict', table: { form: 'rows', rows: instances as Row[] } };
    if (instances.every(isObject)) return { kind: 'predict', table: { form: 'records', records: instances as Record<string, unknown>[] } };
    throw badInput('"instances" must be all rows (lists in feature order) or all records ({feature: value})');
  }
  if (body.dataframe_split !== undefined) {
    const split = body.dataframe_split;
    if (!isObject(split)) throw badInput('"dataframe_split" must be an object {columns, data}');
    const { columns, data } = split;
    if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')) throw badInput('"dataframe_split.columns" must be a list of column names');
    if (!Array.isArray(data) || data.length === 0) throw badInput('"dataframe_split.data" must be a non-empty list of rows');
    data.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== columns.length) {
        throw badInput(`dataframe_split.data[${i}] must be a list of ${columns.length} values (one per column)`);
      }
    });
    return { kind: 'predict', table: { form: 'columns', columns: columns as string[], rows: data as Row[] } };
  }
  throw badInput('expected "instances" (rows or records) or "dataframe_split" ({columns, data})');
}
