/**
 * The model server on the wire: node:http on 127.0.0.1 with keep-alive, bearer-token auth on
 * everything but /v2/health/*, an `X-Request-Id` on every answer, bodies capped at
 * maxBodyBytes, and the Open Inference Protocol v2, `/predict`, `/metrics` and feedback routes.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { REQUEST_ID_HEADER, type FeedbackEntry } from '../../protocol/serving';
import { badInput, HttpError, messageOf, statusOf } from './http-error';
import type { ModelServer, Outcome, RequestMeta } from './model-server';
import { parsePredictBody, parseV2Body } from './requests';
import { v2Datatype } from './tensors';

export const SERVING_HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Header naming the version that answered (useful for A/B checks; the body stays standard). */
export const VERSION_HEADER = 'x-mlops-version';

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body: Json | string;
  headers?: Record<string, string>;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export class HttpFront {
  private readonly server: http.Server;
  private readonly maxBody: number;
  private readonly tokenBytes: Buffer | undefined;
  /** Parsed request paths: clients call the same few URLs over and over. */
  private readonly paths = new Map<string, string[]>();
  private inFlight = 0;
  private closing = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly core: ModelServer,
    token: string | undefined,
  ) {
    this.maxBody = core.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.tokenBytes = token === undefined ? undefined : Buffer.from(token);
    this.server = http.createServer({ keepAlive: true }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.headersTimeout = 35_000;
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, SERVING_HOST, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting, lets requests in progress finish (up to `graceMs`), then closes every connection. */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => (this.drained = resolve)), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    const given = req.headers[REQUEST_ID_HEADER];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const at = Date.now();
    let reply: Reply;
    try {
      reply = await this.route(req, { id, at });
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) process.stderr.write(`model server: ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}\n`);
      reply = { status, body: { error: messageOf(err) } };
    }
    this.send(req, res, id, reply);
    if (--this.inFlight === 0 && this.drained) this.drained();
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, id: string, reply: Reply): void {
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const headers: Record<string, string | number> = {
      'content-type': typeof reply.body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json',
      'content-length': Buffer.byteLength(text),
      [REQUEST_ID_HEADER]: id,
      ...reply.headers,
    };
    if (reply.status === 401) headers['www-authenticate'] = 'Bearer';
    // A body we stopped reading (too large) leaves the connection unusable: close it.
    const abandoned = !req.complete;
    if (this.closing || abandoned) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(text);
    if (abandoned) res.once('finish', () => req.destroy());
  }

  private async route(req: http.IncomingMessage, meta: Pick<RequestMeta, 'id' | 'at'>): Promise<Reply> {
    const url = req.url ?? '/';
    const parts = this.pathParts(url);
    const method = req.method ?? 'GET';
    const core = this.core;

    if (parts[0] === 'v2' && parts[1] === 'health') {
      if (method !== 'GET') return notAllowed(method, url);
      if (parts[2] === 'live' && parts.length === 3) return { status: 200, body: { live: true } };
      if (parts[2] === 'ready' && parts.length === 3) return { status: core.isReady() ? 200 : 503, body: { ready: core.isReady() } };
      throw new HttpError(404, `no route ${method} ${url}; health checks are /v2/health/live and /v2/health/ready`);
    }
    if (this.tokenBytes !== undefined) {
      const auth = req.headers.authorization;
      const presented = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
      if (!presented || !this.tokenMatches(presented)) {
        return { status: 401, body: { error: presented ? 'the bearer token is wrong' : 'missing bearer token: send "Authorization: Bearer <token>"' } };
      }
    }

    if (parts.length === 1 && (parts[0] === 'predict' || parts[0] === 'invocations')) {
      if (method !== 'POST') return notAllowed(method, url);
      const parsed = parsePredictBody(await this.readJson(req));
      return this.inferReply(await core.answer(parsed, { ...meta, sticky: this.sticky(req) }), 'predict');
    }
    if (parts.length === 1 && parts[0] === 'metrics') {
      if (method !== 'GET') return notAllowed(method, url);
      return { status: 200, body: core.metricsText() };
    }
    if (parts[0] === 'v2' && parts.length === 1 && method === 'GET') {
      return { status: 200, body: { name: 'mlops-model-server', version: '1', extensions: [] } };
    }
    if (parts[0] === 'v2' && parts[1] === 'models' && parts[2] !== undefined) {
      const name = parts[2];
      if (!core.knows(name)) throw new HttpError(404, `unknown model "${name}"; this server serves "${core.modelName()}" (deployment "${core.options.deployment}")`);
      let rest = parts.slice(3);
      let version: number | undefined;
      if (rest[0] === 'versions') {
        version = Number(rest[1]);
        if (!Number.isInteger(version) || !core.routing()?.byVersion.has(version)) {
          throw new HttpError(404, `version ${rest[1] ?? '(none)'} of "${name}" is not served here; loaded: ${[...(core.routing()?.byVersion.keys() ?? [])].join(', ') || 'none'}`);
        }
        rest = rest.slice(2);
      }
      const action = rest.join('/');
      if (action === '' && method === 'GET') return { status: 200, body: this.metadata(version) };
      if (action === 'ready' && method === 'GET') {
        const ready = version === undefined ? core.isReady() : core.routing()!.byVersion.get(version)!.loaded.backend.health() === 'ready';
        return { status: ready ? 200 : 503, body: { name, ready } };
      }
      if (action === 'infer' && method === 'POST') {
        const parsed = parseV2Body(await this.readJson(req));
        return this.inferReply(await core.answer(parsed, { ...meta, version, sticky: this.sticky(req) }), 'v2', name);
      }
      if (action === 'feedback' && method === 'POST' && version === undefined) {
        const entries = feedbackEntries(await this.readJson(req), Date.now());
        for (const e of entries) core.feedbackLog.append(e);
        // Labels are joined to logged predictions: once this answers, both are on disk, so a
        // monitor check right after sees every labelled request (the request log is batched).
        await Promise.all([core.feedbackLog.flush(), core.requestLog.flush()]);
        return { status: 200, body: { accepted: entries.length } };
      }
      if (['', 'ready', 'infer', 'feedback'].includes(action)) return notAllowed(method, url);
    }
    throw new HttpError(404, `no route ${method} ${url}; try POST /v2/models/{name}/infer, POST /predict, GET /metrics`);
  }

  /** Constant time for a token of the right length (the length itself is no secret: 64 hex digits). */
  private tokenMatches(presented: string): boolean {
    const given = Buffer.from(presented);
    return given.length === this.tokenBytes!.length && timingSafeEqual(given, this.tokenBytes!);
  }

  private pathParts(url: string): string[] {
    let parts = this.paths.get(url);
    if (!parts) {
      const q = url.indexOf('?');
      parts = (q < 0 ? url : url.slice(0, q)).split('/').filter(Boolean).map(safeDecode);
      if (this.paths.size >= 256) this.paths.clear(); // bounded: arbitrary URLs cannot grow it
      this.paths.set(url, parts);
    }
    return parts;
  }

  private sticky(req: http.IncomingMessage): string | undefined {
    const header = this.core.stickyHeader();
    const v = header ? req.headers[header] : undefined;
    return typeof v === 'string' && v ? v : undefined;
  }

  private inferReply(o: Outcome, kind: 'v2' | 'predict', name?: string): Reply {
    const headers = { [VERSION_HEADER]: String(o.version) };
    if (!o.answer) return { status: o.status, body: { error: o.error ?? 'failed' }, headers };
    if (kind === 'predict') return { status: 200, body: { predictions: o.answer.predictions }, headers };
    return { status: 200, body: { model_name: name, model_version: String(o.version), outputs: o.answer.outputs }, headers };
  }

  private metadata(version: number | undefined): Json {
    const table = this.core.routing();
    const entry = version !== undefined ? table?.byVersion.get(version) : table?.main();
    const sig = entry?.loaded.backend.schema.signature;
    const tensor = (t: { name: string; type: string; shape?: (number | string)[] }) => ({
      name: t.name,
      datatype: v2Datatype(t.type),
      shape: (t.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)),
    });
    return {
      name: this.core.modelName(),
      versions: [...(table?.byVersion.keys() ?? [])].map(String),
      platform: entry?.loaded.backend.platform ?? 'unknown',
      inputs: sig?.inputs.map(tensor) ?? [],
      outputs: sig?.outputs.map(tensor) ?? [],
      ...(sig?.metadata ? { parameters: sig.metadata } : {}),
    };
  }

  /** The body as JSON; 413 (without reading the rest) past maxBodyBytes. */
  private readJson(req: http.IncomingMessage): Promise<unknown> {
    const declared = Number(req.headers['content-length']);
    if (declared > this.maxBody) return Promise.reject(tooLarge(this.maxBody));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer): void => {
        size += c.length;
        if (size > this.maxBody) {
          req.off('data', onData);
          req.pause();
          reject(tooLarge(this.maxBody));
          return;
        }
        chunks.push(c);
      };
      req.on('data', onData);
      req.once('error', reject);
      req.once('end', () => {
        if (size > this.maxBody) return;
        const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        if (!text.trim()) return reject(badInput('the body is empty; send JSON'));
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(badInput(`the body is not valid JSON: ${messageOf(err)}`));
        }
      });
    });
  }
}

const tooLarge = (max: number): HttpError => new HttpError(413, `the body is larger than the limit of ${max} bytes`);

function notAllowed(method: string, url: string): Reply {
  return { status: 405, body: { error: `${method} is not allowed on ${url}` } };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `{"id", "labels"}` or `{"feedback": [{"id", "label"}]}` → log lines. */
export function feedbackEntries(body: unknown, at: number): FeedbackEntry[] {
  const obj = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Json) : undefined;
  if (!obj) throw badInput('feedback must be {"id", "labels": [...]} or {"feedback": [{"id", "label"}, ...]}');
  const checkId = (id: unknown, where: string): string => {
    if (typeof id !== 'string' || !id) throw badInput(`${where}: "id" must be the request id (a non-empty string)`);
    return id;
  };
  if (obj.feedback !== undefined) {
    if (!Array.isArray(obj.feedback) || obj.feedback.length === 0) throw badInput('"feedback" must be a non-empty list of {"id", "label"}');
    return obj.feedback.map((f, i) => {
      const item = (typeof f === 'object' && f !== null ? f : {}) as Json;
      const id = checkId(item.id, `feedback[${i}]`);
      if (!('label' in item)) throw badInput(`feedback[${i}]: missing "label"`);
      return { id, at, labels: [item.label] };
    });
  }
  const id = checkId(obj.id, 'feedback');
  if (!Array.isArray(obj.labels) || obj.labels.length === 0) throw badInput('feedback: "labels" must be a non-empty list (one label per row of the request)');
  return [{ id, at, labels: obj.labels }];
}
