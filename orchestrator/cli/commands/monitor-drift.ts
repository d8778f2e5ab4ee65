/**
 * `mlops drift DEPLOYMENT [--last N | --since 10m]`: the deployment's logged requests against
 * its monitor reference, in-process (the request log and the reference are plain files).
 * The report is saved under `.mlops/deployments/<name>/reports/` like a scheduled check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT, MlopsError } from '../../../protocol/errors';
import { driftHtml } from '../../drift';
import { deploymentDrift } from '../../monitoring/deployment-drift';
import { parseDuration } from '../../monitoring/request-log';
import { loadManifest } from '../../pipelines/load';
import { formatNumber } from '../format';
import type { Output } from '../output';
import { workspaceOf } from '../workspace-access';
import { printDrift } from './drift';

export interface DeploymentDriftCliOptions {
  last?: string;
  since?: string;
  json?: boolean;
  html?: string;
}

export async function deploymentDriftCommand(io: Output, cwd: string, name: string, o: DeploymentDriftCliOptions): Promise<number> {
  if (o.last !== undefined && o.since !== undefined) throw new MlopsError('BAD_REQUEST', '--last and --since: give one window, not both');
  let last: number | undefined;
  let since: number | undefined;
  if (o.last !== undefined) {
    last = Number(o.last);
    if (!Number.isInteger(last) || last < 1) throw new MlopsError('BAD_REQUEST', `--last ${o.last}: expected a number of requests (a positive integer)`);
  }
  if (o.since !== undefined) {
    const ms = parseDuration(o.since);
    if (ms === undefined) throw new MlopsError('BAD_REQUEST', `--since ${o.since}: expected a duration such as 30s, 10m, 2h or 1d`);
    since = Date.now() - ms;
  }
  const ws = workspaceOf(cwd);
  const { manifest } = loadManifest(ws);
  const result = await deploymentDrift(ws, manifest, name, { window: last !== undefined || since !== undefined ? { last, since } : undefined });
  if (o.html) {
    const file = path.resolve(cwd, o.html);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, driftHtml(result.report));
  }
  if (o.json) io.json(result);
  else {
    io.out(`deployment ${name}: ${result.requests} requests (${result.rows} rows)`);
    printDrift(io, result.report, o.html);
    if (result.predictionShift) {
      const s = result.predictionShift;
      io.out(`prediction shift vs the ${s.reference}: Jensen-Shannon ${formatNumber(s.score)}; ${s.test} says ${s.drifted ? 'SHIFTED' : 'no shift'}`);
    }
    io.out(`saved: ${path.relative(cwd, result.reportPath) || result.reportPath}`);
  }
  return result.report.datasetDrift ? EXIT.CHECK_FAILED : EXIT.OK;
}
