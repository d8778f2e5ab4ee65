/**
 * The model registry and its governance as the daemon, the CLI (`--json`) and the extension
 * see them: registered models, numbered versions with lineage and signature, aliases and
 * their history, gate reports, promotion requests, named tokens with roles, and the
 * hash-chained audit log. Plain data; no behaviour.
 */
import type { Artifact } from './types';

/**
 * Access levels of a token, lowest first; each includes the ones before it. `ci` is an editor
 * that alone may move the aliases a model lists in `ci_only_aliases` (an exact-role check, so
 * approvers and admins above it approve but do not move them).
 */
export type Role = 'viewer' | 'editor' | 'ci' | 'approver' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'ci', 'approver', 'admin'];

/** Who made a request: the token's name and role (the workspace token is `local`, admin). */
export interface Caller {
  name: string;
  role: Role;
}

/** One tensor of a model's signature, as declared in the ONNX graph. */
export interface TensorSpec {
  name: string;
  /** `float32`, `int64`, … (`elem_type` of the ONNX tensor type). */
  type: string;
  /** Fixed sizes as numbers, symbolic dimensions (`N`) as strings; absent when the graph does not say. */
  shape?: (number | string)[];
}

/** Input and output schema of a model. */
export interface ModelSignature {
  format: 'onnx';
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** ONNX IR version and opsets, for the card. */
  irVersion?: number;
  opsets?: Record<string, number>;
  producer?: string;
  /** The model's metadata_props (e.g. feature_names, class_labels). */
  metadata?: Record<string, string>;
}

/** Where a version came from: data → run → version. */
export interface Lineage {
  /** Dataset name → content hash of what the run read. */
  datasets: Record<string, string>;
  /** The run the version was registered from (a pipeline run or one of its steps). */
  runId: string;
  runName: string;
  experiment: string;
  /** The pipeline run, when `runId` is one of its steps. */
  pipelineRunId?: string;
  /** The step that produced the artifact (the manifest's `from`), when known. */
  step?: string;
  gitCommit?: string;
  gitDirty?: boolean;
  /** sha256 of mlops.yaml at registration. */
  manifestHash?: string;
  params: Record<string, string>;
}

/** One numbered version of a registered model. */
export interface ModelVersion {
  model: string;
  /** 1, 2, 3, … never reused, even after a delete. */
  version: number;
  /** The model file (or folder) in the content-addressed cache; `path` is where the run wrote it. */
  artifact: Artifact;
  /** Source run (a pipeline run or a step run). */
  runId: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Token name of who registered it. */
  createdBy: string;
  description?: string;
  tags: Record<string, string>;
  /** Latest metric values of the source run (a pipeline run's include its steps', e.g. accuracy). */
  metrics: Record<string, number>;
  signature?: ModelSignature;
  lineage: Lineage;
  /** Aliases pointing at this version now. */
  aliases: string[];
}

/** A version with its model card (markdown), as `show` returns it. */
export interface ModelVersionDetail extends ModelVersion {
  card: string;
  /** Promotion requests about this version, newest first. */
  requests: PromotionRequest[];
}

/** A registered model: its versions are listed separately. */
export interface RegisteredModel {
  name: string;
  description?: string;
  createdAt: number;
  updatedAt: number;
  /** How many versions exist now (deleted ones are not counted). */
  versionCount: number;
  latestVersion?: number;
  /** Alias → version. */
  aliases: Record<string, number>;
  /** Aliases that need approvals, with how many (from the manifest's `approvals`). */
  protectedAliases: Record<string, number>;
  /** Pending promotion requests. */
  pendingRequests: number;
}

export type AliasAction = 'set' | 'unset' | 'rollback' | 'promote';

/** One move of an alias: who pointed it at which version, when, and from which. */
export interface AliasEvent {
  id: number;
  model: string;
  alias: string;
  /** The version it points at after the event; absent after an unset. */
  version?: number;
  /** The version it pointed at before; absent when it was unset. */
  previous?: number;
  action: AliasAction;
  actor: string;
  at: number;
  /** The promotion request that moved it, for `promote`. */
  requestId?: number;
}

/** One gate checked against one candidate version. */
export interface GateCheck {
  metric: string;
  /** Human form of the condition: `>= 0.9`, `<= 0.2`, `>= production (v2) 0.97 - 0.01`. */
  condition: string;
  /** The candidate's value; absent when the version has no such metric (fails). */
  value?: number;
  /** The bound the value was held to. */
  threshold?: number;
  /** For a relative gate: the alias, the version holding it and its value. */
  reference?: { alias: string; version?: number; value?: number };
  passed: boolean;
  /** Why it failed, or why it passed without a comparison (no holder of the reference alias). */
  note?: string;
}

/** The outcome of a model's gates for a version about to get an alias. */
export interface GateReport {
  model: string;
  version: number;
  alias: string;
  passed: boolean;
  checks: GateCheck[];
  /** Approvals the alias needs (0 when it is not protected). */
  approvalsRequired: number;
  /** Set when the candidate is a run not registered yet (`mlops gate --run`); `version` is then 0. */
  runId?: string;
}

export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'cancelled';

export interface RequestDecision {
  actor: string;
  at: number;
  comment?: string;
}

/** A request to point a protected alias at a version; applied once enough approvals arrive. */
export interface PromotionRequest {
  id: number;
  model: string;
  version: number;
  alias: string;
  requestedBy: string;
  requestedAt: number;
  comment?: string;
  status: RequestStatus;
  required: number;
  approvals: RequestDecision[];
  rejection?: RequestDecision;
  /** When it was approved (and the alias moved), rejected or cancelled. */
  decidedAt?: number;
}

/** A named token (the secret itself is shown once, at creation, and only its hash is kept). */
export interface TokenInfo {
  name: string;
  role: Role;
  createdAt: number;
  createdBy: string;
  lastUsedAt?: number;
  revokedAt?: number;
}

/** Every kind of state change the audit log records. */
export type AuditAction =
  | 'model.register'
  | 'model.update'
  | 'model.delete'
  | 'version.delete'
  | 'alias.set'
  | 'alias.unset'
  | 'alias.rollback'
  | 'alias.promote'
  | 'request.create'
  | 'request.approve'
  | 'request.reject'
  | 'request.cancel'
  | 'token.create'
  | 'token.revoke'
  | 'deploy'
  | 'deployment.deploy'
  | 'deployment.canary'
  | 'deployment.promote'
  | 'deployment.rollback'
  | 'deployment.undeploy'
  /** An A/B split of a deployment's traffic started or changed. */
  | 'deployment.ab'
  /** A shadow version of a deployment started or stopped. */
  | 'deployment.shadow'
  /** A monitor alert rule started or stopped breaching (orchestrator/monitoring). */
  | 'alert.fire'
  | 'alert.clear';

/** One entry of the audit log: hash-chained to the one before it. */
export interface AuditEntry {
  /** 1, 2, 3, … without gaps. */
  seq: number;
  at: number;
  actor: string;
  action: AuditAction;
  /** What changed: `penguins-classifier@production`, `penguins-classifier/3`, `token:alice`. */
  target: string;
  before?: unknown;
  after?: unknown;
  /** Hash of the previous entry ('' for the first). */
  prevHash: string;
  /** sha256 over seq, at, actor, action, target, before, after and prevHash. */
  hash: string;
}

/** What `mlops audit verify` found. */
export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The anchored head (outside the store): the seq and hash the log must end with. */
  anchor?: { seq: number; hash: string };
  /** Each problem, naming the entry (seq) where the chain breaks. */
  problems: { seq?: number; problem: string }[];
}

/**
 * The registry's endpoints of the daemon API (merged into `DaemonApi`). A model reference
 * (`ref`) is `models:/NAME@ALIAS`, `models:/NAME/VERSION`, `NAME@ALIAS`, `NAME/VERSION` or
 * `NAME` (its latest version). Roles: GET needs viewer; registering, setting unprotected
 * aliases and requesting promotions need editor; approving and rejecting need approver;
 * tokens and deletes need admin. The caller is always the token's identity.
 */
export interface RegistryApi {
  /** Who the presented token is. */
  'GET /api/whoami': { req: void; res: Caller };
  'GET /api/models': { req: void; res: { models: RegisteredModel[] } };
  'GET /api/models/get': { req: { name: string }; res: { model: RegisteredModel; versions: ModelVersion[] } };
  'GET /api/models/version': { req: { ref: string }; res: ModelVersionDetail };
  'POST /api/models/register': { req: { model: string; runId: string; artifact?: string; description?: string; tags?: Record<string, string> }; res: ModelVersion };
  /** Without `version`, the whole model (it must hold no aliases). */
  'POST /api/models/delete': { req: { model: string; version?: number }; res: { deleted: string } };
  'POST /api/models/card': { req: { model: string; version: number; card: string }; res: { updated: string } };
  'GET /api/models/gates': { req: { model: string; version: number; alias: string }; res: GateReport };
  /** 412 GATE_FAILED (details: GateReport) when a gate fails; 403 FORBIDDEN when the alias needs approvals. */
  'POST /api/models/alias': { req: { model: string; alias: string; version: number }; res: { event?: AliasEvent; gates: GateReport } };
  'POST /api/models/unalias': { req: { model: string; alias: string }; res: AliasEvent };
  'POST /api/models/rollback': { req: { model: string; alias: string }; res: AliasEvent };
  /** Newest first. */
  'GET /api/models/history': { req: { model: string; alias?: string }; res: { events: AliasEvent[] } };
  'GET /api/models/requests': { req: { model?: string; status?: RequestStatus }; res: { requests: PromotionRequest[] } };
  'POST /api/models/request': { req: { model: string; alias: string; version: number; comment?: string }; res: PromotionRequest };
  /** Select by `id`, or by model, alias and version (the pending request for them). */
  'POST /api/models/approve': { req: RequestRef & { comment?: string }; res: { request: PromotionRequest; event?: AliasEvent } };
  'POST /api/models/reject': { req: RequestRef & { comment?: string }; res: PromotionRequest };
  'POST /api/models/cancel-request': { req: RequestRef; res: PromotionRequest };
  'GET /api/tokens': { req: void; res: { tokens: TokenInfo[] } };
  /** The secret is in this answer only. */
  'POST /api/tokens/create': { req: { name: string; role: Role }; res: { token: string; info: TokenInfo } };
  'POST /api/tokens/revoke': { req: { name: string }; res: TokenInfo };
  /** Newest first. */
  'GET /api/audit': { req: { limit?: number; offset?: number }; res: { entries: AuditEntry[]; total: number } };
  'GET /api/audit/verify': { req: void; res: AuditVerification };
}

export type RequestRef = { id: number } | { model: string; alias: string; version: number };
