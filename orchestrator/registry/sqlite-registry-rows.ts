/** Row shapes of the registry's tables and their mapping to protocol types (columns picked by name, as libsql rows carry extras). */
import type { AuditEntry, Lineage, ModelSignature, ModelVersion, PromotionRequest, RequestStatus, Role, TokenInfo } from '../../protocol/registry';
import type { StoredAuditEntry } from './audit-chain';
import type { ModelRecord } from './registry-store';

/** A registered model with its version count and latest version, as `MODEL_SELECT` returns it. */
export interface ModelRow {
  name: string;
  description: string | null;
  created_at: number;
  updated_at: number;
  n: number;
  latest: number | null;
}

/** Followed by the caller's WHERE (if any) and `GROUP BY m.name`. */
export const MODEL_SELECT = `SELECT m.name, m.description, m.created_at, m.updated_at, COUNT(v.version) AS n, MAX(v.version) AS latest
  FROM registered_models m LEFT JOIN model_versions v ON v.model = m.name`;

export interface VersionRow {
  model: string;
  version: number;
  run_id: string;
  artifact_path: string;
  artifact_hash: string;
  artifact_size: number;
  created_at: number;
  created_by: string;
  description: string | null;
  tags: string;
  metrics: string;
  signature: string | null;
  lineage: string;
  card: string;
}

export interface RequestRow {
  id: number;
  model: string;
  version: number;
  alias: string;
  requested_by: string;
  requested_at: number;
  comment: string | null;
  status: string;
  required: number;
  decided_at: number | null;
}

/** One approval or rejection of a request, as `DECISION_SELECT` returns them (ordered by time, then actor). */
export interface DecisionRow {
  actor: string;
  decision: string;
  at: number;
  comment: string | null;
}

export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  prev_hash: string;
  hash: string;
  mac: string;
}

export interface TokenRow {
  name: string;
  role: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
}

export const VERSION_COLUMNS = 'model, version, run_id, artifact_path, artifact_hash, artifact_size, created_at, created_by, description, tags, metrics, signature, lineage, card';
export const TOKEN_COLUMNS = 'name, role, created_at, created_by, last_used_at, revoked_at';

/** `aliases` is the model's alias → version map (read by the caller, sync or async). */
export function modelRecordOf(r: ModelRow, aliases: Record<string, number>): ModelRecord {
  return {
    name: r.name,
    ...(r.description !== null ? { description: r.description } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    versionCount: r.n,
    ...(r.latest !== null ? { latestVersion: r.latest } : {}),
    aliases,
  };
}

/** A promotion request with its decisions (`DecisionRow`s, in order). */
export function promotionRequestOf(r: RequestRow, decisions: DecisionRow[]): PromotionRequest {
  const d = (x: DecisionRow) => ({ actor: x.actor, at: x.at, ...(x.comment !== null ? { comment: x.comment } : {}) });
  const rejection = decisions.find((x) => x.decision === 'reject');
  return {
    id: r.id,
    model: r.model,
    version: r.version,
    alias: r.alias,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    ...(r.comment !== null ? { comment: r.comment } : {}),
    status: r.status as RequestStatus,
    required: r.required,
    approvals: decisions.filter((x) => x.decision === 'approve').map(d),
    ...(rejection ? { rejection: d(rejection) } : {}),
    ...(r.decided_at !== null ? { decidedAt: r.decided_at } : {}),
  };
}

/** A version with the names of the aliases (from the model's alias → version map) that point at it. */
export function withAliases(v: Omit<ModelVersion, 'aliases'>, aliases: Record<string, number>): ModelVersion {
  return { ...v, aliases: Object.entries(aliases).filter(([, n]) => n === v.version).map(([a]) => a) };
}

export function versionOf(r: VersionRow): Omit<ModelVersion, 'aliases'> {
  const metrics = JSON.parse(r.metrics) as Record<string, number | null>;
  return {
    model: r.model,
    version: r.version,
    artifact: { path: r.artifact_path, hash: r.artifact_hash, size: r.artifact_size },
    runId: r.run_id,
    createdAt: r.created_at,
    createdBy: r.created_by,
    ...(r.description !== null ? { description: r.description } : {}),
    tags: JSON.parse(r.tags) as Record<string, string>,
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v ?? NaN])),
    ...(r.signature !== null ? { signature: JSON.parse(r.signature) as ModelSignature } : {}),
    lineage: JSON.parse(r.lineage) as Lineage,
  };
}

export function tokenOf(r: TokenRow): TokenInfo {
  return {
    name: r.name,
    role: r.role as Role,
    createdAt: r.created_at,
    createdBy: r.created_by,
    ...(r.last_used_at !== null ? { lastUsedAt: r.last_used_at } : {}),
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
  };
}

export function storedEntry(r: AuditRow): StoredAuditEntry {
  return { seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, before: r.before, after: r.after, prevHash: r.prev_hash, hash: r.hash, mac: r.mac };
}

export function publicEntry(s: StoredAuditEntry): AuditEntry {
  const parse = (t: string | null): unknown => {
    if (t === null) return undefined;
    try {
      return JSON.parse(t);
    } catch {
      return t; // edited by hand into something that is not JSON: show it as it is
    }
  };
  const before = parse(s.before);
  const after = parse(s.after);
  return {
    seq: s.seq, at: s.at, actor: s.actor, action: s.action as AuditEntry['action'], target: s.target,
    ...(before !== undefined ? { before } : {}),
    ...(after !== undefined ? { after } : {}),
    prevHash: s.prevHash, hash: s.hash,
  };
}
