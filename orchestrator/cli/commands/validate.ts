import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ManifestDiagnostic } from '../../../protocol/diagnostics';
import { EXIT } from '../../../protocol/errors';
import { LineIndex, validateManifestSync } from '../../manifest';
import { fileExistsUnder, findManifest } from '../../workspace';
import { junitXml, writeJUnit } from '../junit';
import { validateSuites } from '../junit-reports';
import type { Output } from '../output';

/** One problem as `mlops validate --json` prints it (line and column are 1-based). */
export interface ValidateJsonProblem {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: ManifestDiagnostic['severity'];
  code: ManifestDiagnostic['code'];
  message: string;
}

export function toJsonProblems(file: string, text: string, diagnostics: ManifestDiagnostic[]): ValidateJsonProblem[] {
  const index = new LineIndex(text);
  return diagnostics.map((d) => {
    const s = index.positionAt(d.start);
    const e = index.positionAt(d.end);
    return { file, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1, severity: d.severity, code: d.code, message: d.message };
  });
}

export function validateCommand(io: Output, cwd: string, file: string | undefined, opts: { json?: boolean; junit?: string }): number {
  const manifest = findManifest(cwd, file);
  const text = fs.readFileSync(manifest, 'utf8');
  const { diagnostics } = validateManifestSync(text, { fileExists: fileExistsUnder(path.dirname(manifest)) });
  const shown = path.relative(cwd, manifest) || manifest;
  const problems = toJsonProblems(shown, text, diagnostics);
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (opts.junit) writeJUnit(cwd, opts.junit, junitXml('mlops validate', validateSuites(shown, problems)));
  if (opts.json) io.json({ file: shown, valid: errors === 0, errors, warnings: problems.length - errors, problems });
  else {
    for (const p of problems) io.out(`${p.file}:${p.line}:${p.column} ${p.severity} ${p.message}`);
    io.out(errors === 0 ? `${shown}: valid (${problems.length} warning${problems.length === 1 ? '' : 's'})` : `${shown}: ${errors} error${errors === 1 ? '' : 's'}, ${problems.length - errors} warning${problems.length - errors === 1 ? '' : 's'}`);
  }
  return errors === 0 ? EXIT.OK : EXIT.CHECK_FAILED;
}
