/**
 * A version served by ONNX Runtime in this process: one InferenceSession created at load and
 * shared by every request (`run` is safe to call concurrently).
 */
import * as fs from 'node:fs';
import type { ServedVersion, VersionHealth } from '../../../protocol/serving';
import { onnxSignature } from '../../registry/onnx-signature';
import { HttpError, messageOf } from '../http-error';
import type { ParsedRequest } from '../requests';
import { rowsTensor, servingSchema, tableRows, tensorRows, v2Tensors, type ServingSchema } from '../schema';
import { jsonData, v2Datatype, type Tensor } from '../tensors';
import { LOG_ROWS, type BackendAnswer, type ModelBackend, type V2Output } from './backend';
import { loadOrt, type OrtModule } from './load-ort';
import { predictionsOf } from './predictions';

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

export async function loadOnnxBackend(version: ServedVersion, threads: number | undefined): Promise<ModelBackend> {
  const ort = loadOrt();
  const bytes = await fs.promises.readFile(version.artifactPath).catch((err: unknown) => {
    throw new Error(`cannot read the model file ${version.artifactPath}: ${messageOf(err)}`);
  });
  const signature = version.signature ?? onnxSignature(bytes);
  const session = await ort.InferenceSession.create(bytes, {
    ...(threads ? { intraOpNumThreads: threads } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Run-time failures come back as the request's error (and in the request log); ORT's own
    // stderr copy of each would flood the server log under a failing canary.
    logSeverityLevel: 4,
  });
  return new OnnxBackend(ort, session, servingSchema(signature));
}

class OnnxBackend implements ModelBackend {
  readonly platform = 'onnxruntime_onnx';
  private closed = false;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: Session,
    readonly schema: ServingSchema,
  ) {}

  health(): VersionHealth {
    return this.closed ? 'failed' : 'ready';
  }

  async run(req: ParsedRequest): Promise<BackendAnswer> {
    if (this.closed) throw new HttpError(503, 'this version was unloaded');
    let tensors: Tensor[];
    let columns: string[] | undefined;
    let rows: unknown[][] | undefined;
    if (req.kind === 'predict') {
      const table = tableRows(req.table, this.schema);
      columns = table.columns;
      rows = table.rows.length > LOG_ROWS ? table.rows.slice(0, LOG_ROWS) : table.rows;
      tensors = [rowsTensor(table.rows, columns, this.schema)];
    } else {
      tensors = v2Tensors(req.inputs, this.schema);
      const first = tensors.length === 1 ? tensors[0]! : undefined;
      if (first) {
        rows = tensorRows({ shape: first.dims, data: first.data }, LOG_ROWS);
        if (rows && this.schema.featureNames?.length === first.dims[1]) columns = this.schema.featureNames;
      }
    }
    const wanted = req.kind === 'v2' && req.outputs ? req.outputs : undefined;
    if (wanted) {
      const unknown = wanted.find((n) => !this.session.outputNames.includes(n));
      if (unknown) throw new HttpError(400, `unknown output "${unknown}"; the model has ${this.session.outputNames.map((n) => `"${n}"`).join(', ')}`);
    }
    const feeds: Record<string, InstanceType<OrtModule['Tensor']>> = {};
    for (const t of tensors) feeds[t.name] = new this.ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
    let result: Awaited<ReturnType<Session['run']>>;
    try {
      result = await this.session.run(feeds);
    } catch (err) {
      throw new HttpError(500, `the model failed: ${messageOf(err)}`);
    }
    const names = wanted ?? this.session.outputNames;
    const outputs: V2Output[] = names.map((name) => {
      const t = result[name]!;
      return { name, shape: t.dims.slice(), datatype: v2Datatype(t.type), data: jsonData(t.data as ArrayLike<unknown>) };
    });
    const rowCount = tensors[0]?.dims[0] ?? 0;
    return { outputs, predictions: predictionsOf(outputs, this.schema, rowCount), columns, rows, rowCount };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
