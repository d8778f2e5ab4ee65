/**
 * One prediction per row from a model's outputs, as `/predict` answers and the request log
 * records: a `label` (or any rank-1) output as is, mapped to `class_labels` when the model
 * names its classes; otherwise the arg-max of a [N, classes] output, or each row as a list.
 */
import type { ServingSchema } from '../schema';
import type { V2Output } from './backend';

export function predictionsOf(outputs: V2Output[], schema: ServingSchema, rowCount: number): unknown[] {
  const labels = schema.classLabels;
  const byName = outputs.find((o) => o.name === 'label' || o.name === 'labels' || o.name === 'output_label');
  const rank1 = byName ?? outputs.find((o) => o.shape.length === 1 && o.shape[0] === rowCount);
  if (rank1) {
    const isIndex = /INT/.test(rank1.datatype);
    return labels && isIndex ? rank1.data.map((v) => labels[v as number] ?? v) : rank1.data;
  }
  const matrix = outputs.find((o) => o.shape.length === 2 && o.shape[0] === rowCount);
  if (!matrix) return outputs[0]?.data ?? [];
  const width = matrix.shape[1]!;
  const out: unknown[] = new Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    const row = matrix.data.slice(i * width, (i + 1) * width);
    if (labels && labels.length === width) {
      let best = 0;
      for (let k = 1; k < width; k++) if ((row[k] as number) > (row[best] as number)) best = k;
      out[i] = labels[best];
    } else out[i] = row;
  }
  return out;
}
