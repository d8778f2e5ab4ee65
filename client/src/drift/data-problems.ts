import * as vscode from 'vscode';
import type { CheckReport } from '../../../protocol/data';
import { log } from '../log';
import { runCli } from './cli';

/** Failing dataset expectations as Problems, on the manifest line that declares each one. */
export class DataProblems implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('mlops-data');
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly folder: vscode.WorkspaceFolder,
  ) {}

  private manifest(): vscode.Uri {
    return vscode.Uri.joinPath(this.folder.uri, 'mlops.yaml');
  }

  /** Runs `mlops check --json` and replaces the Problems; checks run one after another, each on the files as they are then. */
  check(): Promise<CheckReport | undefined> {
    const next = this.queue.then(() => this.run());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async run(): Promise<CheckReport | undefined> {
    const r = await runCli(this.context, this.folder.uri.fsPath, ['check', '--json']);
    if (r.code !== 0 && r.code !== 1) {
      // A manifest with errors, no manifest: the language server already says so.
      log().warn(`mlops check: exit ${r.code}: ${r.stderr.trim()}`);
      this.collection.delete(this.manifest());
      return undefined;
    }
    const report = JSON.parse(r.stdout) as CheckReport;
    this.collection.set(this.manifest(), diagnosticsOf(report));
    return report;
  }

  dispose(): void {
    this.collection.dispose();
  }
}

export function diagnosticsOf(report: CheckReport): vscode.Diagnostic[] {
  const out: vscode.Diagnostic[] = [];
  for (const d of report.datasets) {
    for (const r of d.results) {
      if (r.success || !r.location) continue;
      const range = new vscode.Range(r.location.line - 1, r.location.column - 1, r.location.endLine - 1, r.location.endColumn - 1);
      const sample = r.sample.length ? `; e.g. ${r.sample.slice(0, 3).map((s) => `row ${s.row}: ${s.value}`).join(', ')}` : '';
      const diag = new vscode.Diagnostic(range, `Dataset ${d.dataset}: ${r.kind}${r.column ? ` [${r.column}]` : ''} failed: ${r.observed}${sample}`, vscode.DiagnosticSeverity.Error);
      diag.source = 'mlops-data';
      diag.code = `expect.${r.kind}`;
      out.push(diag);
    }
    if (d.error) {
      const diag = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), `Dataset ${d.dataset}: ${d.error}`, vscode.DiagnosticSeverity.Warning);
      diag.source = 'mlops-data';
      out.push(diag);
    }
  }
  return out;
}
