/**
 * The daemon's own endpoints (protocol/api.ts), as a table next to the tracking routes.
 * Handlers return the response body or throw MlopsError; http-server.ts does the rest.
 */
import type { DaemonApi, DaemonInfo } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { PipelineEvent, RunPlan, RunRequest } from '../../protocol/pipeline';
import type { Caller, Role } from '../../protocol/registry';
import type { RunStatus } from '../../protocol/types';
import type { Store } from '../store/store';
import type { DeploymentManager } from '../deployments/manager';
import { deploymentRoutes } from '../deployments/routes';
import type { MonitorService } from '../monitoring/monitor-service';
import { monitorRoutes } from '../monitoring/routes';
import { sweepRoutes } from '../sweeps/routes';
import * as v from '../tracking/validate';
import type { Logger } from './log';
import { readStepLog } from './logs';
import type { MlopsPaths } from './paths';

/** What the daemon needs of `PipelineRunner` (orchestrator/pipelines); tests may pass a fake. */
export interface RunnerPort {
  plan(req: RunRequest): Promise<RunPlan>;
  /** Throws MlopsError CONFLICT while another run is active. */
  start(req: RunRequest): Promise<{ runId: string; plan: RunPlan; done: Promise<RunStatus> }>;
  cancel(runId: string): Promise<boolean>;
  activeRunId(): string | undefined;
  on(listener: (e: PipelineEvent) => void): () => void;
}

export interface DaemonRouteDeps {
  store: Store;
  paths: MlopsPaths;
  /** Undefined while the daemon is still starting (the runner needs the port first). */
  runner(): RunnerPort | undefined;
  info(): DaemonInfo;
  /** Called after the stop response has been sent. */
  requestStop(): void;
  runsChanged(): void;
  log: Logger;
  /** The deployments (undefined until the daemon listens: the manager needs the event bus). */
  deployments?: () => DeploymentManager | undefined;
  /** Drift checks and alerts of deployments (undefined until the deployments exist). */
  monitor?: () => MonitorService | undefined;
}

/** One endpoint. `stream` routes (SSE) take over the response instead of returning a body. */
export interface HttpRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  mlflowErrors?: boolean;
  /** Whether a successful call may change what `GET /api/runs` returns (emits `runs-changed`). */
  mutates?: boolean;
  /** Whether a successful call may change the model registry (emits `models-changed`). */
  modelsChanged?: boolean;
  /** Lowest role that may call it (see orchestrator/registry/roles.ts); default: viewer for GET, editor otherwise. */
  role?: Role;
  /** `caller`: the identity of the presented token (the workspace token is `local`, admin). */
  handle(body: unknown, query: URLSearchParams, caller: Caller): Promise<unknown>;
}

/** The role a route needs: its own, or the default by method. */
export function routeRole(r: Pick<HttpRoute, 'method' | 'role'>): Role {
  return r.role ?? (r.method === 'GET' ? 'viewer' : 'editor');
}

type Res<K extends keyof DaemonApi> = Promise<DaemonApi[K]['res']>;

export function daemonRoutes(d: DaemonRouteDeps): HttpRoute[] {
  const runner = (): RunnerPort => {
    const r = d.runner();
    if (!r) throw new MlopsError('UNAVAILABLE', 'the orchestrator is still starting; try again in a moment');
    return r;
  };
  return [
    {
      method: 'GET',
      path: '/api/health',
      async handle(): Res<'GET /api/health'> {
        const active = d.runner()?.activeRunId();
        return { ...d.info(), activeRuns: active ? [active] : [] };
      },
    },
    {
      method: 'POST',
      path: '/api/pipeline/plan',
      async handle(body): Res<'POST /api/pipeline/plan'> {
        return runner().plan(runRequest(body));
      },
    },
    {
      method: 'POST',
      path: '/api/pipeline/run',
      mutates: true,
      async handle(body, _query, caller): Res<'POST /api/pipeline/run'> {
        const r = runner();
        let started: Awaited<ReturnType<RunnerPort['start']>>;
        try {
          // A named token's identity is the run's actor; the workspace token leaves the OS user.
          started = await r.start(runRequest(body, caller.name === 'local' ? undefined : caller.name));
        } catch (e) {
          throw namingActiveRun(e, r.activeRunId());
        }
        d.log.info(`run ${started.runId} started: ${started.plan.steps.map((s) => `${s.step}=${s.action}`).join(' ')}`);
        started.done.then(
          (status) => d.log.info(`run ${started.runId} ${status}`),
          (err) => d.log.error(`run ${started.runId} crashed`, err),
        );
        return { runId: started.runId, plan: started.plan };
      },
    },
    {
      method: 'POST',
      path: '/api/pipeline/cancel',
      mutates: true,
      async handle(body): Res<'POST /api/pipeline/cancel'> {
        const runId = v.string(v.object(body, 'body').runId, 'runId', 64);
        const cancelled = await runner().cancel(runId);
        if (cancelled) d.log.info(`run ${runId}: cancel requested`);
        return { cancelled };
      },
    },
    {
      method: 'GET',
      path: '/api/runs/logs',
      async handle(_body, query): Res<'GET /api/runs/logs'> {
        const offset = v.queryInteger(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
        return readStepLog(d.store, d.paths, { id: v.queryString(query, 'id'), step: v.queryString(query, 'step'), offset });
      },
    },
    {
      method: 'GET',
      path: '/api/experiments',
      async handle(): Res<'GET /api/experiments'> {
        return { experiments: await d.store.listExperiments() };
      },
    },
    {
      method: 'POST',
      path: '/api/daemon/stop',
      role: 'admin',
      async handle(): Res<'POST /api/daemon/stop'> {
        d.log.info('stop requested through the API');
        setImmediate(() => d.requestStop());
        return { stopping: true };
      },
    },
    ...sweepRoutes(d),
    ...deploymentRoutes(d.deployments ?? (() => undefined)),
    ...monitorRoutes(d.monitor ?? (() => undefined)),
  ];
}

/** A CONFLICT from the runner, made to name the active run so the user can act on it. */
function namingActiveRun(err: unknown, active: string | undefined): unknown {
  if (!(err instanceof MlopsError) || err.code !== 'CONFLICT' || !active || err.message.includes(active)) return err;
  return new MlopsError('CONFLICT', `${err.message} (active run: ${active}); wait for it, or stop it with: mlops cancel ${active.slice(0, 8)}`, { activeRunId: active });
}

const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Validates a RunRequest body. `actor` is never taken from the body: it comes from the token
 * (team mode, later); with the workspace token it stays unset and the runner records the OS user.
 */
export function runRequest(body: unknown, actor?: string): RunRequest {
  const b = body === undefined || body === null ? {} : v.object(body, 'body');
  const req: RunRequest = actor ? { actor } : {};
  if (b.steps !== undefined) {
    req.steps = v.array(b.steps, 'steps', 10_000).map((s, i) => {
      const name = v.string(s, `steps[${i}]`, 200);
      if (!STEP_NAME.test(name)) throw v.bad(`steps[${i}]`, `"${name}" is not a step name`);
      return name;
    });
  }
  if (b.params !== undefined) req.params = v.keyValues(b.params, 'params', v.MAX_PARAM_VALUE_LENGTH, 1000);
  if (b.force !== undefined) {
    if (typeof b.force !== 'boolean') throw v.bad('force', 'must be true or false');
    req.force = b.force;
  }
  const experiment = v.optionalString(b.experiment, 'experiment', v.MAX_KEY_LENGTH);
  if (experiment !== undefined) req.experiment = experiment;
  return req;
}
