/**
 * Data expectations (the manifest's `datasets.NAME.expect`), evaluated row by row in one pass:
 * each expectation becomes a checker with a few counters and a small sample of offending
 * values, so memory does not grow with the file (except `unique`, which keeps one 64-bit hash
 * per distinct value, 16 bytes each).
 *
 * Semantics follow Great Expectations: value checks (between, in_set, regex, type, unique)
 * look at non-empty values only (emptiness is `not_null`'s business) and pass when the share
 * of values that satisfy them is at least `mostly` (default 1).
 */
import type { ColumnType, Expectation } from '../../protocol/manifest';
import type { ExpectationKind, ExpectationResult } from '../../protocol/data';
import { HashSet64, hashCells } from './hash-set';
import { isNull, type Cell } from './table';

/** Offending values kept per expectation. */
export const SAMPLE_SIZE = 5;
/** Longest value shown in a sample. */
const SAMPLE_CHARS = 60;

interface Checker {
  readonly result: ExpectationResult;
  /** Bound once the header is known. */
  bind(columns: readonly string[]): void;
  row(cells: readonly Cell[], rowNumber: number): void;
  finish(rows: number): void;
}

export function kindOf(e: Expectation): ExpectationKind {
  for (const k of ['not_null', 'between', 'in_set', 'unique', 'regex', 'type', 'row_count', 'column_exists'] as const) if (k in e) return k;
  throw new Error(`not an expectation: ${JSON.stringify(e)}`);
}

const asList = (c: string | string[]): string[] => (Array.isArray(c) ? c : [c]);

function cellText(c: Cell): string {
  if (c === null) return '(empty)';
  const s = typeof c === 'string' ? (c === '' ? '(empty)' : c) : String(c);
  return s.length > SAMPLE_CHARS ? `${s.slice(0, SAMPLE_CHARS - 1)}…` : s;
}

function base(index: number, kind: ExpectationKind, expected: string, mostly: number, column?: string): ExpectationResult {
  return { index, kind, column, expected, success: true, observed: '', mostly, checked: 0, failing: 0, sample: [] };
}

/** Shows a share without rounding it across the threshold: 0.9896 < 0.99 never prints as 0.99. */
export function formatFraction(f: number, mostly: number): string {
  for (let digits = 3; digits < 12; digits++) {
    const s = Number(f.toFixed(digits));
    if ((f < mostly) === (s < mostly) && (f === 1 || s !== 1)) return String(s);
  }
  return String(f);
}

function verdict(r: ExpectationResult): void {
  const f = r.checked === 0 ? 1 : (r.checked - r.failing) / r.checked;
  r.fraction = f;
  r.success = f >= r.mostly;
  const shown = formatFraction(f, r.mostly);
  const of = `${r.checked - r.failing}/${r.checked}`;
  if (r.checked === 0) r.observed = 'no values to check';
  else if (r.mostly >= 1) r.observed = r.success ? `observed 1 (${of})` : `observed ${shown} (${of}), ${r.failing} failing`;
  else r.observed = `observed ${shown} ${r.success ? '≥' : '<'} mostly ${r.mostly} (${of})`;
}

/** A check of one column's non-empty values against a predicate. */
class ValueChecker implements Checker {
  readonly result: ExpectationResult;
  private col = -1;
  private missing = false;
  constructor(
    index: number,
    kind: ExpectationKind,
    private readonly column: string,
    expected: string,
    mostly: number,
    private readonly ok: (c: Cell) => boolean,
    /** `not_null` checks every row, the others non-empty values only. */
    private readonly includeNulls = false,
    private readonly error?: string,
  ) {
    this.result = base(index, kind, expected, mostly, column);
  }
  bind(columns: readonly string[]): void {
    this.col = columns.indexOf(this.column);
    this.missing = this.col < 0;
  }
  row(cells: readonly Cell[], rowNumber: number): void {
    if (this.missing || this.error) return;
    const c = cells[this.col]!;
    if (!this.includeNulls && isNull(c)) return;
    const r = this.result;
    r.checked++;
    if (this.ok(c)) return;
    r.failing++;
    if (r.sample.length < SAMPLE_SIZE) r.sample.push({ row: rowNumber, value: cellText(c) });
  }
  finish(): void {
    const r = this.result;
    if (this.error) {
      r.success = false;
      r.observed = this.error;
      return;
    }
    if (this.missing) {
      r.success = false;
      r.observed = `column "${this.column}" not found`;
      return;
    }
    verdict(r);
  }
}

/** `unique` over one column or a combination: the 2nd and later occurrences of a value fail. */
class UniqueChecker implements Checker {
  readonly result: ExpectationResult;
  private cols: number[] = [];
  private missing: string[] = [];
  private readonly seen = new HashSet64();
  private readonly key: Cell[] = [];
  constructor(index: number, private readonly columns: string[], mostly: number) {
    this.result = base(index, 'unique', columns.length > 1 ? `unique combination of ${columns.join(', ')}` : 'unique values', mostly, columns.join('+'));
  }
  bind(header: readonly string[]): void {
    this.cols = this.columns.map((c) => header.indexOf(c));
    this.missing = this.columns.filter((_, i) => this.cols[i]! < 0);
  }
  row(cells: readonly Cell[], rowNumber: number): void {
    if (this.missing.length) return;
    let allNull = true;
    for (let i = 0; i < this.cols.length; i++) {
      const c = cells[this.cols[i]!]!;
      this.key[i] = c;
      if (!isNull(c)) allNull = false;
    }
    if (allNull) return;
    const r = this.result;
    r.checked++;
    const [h, l] = hashCells(this.key, this.cols.length);
    if (this.seen.add(h, l)) return;
    r.failing++;
    if (r.sample.length < SAMPLE_SIZE) r.sample.push({ row: rowNumber, value: this.key.slice(0, this.cols.length).map(cellText).join(', ') });
  }
  finish(): void {
    const r = this.result;
    if (this.missing.length) {
      r.success = false;
      r.observed = `column${this.missing.length > 1 ? 's' : ''} ${this.missing.map((c) => `"${c}"`).join(', ')} not found`;
      return;
    }
    verdict(r);
    if (r.failing) r.observed += ` (${r.failing} repeated value${r.failing === 1 ? '' : 's'})`;
  }
}

class RowCountChecker implements Checker {
  readonly result: ExpectationResult;
  constructor(index: number, private readonly min: number | undefined, private readonly max: number | undefined) {
    this.result = base(index, 'row_count', boundsText(min, max, 'rows'), 1);
  }
  bind(): void {}
  row(): void {}
  finish(rows: number): void {
    const r = this.result;
    r.checked = rows;
    r.success = (this.min === undefined || rows >= this.min) && (this.max === undefined || rows <= this.max);
    r.failing = r.success ? 0 : 1;
    r.observed = `observed ${rows} row${rows === 1 ? '' : 's'}${r.success ? '' : this.min !== undefined && rows < this.min ? ` < min ${this.min}` : ` > max ${this.max}`}`;
  }
}

class ColumnExistsChecker implements Checker {
  readonly result: ExpectationResult;
  constructor(index: number, private readonly column: string) {
    this.result = base(index, 'column_exists', 'column present', 1, column);
  }
  bind(columns: readonly string[]): void {
    const r = this.result;
    r.checked = 1;
    r.success = columns.includes(this.column);
    r.failing = r.success ? 0 : 1;
    r.observed = r.success ? 'present' : `missing; columns: ${columns.slice(0, 12).join(', ')}${columns.length > 12 ? ', …' : ''}`;
  }
  row(): void {}
  finish(): void {
    if (!this.result.observed) this.bind([]);
  }
}

function boundsText(min: number | undefined, max: number | undefined, what = ''): string {
  const w = what ? ` ${what}` : '';
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}${w}`;
  if (min !== undefined) return `at least ${min}${w}`;
  return `at most ${max}${w}`;
}

/** A cell as a number, or NaN: JSON numbers as they are, strings by a strict decimal syntax. */
export function numberOf(c: Cell): number {
  if (typeof c === 'number') return c;
  if (typeof c === 'boolean' || c === null) return Number.NaN;
  // Fast path for plain decimals (`12`, `-0.5`, `.25`): Number() agrees with the strict syntax
  // when the text starts with a digit, sign or point and its second character is not a letter
  // (which rules out `0x1A`, `0b1`, `0o7`). Anything else goes through the regular expression.
  const n = c.length;
  if (n > 0) {
    const c0 = c.charCodeAt(0);
    if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 46 || c0 === 43) {
      const c1 = n > 1 ? c.charCodeAt(1) : 48;
      const last = c.charCodeAt(n - 1);
      if (c1 < 65 && last >= 48 && last <= 57) {
        const x = Number(c);
        if (!Number.isNaN(x)) return x;
      }
    }
  }
  const s = c.trim();
  return NUMBER_RE.test(s) ? Number(s) : Number.NaN;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:Infinity|inf)$/i;
const INTEGER_RE = /^[+-]?\d+$/;
const BOOLEAN_RE = /^(?:true|false)$/i;
/** ISO 8601 dates and date-times, and the `YYYY/MM/DD hh:mm` form of many exports. */
const DATETIME_RE = /^\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function isDatetimeText(s: string): boolean {
  return DATETIME_RE.test(s) && !Number.isNaN(Date.parse(s.replace(/\//g, '-').replace(' ', 'T')));
}

export function hasType(c: Cell, t: ColumnType): boolean {
  switch (t) {
    case 'number':
      return !Number.isNaN(numberOf(c));
    case 'integer':
      return typeof c === 'number' ? Number.isInteger(c) : typeof c === 'string' && INTEGER_RE.test(c.trim());
    case 'boolean':
      return typeof c === 'boolean' || (typeof c === 'string' && BOOLEAN_RE.test(c.trim()));
    case 'datetime':
      return typeof c === 'string' && isDatetimeText(c.trim());
    case 'string':
      return typeof c === 'string';
    case 'category':
      return typeof c === 'string' || typeof c === 'boolean' || typeof c === 'number';
  }
}

function listText(values: readonly unknown[]): string {
  const shown = values.slice(0, 8).map((v) => String(v));
  return `[${shown.join(', ')}${values.length > 8 ? ', …' : ''}]`;
}

/** The checkers of one `expect:` item (one per column for multi-column not_null / column_exists). */
function checkersOf(e: Expectation, index: number): Checker[] {
  const mostly = e.mostly ?? 1;
  if ('not_null' in e) return asList(e.not_null).map((c) => new ValueChecker(index, 'not_null', c, 'no empty values', mostly, (v) => !isNull(v), true));
  if ('column_exists' in e) return asList(e.column_exists).map((c) => new ColumnExistsChecker(index, c));
  if ('unique' in e) return [new UniqueChecker(index, asList(e.unique), mostly)];
  if ('row_count' in e) return [new RowCountChecker(index, e.row_count.min, e.row_count.max)];
  if ('between' in e) {
    const { column, min, max } = e.between;
    const lo = min ?? -Infinity;
    const hi = max ?? Infinity;
    return [new ValueChecker(index, 'between', column, boundsText(min, max), mostly, (v) => {
      const x = numberOf(v);
      return x >= lo && x <= hi;
    })];
  }
  if ('in_set' in e) {
    const { column, values } = e.in_set;
    const texts = new Set(values.map((v) => String(v)));
    const nums = new Set(values.filter((v): v is number => typeof v === 'number'));
    return [new ValueChecker(index, 'in_set', column, `in ${listText(values)}`, mostly, (v) => texts.has(String(v)) || (nums.size > 0 && nums.has(numberOf(v))))];
  }
  if ('regex' in e) {
    const { column, pattern } = e.regex;
    let re: RegExp | undefined;
    let error: string | undefined;
    try {
      re = new RegExp(pattern);
    } catch (err) {
      error = `invalid pattern: ${(err as Error).message}`;
    }
    return [new ValueChecker(index, 'regex', column, `matches /${pattern}/`, mostly, (v) => re!.test(String(v)), false, error)];
  }
  if ('type' in e) {
    const { column, type } = e.type;
    return [new ValueChecker(index, 'type', column, `type ${type}`, mostly, (v) => hasType(v, type))];
  }
  throw new Error(`unknown expectation ${JSON.stringify(e)}`);
}

/** A dataset's expectations, fed one table scan. */
export class ExpectationSuite {
  private readonly checkers: Checker[];
  private rows = 0;

  constructor(expectations: readonly Expectation[]) {
    this.checkers = expectations.flatMap((e, i) => checkersOf(e, i));
  }

  header(columns: readonly string[]): void {
    for (const c of this.checkers) c.bind(columns);
  }

  row(cells: readonly Cell[], rowNumber: number): void {
    this.rows = rowNumber;
    for (let i = 0; i < this.checkers.length; i++) this.checkers[i]!.row(cells, rowNumber);
  }

  finish(rows = this.rows): ExpectationResult[] {
    for (const c of this.checkers) c.finish(rows);
    return this.checkers.map((c) => c.result);
  }
}
