import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { exportTargetOf, parityWarnings } from '../../../orchestrator/export/parity';
import type { ParsedManifest } from '../../../orchestrator/manifest';
import { DIAGNOSTIC_SOURCE } from './to-lsp';

/**
 * Export parity warnings as diagnostics on each step's key, only when the manifest names an
 * export target (`export.target`). Runs on the parse validation already made, and the lint
 * remembers unchanged steps, so a keystroke costs a lookup per step.
 */
export function exportParityDiagnostics(doc: TextDocument, parsed: ParsedManifest): Diagnostic[] {
  const target = exportTargetOf(parsed.value);
  if (!target) return [];
  return parityWarnings(parsed.value, target).map((w) => {
    const span = parsed.keySpan(w.path);
    return {
      range: { start: doc.positionAt(span.start), end: doc.positionAt(span.end) },
      severity: w.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
      source: DIAGNOSTIC_SOURCE,
      code: `export-${w.code}`,
      message: `${target === 'argo' ? 'Argo' : 'KFP'} export: ${w.message}`,
    };
  });
}
