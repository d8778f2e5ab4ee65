/**
 * The registry's persistence boundary. Registry operations check and change several tables
 * at once (a version, an alias, its history, a request, an audit entry), so the store hands
 * out transactions: `write(tx => …)` runs the callback atomically with synchronous access to
 * the tables, and every audit entry appended inside it commits (and is anchored) with the
 * change it records, or not at all.
 */
import type {
  AliasEvent,
  AuditAction,
  AuditEntry,
  ModelVersion,
  PromotionRequest,
  RequestStatus,
  TokenInfo,
} from '../../protocol/registry';
import type { AuditAnchor, StoredAuditEntry } from './audit-chain';

export interface ModelRecord {
  name: string;
  description?: string;
  createdAt: number;
  updatedAt: number;
  versionCount: number;
  latestVersion?: number;
  aliases: Record<string, number>;
}

/** A version as stored: without its aliases (those live in their own table). */
export type NewVersion = Omit<ModelVersion, 'aliases'>;

export interface AuditInput {
  actor: string;
  action: AuditAction;
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface RequestFilter {
  model?: string;
  status?: RequestStatus;
  alias?: string;
  version?: number;
}

/** Synchronous access to the registry's tables inside one transaction. */
export interface RegistryTx {
  model(name: string): ModelRecord | undefined;
  models(): ModelRecord[];
  /** Creates the model if needed; returns the number its next version gets (and reserves it). */
  reserveVersion(name: string, description: string | undefined, at: number): number;
  insertVersion(v: NewVersion, card: string): void;
  version(model: string, version: number): (ModelVersion & { card: string }) | undefined;
  /** Newest first. */
  versions(model: string): ModelVersion[];
  setCard(model: string, version: number, card: string): void;
  deleteVersion(model: string, version: number): void;
  /** Removes the model, its versions, aliases, history and requests (the audit log keeps the record). */
  deleteModel(model: string): void;

  aliases(model: string): Record<string, number>;
  /** Points the alias at `version`, or removes it when undefined. */
  putAlias(model: string, alias: string, version: number | undefined, at: number): void;
  addAliasEvent(e: Omit<AliasEvent, 'id'>): AliasEvent;
  /** Oldest first. */
  aliasEvents(model: string, alias?: string): AliasEvent[];

  insertRequest(r: Omit<PromotionRequest, 'id' | 'approvals' | 'rejection' | 'status' | 'decidedAt'>): PromotionRequest;
  request(id: number): PromotionRequest | undefined;
  /** Newest first. */
  requests(filter: RequestFilter): PromotionRequest[];
  addDecision(id: number, actor: string, decision: 'approve' | 'reject', at: number, comment?: string): void;
  setRequestStatus(id: number, status: RequestStatus, at: number): void;

  insertToken(t: TokenInfo, tokenHash: string): void;
  tokenByHash(tokenHash: string): TokenInfo | undefined;
  token(name: string): TokenInfo | undefined;
  tokens(): TokenInfo[];
  revokeToken(name: string, at: number): void;
  touchToken(name: string, at: number): void;

  /** Appends a chained, keyed entry; the anchor is rewritten when the transaction commits. */
  appendAudit(e: AuditInput, at?: number): AuditEntry;
  /** Newest first. */
  audit(limit: number, offset: number): AuditEntry[];
  auditCount(): number;
  /** Every entry as stored, oldest first (for verification). */
  auditChain(): StoredAuditEntry[];
}

export interface RegistryStore {
  read<T>(fn: (tx: RegistryTx) => T): Promise<T>;
  write<T>(fn: (tx: RegistryTx) => T): Promise<T>;
  /** The audit key (undefined until the first entry was written) and the anchored head. */
  auditSecrets(): { key: string | undefined; anchor: AuditAnchor | undefined };
  close(): Promise<void>;
}
