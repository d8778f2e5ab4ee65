/**
 * Row-by-row reading of a data file, whatever its format: CSV/TSV and JSON Lines stream in
 * chunks (bounded memory), a JSON array is parsed whole (JSON has no cheap streaming form),
 * Parquet is read one row group at a time. Consumers see a header and then rows of cells.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { MlopsError } from '../../protocol/errors';
import { CsvParser } from './csv';
import { scanParquet } from './parquet';

/** A cell as read: CSV gives strings (`''` when empty), JSON and Parquet typed values. */
export type Cell = string | number | boolean | null;

export type TableFormat = 'csv' | 'tsv' | 'json' | 'jsonl' | 'parquet';

export interface TableVisitor {
  header(columns: readonly string[]): void;
  /** `cells[i]` belongs to `columns[i]`; the array is reused for the next row. */
  row(cells: readonly Cell[], rowNumber: number): void;
}

/** Read chunk size: large enough for throughput, small enough to keep memory flat. */
const CHUNK_BYTES = 1 << 20;

/** Strings read as empty (missing) values, as pandas' `read_csv` does by default. */
const NULL_STRINGS = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '#N/A']);

export function isNull(c: Cell | undefined): boolean {
  // Every null string is at most 4 characters: most cells skip the set lookup.
  return c === null || c === undefined || (typeof c === 'string' && c.length <= 4 && NULL_STRINGS.has(c)) || (typeof c === 'number' && Number.isNaN(c));
}

/** The format from the manifest's `format:` or the file extension. */
export function formatOf(file: string, declared?: string): TableFormat {
  if (declared === 'csv' || declared === 'parquet' || declared === 'json') {
    if (declared === 'json' && /\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
    if (declared === 'csv' && /\.tsv$/i.test(file)) return 'tsv';
    return declared;
  }
  switch (extname(file).toLowerCase()) {
    case '.csv':
      return 'csv';
    case '.tsv':
    case '.tab':
      return 'tsv';
    case '.json':
      return 'json';
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.parquet':
    case '.pq':
      return 'parquet';
    default:
      return 'csv';
  }
}

/** Streams `file` through `visitor`; resolves with the number of data rows. Throws NOT_FOUND / BAD_REQUEST. */
export async function scanTable(file: string, format: TableFormat, visitor: TableVisitor): Promise<number> {
  try {
    switch (format) {
      case 'csv':
      case 'tsv':
        return await scanCsv(file, format === 'tsv' ? '\t' : ',', visitor);
      case 'jsonl':
        return await scanJsonLines(file, visitor);
      case 'json':
        return await scanJsonArray(file, visitor);
      case 'parquet':
        return await scanParquet(file, visitor);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new MlopsError('NOT_FOUND', `no such data file: ${file}`);
    if (err instanceof MlopsError) throw err;
    if (err.code === 'EISDIR' || err instanceof SyntaxError) throw new MlopsError('BAD_REQUEST', `cannot read ${file} as ${format}: ${err.message}`);
    throw e;
  }
}

async function scanCsv(file: string, delimiter: string, visitor: TableVisitor): Promise<number> {
  let rows = 0;
  let width = -1;
  let cells: string[] = [];
  const parser = new CsvParser((fields) => {
    if (width < 0) {
      width = fields.length;
      cells = new Array<string>(width).fill('');
      visitor.header([...fields]);
      return;
    }
    rows++;
    // Short rows are padded with empty cells, long ones cut: one cell per declared column.
    for (let i = 0; i < width; i++) cells[i] = i < fields.length ? fields[i]! : '';
    visitor.row(cells, rows);
  }, { delimiter });
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  for await (const chunk of stream) parser.push(chunk as string);
  parser.end();
  if (width < 0) visitor.header([]);
  return rows;
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

/** Rows of objects: the columns are the keys of the first row plus any met later (then only for later rows). */
class ObjectRows {
  private readonly index = new Map<string, number>();
  private columns: string[] = [];
  private headerSent = false;
  private cells: Cell[] = [];
  rows = 0;
  constructor(private readonly visitor: TableVisitor) {}

  add(obj: unknown): void {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new MlopsError('BAD_REQUEST', `row ${this.rows + 1} is not an object`);
    const rec = obj as Record<string, unknown>;
    if (!this.headerSent) {
      this.columns = Object.keys(rec);
      this.columns.forEach((c, i) => this.index.set(c, i));
      this.visitor.header(this.columns);
      this.headerSent = true;
      this.cells = new Array<Cell>(this.columns.length).fill(null);
    }
    this.cells.fill(null);
    for (const k in rec) {
      const i = this.index.get(k);
      if (i !== undefined) this.cells[i] = toCell(rec[k]);
    }
    this.visitor.row(this.cells, ++this.rows);
  }

  finish(): number {
    if (!this.headerSent) this.visitor.header([]);
    return this.rows;
  }
}

async function scanJsonArray(file: string, visitor: TableVisitor): Promise<number> {
  const data: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!Array.isArray(data)) throw new MlopsError('BAD_REQUEST', `${file}: expected a JSON array of row objects`);
  const rows = new ObjectRows(visitor);
  for (const r of data) rows.add(r);
  return rows.finish();
}

async function scanJsonLines(file: string, visitor: TableVisitor): Promise<number> {
  const rows = new ObjectRows(visitor);
  let rest = '';
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  for await (const chunk of stream) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl).trim();
      if (line) rows.add(JSON.parse(line));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.trim()) rows.add(JSON.parse(rest));
  return rows.finish();
}
