/**
 * A version's signature as the hot path uses it, worked out once at load: the input specs, the
 * feature order (`feature_names` metadata) and class labels (`class_labels`). Requests are
 * checked against it here, with messages that name the tensor, row or feature at fault.
 */
import type { ModelSignature, TensorSpec } from '../../protocol/registry';
import { badInput } from './http-error';
import type { RawTable, Row, V2Input } from './requests';
import { onnxTypeOf, shapeText, typedData, v2Datatype, type Tensor } from './tensors';

export interface ServingSchema {
  signature?: ModelSignature;
  /** Column order of a row (metadata `feature_names`). */
  featureNames?: string[];
  /** Label of class index i (metadata `class_labels`). */
  classLabels?: string[];
  /** The model's only input, when it has exactly one (what `/predict` rows feed). */
  rowInput?: TensorSpec;
}

function stringList(json: string | undefined): string[] | undefined {
  if (!json) return undefined;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

export function servingSchema(signature: ModelSignature | undefined): ServingSchema {
  return {
    signature,
    featureNames: stringList(signature?.metadata?.feature_names),
    classLabels: stringList(signature?.metadata?.class_labels),
    rowInput: signature?.inputs.length === 1 ? signature.inputs[0] : undefined,
  };
}

/** `input float32 [N,9]` for messages. */
const describe = (spec: TensorSpec): string => `"${spec.name}" (${v2Datatype(spec.type)}${spec.shape ? ` ${shapeText(spec.shape)}` : ''})`;

function checkShape(spec: TensorSpec, shape: number[]): void {
  if (!spec.shape) return;
  const ok = spec.shape.length === shape.length && spec.shape.every((d, i) => typeof d !== 'number' || d === shape[i]);
  if (!ok) throw badInput(`input "${spec.name}": expected shape ${shapeText(spec.shape)}, got ${shapeText(shape)}`);
}

/** v2 inputs → tensors typed as the signature says (or as the client says, without a signature). */
export function v2Tensors(inputs: V2Input[], schema: ServingSchema): Tensor[] {
  const sig = schema.signature;
  if (!sig) return inputs.map((i) => ({ name: i.name, type: onnxTypeOf(i.datatype)!, dims: i.shape, data: typedData(onnxTypeOf(i.datatype)!, i.data, `input "${i.name}"`) }));
  for (const spec of sig.inputs) {
    if (!inputs.some((i) => i.name === spec.name)) throw badInput(`missing input ${describe(spec)}`);
  }
  return inputs.map((input) => {
    const spec = sig.inputs.find((s) => s.name === input.name);
    if (!spec) throw badInput(`unknown input "${input.name}"; the model takes ${sig.inputs.map(describe).join(', ')}`);
    const want = v2Datatype(spec.type);
    if (input.datatype !== want) throw badInput(`input "${spec.name}": expected datatype ${want}, got ${input.datatype}`);
    checkShape(spec, input.shape);
    return { name: spec.name, type: spec.type, dims: input.shape, data: typedData(spec.type, input.data, `input "${spec.name}"`) };
  });
}

/** A `/predict` table as rows in the model's feature order (columns: those names, when known). */
export function tableRows(table: RawTable, schema: ServingSchema): { columns?: string[]; rows: Row[] } {
  const names = schema.featureNames;
  const width = names?.length ?? fixedWidth(schema.rowInput);
  switch (table.form) {
    case 'rows': {
      if (width !== undefined) {
        table.rows.forEach((row, i) => {
          if (row.length !== width) throw badInput(`instance ${i} has ${row.length} values, the model takes ${width}${names ? ` (${names.join(', ')})` : ''}`);
        });
      }
      return { columns: names, rows: table.rows };
    }
    case 'records': {
      const columns = names ?? (schema.signature ? undefined : Object.keys(table.records[0]!));
      if (!columns) throw badInput('records need the model\'s feature_names metadata, which this model lacks; send rows in input order instead');
      const rows = table.records.map((rec, i) =>
        columns.map((c) => {
          if (!(c in rec)) throw badInput(`instance ${i}: missing feature "${c}"`);
          return rec[c];
        }),
      );
      return { columns, rows };
    }
    case 'columns': {
      if (!names) {
        if (width !== undefined && table.columns.length !== width) throw badInput(`dataframe_split has ${table.columns.length} columns, the model takes ${width}`);
        return { columns: table.columns, rows: table.rows };
      }
      const index = names.map((n) => {
        const at = table.columns.indexOf(n);
        if (at < 0) throw badInput(`dataframe_split: missing column "${n}"`);
        return at;
      });
      const inOrder = index.every((at, i) => at === i) && table.columns.length === names.length;
      return { columns: names, rows: inOrder ? table.rows : table.rows.map((r) => index.map((at) => r[at])) };
    }
  }
}

function fixedWidth(spec: TensorSpec | undefined): number | undefined {
  const d = spec?.shape?.[1];
  return spec?.shape?.length === 2 && typeof d === 'number' ? d : undefined;
}

/** Rows → the model's row input tensor [N, F]; a bad cell is named by instance and feature. */
export function rowsTensor(rows: Row[], columns: string[] | undefined, schema: ServingSchema): Tensor {
  const spec = schema.rowInput;
  if (!spec) {
    const n = schema.signature?.inputs.length ?? 0;
    throw badInput(`/predict needs a model with one input; this one takes ${n}: use /v2/models/{name}/infer`);
  }
  if (spec.shape && spec.shape.length !== 2) throw badInput(`/predict feeds rows, but input "${spec.name}" has shape ${shapeText(spec.shape)}; use /v2/models/{name}/infer`);
  const width = rows[0]?.length ?? 0;
  const flat: unknown[] = new Array(rows.length * width);
  let k = 0;
  for (const row of rows) for (let j = 0; j < width; j++) flat[k++] = row[j];
  const locate = (at: number): string => {
    const j = at % width;
    return `instance ${Math.floor(at / width)}, feature ${columns ? `"${columns[j]}"` : j}`;
  };
  const data = typedData(spec.type, flat, `input "${spec.name}"`, locate);
  return { name: spec.name, type: spec.type, dims: [rows.length, width], data };
}

/** Rows of a 2-D v2 input, for the request log and for command models (at most `limit` rows). */
export function tensorRows(input: { shape: number[]; data: ArrayLike<unknown> }, limit: number): Row[] | undefined {
  if (input.shape.length !== 2) return undefined;
  const [n, f] = input.shape as [number, number];
  const rows: Row[] = [];
  for (let i = 0; i < Math.min(n, limit); i++) {
    const row: unknown[] = new Array(f);
    for (let j = 0; j < f; j++) {
      const v = input.data[i * f + j];
      row[j] = typeof v === 'bigint' ? Number(v) : v;
    }
    rows.push(row);
  }
  return rows;
}
