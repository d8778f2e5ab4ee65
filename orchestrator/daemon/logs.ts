/**
 * Reading a step's log from a byte offset, for `GET /api/runs/logs` and for `mlops logs`
 * when no daemon runs. The file path is built from a run id and a step name that are both
 * validated (syntax, then existence in the store) and finally checked to lie inside
 * `.mlops/runs`, so no request can read anything else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import { stepLogPath } from '../../protocol/pipeline';
import type { RunStatus, RunSummary } from '../../protocol/types';
import type { Store } from '../store/store';
import { isInside, isRunId, type MlopsPaths } from './paths';

export interface LogQuery {
  id: string;
  step: string;
  offset?: number;
}

export interface LogChunk {
  text: string;
  /** Byte offset to ask for next. */
  offset: number;
  /** True once the step has ended and everything it wrote has been returned. */
  done: boolean;
}

/** Most bytes returned per request; callers loop until `done` or no progress. */
export const MAX_LOG_CHUNK = 1024 * 1024;

/** Step names as the manifest schema allows them (`definitions/Name`). */
const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,199}$/;

const ACTIVE: readonly RunStatus[] = ['queued', 'running'];

export async function readStepLog(store: Store, paths: MlopsPaths, q: LogQuery, maxBytes = MAX_LOG_CHUNK): Promise<LogChunk> {
  if (!isRunId(q.id)) throw new MlopsError('BAD_REQUEST', `id: not a run id: "${q.id}"`);
  if (!STEP_NAME.test(q.step)) throw new MlopsError('BAD_REQUEST', `step: not a step name: "${q.step}"`);
  const offset = q.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new MlopsError('BAD_REQUEST', 'offset: must be a non-negative integer');

  const run = await store.getRun(q.id);
  if (!run) throw new MlopsError('NOT_FOUND', `run ${q.id} not found`);
  const attempts = run.children.filter((c) => c.name === q.step);
  const runActive = ACTIVE.includes(run.status);
  // A step that has not started yet has no child run; while the run is active, it may still come.
  if (attempts.length === 0 && !runActive) throw new MlopsError('NOT_FOUND', `run ${q.id} has no step "${q.step}"`);

  const file = path.join(paths.workspace, stepLogPath(q.id, q.step));
  if (!isInside(paths.runs, file) || path.dirname(path.dirname(file)) !== path.join(paths.runs, q.id)) {
    throw new MlopsError('BAD_REQUEST', 'step: resolves outside the run folder');
  }
  // Retries of a step append to the same log under the same child run, which stays running meanwhile.
  const stepEnded = !runActive || (attempts.length > 0 && attempts.every(ended));
  const { text, next, eof } = readFrom(file, offset, maxBytes);
  return { text, offset: next, done: stepEnded && eof };
}

function ended(r: RunSummary): boolean {
  return !ACTIVE.includes(r.status);
}

function readFrom(file: string, offset: number, maxBytes: number): { text: string; next: number; eof: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', next: offset, eof: true };
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.min(offset, size);
    const want = Math.min(maxBytes, size - start);
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf, got, want - got, start + got);
      if (n === 0) break;
      got += n;
    }
    const atEnd = start + got >= size;
    // Never split a UTF-8 sequence between two chunks (unless the file really ends there).
    const usable = atEnd ? got : completeUtf8Length(buf.subarray(0, got));
    return { text: buf.subarray(0, usable).toString('utf8'), next: start + usable, eof: atEnd };
  } finally {
    fs.closeSync(fd);
  }
}

/** Length of the longest prefix of `buf` that does not end inside a multi-byte UTF-8 sequence. */
export function completeUtf8Length(buf: Buffer): number {
  const n = buf.length;
  for (let i = n - 1; i >= Math.max(0, n - 4); i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + len <= n ? n : i;
  }
  return n;
}
