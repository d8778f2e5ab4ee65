import type { ManifestDiagnostic } from '../../protocol/diagnostics';
import { ManifestParser, type Cancellation } from './parse';
import type { ParsedManifest } from './parsed-manifest';
import { schemaDiagnostics } from './schema-check';
import { semanticDiagnostics, type SemanticOptions } from './semantic';
import { syntaxDiagnostics } from './syntax-diagnostics';

export interface ValidateOptions extends SemanticOptions {
  /** Reuse a parser (and its block cache) across versions of the same document. */
  parser?: ManifestParser;
  cancel?: Cancellation;
}

export interface ValidationResult {
  diagnostics: ManifestDiagnostic[];
  /** Undefined when the text was not parsed at all (binary data). */
  parsed?: ParsedManifest;
}

/** Text that is not a manifest at all gets one clear problem instead of thousands. */
function precheck(text: string): ManifestDiagnostic | undefined {
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    const line = text.slice(0, nul).split('\n').length;
    return { severity: 'error', code: 'binary-file', message: `This file contains binary data (a NUL byte on line ${line}); mlops.yaml must be UTF-8 YAML text.`, start: nul, end: nul + 1 };
  }
  const sample = text.slice(0, 65536);
  let bad = 0;
  for (let i = 0; i < sample.length; i++) if (sample.charCodeAt(i) === 0xfffd) bad++;
  if (sample.length > 64 && bad / sample.length > 0.05) {
    return { severity: 'error', code: 'binary-file', message: 'This file is not UTF-8 text (many undecodable bytes); mlops.yaml must be UTF-8 YAML text.', start: 0, end: 0 };
  }
  if (text.trim() === '') {
    return { severity: 'error', code: 'schema', message: 'The manifest is empty: start with `version: 1`, `project: NAME` and a `steps:` section.', start: 0, end: 0 };
  }
  return undefined;
}

function collect(parsed: ParsedManifest, opts: ValidateOptions): ManifestDiagnostic[] {
  const diagnostics = syntaxDiagnostics(parsed);
  diagnostics.push(...schemaDiagnostics(parsed), ...semanticDiagnostics(parsed, opts));
  return diagnostics.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Every problem in a manifest, parsed off the caller's critical path (yields, cancellable). */
export async function validateManifest(text: string, opts: ValidateOptions = {}): Promise<ValidationResult> {
  const pre = precheck(text);
  if (pre && pre.code === 'binary-file') return { diagnostics: [pre] };
  const parsed = await (opts.parser ?? new ManifestParser()).parse(text, opts.cancel);
  if (pre) return { diagnostics: [pre], parsed };
  return { diagnostics: collect(parsed, opts), parsed };
}

/** The same checks, synchronously (CLI, tests). */
export function validateManifestSync(text: string, opts: Omit<ValidateOptions, 'cancel'> = {}): ValidationResult {
  const pre = precheck(text);
  if (pre && pre.code === 'binary-file') return { diagnostics: [pre] };
  const parsed = (opts.parser ?? new ManifestParser()).parseSync(text);
  if (pre) return { diagnostics: [pre], parsed };
  return { diagnostics: collect(parsed, opts), parsed };
}
