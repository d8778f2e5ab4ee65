/**
 * Roles of named tokens and what they may do. Each role includes the ones below it:
 * viewer (read) < editor (run, register, set unprotected aliases, request promotions)
 * < ci (an editor for CI jobs; the only role that moves a model's `ci_only_aliases`, see
 * ci-only.ts) < approver (approve or reject promotions, move protected aliases back) < admin
 * (tokens, deletes). The workspace token (`.mlops/token`) is the owner: `local`, admin.
 */
import { MlopsError } from '../../protocol/errors';
import { ROLES, type Caller, type Role } from '../../protocol/registry';

/** The identity of the workspace token. */
export const OWNER: Caller = { name: 'local', role: 'admin' };

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** Throws FORBIDDEN naming the role needed. */
export function requireRole(caller: Caller, need: Role, what: string): void {
  if (!roleAllows(caller.role, need)) {
    throw new MlopsError('FORBIDDEN', `${what} needs the ${need} role; token "${caller.name}" is ${/^[aeiou]/.test(caller.role) ? 'an' : 'a'} ${caller.role}`, { need, have: caller.role });
  }
}
