/**
 * The registry's endpoints (protocol/registry.ts `RegistryApi`) as daemon routes. Each route
 * declares the lowest role that may call it; the HTTP server enforces it before the handler
 * runs, and the handlers check what depends on the target (a protected alias, one's own
 * request). The caller is the token's identity, never a field of the body.
 */
import { MlopsError } from '../../protocol/errors';
import { ROLES, type RegistryApi, type RequestRef, type RequestStatus } from '../../protocol/registry';
import type { HttpRoute } from '../daemon/routes';
import * as v from '../tracking/validate';
import { parseVersion } from './refs';
import type { ModelRegistry } from './registry';
import { isRole } from './roles';

type Res<K extends keyof RegistryApi> = Promise<RegistryApi[K]['res']>;

const MAX_CARD_LENGTH = 1_000_000;
const REQUEST_STATUSES: readonly RequestStatus[] = ['pending', 'approved', 'rejected', 'cancelled'];

/** `registry()` is read per request, so the table can be built (for the route list) without one. */
export function registryRoutes(registry: () => ModelRegistry | undefined): HttpRoute[] {
  const reg = (): ModelRegistry => {
    const r = registry();
    if (!r) throw new MlopsError('UNAVAILABLE', 'the model registry is not available in this daemon');
    return r;
  };
  return [
    {
      method: 'GET',
      path: '/api/whoami',
      role: 'viewer',
      async handle(_b, _q, caller): Res<'GET /api/whoami'> {
        return caller;
      },
    },
    {
      method: 'GET',
      path: '/api/models',
      role: 'viewer',
      async handle(): Res<'GET /api/models'> {
        return { models: await reg().listModels() };
      },
    },
    {
      method: 'GET',
      path: '/api/models/get',
      role: 'viewer',
      async handle(_b, q): Res<'GET /api/models/get'> {
        return reg().getModel(v.queryString(q, 'name'));
      },
    },
    {
      method: 'GET',
      path: '/api/models/version',
      role: 'viewer',
      async handle(_b, q): Res<'GET /api/models/version'> {
        return reg().getVersion(v.queryString(q, 'ref'));
      },
    },
    {
      method: 'POST',
      path: '/api/models/register',
      role: 'editor',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/register'> {
        const b = v.object(body, 'body');
        const description = v.optionalString(b.description, 'description', 10_000);
        const artifact = v.optionalString(b.artifact, 'artifact', 4096);
        return reg().register(caller, {
          model: v.string(b.model, 'model', 128),
          runId: v.string(b.runId, 'runId', 64),
          ...(artifact !== undefined ? { artifact } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(b.tags !== undefined ? { tags: v.keyValues(b.tags, 'tags', v.MAX_TAG_VALUE_LENGTH, 100) } : {}),
        });
      },
    },
    {
      method: 'POST',
      path: '/api/models/delete',
      role: 'admin',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/delete'> {
        const b = v.object(body, 'body');
        const model = v.string(b.model, 'model', 128);
        if (b.version === undefined || b.version === null) {
          await reg().deleteModel(caller, model);
          return { deleted: model };
        }
        const version = version_(b.version);
        await reg().deleteVersion(caller, model, version);
        return { deleted: `${model}/${version}` };
      },
    },
    {
      method: 'POST',
      path: '/api/models/card',
      role: 'editor',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/card'> {
        const b = v.object(body, 'body');
        const model = v.string(b.model, 'model', 128);
        const version = version_(b.version);
        await reg().setCard(caller, model, version, v.string(b.card, 'card', MAX_CARD_LENGTH));
        return { updated: `${model}/${version}` };
      },
    },
    {
      method: 'GET',
      path: '/api/models/gates',
      role: 'viewer',
      async handle(_b, q): Res<'GET /api/models/gates'> {
        return reg().checkGates(v.queryString(q, 'model'), version_(q.get('version')), v.queryString(q, 'alias'));
      },
    },
    {
      method: 'POST',
      path: '/api/models/alias',
      role: 'editor',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/alias'> {
        const b = v.object(body, 'body');
        return reg().setAlias(caller, v.string(b.model, 'model', 128), v.string(b.alias, 'alias', 128), version_(b.version));
      },
    },
    {
      method: 'POST',
      path: '/api/models/unalias',
      role: 'editor',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/unalias'> {
        const b = v.object(body, 'body');
        return reg().unsetAlias(caller, v.string(b.model, 'model', 128), v.string(b.alias, 'alias', 128));
      },
    },
    {
      method: 'POST',
      path: '/api/models/rollback',
      role: 'editor',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/rollback'> {
        const b = v.object(body, 'body');
        return reg().rollback(caller, v.string(b.model, 'model', 128), v.string(b.alias, 'alias', 128));
      },
    },
    {
      method: 'GET',
      path: '/api/models/history',
      role: 'viewer',
      async handle(_b, q): Res<'GET /api/models/history'> {
        return { events: await reg().history(v.queryString(q, 'model'), q.get('alias') || undefined) };
      },
    },
    {
      method: 'GET',
      path: '/api/models/requests',
      role: 'viewer',
      async handle(_b, q): Res<'GET /api/models/requests'> {
        const status = q.get('status') || undefined;
        if (status !== undefined && !(REQUEST_STATUSES as readonly string[]).includes(status)) throw v.bad('status', `must be one of ${REQUEST_STATUSES.join(', ')}`);
        const model = q.get('model') || undefined;
        return { requests: await reg().listRequests({ ...(model ? { model } : {}), ...(status ? { status: status as RequestStatus } : {}) }) };
      },
    },
    {
      method: 'POST',
      path: '/api/models/request',
      role: 'editor',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/request'> {
        const b = v.object(body, 'body');
        return reg().requestPromotion(caller, v.string(b.model, 'model', 128), v.string(b.alias, 'alias', 128), version_(b.version), v.optionalString(b.comment, 'comment', 2000));
      },
    },
    {
      method: 'POST',
      path: '/api/models/approve',
      role: 'approver',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/approve'> {
        const b = v.object(body, 'body');
        return reg().approve(caller, requestRef(b), v.optionalString(b.comment, 'comment', 2000));
      },
    },
    {
      method: 'POST',
      path: '/api/models/reject',
      role: 'approver',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/reject'> {
        const b = v.object(body, 'body');
        return reg().reject(caller, requestRef(b), v.optionalString(b.comment, 'comment', 2000));
      },
    },
    {
      method: 'POST',
      path: '/api/models/cancel-request',
      role: 'editor',
      modelsChanged: true,
      async handle(body, _q, caller): Res<'POST /api/models/cancel-request'> {
        return reg().cancelRequest(caller, requestRef(v.object(body, 'body')));
      },
    },
    {
      method: 'GET',
      path: '/api/tokens',
      role: 'admin',
      async handle(): Res<'GET /api/tokens'> {
        return { tokens: await reg().listTokens() };
      },
    },
    {
      method: 'POST',
      path: '/api/tokens/create',
      role: 'admin',
      async handle(body, _q, caller): Res<'POST /api/tokens/create'> {
        const b = v.object(body, 'body');
        const role = v.string(b.role, 'role', 20);
        if (!isRole(role)) throw v.bad('role', `must be one of ${ROLES.join(', ')}`);
        return reg().createToken(caller, v.string(b.name, 'name', 128), role);
      },
    },
    {
      method: 'POST',
      path: '/api/tokens/revoke',
      role: 'admin',
      async handle(body, _q, caller): Res<'POST /api/tokens/revoke'> {
        return reg().revokeToken(caller, v.string(v.object(body, 'body').name, 'name', 128));
      },
    },
    {
      method: 'GET',
      path: '/api/audit',
      role: 'viewer',
      async handle(_b, q): Res<'GET /api/audit'> {
        return reg().auditLog(v.queryInteger(q, 'limit', 100, 1, 10_000), v.queryInteger(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER));
      },
    },
    {
      method: 'GET',
      path: '/api/audit/verify',
      role: 'viewer',
      async handle(): Res<'GET /api/audit/verify'> {
        return reg().verifyAudit();
      },
    },
  ];
}

function version_(raw: unknown): number {
  if (typeof raw === 'number' || (typeof raw === 'string' && raw !== '')) return parseVersion(raw as number | string);
  throw v.bad('version', 'must be a version number');
}

function requestRef(b: Record<string, unknown>): RequestRef {
  if (b.id !== undefined && b.id !== null) return { id: v.integer(b.id, 'id') };
  return { model: v.string(b.model, 'model', 128), alias: v.string(b.alias, 'alias', 128), version: version_(b.version) };
}
