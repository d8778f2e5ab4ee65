/**
 * Named tokens of team mode. A token is shown once, when it is created; the store keeps only
 * its sha256 (the secret is 24 random bytes, so a fast hash is enough: there is nothing to
 * guess). Whoever presents it acts as its name with its role: that name is the actor of
 * every audit entry, and two approvals mean two tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MlopsError } from '../../protocol/errors';
import { ROLES, type Caller, type Role, type TokenInfo } from '../../protocol/registry';
import { checkName } from './refs';
import type { RegistryCore } from './registry';
import { isRole, OWNER, requireRole } from './roles';

/** Named tokens start with this, so they are recognisable in logs and config (the workspace token is plain hex). */
export const TOKEN_PREFIX = 'mlt_';
/** How often a token's last use is written (reads must not write on every request). */
const TOUCH_EVERY_MS = 60_000;
const touched = new WeakMap<RegistryCore, Map<string, number>>();

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function createToken(core: RegistryCore, caller: Caller, rawName: string, role: Role): Promise<{ token: string; info: TokenInfo }> {
  requireRole(caller, 'admin', 'creating tokens');
  const name = checkName(rawName, 'token name');
  if (name.toLowerCase() === OWNER.name) throw new MlopsError('BAD_REQUEST', `"${name}" is reserved for the workspace token`);
  if (!isRole(role)) throw new MlopsError('BAD_REQUEST', `"${role}" is not a role: use ${ROLES.join(', ')}`);
  const token = `${TOKEN_PREFIX}${randomBytes(24).toString('hex')}`;
  const at = core.now();
  const info: TokenInfo = { name, role, createdAt: at, createdBy: caller.name };
  await core.store.write(async (tx) => {
    const existing = await tx.token(name);
    if (existing) throw new MlopsError('CONFLICT', `a token named "${name}" exists already${existing.revokedAt ? ' (revoked)' : ''}; pick another name`);
    await tx.insertToken(info, hashToken(token));
    await tx.appendAudit({ actor: caller.name, action: 'token.create', target: `token:${name}`, after: { role } }, at);
  });
  return { token, info };
}

export async function revokeToken(core: RegistryCore, caller: Caller, name: string): Promise<TokenInfo> {
  requireRole(caller, 'admin', 'revoking tokens');
  return core.store.write(async (tx) => {
    const t = await tx.token(name);
    if (!t) throw new MlopsError('NOT_FOUND', `no token named "${name}"`);
    if (t.revokedAt) throw new MlopsError('CONFLICT', `token "${name}" was revoked already`);
    const at = core.now();
    await tx.revokeToken(name, at);
    await tx.appendAudit({ actor: caller.name, action: 'token.revoke', target: `token:${name}`, before: { role: t.role } }, at);
    return (await tx.token(name))!;
  });
}

export async function authenticate(core: RegistryCore, secret: string): Promise<Caller | undefined> {
  if (!secret.startsWith(TOKEN_PREFIX)) return undefined;
  const h = hashToken(secret);
  const t = await core.store.read((tx) => tx.tokenByHash(h));
  if (!t || t.revokedAt !== undefined) return undefined;
  let seen = touched.get(core);
  if (!seen) touched.set(core, (seen = new Map()));
  const now = core.now();
  if (now - (seen.get(t.name) ?? 0) > TOUCH_EVERY_MS) {
    seen.set(t.name, now);
    await core.store.write((tx) => tx.touchToken(t.name, now));
  }
  return { name: t.name, role: t.role };
}
