/**
 * What the model server needs from a loaded version, whatever runs it: answer a parsed request
 * (checked against the version's own signature), say whether it is healthy, and close.
 */
import type { VersionHealth } from '../../../protocol/serving';
import type { ParsedRequest, Row } from '../requests';
import type { ServingSchema } from '../schema';

/** One output tensor in v2 JSON form. */
export interface V2Output {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface BackendAnswer {
  /** v2 outputs (for `/v2/.../infer`). */
  outputs: V2Output[];
  /** One prediction per row (for `/predict` and the request log). */
  predictions: unknown[];
  /** The input as rows, for the request log (first rows only; see RequestLogEntry.rows). */
  columns?: string[];
  rows?: Row[];
  /** How many input rows there were. */
  rowCount: number;
}

export interface ModelBackend {
  readonly schema: ServingSchema;
  /** v2 metadata `platform`: `onnxruntime_onnx` or `command`. */
  readonly platform: string;
  health(): VersionHealth;
  /** Throws HttpError 4xx for input the signature refuses, anything else when the model fails. */
  run(req: ParsedRequest): Promise<BackendAnswer>;
  /** Releases the session or stops the process; requests still running may fail. */
  close(): Promise<void>;
}

/** Rows kept per request log line. */
export const LOG_ROWS = 100;

/** Events a backend reports on its own (a command process that died and came back). */
export interface BackendEvents {
  restarted(reason: string): void;
}
