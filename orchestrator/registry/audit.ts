/** Reading and verifying the audit log (appending happens inside each change's transaction). */
import type { AuditEntry, AuditVerification } from '../../protocol/registry';
import { verifyChain } from './audit-chain';
import type { RegistryStore } from './registry-store';

export async function auditLog(store: RegistryStore, limit: number, offset: number): Promise<{ entries: AuditEntry[]; total: number }> {
  return store.read(async (tx) => ({ entries: await tx.audit(limit, offset), total: await tx.auditCount() }));
}

export async function verifyAudit(store: RegistryStore): Promise<AuditVerification> {
  const chain = await store.read((tx) => tx.auditChain());
  const { key, anchor } = await store.auditSecrets();
  return verifyChain(chain, key, anchor);
}
