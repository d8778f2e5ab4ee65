/**
 * Parquet through hyparquet (pure JavaScript, MIT, no native code): one row group is decoded
 * at a time, so memory follows the file's row-group size, not its total size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MlopsError } from '../../protocol/errors';
import type { TableVisitor } from './table';

type Hyparquet = typeof import('hyparquet');

export async function scanParquet(file: string, visitor: TableVisitor): Promise<number> {
  // hyparquet is ESM-only; a dynamic import works from the CommonJS bundles and from tsx.
  const hp: Hyparquet = await import('hyparquet');
  const fh = await open(file, 'r');
  try {
    return await readGroups(hp, fh, await fh.stat().then((s) => s.size), visitor);
  } catch (e) {
    // hyparquet reports unreadable files (bad magic, unsupported codec) as plain Errors.
    const msg = (e as Error)?.message ?? String(e);
    if (/parquet|magic|codec|thrift/i.test(msg)) throw new MlopsError('BAD_REQUEST', `cannot read ${file} as parquet: ${msg}`);
    throw e;
  } finally {
    await fh.close();
  }
}

async function readGroups(hp: Hyparquet, fh: FileHandle, size: number, visitor: TableVisitor): Promise<number> {
  // hyparquet reads through an AsyncBuffer: byte ranges on demand (footer, then column chunks).
  const buf = {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const out = new Uint8Array(end - start);
      let off = 0;
      while (off < out.length) {
        const { bytesRead } = await fh.read(out, off, out.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return out.buffer;
    },
  };
  const metadata = await hp.parquetMetadataAsync(buf);
  const columns = hp.parquetSchema(metadata).children.map((c) => c.element.name);
  visitor.header(columns);
  const cells = new Array<string | number | boolean | null>(columns.length).fill(null);
  let start = 0;
  let rowNumber = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    let rows: unknown[][] = [];
    await hp.parquetRead({ file: buf, metadata, rowStart: start, rowEnd: end, rowFormat: 'array', onComplete: (r: unknown[][]) => (rows = r) });
    for (const r of rows) {
      for (let i = 0; i < columns.length; i++) cells[i] = toCell(r[i]);
      visitor.row(cells, ++rowNumber);
    }
    start = end;
  }
  return rowNumber;
}

function toCell(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}
