/**
 * Manifest problems as the core reports them: offsets into the text, so the language server
 * (LSP ranges) and the CLI (1-based line:col) can each render them.
 */
export type Severity = 'error' | 'warning' | 'info';

export type DiagnosticCode =
  | 'yaml-syntax'
  | 'schema'
  | 'unknown-step'
  | 'unknown-param'
  | 'unknown-dataset'
  | 'unknown-model'
  | 'cycle'
  | 'duplicate-out'
  | 'duplicate-key'
  | 'unresolved-interpolation'
  | 'missing-dep'
  | 'unlogged-metric'
  | 'binary-file'
  | 'too-complex'
  | 'too-many-problems'
  | 'expectation-failed';

export interface RelatedSpan {
  start: number;
  end: number;
  message: string;
}

/** Machine-readable facts a quick fix needs (kept small: it travels with every diagnostic). */
export interface DiagnosticData {
  /** Names that were meant, best first (did-you-mean). */
  suggestions?: string[];
  /** The unknown name as written. */
  name?: string;
  /** What kind of thing the name should be. */
  kind?: 'step' | 'param' | 'dataset' | 'model';
  /** For cycles: the edge this diagnostic sits on. */
  edge?: { from: string; to: string; via: 'needs' | 'deps' };
}

export interface ManifestDiagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  start: number;
  end: number;
  related?: RelatedSpan[];
  data?: DiagnosticData;
}
