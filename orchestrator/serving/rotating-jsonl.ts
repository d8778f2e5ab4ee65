/**
 * An append-only JSON-lines log split into numbered files (`<prefix>-<n>.jsonl`): lines are
 * buffered in memory and written in batches (a quarter second apart, or sooner once 256 KiB
 * wait), a new file starts when the current one would pass `fileBytes`, and only the newest
 * `files` files are kept. The hot path only pushes a string. If the disk stalls the buffer is
 * capped and further lines are dropped (and counted) rather than growing without bound.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface RotatingJsonlOptions {
  fileBytes: number;
  files: number;
  flushMs?: number;
  /** Largest buffer before lines are dropped. */
  maxBufferBytes?: number;
}

const FLUSH_AT_BYTES = 256 * 1024;

export class RotatingJsonl {
  private lines: string[] = [];
  private buffered = 0;
  private index: number;
  private size: number;
  private fd: number | undefined;
  private writing: Promise<void> = Promise.resolve();
  private soon = false;
  private readonly timer: NodeJS.Timeout;
  dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly opts: RotatingJsonlOptions,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    const existing = this.numbers();
    this.index = existing.length ? existing[existing.length - 1]! : 1;
    this.size = fileSize(this.file(this.index));
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 250);
    this.timer.unref();
  }

  /** Queues one line (an object, serialised here). */
  append(entry: unknown): void {
    this.appendLine(JSON.stringify(entry));
  }

  /** Queues one line already serialised as JSON (without the newline). */
  appendLine(json: string): void {
    const line = json + '\n';
    if (this.buffered + line.length > (this.opts.maxBufferBytes ?? 16 * 1024 * 1024)) {
      this.dropped++;
      return;
    }
    this.lines.push(line);
    this.buffered += line.length;
    if (this.buffered >= FLUSH_AT_BYTES && !this.soon) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        void this.flush();
      });
    }
  }

  /** Writes what is buffered; resolves when it is on disk (in the OS's hands). */
  flush(): Promise<void> {
    if (this.lines.length === 0) return this.writing;
    const lines = this.lines;
    this.lines = [];
    this.buffered = 0;
    this.writing = this.writing.then(() => this.write(lines)).catch((err: unknown) => {
      process.stderr.write(`request log: could not write to ${this.dir}: ${(err as Error).message}\n`);
    });
    return this.writing;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** Files now kept, oldest first. */
  files(): string[] {
    return this.numbers().map((n) => this.file(n));
  }

  private async write(lines: string[]): Promise<void> {
    // Usually the whole batch fits in the current file: one join, one write.
    const all = lines.join('');
    const bytes = Buffer.byteLength(all);
    if (this.size + bytes <= this.opts.fileBytes) return this.writeText(all);
    let chunk: string[] = [];
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (this.size + chunkBytes + bytes > this.opts.fileBytes && this.size + chunkBytes > 0) {
        await this.writeChunk(chunk);
        chunk = [];
        chunkBytes = 0;
        this.rotate();
      }
      chunk.push(line);
      chunkBytes += bytes;
    }
    await this.writeChunk(chunk);
  }

  private async writeChunk(chunk: string[]): Promise<void> {
    if (!chunk.length) return;
    const text = chunk.join('');
    return this.writeText(text);
  }

  private async writeText(text: string): Promise<void> {
    const buf = Buffer.from(text);
    this.fd ??= fs.openSync(this.file(this.index), 'a', 0o600);
    const fd = this.fd;
    // appendFile on an fd writes the whole buffer (fs.write may stop short).
    await new Promise<void>((resolve, reject) => fs.appendFile(fd, buf, (err) => (err ? reject(err) : resolve())));
    this.size += buf.length;
  }

  private rotate(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.index++;
    this.size = 0;
    for (const n of this.numbers()) {
      if (n <= this.index - this.opts.files) fs.rmSync(this.file(n), { force: true });
    }
  }

  private file(n: number): string {
    return path.join(this.dir, `${this.prefix}-${n}.jsonl`);
  }

  private numbers(): number[] {
    const re = new RegExp(`^${this.prefix}-(\\d+)\\.jsonl$`);
    return fs
      .readdirSync(this.dir)
      .map((f) => re.exec(f)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
