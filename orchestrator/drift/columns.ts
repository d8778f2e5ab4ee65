/**
 * Loads a data file into columns: one growable typed array per column, no per-row objects.
 * A column is numeric while every non-empty value parses as a number (Float64Array, NaN for
 * empty); the first other value turns it categorical (Int32Array of dictionary codes, −1 for
 * empty), its numbers so far becoming their text.
 */
import { isDatetimeText, numberOf } from '../data/expectations';
import { isNull, scanTable, type Cell, type TableFormat } from '../data/table';

export interface NumericColumn {
  kind: 'numeric';
  name: string;
  values: Float64Array;
}

export interface CategoricalColumn {
  kind: 'categorical';
  name: string;
  codes: Int32Array;
  labels: string[];
  /** Most values look like dates or times: not a feature to test. */
  datetime: boolean;
}

export type Column = NumericColumn | CategoricalColumn;

export interface LoadedTable {
  rows: number;
  columns: Column[];
}

/** How many non-empty values decide whether a text column holds dates. */
const DATETIME_SAMPLE = 100;

class ColumnBuilder {
  private nums: Float64Array | undefined = new Float64Array(1024);
  private codes: Int32Array | undefined;
  private readonly dict = new Map<string, number>();
  private readonly labels: string[] = [];
  private n = 0;
  private seenText = 0;
  private datetimeText = 0;

  constructor(readonly name: string) {}

  push(c: Cell): void {
    if (this.nums) {
      if (isNull(c)) return this.pushNum(Number.NaN);
      if (typeof c !== 'boolean') {
        const x = typeof c === 'number' ? c : numberOf(c);
        if (!Number.isNaN(x)) return this.pushNum(x);
      }
      this.toCategorical();
    }
    this.pushCode(isNull(c) ? -1 : this.code(c));
  }

  private pushNum(x: number): void {
    if (this.n === this.nums!.length) {
      const grown = new Float64Array(this.n * 2);
      grown.set(this.nums!);
      this.nums = grown;
    }
    this.nums![this.n++] = x;
  }

  private pushCode(x: number): void {
    if (this.n === this.codes!.length) {
      const grown = new Int32Array(this.n * 2);
      grown.set(this.codes!);
      this.codes = grown;
    }
    this.codes![this.n++] = x;
  }

  private code(c: Cell): number {
    const s = String(c);
    let k = this.dict.get(s);
    if (k === undefined) {
      k = this.labels.length;
      this.dict.set(s, k);
      this.labels.push(s);
    }
    if (this.seenText < DATETIME_SAMPLE) {
      this.seenText++;
      if (typeof c === 'string' && isDatetimeText(c.trim())) this.datetimeText++;
    }
    return k;
  }

  private toCategorical(): void {
    const nums = this.nums!;
    this.nums = undefined;
    this.codes = new Int32Array(Math.max(1024, nums.length));
    const n = this.n;
    this.n = 0;
    for (let i = 0; i < n; i++) this.pushCode(Number.isNaN(nums[i]!) ? -1 : this.code(String(nums[i])));
  }

  build(): Column {
    if (this.nums) return { kind: 'numeric', name: this.name, values: this.nums.subarray(0, this.n) };
    return { kind: 'categorical', name: this.name, codes: this.codes!.subarray(0, this.n), labels: this.labels, datetime: this.seenText > 0 && this.datetimeText >= 0.9 * this.seenText };
  }
}

/** Reads `file` into columns (only `only` when given). */
export async function loadColumns(file: string, format: TableFormat, only?: readonly string[]): Promise<LoadedTable> {
  let builders: ColumnBuilder[] = [];
  let index: number[] = [];
  const rows = await scanTable(file, format, {
    header(columns) {
      index = [];
      builders = [];
      columns.forEach((c, i) => {
        if (only && !only.includes(c)) return;
        index.push(i);
        builders.push(new ColumnBuilder(c));
      });
    },
    row(cells) {
      for (let k = 0; k < index.length; k++) builders[k]!.push(cells[index[k]!]!);
    },
  });
  return { rows, columns: builders.map((b) => b.build()) };
}

/** A categorical view of any column (numbers as their text), for tests that need one. */
export function asCategorical(c: Column): CategoricalColumn {
  if (c.kind === 'categorical') return c;
  const dict = new Map<string, number>();
  const labels: string[] = [];
  const codes = new Int32Array(c.values.length);
  for (let i = 0; i < codes.length; i++) {
    const x = c.values[i]!;
    if (Number.isNaN(x)) {
      codes[i] = -1;
      continue;
    }
    const s = String(x);
    let k = dict.get(s);
    if (k === undefined) {
      k = labels.length;
      dict.set(s, k);
      labels.push(s);
    }
    codes[i] = k;
  }
  return { kind: 'categorical', name: c.name, codes, labels, datetime: false };
}
