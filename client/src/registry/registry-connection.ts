import type { ModelVersion, PromotionRequest, RegisteredModel } from '../../../protocol/registry';
import { RegistryClient } from '../../../orchestrator/registry/client';
import { ConnectionView } from '../orchestrator/connection-view';
import type { ModelsSource } from './models-tree';

/**
 * The registry through the extension's daemon connection, as the workspace token's identity
 * (`local`, the owner). Reads need a running daemon; `client()` starts it (callers check
 * Workspace Trust first).
 */
export class RegistryConnection extends ConnectionView implements ModelsSource {
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
