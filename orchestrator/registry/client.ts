/**
 * The registry over the daemon's HTTP API, typed by protocol/registry.ts, for the CLI and the
 * extension. Reads have the same shape as ModelRegistry's (`RegistryReads`), so the CLI reads
 * from the daemon when it runs and from the store otherwise with one code path.
 */
import type {
  AliasEvent,
  AuditEntry,
  AuditVerification,
  Caller,
  GateReport,
  ModelVersion,
  ModelVersionDetail,
  PromotionRequest,
  RegisteredModel,
  RequestRef,
  RequestStatus,
  Role,
  TokenInfo,
} from '../../protocol/registry';
import type { DaemonClient } from '../api-client/client';

/** What listing and showing need; both ModelRegistry (in-process) and RegistryClient (HTTP) have it. */
export interface RegistryReads {
  listModels(): Promise<RegisteredModel[]>;
  getModel(name: string): Promise<{ model: RegisteredModel; versions: ModelVersion[] }>;
  getVersion(ref: string): Promise<ModelVersionDetail>;
  checkGates(model: string, version: number, alias: string): Promise<GateReport>;
  history(model: string, alias?: string): Promise<AliasEvent[]>;
  listRequests(filter?: { model?: string; status?: RequestStatus }): Promise<PromotionRequest[]>;
  auditLog(limit?: number, offset?: number): Promise<{ entries: AuditEntry[]; total: number }>;
  verifyAudit(): Promise<AuditVerification>;
}

export class RegistryClient implements RegistryReads {
  constructor(readonly http: DaemonClient) {}

  whoami(): Promise<Caller> {
    return this.http.call('GET /api/whoami', undefined);
  }

  async listModels(): Promise<RegisteredModel[]> {
    return (await this.http.call('GET /api/models', undefined)).models;
  }

  getModel(name: string): Promise<{ model: RegisteredModel; versions: ModelVersion[] }> {
    return this.http.call('GET /api/models/get', { name });
  }

  getVersion(ref: string): Promise<ModelVersionDetail> {
    return this.http.call('GET /api/models/version', { ref });
  }

  checkGates(model: string, version: number, alias: string): Promise<GateReport> {
    return this.http.call('GET /api/models/gates', { model, version, alias });
  }

  async history(model: string, alias?: string): Promise<AliasEvent[]> {
    return (await this.http.call('GET /api/models/history', { model, ...(alias ? { alias } : {}) })).events;
  }

  async listRequests(filter: { model?: string; status?: RequestStatus } = {}): Promise<PromotionRequest[]> {
    return (await this.http.call('GET /api/models/requests', filter)).requests;
  }

  auditLog(limit = 100, offset = 0): Promise<{ entries: AuditEntry[]; total: number }> {
    return this.http.call('GET /api/audit', { limit, offset });
  }

  verifyAudit(): Promise<AuditVerification> {
    return this.http.call('GET /api/audit/verify', undefined);
  }

  register(req: { model: string; runId: string; artifact?: string; description?: string; tags?: Record<string, string> }): Promise<ModelVersion> {
    return this.http.call('POST /api/models/register', req);
  }

  deleteModel(model: string, version?: number): Promise<{ deleted: string }> {
    return this.http.call('POST /api/models/delete', version === undefined ? { model } : { model, version });
  }

  setCard(model: string, version: number, card: string): Promise<{ updated: string }> {
    return this.http.call('POST /api/models/card', { model, version, card });
  }

  setAlias(model: string, alias: string, version: number): Promise<{ event?: AliasEvent; gates: GateReport }> {
    return this.http.call('POST /api/models/alias', { model, alias, version });
  }

  unsetAlias(model: string, alias: string): Promise<AliasEvent> {
    return this.http.call('POST /api/models/unalias', { model, alias });
  }

  rollback(model: string, alias: string): Promise<AliasEvent> {
    return this.http.call('POST /api/models/rollback', { model, alias });
  }

  requestPromotion(model: string, alias: string, version: number, comment?: string): Promise<PromotionRequest> {
    return this.http.call('POST /api/models/request', { model, alias, version, ...(comment ? { comment } : {}) });
  }

  approve(ref: RequestRef, comment?: string): Promise<{ request: PromotionRequest; event?: AliasEvent }> {
    return this.http.call('POST /api/models/approve', { ...ref, ...(comment ? { comment } : {}) });
  }

  reject(ref: RequestRef, comment?: string): Promise<PromotionRequest> {
    return this.http.call('POST /api/models/reject', { ...ref, ...(comment ? { comment } : {}) });
  }

  cancelRequest(ref: RequestRef): Promise<PromotionRequest> {
    return this.http.call('POST /api/models/cancel-request', ref);
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.http.call('GET /api/tokens', undefined)).tokens;
  }

  createToken(name: string, role: Role): Promise<{ token: string; info: TokenInfo }> {
    return this.http.call('POST /api/tokens/create', { name, role });
  }

  revokeToken(name: string): Promise<TokenInfo> {
    return this.http.call('POST /api/tokens/revoke', { name });
  }
}
