import { basename } from 'node:path';
import type { DriftReport } from '../../protocol/data';
import { formatOf } from '../data/table';
import { loadColumns } from './columns';
import { driftReport, type DriftOptions } from './report';

/** Loads both files (only the asked columns) and compares them. `shown` names them in the report. */
export async function driftFiles(reference: string, current: string, opts: DriftOptions = {}, shown?: { reference: string; current: string }): Promise<DriftReport> {
  const only = opts.columns?.length ? opts.columns : undefined;
  const [ref, cur] = await Promise.all([loadColumns(reference, formatOf(reference), only), loadColumns(current, formatOf(current), only)]);
  return driftReport({ path: shown?.reference ?? basename(reference), table: ref }, { path: shown?.current ?? basename(current), table: cur }, opts);
}
