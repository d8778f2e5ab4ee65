/**
 * Data validation and drift shapes, shared by the core (orchestrator/data, orchestrator/drift),
 * the CLI (`mlops check`, `mlops drift`), the standalone HTML report and the VS Code webview.
 */

/** The expectation keys of `datasets.NAME.expect` items in mlops.yaml. */
export type ExpectationKind = 'not_null' | 'between' | 'in_set' | 'unique' | 'regex' | 'type' | 'row_count' | 'column_exists';

/** One evaluated expectation (a multi-column `not_null` / `column_exists` gives one per column). */
export interface ExpectationResult {
  /** Position of the item in the dataset's `expect:` list (0-based). */
  index: number;
  kind: ExpectationKind;
  /** The column (or `a+b` for a compound `unique`); absent for `row_count`. */
  column?: string;
  /** Short form of what was expected: `between 25 and 70`, `in [Adelie, Gentoo]`. */
  expected: string;
  success: boolean;
  /** What was seen, e.g. `observed 0.972 < mostly 0.99`, `344 rows`, `column missing`. */
  observed: string;
  /** Share of checked values that satisfy it (absent for row_count / column_exists). */
  fraction?: number;
  /** Required share (1 unless `mostly`). */
  mostly: number;
  /** Values checked: rows, or non-empty values for value checks (empty cells are `not_null`'s business). */
  checked: number;
  /** Values that did not satisfy it. */
  failing: number;
  /** A few offending values with their 1-based data row numbers. */
  sample: { row: number; value: string }[];
  /** Where the item is declared in mlops.yaml (1-based), for file:line output and Problems. */
  location?: { line: number; column: number; endLine: number; endColumn: number };
}

/** One dataset's check: every expectation evaluated in one streaming pass over the file. */
export interface DatasetCheck {
  dataset: string;
  /** Path as declared (relative to the manifest folder). */
  path: string;
  format: 'csv' | 'parquet' | 'json';
  rows: number;
  success: boolean;
  results: ExpectationResult[];
  durationMs: number;
  /** The file could not be read (missing, unreadable, not the declared format). */
  error?: string;
}

/** `mlops check --json`. */
export interface CheckReport {
  success: boolean;
  datasets: DatasetCheck[];
}

/** Statistical tests (and distances) a drift report can run per column. */
export type StatTestName = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi';

/** Summary of one column on one side (nulls excluded from the statistics). */
export interface ColumnSummary {
  count: number;
  missing: number;
  unique: number;
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
}

/** Both distributions of a column, binned the same way: counts per bin or category. */
export interface ColumnHistogram {
  /** Numeric: bin edges (length = counts + 1). */
  edges?: number[];
  /** Categorical: the categories (the most frequent ones; `(other)` sums the rest). */
  labels?: string[];
  reference: number[];
  current: number[];
}

export interface ColumnDrift {
  column: string;
  kind: 'numeric' | 'categorical';
  test: StatTestName;
  /** `K-S p-value`, `Wasserstein distance (normed)`, … */
  testLabel: string;
  /** Why this test: the rule that picked it, or `chosen with --stattest`. */
  reason: string;
  /** p-values: drift when below the threshold; distances: drift when at or above it. */
  scoreKind: 'p_value' | 'distance';
  score: number;
  threshold: number;
  drifted: boolean;
  /** The raw statistic where it differs from the score (KS D, chi-square, z). */
  statistic?: number;
  /** KS: `exact` (max n ≤ 10 000, as scipy's default) or `asymptotic`. */
  method?: 'exact' | 'asymptotic';
  reference: ColumnSummary;
  current: ColumnSummary;
  histogram: ColumnHistogram;
}

/** `mlops drift --json`, the HTML report and the webview all show this. */
export interface DriftReport {
  reference: { path: string; rows: number };
  current: { path: string; rows: number };
  generatedAt: string;
  /** Data-set drift when the share of drifted columns is at least this (Evidently's `drift_share`). */
  driftShare: number;
  tested: number;
  drifted: number;
  /** drifted / tested (0 when nothing was tested). */
  share: number;
  datasetDrift: boolean;
  columns: ColumnDrift[];
  /** Columns not tested, with the reason (missing on one side, datetime, all empty). */
  skipped: { column: string; reason: string }[];
  durationMs: number;
}

/** Messages to the drift report webview. */
export type DriftToView = { type: 'report'; report: DriftReport } | { type: 'getState'; requestId: number };

/** What the drift webview has rendered (host tests read it). */
export interface DriftRenderedState {
  columns: string[];
  sortedBy: string;
  charts: number;
  summary: string;
  cspViolations: string[];
}

/** Messages from the drift report webview. */
export type DriftFromView =
  | { type: 'ready' }
  | { type: 'state'; requestId: number; state: DriftRenderedState }
  | { type: 'log'; level: 'warn' | 'error'; message: string };
