import type * as vscode from 'vscode';
import type { DaemonEvent } from '../../../protocol/api';
import type { ModelVersion, PromotionRequest, RegisteredModel } from '../../../protocol/registry';
import { RegistryClient } from '../../../orchestrator/registry/client';
import type { OrchestratorConnection } from '../orchestrator/connection';
import type { ModelsSource } from './models-tree';

/**
 * The registry through the extension's daemon connection, as the workspace token's identity
 * (`local`, the owner). Reads need a running daemon; `client()` starts it (callers check
 * Workspace Trust first).
 */
export class RegistryConnection implements ModelsSource {
  readonly onEvent: vscode.Event<DaemonEvent>;
  readonly onDidChangeState: vscode.Event<void>;

  constructor(private readonly conn: OrchestratorConnection) {
    this.onEvent = conn.onEvent;
    this.onDidChangeState = conn.onDidChangeState;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  get workspace(): string {
    return this.conn.workspace;
  }

  async client(): Promise<RegistryClient> {
    return new RegistryClient(await this.conn.start());
  }

  async listModels(): Promise<RegisteredModel[]> {
    return (await this.client()).listModels();
  }

  async getModel(name: string): Promise<{ model: RegisteredModel; versions: ModelVersion[] }> {
    return (await this.client()).getModel(name);
  }

  async listRequests(filter: { model?: string; status?: 'pending' }): Promise<PromotionRequest[]> {
    return (await this.client()).listRequests(filter);
  }
}
