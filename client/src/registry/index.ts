/** The IDE side of the model registry: the Models view, its commands and model documents. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { OrchestratorConnection } from '../orchestrator/connection';
import { registerModelCommands } from './model-commands';
import { MODEL_SCHEME, ModelDocuments } from './model-documents';
import { ModelsTree } from './models-tree';
import { RegistryConnection } from './registry-connection';

export type { ModelNode, ModelsTree } from './models-tree';
export type { SetAliasArgs, SetAliasOutcome } from './model-commands';

/** Wires the Models view and the registry commands; returns the tree (the host tests read it). */
export function registerModels(ctx: Ctx, conn: OrchestratorConnection): { models: ModelsTree } {
  const registry = new RegistryConnection(conn);
  const models = ctx.push(new ModelsTree(registry));
  ctx.push(vscode.window.createTreeView('mlops.models', { treeDataProvider: models, showCollapseAll: true }));
  ctx.push(vscode.workspace.registerTextDocumentContentProvider(MODEL_SCHEME, new ModelDocuments(registry)));
  registerModelCommands(ctx, registry, models);
  return { models };
}
