/**
 * The serving endpoints (protocol/serving.ts `ServingApi`), mounted by the daemon's route
 * table. Reads need the viewer role, changes the editor role (routeRole's defaults).
 */
import type { DaemonApi } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { HttpRoute } from '../daemon/routes';
import * as v from '../tracking/validate';
import type { DeploymentManager } from './manager';
import { checkWeight } from './rollout';
import { checkName } from '../registry/refs';

type Res<K extends keyof DaemonApi> = Promise<DaemonApi[K]['res']>;

const DEPLOYMENT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

export function deploymentRoutes(manager: () => DeploymentManager | undefined): HttpRoute[] {
  const m = (): DeploymentManager => {
    const d = manager();
    if (!d) throw new MlopsError('UNAVAILABLE', 'the orchestrator is still starting; try again in a moment');
    return d;
  };
  return [
    {
      method: 'GET',
      path: '/api/deployments',
      async handle(): Res<'GET /api/deployments'> {
        return { deployments: await m().list() };
      },
    },
    {
      method: 'GET',
      path: '/api/deployments/get',
      async handle(_body, query): Res<'GET /api/deployments/get'> {
        return m().get(deploymentName(query.get('name')));
      },
    },
    {
      method: 'GET',
      path: '/api/deployments/samples',
      async handle(_body, query): Res<'GET /api/deployments/samples'> {
        const since = v.queryInteger(query, 'since', 0, 0, Number.MAX_SAFE_INTEGER);
        return { samples: await m().samples(deploymentName(query.get('name')), since) };
      },
    },
    {
      method: 'POST',
      path: '/api/deployments/deploy',
      async handle(body, _query, caller): Res<'POST /api/deployments/deploy'> {
        const b = v.object(body, 'body');
        return m().deploy(caller, deploymentName(b.name), optionalVersion(b.version));
      },
    },
    {
      method: 'POST',
      path: '/api/deployments/canary',
      async handle(body, _query, caller): Res<'POST /api/deployments/canary'> {
        const b = v.object(body, 'body');
        const version = optionalVersion(b.version);
        if (version === undefined) throw v.bad('version', 'is required: the version to send canary traffic to');
        let weight: number | undefined;
        if (b.weight !== undefined) {
          if (typeof b.weight !== 'number') throw v.bad('weight', 'must be a whole percent from 1 to 99');
          checkWeight(b.weight);
          weight = b.weight;
        }
        return m().canary(caller, deploymentName(b.name), version, weight);
      },
    },
    {
      method: 'POST',
      path: '/api/deployments/promote',
      async handle(body, _query, caller): Res<'POST /api/deployments/promote'> {
        return m().promote(caller, deploymentName(v.object(body, 'body').name));
      },
    },
    {
      method: 'POST',
      path: '/api/deployments/rollback',
      async handle(body, _query, caller): Res<'POST /api/deployments/rollback'> {
        return m().rollback(caller, deploymentName(v.object(body, 'body').name));
      },
    },
    {
      method: 'POST',
      path: '/api/deployments/split',
      async handle(body, _query, caller): Res<'POST /api/deployments/split'> {
        const b = v.object(body, 'body');
        return m().split(caller, deploymentName(b.name), splitWeights(b.weights));
      },
    },
    {
      method: 'POST',
      path: '/api/deployments/shadow',
      async handle(body, _query, caller): Res<'POST /api/deployments/shadow'> {
        const b = v.object(body, 'body');
        const name = deploymentName(b.name);
        const version = optionalVersion(b.version);
        const alias = b.alias === undefined || b.alias === null ? undefined : checkName(v.string(b.alias, 'alias', 128), 'alias');
        const stop = b.stop === true;
        if (b.stop !== undefined && typeof b.stop !== 'boolean') throw v.bad('stop', 'must be true or false');
        if ([version !== undefined, alias !== undefined, stop].filter(Boolean).length !== 1) throw v.bad('body', 'give exactly one of version, alias or stop: true');
        return m().shadow(caller, name, stop ? undefined : version !== undefined ? { version } : { alias: alias! });
      },
    },
    {
      method: 'POST',
      path: '/api/deployments/undeploy',
      async handle(body, _query, caller): Res<'POST /api/deployments/undeploy'> {
        return m().undeploy(caller, deploymentName(v.object(body, 'body').name));
      },
    },
  ];
}

function deploymentName(raw: unknown): string {
  const name = v.string(raw ?? undefined, 'name', 64);
  if (!DEPLOYMENT_NAME.test(name)) throw v.bad('name', `"${name}" is not a deployment name (letters, digits, "_", "." and "-", starting with a letter or "_")`);
  return name;
}

/** `{"1": 50, "challenger": 50}`: keys are parsed (version or alias) by the manager. */
function splitWeights(raw: unknown): Record<string, number> {
  const w = v.object(raw, 'weights');
  const entries = Object.entries(w);
  if (entries.length < 2) throw v.bad('weights', 'needs at least two versions, e.g. {"1": 50, "2": 50}');
  if (entries.length > 20) throw v.bad('weights', 'names more than 20 versions');
  for (const [k, x] of entries) {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw v.bad(`weights.${k}`, 'must be a number of 0 or more (a relative share of traffic)');
  }
  return w as Record<string, number>;
}

function optionalVersion(raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) throw v.bad('version', 'must be a version number (1, 2, 3, …)');
  return raw;
}
