/**
 * The pipeline's data gate: before a step that reads a dataset runs, the dataset's
 * expectations are checked; a failure fails the step (and so skips its dependants) with the
 * failure table. Results are remembered by (file content hash, expectations), so several
 * dependants of one dataset, or a re-run on unchanged data, check it once.
 */
import { createHash } from 'node:crypto';
import type { DatasetCheck } from '../../protocol/data';
import type { Dataset } from '../../protocol/manifest';
import { checkDataset, failureTable } from './check';

const remembered = new Map<string, Promise<DatasetCheck>>();
const REMEMBER_MAX = 64;

export interface GateOutcome {
  ok: boolean;
  /** One line per dataset and the failure tables (empty when nothing was checked). */
  lines: string[];
  /** Step message when it fails: a headline, then the table. */
  message?: string;
  checks: DatasetCheck[];
}

/**
 * Checks `datasets` (name → declaration) that have expectations. `contentHash` gives each
 * dataset's current content hash (the runner's file hasher), used to reuse earlier results.
 */
export async function gateDatasets(root: string, datasets: ReadonlyMap<string, Dataset>, contentHash: (name: string) => string | undefined): Promise<GateOutcome> {
  const checks: DatasetCheck[] = [];
  for (const [name, ds] of datasets) {
    if (!ds.expect?.length) continue;
    const hash = contentHash(name);
    const key = hash ? createHash('sha256').update(`${root}\0${name}\0${hash}\0${JSON.stringify(ds)}`).digest('hex') : undefined;
    let pending = key ? remembered.get(key) : undefined;
    if (!pending) {
      pending = checkDataset(root, name, ds);
      if (key) {
        if (remembered.size >= REMEMBER_MAX) remembered.delete(remembered.keys().next().value!);
        remembered.set(key, pending);
        // A crash in the check is not remembered.
        pending.catch(() => remembered.delete(key));
      }
    }
    checks.push(await pending);
  }
  const failed = checks.filter((c) => !c.success);
  const lines = checks.flatMap((c) => (c.success ? [`data check: dataset ${c.dataset}: ${c.results.length} expectations passed (${c.rows} rows)`] : failureTable(c)));
  if (!failed.length) return { ok: true, lines, checks };
  const message = `data expectations failed: ${failed.flatMap(failureTable).join('\n')}`;
  return { ok: false, lines, message, checks };
}
