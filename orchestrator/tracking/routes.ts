/**
 * The tracking HTTP API as a transport-independent route table: the daemon mounts it behind
 * its own HTTP server and token check, tests call the handlers directly. A handler returns
 * the JSON response body or throws `MlopsError`; `errorResponse` turns a throw into the
 * status and body the HTTP layer should send.
 *
 * Our own routes live under `/api/runs`; MLflow REST 2.0 routes (see mlflow-routes.ts) live
 * under `/api/2.0/mlflow` so existing `mlflow.log_*` code can point MLFLOW_TRACKING_URI here.
 */
import { MlopsError } from '../../protocol/errors';
import { RUN_KINDS, RUN_STATUSES, type MetricPoint, type RunKind, type RunStatus } from '../../protocol/types';
import type { RunFilter, RunOrder, Store } from '../store/store';
import { mlflowErrorResponse, mlflowRoutes } from './mlflow-routes';
import * as v from './validate';

export interface RouteContext {
  store: Store;
  /** Who is calling (token owner), for attribution; 'local' for the workspace token. */
  actor: string;
  /** Absolute path of `.mlops/runs`; when set, MLflow responses carry file:// artifact URIs. */
  artifactRoot?: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Exact path, no trailing slash; the query string is passed separately. */
  path: string;
  /**
   * Render errors in MLflow's `{error_code, message}` shape instead of our
   * `{error: {code, message}}`: MLflow clients parse only theirs. See `errorResponse`.
   */
  mlflowErrors?: boolean;
  /** `body` is the parsed JSON request body (undefined for GET). Resolves to the response body. */
  handle(ctx: RouteContext, body: unknown, query: URLSearchParams): Promise<unknown>;
}

/** At most this many metric points per log-metrics request; the clients send 1000. */
export const MAX_METRICS_PER_REQUEST = 10_000;
const MAX_PAGE = 1000;

const ourRoutes: Route[] = [
  {
    // ?experiment=&parentId=<id>|none&status=a,b&kind=&limit=&offset=&orderBy=startedAt|metrics.<key>&desc=true|false
    method: 'GET',
    path: '/api/runs',
    async handle({ store }, _body, query) {
      const filter = runFilter(query);
      const [runs, total] = await Promise.all([
        store.listRuns({
          ...filter,
          limit: v.queryInteger(query, 'limit', 100, 1, MAX_PAGE),
          offset: v.queryInteger(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
          orderBy: runOrder(query.get('orderBy')),
          desc: booleanParam(query.get('desc'), 'desc', true),
        }),
        store.countRuns(filter),
      ]);
      return { runs, total };
    },
  },
  {
    method: 'GET',
    path: '/api/runs/get',
    async handle({ store }, _body, query) {
      const id = v.queryString(query, 'id');
      const run = await store.getRun(id);
      if (!run) throw new MlopsError('NOT_FOUND', `run ${id} not found`);
      return run;
    },
  },
  {
    method: 'GET',
    path: '/api/runs/metrics',
    async handle({ store }, _body, query) {
      return { metrics: await store.getMetricHistory(v.queryString(query, 'id'), v.key(query.get('key') ?? undefined, 'key')) };
    },
  },
  {
    // {runId, metrics: [{key, value, step?, timestamp?}]}; value may be "NaN"/"Infinity" strings.
    method: 'POST',
    path: '/api/runs/log-metrics',
    async handle({ store }, body) {
      const b = v.object(body, 'body');
      const runId = v.string(b.runId, 'runId');
      const now = Date.now();
      const metrics = v.array(b.metrics, 'metrics', MAX_METRICS_PER_REQUEST).map((m, i): MetricPoint => {
        const o = v.object(m, `metrics[${i}]`);
        return {
          key: v.key(o.key, `metrics[${i}].key`),
          value: v.metricValue(o.value, `metrics[${i}].value`),
          step: v.integer(o.step, `metrics[${i}].step`, 0),
          timestamp: v.integer(o.timestamp, `metrics[${i}].timestamp`, now),
        };
      });
      await store.logMetrics(runId, metrics);
      return { logged: metrics.length };
    },
  },
  {
    // {runId, params: {key: value}}
    method: 'POST',
    path: '/api/runs/log-params',
    async handle({ store }, body) {
      const b = v.object(body, 'body');
      const runId = v.string(b.runId, 'runId');
      await store.logParams(runId, v.keyValues(b.params, 'params', v.MAX_PARAM_VALUE_LENGTH, 1000));
      return {};
    },
  },
  {
    // {runId, tags: {key: value}}
    method: 'POST',
    path: '/api/runs/set-tags',
    async handle({ store }, body) {
      const b = v.object(body, 'body');
      const runId = v.string(b.runId, 'runId');
      await store.setTags(runId, v.keyValues(b.tags, 'tags', v.MAX_TAG_VALUE_LENGTH, 1000));
      return {};
    },
  },
];

/** Every tracking route: ours, then MLflow's. */
export const trackingRoutes: Route[] = [...ourRoutes, ...mlflowRoutes];

/**
 * The HTTP status and body for an error thrown by `route` (or by the dispatcher before a
 * route was found, when `route` is undefined). Anything but an MlopsError is a bug: it
 * becomes a 500 with a generic message, and the caller should log the original.
 */
export function errorResponse(route: Pick<Route, 'mlflowErrors'> | undefined, err: unknown): { status: number; body: unknown } {
  const e = err instanceof MlopsError ? err : new MlopsError('INTERNAL', 'internal error; see the orchestrator log');
  if (route?.mlflowErrors) return mlflowErrorResponse(e);
  return { status: e.status, body: e.toJSON() };
}

function runFilter(query: URLSearchParams): RunFilter {
  const filter: RunFilter = {};
  const experiment = query.get('experiment');
  if (experiment) filter.experiment = experiment;
  const parent = query.get('parentId');
  if (parent === 'none') filter.parentId = null;
  else if (parent) filter.parentId = parent;
  const status = query.get('status');
  if (status) filter.status = status.split(',').map((s) => oneOf<RunStatus>(s, RUN_STATUSES, 'status'));
  const kind = query.get('kind');
  if (kind) filter.kind = oneOf<RunKind>(kind, RUN_KINDS, 'kind');
  // ?param=lr:0.05 (repeatable): runs whose param has that value
  for (const p of query.getAll('param')) {
    const at = p.indexOf(':');
    if (at <= 0) throw v.bad('param', 'must be KEY:VALUE');
    (filter.params ??= {})[p.slice(0, at)] = p.slice(at + 1);
  }
  return filter;
}

function runOrder(raw: string | null): RunOrder {
  if (raw === null || raw === '' || raw === 'startedAt') return 'startedAt';
  if (raw.startsWith('metrics.')) return { metric: v.key(raw.slice('metrics.'.length), 'orderBy') };
  throw v.bad('orderBy', 'must be "startedAt" or "metrics.<key>"');
}

function booleanParam(raw: string | null, name: string, fallback: boolean): boolean {
  if (raw === null || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw v.bad(name, 'must be true or false');
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw v.bad(field, `must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}
