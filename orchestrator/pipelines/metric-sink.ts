/**
 * Metric points of a running step, written to the store in batches (one transaction per
 * FLUSH_MS or MAX_BATCH points) onto the step run and its pipeline run, so a step logging
 * every iteration costs few writes and the pipeline's latest metrics show e.g. accuracy.
 */
import type { MetricPoint } from '../../protocol/types';
import type { Store } from '../store/store';

const FLUSH_MS = 250;
const MAX_BATCH = 1000;

export class MetricSink {
  private buffer: MetricPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** The first write error, reported once the step ends. */
  error: Error | undefined;
  count = 0;

  constructor(
    private readonly store: Pick<Store, 'logMetrics'>,
    private readonly runIds: readonly string[],
  ) {}

  add(points: MetricPoint[]): void {
    this.buffer.push(...points);
    this.count += points.length;
    if (this.buffer.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    // Serialised: batches land in logging order.
    this.chain = this.chain.then(async () => {
      try {
        for (const id of this.runIds) await this.store.logMetrics(id, batch);
      } catch (e) {
        this.error ??= e as Error;
      }
    });
  }

  /** Writes what is left and waits for every batch. */
  async close(): Promise<void> {
    this.flush();
    await this.chain;
  }
}
