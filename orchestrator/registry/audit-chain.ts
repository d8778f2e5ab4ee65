/**
 * The audit log's integrity, as pure functions. Each entry's hash covers its content and the
 * previous entry's hash, so editing or deleting an entry breaks the chain after it. That alone
 * would not catch someone who rewrites the table and recomputes every hash, so two things live
 * outside the store file:
 *   - a secret key (`.mlops/audit.key`, mode 0600): every entry carries HMAC(key, hash), which
 *     cannot be recomputed without the key;
 *   - the anchored head (`.mlops/audit-head`): the last entry's seq and hash (with its own
 *     HMAC), rewritten with every append, so dropping entries from the end is caught too.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditAction, AuditVerification } from '../../protocol/registry';

/** An entry as stored: `before`/`after` are JSON text (or null), hashed as stored. */
export interface StoredAuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: AuditAction | string;
  target: string;
  before: string | null;
  after: string | null;
  prevHash: string;
  hash: string;
  mac: string;
}

export interface AuditAnchor {
  seq: number;
  hash: string;
  mac: string;
}

export function entryHash(e: Omit<StoredAuditEntry, 'hash' | 'mac'>): string {
  const canonical = JSON.stringify([e.seq, e.at, e.actor, e.action, e.target, e.before, e.after, e.prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function mac(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

export function anchorFor(key: string, seq: number, hash: string): AuditAnchor {
  return { seq, hash, mac: mac(key, `head:${seq}:${hash}`) };
}

/** The next entry after `last` (undefined for the first), hashed and keyed. */
export function chainEntry(key: string, last: Pick<StoredAuditEntry, 'seq' | 'hash'> | undefined, e: Omit<StoredAuditEntry, 'seq' | 'prevHash' | 'hash' | 'mac'>): StoredAuditEntry {
  const base = { ...e, seq: (last?.seq ?? 0) + 1, prevHash: last?.hash ?? '' };
  const hash = entryHash(base);
  return { ...base, hash, mac: mac(key, hash) };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks the whole log (oldest first) against the key and the anchor, and says where each
 * break is. `anchor` undefined means the head file is missing: fine only for an empty log.
 */
export function verifyChain(entries: readonly StoredAuditEntry[], key: string | undefined, anchor: AuditAnchor | undefined): AuditVerification {
  const problems: AuditVerification['problems'] = [];
  let prev: StoredAuditEntry | undefined;
  for (const e of entries) {
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (e.seq !== expectedSeq) {
      const gap = e.seq - 1 > expectedSeq ? `entries ${expectedSeq}–${e.seq - 1} are` : `entry ${expectedSeq} is`;
      problems.push({ seq: e.seq, problem: e.seq > expectedSeq ? `${gap} missing before it (deleted)` : `entry ${e.seq} is out of order` });
    }
    if (e.prevHash !== (prev?.hash ?? '')) {
      problems.push({ seq: e.seq, problem: `its previous-hash does not match entry ${prev?.seq ?? '(none)'}: the chain is broken here (an entry before it was edited or deleted)` });
    }
    if (entryHash(e) !== e.hash) {
      problems.push({ seq: e.seq, problem: 'its content does not match its hash: the entry was edited' });
    } else if (key !== undefined && !same(mac(key, e.hash), e.mac)) {
      problems.push({ seq: e.seq, problem: 'its hash is not signed by the workspace audit key: the entry was rewritten (the chain was recomputed)' });
    }
    prev = e;
  }
  if (key === undefined && entries.length > 0) problems.push({ problem: 'the audit key (.mlops/audit.key) is missing: entries cannot be authenticated' });
  const last = entries.at(-1);
  if (!anchor) {
    if (last) problems.push({ problem: `the anchored head (.mlops/audit-head) is missing, but the log has ${entries.length} entries` });
  } else {
    if (key !== undefined && !same(mac(key, `head:${anchor.seq}:${anchor.hash}`), anchor.mac)) {
      problems.push({ problem: 'the anchored head (.mlops/audit-head) is not signed by the workspace audit key: it was edited' });
    }
    if (!last) problems.push({ seq: anchor.seq, problem: `the log is empty, but the anchored head says it had ${anchor.seq} entries: they were deleted` });
    else if (last.seq < anchor.seq) problems.push({ seq: last.seq + 1, problem: `the log ends at entry ${last.seq}, but the anchored head is entry ${anchor.seq}: entries ${last.seq + 1}–${anchor.seq} were deleted` });
    else if (last.seq > anchor.seq) problems.push({ seq: anchor.seq + 1, problem: `entries after ${anchor.seq} (the anchored head) were added outside the orchestrator` });
    else if (last.hash !== anchor.hash) problems.push({ seq: last.seq, problem: 'the last entry does not match the anchored head: the log was rewritten' });
  }
  return { ok: problems.length === 0, entries: entries.length, ...(anchor ? { anchor: { seq: anchor.seq, hash: anchor.hash } } : {}), problems };
}
