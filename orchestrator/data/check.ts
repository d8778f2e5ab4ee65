/**
 * Runs the manifest's dataset expectations: one streaming pass per dataset file, all its
 * expectations fed from the same rows. Used by `mlops check`, by the pipeline runner before a
 * step that reads the dataset, and by the extension for Problems.
 */
import { resolve } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { CheckReport, DatasetCheck, ExpectationResult } from '../../protocol/data';
import { MlopsError } from '../../protocol/errors';
import type { Dataset, Manifest } from '../../protocol/manifest';
import { LineIndex } from '../manifest/line-index';
import { listNames, suggest } from '../manifest/suggest';
import { ExpectationSuite } from './expectations';
import { formatOf, scanTable } from './table';

/** Checks one dataset (its file relative to `root`). A missing or unreadable file is a failed check with `error`. */
export async function checkDataset(root: string, name: string, ds: Dataset): Promise<DatasetCheck> {
  const started = Date.now();
  const format = formatOf(ds.path, ds.format);
  const shownFormat = format === 'tsv' ? 'csv' : format === 'jsonl' ? 'json' : format;
  const suite = new ExpectationSuite(ds.expect ?? []);
  try {
    const rows = await scanTable(resolve(root, ds.path), format, suite);
    const results = suite.finish(rows);
    return { dataset: name, path: ds.path, format: shownFormat, rows, success: results.every((r) => r.success), results, durationMs: Date.now() - started };
  } catch (e) {
    if (!(e instanceof MlopsError)) throw e;
    return { dataset: name, path: ds.path, format: shownFormat, rows: 0, success: false, results: [], durationMs: Date.now() - started, error: e.message };
  }
}

/**
 * Checks the named datasets (default: every dataset with `expect:`). `manifestText` adds each
 * result's location in mlops.yaml. Throws NOT_FOUND for an unknown dataset name.
 */
export async function checkDatasets(root: string, manifest: Manifest, names: readonly string[] = [], manifestText?: string): Promise<CheckReport> {
  const all = manifest.datasets ?? {};
  const known = Object.keys(all);
  for (const n of names) {
    if (!(n in all)) {
      const s = suggest(n, known);
      throw new MlopsError('NOT_FOUND', `unknown dataset "${n}"${s.length ? `; did you mean "${s[0]}"?` : '.'} Datasets: ${listNames(known)}.`);
    }
  }
  const chosen = names.length ? [...names] : known.filter((n) => (all[n]!.expect ?? []).length > 0);
  const datasets: DatasetCheck[] = [];
  for (const n of chosen) datasets.push(await checkDataset(root, n, all[n]!));
  if (manifestText !== undefined) locate(manifestText, datasets);
  return { success: datasets.every((d) => d.success), datasets };
}

/** Fills `location` from the YAML nodes of `datasets.NAME.expect[i]`. */
export function locate(text: string, checks: DatasetCheck[]): void {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const lines = new LineIndex(text);
  for (const c of checks) {
    const list = doc.getIn(['datasets', c.dataset, 'expect'], true);
    if (!isSeq(list)) continue;
    for (const r of c.results) {
      const item = list.items[r.index];
      if (!isMap(item) || !item.range) continue;
      // Point at the expectation's key (`between:`), not the whole block.
      const pair = item.items.find((p) => String((p.key as { value?: unknown })?.value) === r.kind);
      const keyNode = pair?.key as { range?: [number, number, number] } | undefined;
      const [start, end] = keyNode?.range ?? item.range;
      const s = lines.positionAt(start);
      const e = lines.positionAt(end);
      r.location = { line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1 };
    }
  }
}

/** The failed expectations of a check as one aligned text table (for the CLI and step logs). */
export function failureTable(c: DatasetCheck): string[] {
  const head = `dataset ${c.dataset} (${c.path}, ${c.rows} rows)`;
  if (c.error) return [`${head}: ${c.error}`];
  const failed = c.results.filter((r) => !r.success);
  if (!failed.length) return [`${head}: all ${c.results.length} expectations passed`];
  const rows = failed.map((r) => [describe(r), r.column ?? '-', r.observed, r.sample.map((s) => `row ${s.row}: ${s.value}`).join('; ') || '-']);
  return [`${head}: ${failed.length} of ${c.results.length} expectations failed`, ...alignedTable(['EXPECTATION', 'COLUMN', 'OBSERVED', 'SAMPLE'], rows).map((l) => `  ${l}`)];
}

/** The expectation as a short phrase: `not_null`, `between 25 and 70`, `in_set [a, b]`, `regex /x/`. */
export function describe(r: ExpectationResult): string {
  switch (r.kind) {
    case 'between':
      return r.expected;
    case 'in_set':
      return `in_set ${r.expected.replace(/^in /, '')}`;
    case 'regex':
      return `regex ${r.expected.replace(/^matches /, '')}`;
    case 'type':
    case 'row_count':
      return `${r.kind} ${r.expected.replace(/^type /, '')}`;
    default:
      return r.kind;
  }
}

function alignedTable(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
