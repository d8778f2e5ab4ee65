/**
 * The model registry: versions registered from runs, aliases and their history, gates, and
 * (through promotions.ts, tokens.ts, audit.ts) approvals, named tokens and the audit log.
 * Every method that changes state takes the caller (from the token, never from the request
 * body), runs its checks and its change in one store transaction, and appends the audit
 * entry in that same transaction.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type {
  AliasEvent,
  AuditAction,
  AuditEntry,
  AuditVerification,
  Caller,
  GateReport,
  ModelVersion,
  ModelVersionDetail,
  PromotionRequest,
  RegisteredModel,
  RequestStatus,
  Role,
  TokenInfo,
} from '../../protocol/registry';
import type { ModelArtifacts } from '../artifacts/model-artifacts';
import { workspaceArtifacts } from '../artifacts/open-artifacts';
import { ObjectCache } from '../pipelines/cache';
import type { Store } from '../store/store';
import { planRollback } from './alias-history';
import { auditLog, verifyAudit } from './audit';
import { generateCard } from './card';
import { evaluateGates, gateError } from './gates';
import { modelPolicy, type ModelPolicy } from './policy';
import * as promotions from './promotions';
import { checkName, parseModelRef, type ModelRef } from './refs';
import type { RegistryStore, RegistryTx } from './registry-store';
import { approvedForCi, requireCiForMove, requireProtectedMove } from './ci-only';
import { requireRole } from './roles';
import * as tokens from './tokens';
import { prepareVersion, type RegisterRequest } from './register';

export type { RegisterRequest } from './register';

export interface RegistryDeps {
  /** The run store: source runs, their metrics, artifacts and dataset hashes. */
  runs: Store;
  store: RegistryStore;
  /** Absolute workspace folder (mlops.yaml, the content-addressed cache). */
  workspace: string;
  now?: () => number;
  /** Where registered artifacts are uploaded and fetched from; default: the workspace's configured store (see orchestrator/artifacts). */
  artifacts?: ModelArtifacts;
}

/** How promotions.ts and friends see the registry's internals. */
export interface RegistryCore {
  readonly store: RegistryStore;
  readonly workspace: string;
  now(): number;
  policy(model: string): ModelPolicy;
  gateReport(tx: RegistryTx, model: string, version: ModelVersion, alias: string, policy: ModelPolicy): Promise<GateReport>;
  moveAlias(tx: RegistryTx, caller: Caller, e: { model: string; alias: string; version: number | undefined; action: AliasEvent['action']; requestId?: number; audit: AuditAction; extra?: Record<string, unknown> }): Promise<AliasEvent>;
}

export class ModelRegistry implements RegistryCore {
  readonly store: RegistryStore;
  readonly workspace: string;
  private readonly runs: Store;
  private readonly cache: ObjectCache;
  private readonly clock: () => number;
  private modelArtifacts: ModelArtifacts | undefined;

  constructor(deps: RegistryDeps) {
    this.modelArtifacts = deps.artifacts;
    this.store = deps.store;
    this.runs = deps.runs;
    this.workspace = deps.workspace;
    this.cache = new ObjectCache(deps.workspace);
    this.clock = deps.now ?? Date.now;
  }

  now(): number {
    return this.clock();
  }

  policy(model: string): ModelPolicy {
    return modelPolicy(this.workspace, model);
  }

  // ---- reading

  async listModels(): Promise<RegisteredModel[]> {
    const { models, pending } = await this.store.read(async (tx) => ({ models: await tx.models(), pending: await tx.requests({ status: 'pending' }) }));
    return models.map((m) => ({
      name: m.name,
      ...(m.description !== undefined ? { description: m.description } : {}),
      createdAt: m.createdAt,
      updatedAt: m.updatedAt,
      versionCount: m.versionCount,
      ...(m.latestVersion !== undefined ? { latestVersion: m.latestVersion } : {}),
      aliases: m.aliases,
      protectedAliases: this.lenientPolicy(m.name).approvals,
      pendingRequests: pending.filter((r) => r.model === m.name).length,
    }));
  }

  async getModel(name: string): Promise<{ model: RegisteredModel; versions: ModelVersion[] }> {
    const model = (await this.listModels()).find((m) => m.name === name);
    if (!model) throw modelNotFound(name);
    return { model, versions: await this.store.read((tx) => tx.versions(name)) };
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    return this.store.read(async (tx) => {
      if (!(await tx.model(name))) throw modelNotFound(name);
      return tx.versions(name);
    });
  }

  /** Resolves `models:/NAME@ALIAS`, `models:/NAME/3`, `NAME@ALIAS`, `NAME/3` or `NAME` (latest). */
  async resolve(ref: string | ModelRef): Promise<ModelVersion> {
    const r = typeof ref === 'string' ? parseModelRef(ref) : ref;
    return this.store.read(async (tx) => withoutCard(await this.resolveIn(tx, r)));
  }

  async getVersion(ref: string | ModelRef): Promise<ModelVersionDetail> {
    const r = typeof ref === 'string' ? parseModelRef(ref) : ref;
    return this.store.read(async (tx) => {
      const v = await this.resolveIn(tx, r);
      return { ...v, requests: await tx.requests({ model: v.model, version: v.version }) };
    });
  }

  /** The gate report for pointing `alias` at `version`, without moving anything. */
  async checkGates(model: string, version: number, alias: string): Promise<GateReport> {
    checkName(alias, 'alias');
    const policy = this.policy(model);
    return this.store.read(async (tx) => this.gateReport(tx, model, await this.versionIn(tx, model, version), alias, policy));
  }

  /** Alias moves, newest first (one alias, or all of the model's). */
  async history(model: string, alias?: string): Promise<AliasEvent[]> {
    return this.store.read(async (tx) => {
      const events = await tx.aliasEvents(model, alias);
      if (events.length === 0 && !(await tx.model(model))) throw modelNotFound(model);
      return events.reverse();
    });
  }

  // ---- registering

  async register(caller: Caller, req: RegisterRequest): Promise<ModelVersion> {
    requireRole(caller, 'editor', 'registering a model');
    const p = await prepareVersion({ runs: this.runs, cache: this.cache, workspace: this.workspace, policy: (m) => this.policy(m) }, req);
    // Uploaded before the version exists: a version others can see always has its artifact in the shared store.
    await this.artifacts().publish(p.fields.artifact);
    const at = this.now();
    return this.store.write(async (tx) => {
      const version = await tx.reserveVersion(p.model, p.policy?.spec?.description, at);
      const v: ModelVersion = { ...p.fields, version, createdAt: at, createdBy: caller.name, aliases: [] };
      await tx.insertVersion(v, generateCard(v, { gates: p.policy?.gates, approvals: p.policy?.approvals }));
      await tx.appendAudit({ actor: caller.name, action: 'model.register', target: `${p.model}/${version}`, after: { runId: v.runId, artifact: v.artifact, metrics: v.metrics } }, at);
      return v;
    });
  }

  async setCard(caller: Caller, model: string, version: number, card: string): Promise<void> {
    requireRole(caller, 'editor', 'editing a model card');
    await this.store.write(async (tx) => {
      const v = await this.versionIn(tx, model, version);
      await tx.setCard(model, version, card);
      await tx.appendAudit({ actor: caller.name, action: 'model.update', target: `${model}/${version}`, before: { card: digest(v.card) }, after: { card: digest(card) } }, this.now());
    });
  }

  // ---- aliases

  /** Points a (not protected) alias at a version once the gates pass; returns the move and the gates. */
  async setAlias(caller: Caller, model: string, alias: string, version: number): Promise<{ event?: AliasEvent; gates: GateReport }> {
    requireRole(caller, 'editor', 'setting an alias');
    checkName(alias, 'alias');
    const policy = this.policy(model);
    requireCiForMove(caller, model, alias, policy);
    return this.store.write(async (tx) => {
      const v = await this.versionIn(tx, model, version);
      const gates = await this.gateReport(tx, model, v, alias, policy);
      if ((await tx.aliases(model))[alias] === version) return { gates };
      if (!gates.passed) throw gateError(gates);
      const need = policy.approvals[alias];
      const approved = need ? await approvedForCi(tx, caller, policy, model, alias, version) : undefined;
      if (approved) return { event: await this.moveAlias(tx, caller, { model, alias, version, action: 'promote', requestId: approved.id, audit: 'alias.promote', extra: { request: approved.id, requestedBy: approved.requestedBy, approvedBy: approved.approvals.map((a) => a.actor), gates: gatesSummary(gates) } }), gates };
      if (need) {
        const pending = (await tx.requests({ model, alias, version, status: 'pending' }))[0];
        throw new MlopsError(
          'FORBIDDEN',
          `${model}@${alias} is protected: it moves only after ${need} approval${need === 1 ? '' : 's'} from someone other than the requester, ` +
            (pending
              ? `and request #${pending.id} for v${version} has ${pending.approvals.length} of ${need}; approve it with: mlops models approve ${model}@${alias} ${version}`
              : `and v${version} has none (0 of ${need}); request them with: mlops models request ${model}@${alias} ${version}`),
          { approvalsRequired: need, approvals: pending?.approvals.length ?? 0, gates },
        );
      }
      const event = await this.moveAlias(tx, caller, { model, alias, version, action: 'set', audit: 'alias.set', extra: { gates: gatesSummary(gates) } });
      return { event, gates };
    });
  }

  async unsetAlias(caller: Caller, model: string, alias: string): Promise<AliasEvent> {
    requireRole(caller, 'editor', 'removing an alias');
    const policy = this.policy(model);
    requireProtectedMove(caller, model, alias, policy, `removing the protected alias @${alias}`);
    return this.store.write(async (tx) => {
      if (!(await tx.model(model))) throw modelNotFound(model);
      if ((await tx.aliases(model))[alias] === undefined) throw new MlopsError('NOT_FOUND', `${model} has no alias @${alias}`);
      return this.moveAlias(tx, caller, { model, alias, version: undefined, action: 'unset', audit: 'alias.unset' });
    });
  }

  /**
   * Moves the alias back to its previous holder (see alias-history.ts). No gates or approvals:
   * the previous holder passed them when it got the alias, and a rollback must be quick. A
   * protected alias still needs the approver role to roll back.
   */
  async rollback(caller: Caller, model: string, alias: string): Promise<AliasEvent> {
    requireRole(caller, 'editor', 'rolling back an alias');
    const policy = this.policy(model);
    requireProtectedMove(caller, model, alias, policy, `rolling back the protected alias @${alias}`);
    return this.store.write(async (tx) => {
      if (!(await tx.model(model))) throw modelNotFound(model);
      const present = new Set((await tx.versions(model)).map((v) => v.version));
      const plan = planRollback(await tx.aliasEvents(model, alias), (v) => present.has(v));
      if (!plan.ok) throw new MlopsError('CONFLICT', `${model}@${alias} cannot be rolled back: ${plan.reason}`);
      return this.moveAlias(tx, caller, { model, alias, version: plan.to, action: 'rollback', audit: 'alias.rollback' });
    });
  }

  async moveAlias(tx: RegistryTx, caller: Caller, e: Parameters<RegistryCore['moveAlias']>[2]): Promise<AliasEvent> {
    const at = this.now();
    const previous = (await tx.aliases(e.model))[e.alias];
    await tx.putAlias(e.model, e.alias, e.version, at);
    const event = await tx.addAliasEvent({
      model: e.model, alias: e.alias, action: e.action, actor: caller.name, at,
      ...(e.version !== undefined ? { version: e.version } : {}),
      ...(previous !== undefined ? { previous } : {}),
      ...(e.requestId !== undefined ? { requestId: e.requestId } : {}),
    });
    await tx.appendAudit({ actor: caller.name, action: e.audit, target: `${e.model}@${e.alias}`, before: { version: previous ?? null }, after: { version: e.version ?? null, ...(e.extra ?? {}) } }, at);
    return event;
  }

  async gateReport(tx: RegistryTx, model: string, version: ModelVersion, alias: string, policy: ModelPolicy): Promise<GateReport> {
    const aliases = await tx.aliases(model);
    // evaluateGates is pure and synchronous: load the holders of the aliases its gates refer to first.
    const holders = new Map<string, { version: number; metrics: Record<string, number> }>();
    for (const a of new Set(policy.gates.flatMap((g) => (g.relative_to === undefined ? [] : [g.relative_to])))) {
      const held = aliases[a];
      const hv = held === undefined ? undefined : await tx.version(model, held);
      if (hv) holders.set(a, { version: hv.version, metrics: hv.metrics });
    }
    return evaluateGates({
      model, version: version.version, alias, metrics: version.metrics, gates: policy.gates, approvalsRequired: policy.approvals[alias] ?? 0,
      holder: (a) => holders.get(a),
    });
  }

  // ---- deleting

  async deleteVersion(caller: Caller, model: string, version: number): Promise<void> {
    requireRole(caller, 'admin', 'deleting a model version');
    await this.store.write(async (tx) => {
      const v = await this.versionIn(tx, model, version);
      if (v.aliases.length) throw new MlopsError('CONFLICT', `${model} v${version} holds ${v.aliases.map((a) => `@${a}`).join(', ')}; move or remove ${v.aliases.length === 1 ? 'that alias' : 'those aliases'} first`);
      const at = this.now();
      for (const r of await tx.requests({ model, version, status: 'pending' })) await tx.setRequestStatus(r.id, 'cancelled', at);
      await tx.deleteVersion(model, version);
      await tx.appendAudit({ actor: caller.name, action: 'version.delete', target: `${model}/${version}`, before: { runId: v.runId, artifact: v.artifact } }, at);
    });
  }

  async deleteModel(caller: Caller, model: string): Promise<void> {
    requireRole(caller, 'admin', 'deleting a model');
    await this.store.write(async (tx) => {
      const m = await tx.model(model);
      if (!m) throw modelNotFound(model);
      const aliases = Object.keys(m.aliases);
      if (aliases.length) throw new MlopsError('CONFLICT', `${model} still has ${aliases.map((a) => `@${a}`).join(', ')}; remove ${aliases.length === 1 ? 'that alias' : 'those aliases'} first`);
      await tx.deleteModel(model);
      await tx.appendAudit({ actor: caller.name, action: 'model.delete', target: model, before: { versions: m.versionCount, latestVersion: m.latestVersion ?? null } }, this.now());
    });
  }

  // ---- promotions, tokens, audit (see their files)

  requestPromotion(caller: Caller, model: string, alias: string, version: number, comment?: string): Promise<PromotionRequest> {
    return promotions.request(this, caller, { model, alias, version, comment });
  }

  approve(caller: Caller, sel: promotions.RequestSelector, comment?: string): Promise<{ request: PromotionRequest; event?: AliasEvent }> {
    return promotions.approve(this, caller, sel, comment);
  }

  reject(caller: Caller, sel: promotions.RequestSelector, comment?: string): Promise<PromotionRequest> {
    return promotions.reject(this, caller, sel, comment);
  }

  cancelRequest(caller: Caller, sel: promotions.RequestSelector): Promise<PromotionRequest> {
    return promotions.cancel(this, caller, sel);
  }

  listRequests(filter: { model?: string; status?: RequestStatus } = {}): Promise<PromotionRequest[]> {
    return this.store.read((tx) => tx.requests(filter));
  }

  createToken(caller: Caller, name: string, role: Role): Promise<{ token: string; info: TokenInfo }> {
    return tokens.createToken(this, caller, name, role);
  }

  revokeToken(caller: Caller, name: string): Promise<TokenInfo> {
    return tokens.revokeToken(this, caller, name);
  }

  listTokens(): Promise<TokenInfo[]> {
    return this.store.read((tx) => tx.tokens());
  }

  /** The caller a named token stands for, or undefined (unknown or revoked). */
  authenticate(secret: string): Promise<Caller | undefined> {
    return tokens.authenticate(this, secret);
  }

  auditLog(limit = 100, offset = 0): Promise<{ entries: AuditEntry[]; total: number }> {
    return auditLog(this.store, limit, offset);
  }

  verifyAudit(): Promise<AuditVerification> {
    return verifyAudit(this.store);
  }

  /** For other parts of the orchestrator (deployments) whose state changes belong in the audit log. */
  async recordAudit(caller: Caller, action: AuditAction, target: string, before?: unknown, after?: unknown): Promise<AuditEntry> {
    return this.store.write((tx) => tx.appendAudit({ actor: caller.name, action, target, before, after }, this.now()));
  }

  /**
   * Makes sure a version's artifact is in the local cache, fetching it from the artifact store
   * when it was registered elsewhere (for deployments and downloads).
   */
  async ensureArtifact(ref: string | ModelRef): Promise<{ version: ModelVersion; source: 'cache' | 'downloaded' }> {
    const version = await this.resolve(ref);
    return { version, source: await this.artifacts().ensureLocal(version.artifact) };
  }

  // ---- internals

  private artifacts(): ModelArtifacts {
    this.modelArtifacts ??= workspaceArtifacts({ dir: path.join(this.workspace, '.mlops'), workspace: this.workspace });
    return this.modelArtifacts;
  }

  /** Rules for display: a broken manifest must not break listings. */
  private lenientPolicy(model: string): ModelPolicy {
    try {
      return this.policy(model);
    } catch {
      return { gates: [], approvals: {} };
    }
  }

  private async resolveIn(tx: RegistryTx, r: ModelRef): Promise<ModelVersion & { card: string }> {
    const m = await tx.model(r.model);
    if (!m) throw modelNotFound(r.model);
    let version: number | undefined;
    if ('alias' in r) {
      version = m.aliases[r.alias];
      if (version === undefined) {
        const known = Object.keys(m.aliases);
        throw new MlopsError('NOT_FOUND', `${r.model} has no alias @${r.alias}${known.length ? ` (it has ${known.map((a) => `@${a}`).join(', ')})` : ''}`);
      }
    } else if ('version' in r) version = r.version;
    else {
      version = m.latestVersion;
      if (version === undefined) throw new MlopsError('NOT_FOUND', `${r.model} has no versions`);
    }
    return this.versionIn(tx, r.model, version);
  }

  private async versionIn(tx: RegistryTx, model: string, version: number): Promise<ModelVersion & { card: string }> {
    const v = await tx.version(model, version);
    if (v) return v;
    if (!(await tx.model(model))) throw modelNotFound(model);
    throw new MlopsError('NOT_FOUND', `${model} has no version ${version}`);
  }
}

function modelNotFound(name: string): MlopsError {
  return new MlopsError('NOT_FOUND', `no registered model "${name}"; register one with: mlops models register ${name} --run RUN`);
}

function withoutCard(v: ModelVersion & { card?: string }): ModelVersion {
  const copy = { ...v };
  delete copy.card;
  return copy;
}

function gatesSummary(r: GateReport): string {
  return r.checks.length ? r.checks.map((c) => `${c.metric} ${c.condition}: ${c.passed ? 'pass' : 'fail'}`).join('; ') : 'no gates';
}

function digest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}
