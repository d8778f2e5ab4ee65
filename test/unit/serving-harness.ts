/**
 * Shared fixtures of the serving tests: real ONNX models written with the penguins sample's
 * own writer (a good one from the trained weights, and one that loads but fails at run time),
 * a started model server with a token, and small HTTP helpers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServedVersion, ServerMessage, ServingConfig } from '../../protocol/serving';
import { startModelServer, type ModelServerHandle, type ServerTuning } from '../../orchestrator/serving';
import { trainedPenguins } from './trained-penguins';

export const REPO = path.resolve(__dirname, '../..');
/** A trained temp copy of the sample (its lib/, serving/, models/penguins.json). */
export const PENGUINS = trainedPenguins();
export const TOKEN = 'a'.repeat(64);

export interface PenguinModel {
  features: string[];
  classes: string[];
  mean: number[];
  std: number[];
  weights: number[][];
  bias: number[];
}

export const penguinModel = (): PenguinModel => JSON.parse(fs.readFileSync(path.join(PENGUINS, 'models/penguins.json'), 'utf8')) as PenguinModel;

/** Three real rows (Adelie, Chinstrap, Gentoo), in feature order. */
export const ROWS = [
  [39.1, 18.7, 181, 3750, 0, 0, 1, 0, 1],
  [46.5, 17.9, 192, 3500, 0, 1, 0, 1, 0],
  [50, 15, 220, 5500, 1, 0, 0, 0, 1],
];

type Writer = {
  softmaxRegressionToOnnx(m: object, extra?: object): Uint8Array;
};
type OnnxWriter = { encodeModel(m: object): Uint8Array; DataType: { FLOAT: number; INT64: number } };

const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(PENGUINS, 'lib', file)).href)) as T;

/** Writes good.onnx (the trained penguins model) and broken.onnx (loads, fails on every 1-row or 2-row request) into dir. */
export async function writeModels(dir: string): Promise<{ good: string; broken: string }> {
  const m = penguinModel();
  const { softmaxRegressionToOnnx } = await load<Writer>('softmax-onnx.mjs');
  const spec = { features: m.features, classes: m.classes, mean: m.mean, std: m.std, W: m.weights.flat(), b: m.bias };
  const good = path.join(dir, 'good.onnx');
  fs.writeFileSync(good, softmaxRegressionToOnnx(spec));
  // Same signature, but the input first goes through Reshape to [-1, 7]: 9·N values only fit
  // when N is a multiple of 7, so ONNX Runtime loads it and fails at run time.
  const { encodeModel, DataType } = await load<OnnxWriter>('onnx-writer.mjs');
  const F = m.features.length;
  const C = m.classes.length;
  const broken = path.join(dir, 'broken.onnx');
  fs.writeFileSync(
    broken,
    encodeModel({
      irVersion: 8,
      opsetImports: [{ domain: '', version: 13 }],
      producerName: 'serving-test',
      metadata: { feature_names: JSON.stringify(m.features), class_labels: JSON.stringify(m.classes) },
      graph: {
        name: 'broken',
        nodes: [
          { opType: 'Reshape', name: 'bad', inputs: ['input', 'seven'], outputs: ['r7'] },
          { opType: 'Reshape', name: 'back', inputs: ['r7', 'nine'], outputs: ['x'] },
          { opType: 'MatMul', name: 'matmul', inputs: ['x', 'W'], outputs: ['scores'] },
          { opType: 'Softmax', name: 'softmax', inputs: ['scores'], outputs: ['probabilities'], attributes: { axis: 1 } },
          { opType: 'ArgMax', name: 'argmax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 } },
        ],
        initializers: [
          { name: 'seven', dataType: DataType.INT64, dims: [2], values: [-1, 7] },
          { name: 'nine', dataType: DataType.INT64, dims: [2], values: [-1, F] },
          { name: 'W', dataType: DataType.FLOAT, dims: [F, C], values: m.weights.flat() },
        ],
        inputs: [{ name: 'input', elemType: DataType.FLOAT, shape: ['N', F] }],
        outputs: [
          { name: 'probabilities', elemType: DataType.FLOAT, shape: ['N', C] },
          { name: 'label', elemType: DataType.INT64, shape: ['N'] },
        ],
      },
    }),
  );
  return { good, broken };
}

export function tempDir(prefix = 'mlops-serving-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function version(v: number, artifactPath: string, role: ServedVersion['role'], weight: number, extra: Partial<ServedVersion> = {}): ServedVersion {
  return { model: 'penguins-classifier', version: v, role, weight, flavor: 'onnx', artifactPath, ...extra };
}

let nextConfigId = 1;
export function config(versions: ServedVersion[], extra: Partial<ServingConfig> = {}): ServingConfig {
  return { configId: nextConfigId++, deployment: 'penguins-api', versions, threads: 1, ...extra };
}

/** A started server that records every message it sends. */
export interface TestServer {
  handle: ModelServerHandle;
  url: string;
  dir: string;
  messages: ServerMessage[];
  /** Resolves with the first message (already sent or coming) that matches. */
  waitFor<T extends ServerMessage['type']>(type: T, pred?: (m: Extract<ServerMessage, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<ServerMessage, { type: T }>>;
}

export async function startTestServer(opts: { dir?: string; auth?: 'token' | 'none'; logFileBytes?: number; logFiles?: number; maxBodyBytes?: number; tuning?: ServerTuning } = {}): Promise<TestServer> {
  const dir = opts.dir ?? tempDir();
  const handle = await startModelServer(
    { deployment: 'penguins-api', port: 0, auth: opts.auth ?? 'token', dir, logFileBytes: opts.logFileBytes, logFiles: opts.logFiles, maxBodyBytes: opts.maxBodyBytes },
    TOKEN,
    opts.tuning,
  );
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  handle.on((m) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor: TestServer['waitFor'] = (type, pred, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${type}" message within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(', ')}`)), timeoutMs);
      const check = (): void => {
        const hit = messages.find((m) => m.type === type && (!pred || pred(m as never)));
        if (hit) {
          clearTimeout(timer);
          resolve(hit as never);
        } else waiters.push(check);
      };
      check();
    });
  return { handle, url: `http://127.0.0.1:${handle.port}`, dir, messages, waitFor };
}

export const auth = { authorization: `Bearer ${TOKEN}` };

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function get(url: string, headers: Record<string, string> = auth): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A v2 infer body for rows of the penguins model. */
export function v2Body(rows: number[][]): object {
  return { inputs: [{ name: 'input', shape: [rows.length, rows[0]!.length], datatype: 'FP32', data: rows.flat() }] };
}

/** Reads every request log line written so far. */
export function readRequestLog(dir: string): any[] {
  const folder = path.join(dir, 'requests');
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.jsonl'))
    .sort((a, b) => Number(/(\d+)/.exec(a)![1]) - Number(/(\d+)/.exec(b)![1]))
    .flatMap((f) => fs.readFileSync(path.join(folder, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}
