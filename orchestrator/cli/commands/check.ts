import * as path from 'node:path';
import type { CheckReport } from '../../../protocol/data';
import { EXIT } from '../../../protocol/errors';
import { checkDatasets, failureTable } from '../../data';
import { loadManifest } from '../../pipelines/load';
import { junitXml, writeJUnit } from '../junit';
import { checkSuites } from '../junit-reports';
import type { Output } from '../output';
import { workspaceOf } from '../workspace-access';

export interface CheckOptions {
  json?: boolean;
  junit?: string;
}

/**
 * `mlops check [DATASET...]`: runs the datasets' expectations in-process (a pure command: no
 * daemon). Exit 0 all pass, 1 an expectation failed or a file is unreadable, 2 usage.
 */
export async function checkCommand(io: Output, cwd: string, names: string[], opts: CheckOptions): Promise<number> {
  const root = workspaceOf(cwd);
  const loaded = loadManifest(root);
  const report = await checkDatasets(root, loaded.manifest, names, loaded.text);
  if (opts.junit) writeJUnit(cwd, opts.junit, junitXml('mlops check', checkSuites(report)));
  if (opts.json) io.json(report);
  else printReport(io, report, path.relative(cwd, loaded.file) || 'mlops.yaml');
  return report.success ? EXIT.OK : EXIT.CHECK_FAILED;
}

function printReport(io: Output, report: CheckReport, manifest: string): void {
  if (!report.datasets.length) {
    io.out('no dataset declares expectations (datasets.NAME.expect in mlops.yaml)');
    return;
  }
  for (const d of report.datasets) {
    for (const line of failureTable(d)) io.out(line);
    for (const r of d.results) if (!r.success && r.location) io.out(`  ${manifest}:${r.location.line}:${r.location.column} ${r.kind}${r.column ? ` [${r.column}]` : ''}: ${r.observed}`);
  }
  const failed = report.datasets.filter((d) => !d.success).length;
  io.out(failed ? `${failed} of ${report.datasets.length} dataset${report.datasets.length === 1 ? '' : 's'} failed` : `${report.datasets.length} dataset${report.datasets.length === 1 ? '' : 's'} passed`);
}
