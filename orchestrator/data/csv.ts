/**
 * A streaming CSV parser (RFC 4180: quoted fields, doubled quotes, newlines inside quotes,
 * CRLF or LF, a UTF-8 BOM). Text arrives in chunks and complete records leave through a
 * callback, so a 1 GB file is read with one chunk plus one partial record in memory.
 *
 * No dependency: the hot loop is a charCodeAt scan that slices fields out of the chunk, which
 * is what the drift loader needs (one pass, no per-row objects beyond the reused field array).
 */

const QUOTE = 34;
const LF = 10;
const CR = 13;

export interface CsvOptions {
  /** Field separator (default `,`; `\t` for TSV). */
  delimiter?: string;
}

/**
 * Push text with `push`, finish with `end`. `onRecord` receives the fields of each record in
 * an array that is reused for the next record: copy what you keep.
 */
export class CsvParser {
  private rest = '';
  private readonly delim: number;
  private first = true;
  private readonly fields: string[] = [];

  constructor(
    private readonly onRecord: (fields: string[]) => void,
    opts: CsvOptions = {},
  ) {
    this.delim = (opts.delimiter ?? ',').charCodeAt(0);
  }

  push(chunk: string): void {
    let text = this.rest ? this.rest + chunk : chunk;
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.rest = text.slice(this.parse(text, false));
  }

  end(): void {
    const text = this.rest;
    this.rest = '';
    if (text.length) this.parse(text, true);
  }

  /** Parses complete records of `text`; returns where the unfinished one starts. */
  private parse(text: string, final: boolean): number {
    const n = text.length;
    const d = this.delim;
    const fields = this.fields;
    let recordStart = 0;
    let i = 0;
    fields.length = 0;
    while (i < n) {
      // One field starts at i.
      let c = text.charCodeAt(i);
      if (c === QUOTE) {
        let value = '';
        let from = i + 1;
        let j = from;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            if (!final) return recordStart;
            // Unterminated quote at end of input: take the rest as the field.
            value += text.slice(from);
            i = n;
            break;
          }
          if (q + 1 < n && text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(from, q + 1);
            from = j = q + 2;
            continue;
          }
          if (q + 1 >= n && !final) return recordStart;
          value += text.slice(from, q);
          i = q + 1;
          break;
        }
        // Anything between the closing quote and the delimiter is kept (lenient, like pandas).
        let k = i;
        while (k < n && (c = text.charCodeAt(k)) !== d && c !== LF && c !== CR) k++;
        if (k > i) value += text.slice(i, k);
        i = k;
        fields.push(value);
      } else {
        let k = i;
        while (k < n && (c = text.charCodeAt(k)) !== d && c !== LF && c !== CR) k++;
        fields.push(text.slice(i, k));
        i = k;
      }
      if (i >= n) {
        if (!final) return recordStart;
        break;
      }
      c = text.charCodeAt(i);
      if (c === d) {
        i++;
        if (i >= n) {
          if (!final) return recordStart;
          fields.push('');
        }
        continue;
      }
      // End of record (LF, CR or CRLF).
      if (c === CR) {
        if (i + 1 >= n && !final) return recordStart;
        i += i + 1 < n && text.charCodeAt(i + 1) === LF ? 2 : 1;
      } else i++;
      this.emit();
      recordStart = i;
    }
    if (final && fields.length) this.emit();
    return final ? n : recordStart;
  }

  private emit(): void {
    const f = this.fields;
    // A blank line is one empty field: skip it, as pandas does.
    if (!(f.length === 1 && f[0] === '')) this.onRecord(f);
    f.length = 0;
  }
}

/** Parses a whole CSV text (tests, small files). */
export function parseCsv(text: string, opts: CsvOptions = {}): string[][] {
  const rows: string[][] = [];
  const p = new CsvParser((f) => rows.push([...f]), opts);
  p.push(text);
  p.end();
  return rows;
}
