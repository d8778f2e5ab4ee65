/**
 * Live step output for the IDE and `mlops logs --follow`, coalesced: at most one event per
 * stream per FLUSH_MS (so ≤ 20 events/s per step), each at most MAX_LIVE_BYTES. A step
 * printing 100 MB neither floods listeners nor grows memory; what is dropped here is still in
 * the step log file, and a marker line says so.
 */
import { StringDecoder } from 'node:string_decoder';

export const FLUSH_MS = 100;
const MAX_LIVE_BYTES = 64 * 1024;

type Stream = 'stdout' | 'stderr';

interface Pending {
  chunks: Buffer[];
  bytes: number;
  dropped: number;
  decoder: StringDecoder;
}

function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export class LiveOutput {
  private readonly pending: Record<Stream, Pending> = {
    stdout: { chunks: [], bytes: 0, dropped: 0, decoder: new StringDecoder('utf8') },
    stderr: { chunks: [], bytes: 0, dropped: 0, decoder: new StringDecoder('utf8') },
  };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly emit: (stream: Stream, text: string) => void) {}

  push(stream: Stream, chunk: Buffer): void {
    const p = this.pending[stream];
    const room = MAX_LIVE_BYTES - p.bytes;
    if (room <= 0) p.dropped += chunk.length;
    else {
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      // Copy: the child's stream may reuse its buffer; and keep only what we show.
      p.chunks.push(Buffer.from(kept));
      p.bytes += kept.length;
      p.dropped += chunk.length - kept.length;
    }
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.pending[stream];
      if (p.bytes === 0 && p.dropped === 0) continue;
      let text = p.decoder.write(Buffer.concat(p.chunks));
      if (p.dropped) {
        text += `\n[mlops] ${humanBytes(p.dropped)} of ${stream} not shown live; the step log has everything\n`;
        // Dropping may cut a character in half: start the next window clean.
        p.decoder = new StringDecoder('utf8');
      }
      p.chunks = [];
      p.bytes = 0;
      p.dropped = 0;
      if (text) this.emit(stream, text);
    }
  }

  close(): void {
    this.flush();
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.pending[stream].decoder.end();
      if (rest) this.emit(stream, rest);
    }
  }
}
