/**
 * The serving endpoints (protocol/serving.ts `ServingApi`), mounted by the daemon's route
 * table. Reads need the viewer role, changes the editor role (routeRole's defaults).
 */
import type { DaemonApi } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { Caller } from '../../protocol/registry';
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
    post('POST /api/deployments/deploy', async (b, caller) => m().deploy(caller, deploymentName(b.name), optionalVersion(b.version))),
    post('POST /api/deployments/canary', async (b, caller) => {
      const version = optionalVersion(b.version);
      if (version === undefined) throw v.bad('version', 'is required: the version to send canary traffic to');
      let weight: number | undefined;
      if (b.weight !== undefined) {
        if (typeof b.weight !== 'number') throw v.bad('weight', 'must be a whole percent from 1 to 99');
        checkWeight(b.weight);
        weight = b.weight;
      }
      return m().canary(caller, deploymentName(b.name), version, weight);
    }),
    post('POST /api/deployments/promote', async (b, caller) => m().promote(caller, deploymentName(b.name))),
    post('POST /api/deployments/rollback', async (b, caller) => m().rollback(caller, deploymentName(b.name))),
    post('POST /api/deployments/split', async (b, caller) => m().split(caller, deploymentName(b.name), splitWeights(b.weights))),
    post('POST /api/deployments/shadow', async (b, caller) => {
      const name = deploymentName(b.name);
      const version = optionalVersion(b.version);
      const alias = b.alias === undefined || b.alias === null ? undefined : checkName(v.string(b.alias, 'alias', 128), 'alias');
      const stop = b.stop === true;
      if (b.stop !== undefined && typeof b.stop !== 'boolean') throw v.bad('stop', 'must be true or false');
      if ([version !== undefined, alias !== undefined, stop].filter(Boolean).length !== 1) throw v.bad('body', 'give exactly one of version, alias or stop: true');
      return m().shadow(caller, name, stop ? undefined : version !== undefined ? { version } : { alias: alias! });
    }),
    post('POST /api/deployments/undeploy', async (b, caller) => m().undeploy(caller, deploymentName(b.name))),
  ];
}

/** A POST route whose body must be a JSON object; the key ties the handler's result to the protocol's response type. */
function post<K extends keyof DaemonApi & `POST ${string}`>(key: K, handle: (body: Record<string, unknown>, caller: Caller) => Res<K>): HttpRoute {
  return {
    method: 'POST',
    path: key.slice('POST '.length),
    async handle(body, _query, caller) {
      return handle(v.object(body, 'body'), caller);
    },
  };
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
