/**
 * A minimal server-sent events parser: feeds text, yields the `data` of each complete event
 * (several `data:` lines join with "\n"); comments (heartbeats), `retry:`, `id:` and `event:`
 * fields are ignored, as the daemon sends only unnamed JSON events.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  /** Returns the data of every event completed by `chunk`. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const out: string[] = [];
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      const sepLength = this.buffer.startsWith('\r\n', nl) ? 2 : 1;
      // A lone trailing '\r' may be the first half of '\r\n': wait for more.
      if (sepLength === 1 && this.buffer[nl] === '\r' && nl === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(nl + sepLength);
      if (line === '') {
        if (this.data.length > 0) out.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line[5] === ' ' ? 6 : 5));
      }
    }
    return out;
  }
}
