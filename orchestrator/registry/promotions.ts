/**
 * Promotion requests for protected aliases (`approvals: {production: N}`): someone asks for
 * a version to get the alias, N other identities approve (the requester never counts), and
 * the approval that reaches N moves the alias in the same transaction. Gates are checked when
 * the request is made and again when it is applied (the reference of a relative gate may have
 * moved meanwhile). Requests, approvals and rejections are kept as records.
 */
import { MlopsError } from '../../protocol/errors';
import type { AliasEvent, Caller, PromotionRequest } from '../../protocol/registry';
import { gateError } from './gates';
import { checkName } from './refs';
import type { RegistryTx } from './registry-store';
import type { RegistryCore } from './registry';
import { approvalMoves } from './ci-only';
import { requireRole, roleAllows } from './roles';

/** A request by id, or the pending request for a version and an alias. */
export type RequestSelector = { id: number } | { model: string; alias: string; version: number };

export async function request(core: RegistryCore, caller: Caller, r: { model: string; alias: string; version: number; comment?: string }): Promise<PromotionRequest> {
  requireRole(caller, 'editor', 'requesting a promotion');
  checkName(r.alias, 'alias');
  const policy = core.policy(r.model);
  const required = policy.approvals[r.alias] ?? 0;
  if (required === 0) {
    throw new MlopsError('BAD_REQUEST', `${r.model}@${r.alias} needs no approvals (mlops.yaml sets none for it); set it directly: mlops models alias ${r.model}@${r.alias} ${r.version}`);
  }
  return core.store.write(async (tx) => {
    const v = await tx.version(r.model, r.version);
    if (!v) throw new MlopsError('NOT_FOUND', (await tx.model(r.model)) ? `${r.model} has no version ${r.version}` : `no registered model "${r.model}"`);
    if ((await tx.aliases(r.model))[r.alias] === r.version) throw new MlopsError('CONFLICT', `${r.model}@${r.alias} already points at v${r.version}`);
    const gates = await core.gateReport(tx, r.model, v, r.alias, policy);
    if (!gates.passed) throw gateError(gates);
    const open = (await tx.requests({ model: r.model, alias: r.alias, version: r.version, status: 'pending' }))[0];
    if (open) throw new MlopsError('CONFLICT', `request #${open.id} to move ${r.model}@${r.alias} to v${r.version} is already pending (${open.approvals.length} of ${open.required} approvals)`, open);
    const at = core.now();
    const created = await tx.insertRequest({ model: r.model, version: r.version, alias: r.alias, requestedBy: caller.name, requestedAt: at, required, ...(r.comment ? { comment: r.comment } : {}) });
    await tx.appendAudit({ actor: caller.name, action: 'request.create', target: `${r.model}@${r.alias}`, after: { request: created.id, version: r.version, required, ...(r.comment ? { comment: r.comment } : {}) } }, at);
    return created;
  });
}

export async function approve(core: RegistryCore, caller: Caller, sel: RequestSelector, comment?: string): Promise<{ request: PromotionRequest; event?: AliasEvent }> {
  requireRole(caller, 'approver', 'approving a promotion');
  const model = 'id' in sel ? undefined : sel.model;
  return core.store.write(async (tx) => {
    const req = await pendingRequest(tx, sel);
    const policy = core.policy(model ?? req.model);
    if (req.requestedBy === caller.name) {
      throw new MlopsError('FORBIDDEN', `request #${req.id} was made by "${caller.name}"; an approval must come from another identity (a token with the approver role)`);
    }
    if (req.approvals.some((a) => a.actor === caller.name)) throw new MlopsError('CONFLICT', `"${caller.name}" has already approved request #${req.id}`);
    const v = await tx.version(req.model, req.version);
    if (!v) throw new MlopsError('CONFLICT', `${req.model} v${req.version} no longer exists`);
    const gates = await core.gateReport(tx, req.model, v, req.alias, policy);
    if (!gates.passed) throw gateError(gates);
    const at = core.now();
    await tx.addDecision(req.id, caller.name, 'approve', at, comment);
    // The manifest may have changed since the request: the count it asks for now applies.
    const required = Math.max(1, policy.approvals[req.alias] ?? req.required);
    const approvals = req.approvals.length + 1;
    await tx.appendAudit({ actor: caller.name, action: 'request.approve', target: `${req.model}@${req.alias}`, after: { request: req.id, version: req.version, approvals, required, ...(comment ? { comment } : {}) } }, at);
    let event: AliasEvent | undefined;
    if (approvals >= required) {
      await tx.setRequestStatus(req.id, 'approved', at);
      // A ci-only alias waits for the CI job to apply the approved request (see ci-only.ts).
      if (approvalMoves(policy, req.alias)) event = await core.moveAlias(tx, caller, { model: req.model, alias: req.alias, version: req.version, action: 'promote', requestId: req.id, audit: 'alias.promote', extra: { request: req.id, requestedBy: req.requestedBy, approvedBy: [...req.approvals.map((a) => a.actor), caller.name] } });
    }
    return { request: (await tx.request(req.id))!, ...(event ? { event } : {}) };
  });
}

export async function reject(core: RegistryCore, caller: Caller, sel: RequestSelector, comment?: string): Promise<PromotionRequest> {
  requireRole(caller, 'approver', 'rejecting a promotion');
  return core.store.write(async (tx) => {
    const req = await pendingRequest(tx, sel);
    if (req.requestedBy === caller.name) throw new MlopsError('FORBIDDEN', `request #${req.id} is yours; withdraw it with: mlops models cancel-request ${req.model}@${req.alias} ${req.version}`);
    const at = core.now();
    await tx.addDecision(req.id, caller.name, 'reject', at, comment);
    await tx.setRequestStatus(req.id, 'rejected', at);
    await tx.appendAudit({ actor: caller.name, action: 'request.reject', target: `${req.model}@${req.alias}`, after: { request: req.id, version: req.version, ...(comment ? { comment } : {}) } }, at);
    return (await tx.request(req.id))!;
  });
}

/** The requester (or an admin) withdraws a pending request. */
export async function cancel(core: RegistryCore, caller: Caller, sel: RequestSelector): Promise<PromotionRequest> {
  requireRole(caller, 'editor', 'withdrawing a promotion request');
  return core.store.write(async (tx) => {
    const req = await pendingRequest(tx, sel);
    if (req.requestedBy !== caller.name && !roleAllows(caller.role, 'admin')) {
      throw new MlopsError('FORBIDDEN', `request #${req.id} was made by "${req.requestedBy}"; only they (or an admin) can withdraw it; an approver can reject it`);
    }
    const at = core.now();
    await tx.setRequestStatus(req.id, 'cancelled', at);
    await tx.appendAudit({ actor: caller.name, action: 'request.cancel', target: `${req.model}@${req.alias}`, after: { request: req.id, version: req.version } }, at);
    return (await tx.request(req.id))!;
  });
}

async function pendingRequest(tx: RegistryTx, sel: RequestSelector): Promise<PromotionRequest> {
  if ('id' in sel) {
    const r = await tx.request(sel.id);
    if (!r) throw new MlopsError('NOT_FOUND', `no promotion request #${sel.id}`);
    if (r.status !== 'pending') throw new MlopsError('CONFLICT', `request #${r.id} is already ${r.status}`);
    return r;
  }
  const r = (await tx.requests({ model: sel.model, alias: sel.alias, version: sel.version, status: 'pending' }))[0];
  if (!r) {
    throw new MlopsError('NOT_FOUND', `no pending request to move ${sel.model}@${sel.alias} to v${sel.version}; request it with: mlops models request ${sel.model}@${sel.alias} ${sel.version}`);
  }
  return r;
}
