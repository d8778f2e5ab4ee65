/**
 * The monitoring endpoints (protocol/monitoring.ts `MonitorApi`), mounted by the daemon's
 * route table: a deployment's monitor status (viewer) and a drift check now (editor).
 */
import type { DaemonApi } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { HttpRoute } from '../daemon/routes';
import type { MonitorService } from './monitor-service';

type Res<K extends keyof DaemonApi> = Promise<DaemonApi[K]['res']>;

const DEPLOYMENT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** An optional non-negative integer query parameter. */
function countOf(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new MlopsError('BAD_REQUEST', `${key}: expected a whole number, got ${JSON.stringify(raw)}`);
  return n;
}

function nameOf(v: unknown): string {
  if (typeof v !== 'string' || !DEPLOYMENT_NAME.test(v)) throw new MlopsError('BAD_REQUEST', `name: expected a deployment name, got ${JSON.stringify(v ?? null)}`);
  return v;
}

export function monitorRoutes(service: () => MonitorService | undefined): HttpRoute[] {
  const s = (): MonitorService => {
    const m = service();
    if (!m) throw new MlopsError('UNAVAILABLE', 'the orchestrator is still starting; try again in a moment');
    return m;
  };
  return [
    {
      method: 'GET',
      path: '/api/monitor',
      async handle(_body, query): Res<'GET /api/monitor'> {
        return s().status(nameOf(query.get('name')), { last: countOf(query, 'last'), since: countOf(query, 'since') });
      },
    },
    {
      method: 'POST',
      path: '/api/monitor/check',
      async handle(body): Res<'POST /api/monitor/check'> {
        return s().check(nameOf((body as { name?: unknown } | undefined)?.name));
      },
    },
  ];
}
