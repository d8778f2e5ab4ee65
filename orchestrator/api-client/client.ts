/**
 * A typed client of the orchestrator daemon's HTTP API (protocol/api.ts) over global fetch,
 * for the CLI and the extension. Errors come back as MlopsError with the daemon's code; an
 * unreachable daemon is MlopsError('UNAVAILABLE') (the CLI maps it to exit status 3).
 */
import type { DaemonApi, DaemonEvent } from '../../protocol/api';
import { EVENTS_PATH } from '../../protocol/api';
import { isErrorBody, MlopsError, type ErrorCode } from '../../protocol/errors';
import type { RunPlan, RunRequest } from '../../protocol/pipeline';
import type { MetricPoint } from '../../protocol/types';
import { SseParser } from './sse';

export type Endpoint = keyof DaemonApi;
export type Req<K extends Endpoint> = DaemonApi[K]['req'];
export type Res<K extends Endpoint> = DaemonApi[K]['res'];

export interface DaemonClientOptions {
  /** Per-request timeout (not applied to the event stream); default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The live event stream: iterate it; `ready` resolves once the daemon has subscribed us. */
export interface EventStream extends AsyncIterable<DaemonEvent> {
  /** Resolves when the stream is open, so events of anything started afterwards are not missed. */
  readonly ready: Promise<void>;
  close(): void;
}

export class DaemonClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  /** `baseUrl`: `http://127.0.0.1:<port>`; `token`: the contents of `.mlops/token`. */
  constructor(baseUrl: string, private readonly token: string, opts: DaemonClientOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  get baseUrl(): string {
    return this.base;
  }

  health(): Promise<Res<'GET /api/health'>> {
    return this.call('GET /api/health', undefined);
  }

  plan(req: RunRequest): Promise<RunPlan> {
    return this.call('POST /api/pipeline/plan', req);
  }

  /** Starts a pipeline run; MlopsError CONFLICT (naming the active run) while another is active. */
  run(req: RunRequest): Promise<Res<'POST /api/pipeline/run'>> {
    return this.call('POST /api/pipeline/run', req);
  }

  cancel(runId: string): Promise<Res<'POST /api/pipeline/cancel'>> {
    return this.call('POST /api/pipeline/cancel', { runId });
  }

  logs(id: string, step: string, offset = 0): Promise<Res<'GET /api/runs/logs'>> {
    return this.call('GET /api/runs/logs', { id, step, offset });
  }

  runs(query: Req<'GET /api/runs'> = {}): Promise<Res<'GET /api/runs'>> {
    return this.call('GET /api/runs', query);
  }

  getRun(id: string): Promise<Res<'GET /api/runs/get'>> {
    return this.call('GET /api/runs/get', { id });
  }

  experiments(): Promise<Res<'GET /api/experiments'>> {
    return this.call('GET /api/experiments', undefined);
  }

  /** Every point of one metric of a run (tracking route `GET /api/runs/metrics`). */
  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const res = await this.request<{ metrics: MetricPoint[] }>('GET', '/api/runs/metrics', { id: runId, key });
    return res.metrics;
  }

  stopDaemon(): Promise<Res<'POST /api/daemon/stop'>> {
    return this.call('POST /api/daemon/stop', undefined);
  }

  /** Any endpoint of DaemonApi: GET requests send `req` as the query string, POST as the JSON body. */
  call<K extends Endpoint>(endpoint: K, req: Req<K>): Promise<Res<K>> {
    const [method, path] = endpoint.split(' ') as ['GET' | 'POST', string];
    return this.request<Res<K>>(method, path, req);
  }

  /**
   * Server-sent events until the daemon stops or `signal` aborts. The iterator ends quietly
   * when the daemon closes the stream (it says `daemon-stopping` first) or on abort, and
   * throws MlopsError('UNAVAILABLE') when the connection breaks.
   */
  events(signal?: AbortSignal): EventStream {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    if (signal?.aborted) controller.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const response = this.fetchImpl(this.base + EVENTS_PATH, {
      headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    }).then(async (res) => {
      if (!res.ok || !res.body) throw await errorFrom(res);
      return res;
    }, (err) => {
      throw controller.signal.aborted ? new MlopsError('UNAVAILABLE', 'event stream closed') : unreachable(this.base, err);
    });
    const ready = response.then(() => undefined);
    ready.catch(() => undefined); // reported through iteration too
    const iterate = async function* (): AsyncGenerator<DaemonEvent> {
      let res: Response;
      try {
        res = await response;
      } catch (e) {
        if (controller.signal.aborted) return;
        throw e;
      }
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch (e) {
            if (controller.signal.aborted) return;
            throw new MlopsError('UNAVAILABLE', `lost the orchestrator's event stream: ${(e as Error)?.message ?? e}`);
          }
          if (chunk.done) return;
          for (const data of parser.push(decoder.decode(chunk.value, { stream: true }))) yield JSON.parse(data) as DaemonEvent;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        controller.abort();
      }
    };
    const it = iterate();
    return {
      ready,
      close: () => controller.abort(),
      [Symbol.asyncIterator]: () => it,
    };
  }

  private async request<T>(method: 'GET' | 'POST', path: string, req: unknown): Promise<T> {
    let url = this.base + path;
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(this.timeoutMs) };
    if (method === 'GET') {
      const qs = query(req);
      if (qs) url += `?${qs}`;
    } else {
      init.body = JSON.stringify(req ?? {});
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (err) {
      throw unreachable(this.base, err);
    }
    if (!res.ok) throw await errorFrom(res);
    return (await res.json()) as T;
  }
}

function query(req: unknown): string {
  if (req === undefined || req === null) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req as Record<string, unknown>)) {
    if (v !== undefined && v !== null) params.set(k, String(v));
  }
  return params.toString();
}

async function errorFrom(res: Response): Promise<MlopsError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) return new MlopsError(body.error.code, body.error.message, body.error.details);
  const code: ErrorCode = res.status === 401 ? 'UNAUTHORIZED' : res.status === 404 ? 'NOT_FOUND' : res.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  return new MlopsError(code, `orchestrator answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

function unreachable(base: string, err: unknown): MlopsError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return new MlopsError('UNAVAILABLE', `the orchestrator daemon at ${base} did not answer in time`);
  const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return new MlopsError('UNAVAILABLE', `cannot reach the orchestrator daemon at ${base} (${why}); start it with: mlops daemon start`);
}
