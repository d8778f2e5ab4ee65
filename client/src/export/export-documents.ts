import * as path from 'node:path';
import * as vscode from 'vscode';
import { MlopsError } from '../../../protocol/errors';
import { exportText, type ExportTarget } from '../../../orchestrator/export';

export const EXPORT_SCHEME = 'mlops-export';
/** Typing pauses shorter than this do not re-export (a big manifest exports in tens of ms). */
const DEBOUNCE_MS = 300;

/** `mlops-export:/<manifest path>.argo.yaml?<manifest uri>`: the path ends in .yaml so the view is highlighted as YAML. */
export function exportUri(manifest: vscode.Uri, target: ExportTarget): vscode.Uri {
  return vscode.Uri.from({ scheme: EXPORT_SCHEME, path: `${manifest.path}.${target}.yaml`, query: manifest.toString() });
}

function parse(uri: vscode.Uri): { manifest: vscode.Uri; target: ExportTarget } {
  const target = uri.path.endsWith('.kfp.yaml') ? 'kfp' : 'argo';
  return { manifest: vscode.Uri.parse(uri.query), target };
}

/** The export as YAML, with the parity warnings as comments on top so they sit next to what they explain. */
export function exportView(text: string, target: ExportTarget, file: string): string {
  try {
    const r = exportText(text, target, { file });
    const notes = r.warnings.map((w) => `# ${w.severity === 'warning' ? 'WARNING' : 'note'} (${w.step ?? 'export'}): ${w.message}`);
    return [...(notes.length ? [...notes, '#'] : []), r.yaml].join('\n');
  } catch (e) {
    if (e instanceof MlopsError) return `# Cannot export ${file} yet:\n${e.message.split('\n').map((l) => `#   ${l}`).join('\n')}\n`;
    throw e;
  }
}

/**
 * Read-only documents with the exported workflow of a manifest, re-exported from the editor's
 * (possibly unsaved) text a moment after each edit.
 */
export class ExportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly watch: vscode.Disposable;

  constructor() {
    this.watch = vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document.uri));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { manifest, target } = parse(uri);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === manifest.toString());
    const text = open ? open.getText() : Buffer.from(await vscode.workspace.fs.readFile(manifest)).toString('utf8');
    return exportView(text, target, path.basename(manifest.path));
  }

  private schedule(manifest: vscode.Uri): void {
    const views = vscode.workspace.textDocuments.filter((d) => d.uri.scheme === EXPORT_SCHEME && parse(d.uri).manifest.toString() === manifest.toString());
    for (const v of views) {
      const key = v.uri.toString();
      clearTimeout(this.timers.get(key));
      this.timers.set(
        key,
        setTimeout(() => {
          this.timers.delete(key);
          this.changed.fire(v.uri);
        }, DEBOUNCE_MS),
      );
    }
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.watch.dispose();
    this.changed.dispose();
  }
}
