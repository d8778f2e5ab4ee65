/**
 * The documented stdout metric form, `mlops:metric key=value [key=value…] [step=N]`, parsed
 * from a byte stream. Chunks split lines anywhere, and a step may print gigabytes of other
 * output: only lines that start with the prefix are ever decoded, and at most one partial
 * candidate line (bounded) is carried between chunks.
 */
const PREFIX = Buffer.from('mlops:metric');
/** A longer "metric line" is not one we will parse: drop it rather than buffer without bound. */
const MAX_LINE = 64 * 1024;
const NL = 0x0a;
const KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;

export interface ParsedMetric {
  key: string;
  value: number;
  step: number;
}

/** One line (without its newline); undefined when it is not a well-formed metric line. */
export function parseMetricLine(line: string): ParsedMetric[] | undefined {
  const text = line.replace(/\r$/, '');
  if (!text.startsWith('mlops:metric ') && !text.startsWith('mlops:metric\t')) return undefined;
  let step = 0;
  const pairs: [string, number][] = [];
  for (const token of text.slice(PREFIX.length).trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) return undefined;
    const key = token.slice(0, eq);
    const raw = token.slice(eq + 1);
    const value = /^(nan|NaN)$/.test(raw) ? NaN : /^[+-]?(inf|Infinity)$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : raw === '' ? NaN : Number(raw);
    if (key === 'step') {
      if (!Number.isInteger(value) || value < 0) return undefined;
      step = value;
    } else if (KEY.test(key) && (!Number.isNaN(value) || /nan/i.test(raw))) pairs.push([key, value]);
    else return undefined;
  }
  if (pairs.length === 0) return undefined;
  return pairs.map(([key, value]) => ({ key, value, step }));
}

export class MetricLineParser {
  /** Partial line that may still become a metric line. */
  private carry: Buffer | undefined;
  /** Inside a line that cannot be a metric line: skip to its end. */
  private skipping = false;

  constructor(private readonly onMetrics: (points: ParsedMetric[]) => void) {}

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.carry || this.skipping) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        if (this.carry) this.keep(Buffer.concat([this.carry, chunk]));
        return;
      }
      if (this.carry) this.line(Buffer.concat([this.carry, chunk.subarray(0, nl)]));
      this.carry = undefined;
      this.skipping = false;
      pos = nl + 1;
    }
    // `pos` is at a line start. Jump between prefix occurrences instead of walking every line.
    const lastNl = chunk.lastIndexOf(NL);
    let at = chunk.indexOf(PREFIX, pos);
    while (at !== -1 && at < lastNl) {
      const end = chunk.indexOf(NL, at);
      if (at === pos || chunk[at - 1] === NL) this.line(chunk.subarray(at, end));
      at = chunk.indexOf(PREFIX, end + 1);
    }
    const tailStart = lastNl >= pos ? lastNl + 1 : pos;
    if (tailStart < chunk.length) this.keep(Buffer.from(chunk.subarray(tailStart)));
  }

  /** Flushes a last line without a newline. */
  end(): void {
    if (this.carry) this.line(this.carry);
    this.carry = undefined;
    this.skipping = false;
  }

  /** Carries a partial line only while it can still be a metric line. */
  private keep(partial: Buffer): void {
    const n = Math.min(partial.length, PREFIX.length);
    const compatible = partial.subarray(0, n).equals(PREFIX.subarray(0, n));
    if (compatible && partial.length <= MAX_LINE) {
      this.carry = partial;
      this.skipping = false;
    } else {
      this.carry = undefined;
      this.skipping = true;
    }
  }

  private line(buf: Buffer): void {
    if (buf.length > MAX_LINE) return;
    const points = parseMetricLine(buf.toString('utf8'));
    if (points) this.onMetrics(points);
  }
}
