/**
 * What "roll back" means for an alias, decided from its history alone. The holders form a
 * stack: every set (or promotion) pushes the new version, an unset pushes "nothing", and a
 * rollback pops. Rolling back moves the alias to what is under the top, so rolling back
 * twice after v1 → v2 → v3 gives v2 then v1 (not v3 again: a rollback is not an undo).
 */
import type { AliasEvent } from '../../protocol/registry';

/** The holder stack after `events` (oldest first); `undefined` entries are unsets. */
export function holderStack(events: readonly Pick<AliasEvent, 'action' | 'version'>[]): (number | undefined)[] {
  const stack: (number | undefined)[] = [];
  for (const e of events) {
    if (e.action === 'rollback') {
      // Down to the holder it went back to (past deleted versions the rollback skipped).
      stack.pop();
      while (stack.length && stack.at(-1) !== e.version) stack.pop();
      if (stack.length === 0) stack.push(e.version);
    } else {
      stack.push(e.action === 'unset' ? undefined : e.version);
    }
  }
  return stack;
}

export type RollbackPlan = { ok: true; from?: number; to: number } | { ok: false; reason: string };

/**
 * Where a rollback of the alias goes: the previous holder still present in the registry
 * (deleted versions are passed over).
 */
export function planRollback(events: readonly Pick<AliasEvent, 'action' | 'version'>[], exists: (version: number) => boolean): RollbackPlan {
  const stack = holderStack(events);
  const current = stack.at(-1);
  for (let i = stack.length - 2; i >= 0; i--) {
    const v = stack[i];
    if (v === undefined || v === current) continue;
    if (exists(v)) return current === undefined ? { ok: true, to: v } : { ok: true, from: current, to: v };
  }
  return { ok: false, reason: stack.length <= 1 ? 'it has had no other holder to go back to' : 'none of its previous holders exists any more' };
}
