import * as vscode from 'vscode';
import type { ModelVersionDetail } from '../../../protocol/registry';
import { signatureLine } from '../../../orchestrator/registry/card';
import type { RegistryConnection } from './registry-connection';

export const MODEL_SCHEME = 'mlops-model';

/** `mlops-model:/NAME/VERSION/card.md` (the model card) or `…/summary.md` (what Compare diffs). */
export function modelDocUri(model: string, version: number, doc: 'card' | 'summary'): vscode.Uri {
  return vscode.Uri.from({ scheme: MODEL_SCHEME, path: `/${model}/${version}/${doc}.md` });
}

/** Read-only documents about model versions, fetched from the registry when opened. */
export class ModelDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly registry: RegistryConnection) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const [, model, version, file] = uri.path.split('/');
    const v = await (await this.registry.client()).getVersion(`models:/${model}/${version}`);
    return file === 'card.md' ? v.card : versionSummary(v);
  }
}

/**
 * A version as text, section by section in a fixed order, so VS Code's diff view lines two
 * versions up: params, metrics, signature, lineage, then the card.
 */
export function versionSummary(v: ModelVersionDetail): string {
  const kv = (o: Record<string, string | number>) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => `${k}: ${x}`);
  return [
    `# ${v.model} v${v.version}`,
    '',
    `aliases: ${v.aliases.map((a) => `@${a}`).join(' ') || '(none)'}`,
    `artifact: ${v.artifact.path} sha256 ${v.artifact.hash}`,
    `source run: ${v.runId}`,
    '',
    '## params',
    ...kv(v.lineage.params),
    '',
    '## metrics',
    ...kv(v.metrics),
    '',
    '## signature',
    signatureLine(v),
    '',
    '## lineage',
    ...kv(v.lineage.datasets),
    `git: ${v.lineage.gitCommit ?? '-'}${v.lineage.gitDirty ? ' (dirty)' : ''}`,
    '',
    '## card',
    v.card,
  ].join('\n');
}
