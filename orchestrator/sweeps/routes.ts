/**
 * The sweep endpoints (protocol/sweep.ts `SweepApi`), mounted by the daemon's route table.
 * Handlers return the response body or throw MlopsError.
 */
import type { DaemonApi } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { SweepStartRequest } from '../../protocol/sweep';
import type { DaemonRouteDeps, HttpRoute } from '../daemon/routes';
import * as v from '../tracking/validate';
import { SweepManager, type SweepHost } from './manager';

type Res<K extends keyof DaemonApi> = Promise<DaemonApi[K]['res']>;

const SWEEP_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,199}$/;

function isSweepHost(r: unknown): r is SweepHost {
  return typeof (r as Partial<SweepHost> | undefined)?.host === 'function';
}

export function sweepRoutes(d: Pick<DaemonRouteDeps, 'store' | 'paths' | 'runner' | 'log'>): HttpRoute[] {
  let manager: SweepManager | undefined;
  const sweeps = (): SweepManager =>
    (manager ??= new SweepManager({
      workspace: d.paths.workspace,
      store: d.store,
      runner: () => {
        const r = d.runner();
        if (r && !isSweepHost(r)) throw new MlopsError('UNAVAILABLE', 'this orchestrator cannot run sweeps');
        return r as SweepHost | undefined;
      },
      log: d.log,
    }));
  return [
    {
      method: 'GET',
      path: '/api/sweeps',
      async handle(): Res<'GET /api/sweeps'> {
        return { sweeps: await sweeps().list() };
      },
    },
    {
      method: 'POST',
      path: '/api/sweeps/start',
      mutates: true,
      async handle(body): Res<'POST /api/sweeps/start'> {
        return (await sweeps().start(startRequest(body))).result;
      },
    },
    {
      method: 'POST',
      path: '/api/sweeps/stop',
      mutates: true,
      async handle(body): Res<'POST /api/sweeps/stop'> {
        const runId = v.string(v.object(body, 'body').runId, 'runId', 64);
        const stopped = await sweeps().stop(runId);
        if (stopped) d.log.info(`sweep ${runId}: stop requested`);
        return { stopped };
      },
    },
    {
      method: 'GET',
      path: '/api/sweeps/status',
      async handle(_body, query): Res<'GET /api/sweeps/status'> {
        return sweeps().status(v.queryString(query, 'id'));
      },
    },
  ];
}

/** Validates a SweepStartRequest body. */
export function startRequest(body: unknown): SweepStartRequest {
  const b = v.object(body, 'body');
  const name = v.string(b.name, 'name', 200);
  if (!SWEEP_NAME.test(name)) throw v.bad('name', `"${name}" is not a sweep name`);
  const req: SweepStartRequest = { name };
  for (const key of ['trials', 'parallel'] as const) {
    const x = b[key];
    if (x === undefined) continue;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 100_000) throw v.bad(key, 'must be an integer from 1 to 100000');
    req[key] = x;
  }
  if (b.fresh !== undefined) {
    if (typeof b.fresh !== 'boolean') throw v.bad('fresh', 'must be true or false');
    req.fresh = b.fresh;
  }
  const experiment = v.optionalString(b.experiment, 'experiment', v.MAX_KEY_LENGTH);
  if (experiment !== undefined) req.experiment = experiment;
  return req;
}
