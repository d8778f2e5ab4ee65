/**
 * Promotion from CI only (`models.NAME.ci_only_aliases: [production]`): people approve, CI
 * moves. Only a token with the `ci` role may set, promote, roll back or remove such an alias;
 * approvers and admins still approve its promotion requests, but the approval that completes
 * a request leaves the alias where it is, and the CI job applies it later with
 * `mlops models alias NAME@ALIAS VERSION` (setAlias finds the approved request and records a
 * `promote` move that names it). The check is on the exact role, not on the role order: an
 * admin is above ci but is a person.
 */
import { MlopsError } from '../../protocol/errors';
import type { Caller, PromotionRequest } from '../../protocol/registry';
import type { ModelPolicy } from './policy';
import type { RegistryTx } from './registry-store';
import { requireRole } from './roles';

export function isCiOnly(policy: Pick<ModelPolicy, 'ciOnly'>, alias: string): boolean {
  return policy.ciOnly?.includes(alias) ?? false;
}

/** Throws FORBIDDEN when someone other than a ci token tries to move a ci-only alias. */
export function requireCiForMove(caller: Caller, model: string, alias: string, policy: Pick<ModelPolicy, 'ciOnly'>): void {
  if (!isCiOnly(policy, alias) || caller.role === 'ci') return;
  throw new MlopsError('FORBIDDEN', `alias ${alias} of ${model} can only be moved by a token with the ci role (ci_only_aliases); ask CI to promote it`, { need: 'ci', have: caller.role, ciOnly: true });
}

/**
 * Who may move a protected alias outside the request flow (rollback, remove): a ci token when
 * the alias is ci-only (it replaces the approver there), else an approver.
 */
export function requireProtectedMove(caller: Caller, model: string, alias: string, policy: Pick<ModelPolicy, 'ciOnly' | 'approvals'>, what: string): void {
  if (isCiOnly(policy, alias)) requireCiForMove(caller, model, alias, policy);
  else if (policy.approvals[alias]) requireRole(caller, 'approver', what);
}

/** Whether the approval that completes a request moves the alias itself (not when CI applies it). */
export function approvalMoves(policy: Pick<ModelPolicy, 'ciOnly'>, alias: string): boolean {
  return !isCiOnly(policy, alias);
}

/**
 * For a ci token setting a protected ci-only alias: the approved request for this version that
 * no move has applied yet, with as many approvals as the manifest asks for now.
 */
export async function approvedForCi(tx: RegistryTx, caller: Caller, policy: Pick<ModelPolicy, 'ciOnly' | 'approvals'>, model: string, alias: string, version: number): Promise<PromotionRequest | undefined> {
  if (caller.role !== 'ci' || !isCiOnly(policy, alias)) return undefined;
  const approved = await tx.requests({ model, alias, version, status: 'approved' });
  if (approved.length === 0) return undefined;
  const applied = new Set((await tx.aliasEvents(model, alias)).map((e) => e.requestId).filter((id) => id !== undefined));
  const need = policy.approvals[alias] ?? 0;
  return approved.find((r) => !applied.has(r.id) && r.approvals.length >= need);
}
