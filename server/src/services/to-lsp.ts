import { Diagnostic, DiagnosticSeverity, DiagnosticTag } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ManifestDiagnostic } from '../../../protocol/diagnostics';

export const DIAGNOSTIC_SOURCE = 'mlops';

const SEVERITY: Record<ManifestDiagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
};

/** Core diagnostics (offsets) to LSP diagnostics (ranges), capped so the editor stays usable. */
export function toLspDiagnostics(doc: TextDocument, diagnostics: ManifestDiagnostic[], maxProblems: number): Diagnostic[] {
  const shown = diagnostics.slice(0, maxProblems).map((d): Diagnostic => ({
    range: { start: doc.positionAt(d.start), end: doc.positionAt(d.end) },
    severity: SEVERITY[d.severity],
    source: DIAGNOSTIC_SOURCE,
    code: d.code,
    message: d.message,
    ...(d.code === 'missing-dep' ? { tags: [] as DiagnosticTag[] } : {}),
    ...(d.related?.length
      ? { relatedInformation: d.related.map((r) => ({ location: { uri: doc.uri, range: { start: doc.positionAt(r.start), end: doc.positionAt(r.end) } }, message: r.message })) }
      : {}),
    ...(d.data ? { data: d.data } : {}),
  }));
  if (diagnostics.length > maxProblems) {
    shown.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: DiagnosticSeverity.Information,
      source: DIAGNOSTIC_SOURCE,
      code: 'too-many-problems',
      message: `Showing the first ${maxProblems} of ${diagnostics.length} problems (setting mlops.validation.maxProblems); run \`mlops validate\` to list them all.`,
    });
  }
  return shown;
}
