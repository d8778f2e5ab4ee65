/**
 * The daemon's HTTP server: node:http on 127.0.0.1 only, every request authenticated with
 * the workspace's bearer token, JSON in and out, the tracking routes and the daemon routes
 * in one table, and server-sent events at `/api/events`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENTS_PATH } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { PipelineEvent } from '../../protocol/pipeline';
import type { Caller, Role } from '../../protocol/registry';
import type { ModelRegistry } from '../registry/registry';
import { OWNER, roleAllows } from '../registry/roles';
import { registryRoutes } from '../registry/routes';
import { errorResponse, trackingRoutes, type RouteContext } from '../tracking/routes';
import { EventHub } from './events';
import { daemonRoutes, routeRole, type DaemonRouteDeps, type HttpRoute, type RunnerPort } from './routes';
import { tokenMatches } from './token';

/** The only address the daemon listens on: the API must not be reachable from the network. */
export const DAEMON_HOST = '127.0.0.1';
/** Largest accepted request body (a metric batch of 10 000 points is ~1 MB). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface DaemonServerOptions extends Omit<DaemonRouteDeps, 'runner' | 'runsChanged'> {
  token: string;
  /** The model registry; it also knows the named tokens (team mode). Without it only the workspace token is accepted. */
  registry?: ModelRegistry;
  maxBodyBytes?: number;
  heartbeatMs?: number;
}

/** A route as the tests and the 401 check see it. */
export interface RouteKey {
  method: string;
  path: string;
  /** Lowest role allowed to call it. */
  role: Role;
}

/**
 * The endpoints a daemon serves, without starting one: the same table the server builds
 * (tests check that each of them refuses a request without the token).
 */
export function routeKeys(): RouteKey[] {
  const unused = () => {
    throw new Error('route table only');
  };
  const own = daemonRoutes({ store: undefined as never, paths: undefined as never, runner: unused, info: unused, requestStop: unused, runsChanged: unused, log: undefined as never });
  return [...trackingRoutes, ...own, ...registryRoutes(() => undefined)].map((r): RouteKey => ({ method: r.method, path: r.path, role: routeRole(r) })).concat(EVENTS_ROUTE);
}

/** The event stream: read access. */
const EVENTS_ROUTE: RouteKey = { method: 'GET', path: EVENTS_PATH, role: 'viewer' };

const PIPELINE_STATE_EVENTS = new Set<PipelineEvent['type']>(['run-started', 'step-started', 'step-finished', 'run-finished']);

export class DaemonServer {
  readonly events: EventHub;
  private readonly server: http.Server;
  private readonly table: HttpRoute[];
  private runner: RunnerPort | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly maxBody: number;
  private port = 0;

  constructor(private readonly opts: DaemonServerOptions) {
    this.events = new EventHub(opts.heartbeatMs);
    this.maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
    const ctx: RouteContext = { store: opts.store, actor: 'local', artifactRoot: opts.paths.runs };
    const tracking: HttpRoute[] = trackingRoutes.map((r) => ({
      method: r.method,
      path: r.path,
      mlflowErrors: r.mlflowErrors,
      mutates: r.method !== 'GET',
      handle: (body, query) => r.handle(ctx, body, query),
    }));
    const own = daemonRoutes({ ...opts, runner: () => this.runner, runsChanged: () => this.events.runsChanged() });
    this.table = [...tracking, ...own, ...registryRoutes(() => opts.registry)];
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Connections idle between CLI polls should not pile up; SSE streams are not idle.
    this.server.keepAliveTimeout = 5000;
  }

  /** Every registered endpoint, including the SSE stream. */
  get routes(): RouteKey[] {
    return [...this.table.map((r) => ({ method: r.method, path: r.path, role: routeRole(r) })), EVENTS_ROUTE];
  }

  /** Listens on 127.0.0.1:`port` (0 = a free port chosen by the OS); resolves to the port. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: DAEMON_HOST, port, exclusive: true }, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** Starts serving pipeline routes and forwarding the runner's events to SSE clients. */
  attachRunner(runner: RunnerPort): void {
    this.runner = runner;
    this.unsubscribe = runner.on((e) => {
      this.events.publish(e);
      if (PIPELINE_STATE_EVENTS.has(e.type)) this.events.runsChanged();
    });
  }

  /** Ends SSE streams (telling clients the daemon stops), then closes every connection. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.events.closeAll({ type: 'daemon-stopping' });
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      // In-flight requests get a moment to finish; then everything goes.
      setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let route: HttpRoute | undefined;
    try {
      const url = new URL(req.url ?? '/', `http://${DAEMON_HOST}`);
      const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      const samePath = this.table.filter((r) => r.path === pathname);
      route = samePath.find((r) => r.method === req.method);
      // Authenticate before anything else, so callers without the token learn nothing (not even which paths exist).
      const caller = await this.caller(req);
      if (!caller) {
        res.setHeader('www-authenticate', 'Bearer realm="mlops"');
        throw new MlopsError('UNAUTHORIZED', 'missing or wrong bearer token: send "Authorization: Bearer <contents of .mlops/token>" (or a named token from `mlops tokens create`)');
      }
      this.checkHost(req);
      // Then authorise: every endpoint names the lowest role that may call it.
      const need = route ? routeRole(route) : pathname === EVENTS_PATH ? EVENTS_ROUTE.role : 'viewer';
      if (!roleAllows(caller.role, need)) {
        throw new MlopsError('FORBIDDEN', `${req.method} ${pathname} needs the ${need} role; token "${caller.name}" is ${caller.role}`, { need, have: caller.role });
      }
      if (pathname === EVENTS_PATH && req.method === 'GET') {
        this.events.attach(req, res);
        return;
      }
      if (!route) {
        const allowed = samePath.map((r) => r.method).join(', ');
        throw new MlopsError('NOT_FOUND', allowed ? `${req.method} ${pathname} is not supported; use ${allowed}` : `no endpoint ${req.method} ${pathname}`);
      }
      const body = req.method === 'GET' ? undefined : await this.readJson(req);
      const result = await route.handle(body, url.searchParams, caller);
      if (route.mutates) this.events.runsChanged();
      if (route.modelsChanged) this.events.publish({ type: 'models-changed' });
      send(res, 200, result);
    } catch (err) {
      if (!(err instanceof MlopsError)) this.opts.log.error(`${req.method} ${req.url} failed`, err);
      // An unread request body (401, 413) is drained by node:http after the response, so the
      // client can finish sending and read the answer instead of failing with EPIPE.
      const { status, body } = errorResponse(route, err);
      send(res, status, body);
    }
  }

  /** The workspace token is the owner; a named token is who it names (unknown or revoked: nobody). */
  private async caller(req: http.IncomingMessage): Promise<Caller | undefined> {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m === null) return undefined;
    if (tokenMatches(m[1]!, this.opts.token)) return OWNER;
    return this.opts.registry?.authenticate(m[1]!);
  }

  /**
   * Defence in depth against DNS rebinding: a browser page that rebinds its own name to
   * 127.0.0.1 sends its own Host header. (It would still need the token.)
   */
  private checkHost(req: http.IncomingMessage): void {
    const host = (req.headers.host ?? '').toLowerCase();
    const ok = host === `${DAEMON_HOST}:${this.port}` || host === `localhost:${this.port}` || host === DAEMON_HOST || host === 'localhost';
    if (!ok) throw new MlopsError('FORBIDDEN', `unexpected Host header "${host}"`);
  }

  private readJson(req: http.IncomingMessage): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.maxBody) return Promise.reject(tooLarge(this.maxBody));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (chunk: Buffer) => {
        if (failed) return;
        size += chunk.length;
        if (size > this.maxBody) {
          failed = true;
          chunks.length = 0;
          reject(tooLarge(this.maxBody));
          return;
        }
        chunks.push(chunk);
      });
      req.on('error', reject);
      req.on('end', () => {
        if (failed) return;
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return resolve(undefined);
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new MlopsError('BAD_REQUEST', 'body is not valid JSON'));
        }
      });
    });
  }
}

function tooLarge(max: number): MlopsError {
  return new MlopsError('PAYLOAD_TOO_LARGE', `request body exceeds ${max} bytes`);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = body === undefined ? '{}' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
