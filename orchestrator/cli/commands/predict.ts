/**
 * `mlops predict NAME --input rows.csv [--output preds.csv]`: batch scoring through a running
 * deployment. The CSV is streamed (the project's CsvParser): at most one read chunk plus one
 * batch is in memory, each batch goes to the deployment's `/predict` as MLflow's
 * `dataframe_split`, and its predictions are appended to the output before the next batch is
 * read. The output file appears only when every row has been scored (written beside it, then
 * renamed), so a failure never leaves a half file that looks complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT, MlopsError } from '../../../protocol/errors';
import type { DeploymentStatus } from '../../../protocol/serving';
import { DaemonClient } from '../../api-client/client';
import { CsvParser } from '../../data/csv';
import { findDaemon } from '../../daemon/launcher';
import type { Output } from '../output';
import { cliToken } from '../registry-access';
import { workspaceOf } from '../workspace-access';

export interface PredictOptions {
  input: string;
  output?: string;
  batch?: string;
  keep?: string;
}

const DEFAULT_BATCH = 256;
const MAX_BATCH = 100_000;
const PROGRESS_EVERY_MS = 1000;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

type Cell = string | number | null;

export async function predictCommand(io: Output, cwd: string, name: string, opts: PredictOptions): Promise<number> {
  const batch = batchSize(opts.batch);
  const input = path.resolve(cwd, opts.input);
  if (!fs.existsSync(input) || !fs.statSync(input).isFile()) throw new MlopsError('BAD_REQUEST', `--input ${opts.input}: no such file`);
  const ws = workspaceOf(cwd);
  const target = await endpoint(ws, name);
  const output = opts.output ? path.resolve(cwd, opts.output) : undefined;
  const partial = output ? `${output}.partial-${process.pid}` : undefined;
  const sink = partial ? fs.openSync(partial, 'w') : undefined;
  const write = (lines: string[]) => {
    if (sink === undefined) for (const l of lines) io.out(l);
    else fs.writeSync(sink, lines.map((l) => `${l}\n`).join(''));
  };

  const started = Date.now();
  let header: string[] | undefined;
  let keep: number[] = [];
  let pending: Cell[][] = [];
  let rowsRead = 0;
  let rowsDone = 0;
  let lastProgress = started;
  let badRow: MlopsError | undefined;

  const parser = new CsvParser((fields) => {
    if (badRow) return;
    if (!header) {
      header = fields.slice();
      keep = keptColumns(header, opts.keep);
      write([csvLine([...keep.map((i) => header![i]!), 'prediction'])]);
      return;
    }
    rowsRead++;
    if (fields.length === 1 && fields[0] === '') {
      rowsRead--; // a blank line
      return;
    }
    if (fields.length !== header.length) {
      badRow = new MlopsError('BAD_REQUEST', `${opts.input}: data row ${rowsRead} has ${fields.length} field${fields.length === 1 ? '' : 's'} where the header has ${header.length}; nothing was written`);
      return;
    }
    pending.push(fields.map(cell));
  });

  const send = async (rows: Cell[][]) => {
    const first = rowsDone + 1;
    const predictions = await predictBatch(target, header!, rows, first, opts.input);
    write(rows.map((r, i) => csvLine([...keep.map((k) => r[k] ?? ''), predictions[i]])));
    rowsDone += rows.length;
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      io.err(`predict: ${rowsDone} rows scored`);
    }
  };

  try {
    const stream = fs.createReadStream(input, { encoding: 'utf8', highWaterMark: 64 * 1024 });
    for await (const chunk of stream) {
      parser.push(chunk as string);
      if (badRow) throw badRow;
      while (pending.length >= batch) {
        const rows = pending.slice(0, batch);
        pending = pending.slice(batch);
        await send(rows);
      }
    }
    parser.end();
    if (badRow) throw badRow;
    if (!header) throw new MlopsError('BAD_REQUEST', `${opts.input} is empty: it needs a header row and at least one data row`);
    while (pending.length) {
      const rows = pending.slice(0, batch);
      pending = pending.slice(batch);
      await send(rows);
    }
    if (rowsDone === 0) throw new MlopsError('BAD_REQUEST', `${opts.input} has a header but no data rows`);
    if (sink !== undefined) {
      fs.closeSync(sink);
      fs.renameSync(partial!, output!);
    }
  } catch (err) {
    if (sink !== undefined) {
      fs.closeSync(sink);
      fs.rmSync(partial!, { force: true });
    }
    throw err;
  }
  const secs = (Date.now() - started) / 1000;
  io.err(`predict: ${rowsDone} rows scored by ${name} (${target.serving}) in ${secs.toFixed(1)} s${output ? ` → ${opts.output}` : ''}`);
  return EXIT.OK;
}

interface Target {
  url: string;
  token?: string;
  serving: string;
}

/** The deployment's URL from the daemon; it must be serving. */
async function endpoint(ws: string, name: string): Promise<Target> {
  const daemon = await findDaemon(ws);
  if (!daemon) throw new MlopsError('CONFLICT', `${name} is not running (the orchestrator daemon is not running); start it with: mlops deploy ${name}`);
  const d: DeploymentStatus = await new DaemonClient(daemon.url, cliToken(daemon.token)).call('GET /api/deployments/get', { name });
  if (d.state !== 'serving' || !d.url) throw new MlopsError('CONFLICT', `${name} is ${d.state}${d.error ? ` (${d.error})` : ''}; start it with: mlops deploy ${name}`);
  // The model server accepts the workspace token (named tokens are the daemon's).
  return { url: d.url, ...(d.auth === 'token' ? { token: daemon.token } : {}), serving: d.versions.map((v) => `v${v.version}`).join('+') };
}

async function predictBatch(t: Target, columns: string[], rows: Cell[][], first: number, file: string): Promise<unknown[]> {
  const where = rows.length === 1 ? `row ${first}` : `rows ${first}-${first + rows.length - 1}`;
  let res: Response;
  try {
    res = await fetch(`${t.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(t.token ? { authorization: `Bearer ${t.token}` } : {}) },
      body: JSON.stringify({ dataframe_split: { columns, data: rows } }),
    });
  } catch (err) {
    throw new MlopsError('UNAVAILABLE', `the deployment at ${t.url} did not answer (${(err as Error).message}) while scoring ${where} of ${file}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const code = res.status >= 400 && res.status < 500 ? 'BAD_REQUEST' : 'UNAVAILABLE';
    throw new MlopsError(code, `${file}, ${where}: the deployment answered ${res.status}: ${errorMessage(body) ?? text.slice(0, 300)}`);
  }
  const predictions = (body as { predictions?: unknown })?.predictions;
  if (!Array.isArray(predictions) || predictions.length !== rows.length) {
    throw new MlopsError('UNAVAILABLE', `${file}, ${where}: the deployment answered ${Array.isArray(predictions) ? `${predictions.length} predictions for ${rows.length} rows` : 'without a "predictions" list'}`);
  }
  return predictions;
}

function errorMessage(body: unknown): string | undefined {
  const e = (body as { error?: unknown } | undefined)?.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  return undefined;
}

function batchSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_BATCH;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > MAX_BATCH) throw new MlopsError('BAD_REQUEST', `--batch must be a whole number of rows from 1 to ${MAX_BATCH} (got "${raw}")`);
  return n;
}

function keptColumns(header: string[], keep: string | undefined): number[] {
  if (!keep) return [];
  return keep.split(',').map((c) => c.trim()).filter(Boolean).map((c) => {
    const i = header.indexOf(c);
    if (i < 0) throw new MlopsError('BAD_REQUEST', `--keep ${c}: the input has no column "${c}" (it has: ${header.join(', ')})`);
    return i;
  });
}

/** CSV text → JSON value: empty is missing, numbers are numbers, the rest stays text. */
function cell(s: string): Cell {
  if (s === '') return null;
  return NUMBER.test(s) ? Number(s) : s;
}

function csvLine(cells: unknown[]): string {
  return cells.map((c) => {
    const s = c === null || c === undefined ? '' : typeof c === 'object' ? JSON.stringify(c) : String(c);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }).join(',');
}
