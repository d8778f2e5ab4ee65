/**
 * Server-sent events at `GET /api/events`: every pipeline event, `runs-changed` (throttled)
 * when the run list or a run's latest values may have changed, and `daemon-stopping`.
 * One `data:` line of JSON per event; a comment line every `heartbeatMs` keeps proxies and
 * idle timeouts from closing a quiet stream and lets clients notice a dead daemon.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DaemonEvent } from '../../protocol/api';

/** Past this much unsent data a client is slow: live log lines to it are dropped (they are in the log files). */
const SLOW_CLIENT_BYTES = 4 * 1024 * 1024;
/** Past this, the client is disconnected; it can reconnect and re-read state. */
const DEAD_CLIENT_BYTES = 64 * 1024 * 1024;
const RUNS_CHANGED_THROTTLE_MS = 250;

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private runsChangedTimer: NodeJS.Timeout | undefined;
  private runsChangedPending = false;
  private lastRunsChanged = 0;

  constructor(heartbeatMs = 15_000) {
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  /** Takes over the response; the request stays open until the client or the daemon closes it. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write('retry: 2000\n: connected\n\n');
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.on('close', drop);
    res.on('close', drop);
  }

  /** In-process listeners (e.g. deployments following aliases on `models-changed`). */
  private readonly listeners = new Set<(e: DaemonEvent) => void>();

  /** Calls `listener` for every published event; returns the unsubscribe function. */
  subscribe(listener: (e: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: DaemonEvent): void {
    for (const l of this.listeners) l(event);
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > DEAD_CLIENT_BYTES) {
        this.clients.delete(res);
        res.destroy();
      } else if (event.type !== 'step-output' || res.writableLength < SLOW_CLIENT_BYTES) {
        res.write(frame);
      }
    }
  }

  /** At most one `runs-changed` per throttle window, and always one after the last call. */
  runsChanged(): void {
    const wait = this.lastRunsChanged + RUNS_CHANGED_THROTTLE_MS - Date.now();
    if (wait <= 0 && !this.runsChangedTimer) {
      this.lastRunsChanged = Date.now();
      this.publish({ type: 'runs-changed' });
      return;
    }
    this.runsChangedPending = true;
    if (this.runsChangedTimer) return;
    this.runsChangedTimer = setTimeout(() => {
      this.runsChangedTimer = undefined;
      if (!this.runsChangedPending) return;
      this.runsChangedPending = false;
      this.lastRunsChanged = Date.now();
      this.publish({ type: 'runs-changed' });
    }, Math.max(wait, 0));
  }

  /** Ends every stream (after telling clients why when `event` is given). */
  closeAll(event?: DaemonEvent): void {
    if (event) this.publish(event);
    clearInterval(this.heartbeat);
    if (this.runsChangedTimer) clearTimeout(this.runsChangedTimer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private broadcast(text: string): void {
    for (const res of this.clients) res.write(text);
  }
}
