/**
 * The registry's persistence boundary. Registry operations check and change several tables
 * at once (a version, an alias, its history, a request, an audit entry), so the store hands
 * out transactions: `write(async tx => …)` runs the callback atomically, and every audit entry
 * appended inside it commits (and is anchored) with the change it records, or not at all.
 * Access is async because the PostgreSQL backend talks to a server; a backend runs one
 * transaction at a time per connection, so callers must await every call on `tx` before the
 * callback returns (a call left running after it would land outside the transaction).
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

/** Access to the registry's tables inside one transaction. */
export interface RegistryTx {
  model(name: string): Promise<ModelRecord | undefined>;
  models(): Promise<ModelRecord[]>;
  /** Creates the model if needed; returns the number its next version gets (and reserves it). */
  reserveVersion(name: string, description: string | undefined, at: number): Promise<number>;
  insertVersion(v: NewVersion, card: string): Promise<void>;
  version(model: string, version: number): Promise<(ModelVersion & { card: string }) | undefined>;
  /** Newest first. */
  versions(model: string): Promise<ModelVersion[]>;
  setCard(model: string, version: number, card: string): Promise<void>;
  deleteVersion(model: string, version: number): Promise<void>;
  /** Removes the model, its versions, aliases, history and requests (the audit log keeps the record). */
  deleteModel(model: string): Promise<void>;

  aliases(model: string): Promise<Record<string, number>>;
  /** Points the alias at `version`, or removes it when undefined. */
  putAlias(model: string, alias: string, version: number | undefined, at: number): Promise<void>;
  addAliasEvent(e: Omit<AliasEvent, 'id'>): Promise<AliasEvent>;
  /** Oldest first. */
  aliasEvents(model: string, alias?: string): Promise<AliasEvent[]>;

  insertRequest(r: Omit<PromotionRequest, 'id' | 'approvals' | 'rejection' | 'status' | 'decidedAt'>): Promise<PromotionRequest>;
  request(id: number): Promise<PromotionRequest | undefined>;
  /** Newest first. */
  requests(filter: RequestFilter): Promise<PromotionRequest[]>;
  addDecision(id: number, actor: string, decision: 'approve' | 'reject', at: number, comment?: string): Promise<void>;
  setRequestStatus(id: number, status: RequestStatus, at: number): Promise<void>;

  insertToken(t: TokenInfo, tokenHash: string): Promise<void>;
  tokenByHash(tokenHash: string): Promise<TokenInfo | undefined>;
  token(name: string): Promise<TokenInfo | undefined>;
  tokens(): Promise<TokenInfo[]>;
  revokeToken(name: string, at: number): Promise<void>;
  touchToken(name: string, at: number): Promise<void>;

  /** Appends a chained, keyed entry; the anchor is rewritten when the transaction commits. */
  appendAudit(e: AuditInput, at?: number): Promise<AuditEntry>;
  /** Newest first. */
  audit(limit: number, offset: number): Promise<AuditEntry[]>;
  auditCount(): Promise<number>;
  /** Every entry as stored, oldest first (for verification). */
  auditChain(): Promise<StoredAuditEntry[]>;
}

export interface RegistryStore {
  /** Runs `fn` in a read transaction (one consistent snapshot). */
  read<T>(fn: (tx: RegistryTx) => T | Promise<T>): Promise<T>;
  /** Runs `fn` in a write transaction: all of it commits, or none of it. */
  write<T>(fn: (tx: RegistryTx) => T | Promise<T>): Promise<T>;
  /** The audit key (undefined until the first entry was written) and the anchored head. */
  auditSecrets(): Promise<{ key: string | undefined; anchor: AuditAnchor | undefined }>;
  close(): Promise<void>;
}
