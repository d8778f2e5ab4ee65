/**
 * The subset of MLflow's REST API 2.0 that `mlflow.start_run`, `log_metric(s)`, `log_param(s)`,
 * `set_tag(s)`, `end_run`, `set_experiment` and `get_run` use, mapped onto our Store, so
 * existing MLflow code logs into the workspace with only MLFLOW_TRACKING_URI (and
 * MLFLOW_TRACKING_TOKEN) changed. Request and response JSON follow MLflow's shapes,
 * including its error body `{error_code, message}` (hence `mlflowErrors: true`).
 *
 * Mapping choices: MLflow experiment ids are our experiment ids ("0" = Default); runs
 * created through MLflow are of kind 'step' (one piece of user code) and are nested under
 * the run named by the `mlflow.parentRunId` tag.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MlopsError } from '../../protocol/errors';
import type { Experiment, MetricPoint, RunStatus, RunSummary } from '../../protocol/types';
import type { Route, RouteContext } from './routes';
import * as v from './validate';

const BASE = '/api/2.0/mlflow';
// MLflow's log-batch limits.
const MAX_METRICS_PER_BATCH = 1000;
const MAX_PARAMS_TAGS_PER_BATCH = 100;
const MAX_ENTITIES_PER_BATCH = 1000;

type MlflowStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

const FROM_MLFLOW: Record<MlflowStatus, RunStatus> = {
  RUNNING: 'running',
  SCHEDULED: 'queued',
  FINISHED: 'succeeded',
  FAILED: 'failed',
  KILLED: 'cancelled',
};

const TO_MLFLOW: Record<RunStatus, MlflowStatus> = {
  queued: 'SCHEDULED',
  running: 'RUNNING',
  succeeded: 'FINISHED',
  skipped: 'FINISHED', // a skipped step reused outputs of a finished one
  failed: 'FAILED',
  interrupted: 'FAILED', // the daemon died under it: MLflow has no closer state
  cancelled: 'KILLED',
};

/** MLflow error codes and the HTTP statuses its server sends with them. */
const ERROR_MAP: Partial<Record<MlopsError['code'], [string, number]>> = {
  BAD_REQUEST: ['INVALID_PARAMETER_VALUE', 400],
  NOT_FOUND: ['RESOURCE_DOES_NOT_EXIST', 404],
  CONFLICT: ['RESOURCE_ALREADY_EXISTS', 400],
  UNAUTHORIZED: ['UNAUTHENTICATED', 401],
  FORBIDDEN: ['PERMISSION_DENIED', 403],
};

export function mlflowErrorResponse(err: MlopsError): { status: number; body: { error_code: string; message: string } } {
  const [code, status] = ERROR_MAP[err.code] ?? ['INTERNAL_ERROR', 500];
  return { status, body: { error_code: code, message: err.message } };
}

function route(method: 'GET' | 'POST', path: string, handle: Route['handle']): Route {
  return { method, path: `${BASE}/${path}`, mlflowErrors: true, handle };
}

export const mlflowRoutes: Route[] = [
  route('POST', 'experiments/create', async (ctx, body) => {
    const b = v.object(body, 'body');
    const name = v.string(b.name, 'name');
    if (await ctx.store.getExperiment({ name })) throw new MlopsError('CONFLICT', `Experiment '${name}' already exists.`);
    return { experiment_id: (await ctx.store.getOrCreateExperiment(name)).id };
  }),
  route('GET', 'experiments/get-by-name', async (ctx, _body, query) => {
    const name = v.queryString(query, 'experiment_name');
    const exp = await ctx.store.getExperiment({ name });
    if (!exp) throw new MlopsError('NOT_FOUND', `Could not find experiment with name '${name}'`);
    return { experiment: experimentJson(ctx, exp) };
  }),
  route('GET', 'experiments/get', async (ctx, _body, query) => {
    return { experiment: experimentJson(ctx, await experimentById(ctx, v.queryString(query, 'experiment_id'))) };
  }),
  route('POST', 'runs/create', async (ctx, body) => {
    const b = v.object(body, 'body');
    const exp = await experimentById(ctx, v.optionalString(b.experiment_id, 'experiment_id') ?? '0');
    const tags = b.tags === undefined ? {} : keyValueList(b.tags, 'tags', v.MAX_TAG_VALUE_LENGTH);
    const name = v.optionalString(b.run_name, 'run_name') ?? tags['mlflow.runName'] ?? `run-${randomBytes(4).toString('hex')}`;
    tags['mlflow.runName'] = name;
    tags['mlflow.user'] ??= v.optionalString(b.user_id, 'user_id') ?? ctx.actor;
    const id = await ctx.store.createRun({
      experiment: exp.name,
      name,
      kind: 'step',
      parentId: tags['mlflow.parentRunId'],
      gitCommit: tags['mlflow.source.git.commit'], // set by MLflow's client when run from a git checkout
      tags,
      status: 'running',
      startedAt: v.integer(b.start_time, 'start_time', Date.now()),
    });
    return { run: await runJson(ctx, id) };
  }),
  route('POST', 'runs/update', async (ctx, body) => {
    const b = v.object(body, 'body');
    const id = runIdOf(b);
    const status = b.status === undefined ? undefined : mlflowStatus(b.status);
    const terminal = status !== undefined && status !== 'running' && status !== 'queued';
    const name = v.optionalString(b.run_name, 'run_name');
    const endedAt = b.end_time === undefined || b.end_time === null ? (terminal ? Date.now() : undefined) : v.integer(b.end_time, 'end_time');
    await ctx.store.updateRun(id, { status, endedAt, name });
    if (name !== undefined) await ctx.store.setTags(id, { 'mlflow.runName': name });
    return { run_info: (await runJson(ctx, id)).info };
  }),
  route('GET', 'runs/get', async (ctx, _body, query) => {
    const id = query.get('run_id') || query.get('run_uuid');
    return { run: await runJson(ctx, v.string(id ?? undefined, 'run_id')) };
  }),
  route('POST', 'runs/log-metric', async (ctx, body) => {
    const b = v.object(body, 'body');
    await ctx.store.logMetrics(runIdOf(b), [metricOf(b, '')]);
    return {};
  }),
  route('POST', 'runs/log-parameter', async (ctx, body) => {
    const b = v.object(body, 'body');
    const key = v.key(b.key, 'key');
    await paramConflictIsBadRequest(ctx.store.logParams(runIdOf(b), { [key]: v.textValue(b.value, 'value', v.MAX_PARAM_VALUE_LENGTH) }));
    return {};
  }),
  route('POST', 'runs/set-tag', async (ctx, body) => {
    const b = v.object(body, 'body');
    const key = v.key(b.key, 'key');
    await ctx.store.setTags(runIdOf(b), { [key]: v.textValue(b.value, 'value', v.MAX_TAG_VALUE_LENGTH) });
    return {};
  }),
  route('POST', 'runs/delete-tag', async (ctx, body) => {
    const b = v.object(body, 'body');
    await ctx.store.deleteTag(runIdOf(b), v.key(b.key, 'key'));
    return {};
  }),
  route('POST', 'runs/log-batch', async (ctx, body) => {
    const b = v.object(body, 'body');
    const id = runIdOf(b);
    const metrics = b.metrics === undefined ? [] : v.array(b.metrics, 'metrics', MAX_METRICS_PER_BATCH);
    const params = b.params === undefined ? [] : v.array(b.params, 'params', MAX_PARAMS_TAGS_PER_BATCH);
    const tags = b.tags === undefined ? [] : v.array(b.tags, 'tags', MAX_PARAMS_TAGS_PER_BATCH);
    if (metrics.length + params.length + tags.length > MAX_ENTITIES_PER_BATCH) {
      throw v.bad('body', `holds ${metrics.length + params.length + tags.length} metrics, params and tags; the limit is ${MAX_ENTITIES_PER_BATCH}`);
    }
    await paramConflictIsBadRequest(
      ctx.store.logBatch(id, {
        metrics: metrics.map((m, i) => metricOf(v.object(m, `metrics[${i}]`), `metrics[${i}].`)),
        params: keyValueList(params, 'params', v.MAX_PARAM_VALUE_LENGTH),
        tags: keyValueList(tags, 'tags', v.MAX_TAG_VALUE_LENGTH),
      }),
    );
    return {};
  }),
  route('GET', 'metrics/get-history', async (ctx, _body, query) => {
    const id = query.get('run_id') || query.get('run_uuid');
    const history = await ctx.store.getMetricHistory(v.string(id ?? undefined, 'run_id'), v.key(query.get('metric_key') ?? undefined, 'metric_key'));
    return { metrics: history.map(metricJson) };
  }),
];

function runIdOf(b: Record<string, unknown>): string {
  // run_uuid is MLflow's deprecated alias, still sent by old clients.
  return v.string(b.run_id ?? b.run_uuid, 'run_id');
}

function metricOf(o: Record<string, unknown>, prefix: string): MetricPoint {
  return {
    key: v.key(o.key, `${prefix}key`),
    value: v.metricValue(o.value, `${prefix}value`),
    timestamp: v.integer(o.timestamp, `${prefix}timestamp`, Date.now()),
    step: v.integer(o.step, `${prefix}step`, 0),
  };
}

function mlflowStatus(raw: unknown): RunStatus {
  if (typeof raw === 'string' && raw in FROM_MLFLOW) return FROM_MLFLOW[raw as MlflowStatus];
  throw v.bad('status', `must be one of ${Object.keys(FROM_MLFLOW).join(', ')}`);
}

/** MLflow sends params and tags as `[{key, value}]`. */
function keyValueList(list: unknown, field: string, maxValueLength: number): Record<string, string> {
  const out: Record<string, string> = {};
  v.array(list, field, MAX_ENTITIES_PER_BATCH).forEach((item, i) => {
    const o = v.object(item, `${field}[${i}]`);
    out[v.key(o.key, `${field}[${i}].key`)] = v.textValue(o.value ?? '', `${field}[${i}].value`, maxValueLength);
  });
  return out;
}

/** MLflow rejects changing a logged param with INVALID_PARAMETER_VALUE, not ALREADY_EXISTS. */
async function paramConflictIsBadRequest(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MlopsError && err.code === 'CONFLICT') throw new MlopsError('BAD_REQUEST', err.message, err.details);
    throw err;
  }
}

async function experimentById(ctx: RouteContext, id: string): Promise<Experiment> {
  const exp = await ctx.store.getExperiment({ id });
  if (!exp) throw new MlopsError('NOT_FOUND', `No Experiment with id=${id} exists`);
  return exp;
}

function experimentJson(ctx: RouteContext, exp: Experiment) {
  return {
    experiment_id: exp.id,
    name: exp.name,
    artifact_location: ctx.artifactRoot ? pathToFileURL(ctx.artifactRoot).href : '',
    lifecycle_stage: 'active',
    ...(exp.lastRunAt === undefined ? {} : { last_update_time: exp.lastRunAt }),
    tags: [],
  };
}

async function runJson(ctx: RouteContext, id: string) {
  const run = await ctx.store.getRun(id);
  if (!run) throw new MlopsError('NOT_FOUND', `Run '${id}' not found`);
  const [exp, latest] = await Promise.all([ctx.store.getExperiment({ name: run.experiment }), ctx.store.getLatestMetrics(id)]);
  return {
    info: runInfo(ctx, run, exp?.id ?? '0'),
    data: {
      metrics: latest.map(metricJson),
      params: Object.entries(run.params).map(([key, value]) => ({ key, value })),
      tags: Object.entries(run.tags).map(([key, value]) => ({ key, value })),
    },
  };
}

function runInfo(ctx: RouteContext, run: RunSummary, experimentId: string) {
  return {
    run_id: run.id,
    run_uuid: run.id,
    run_name: run.name,
    experiment_id: experimentId,
    user_id: run.tags['mlflow.user'] ?? '',
    status: TO_MLFLOW[run.status],
    start_time: run.startedAt,
    ...(run.endedAt === undefined ? {} : { end_time: run.endedAt }),
    artifact_uri: ctx.artifactRoot ? pathToFileURL(join(ctx.artifactRoot, run.id, 'artifacts')).href : '',
    lifecycle_stage: 'active',
  };
}

/** Non-finite doubles are spelled as strings, as protobuf JSON (and so MLflow) does. */
function metricJson(p: MetricPoint) {
  const value = Number.isFinite(p.value) ? p.value : Number.isNaN(p.value) ? 'NaN' : p.value > 0 ? 'Infinity' : '-Infinity';
  return { key: p.key, value, timestamp: p.timestamp, step: p.step };
}
