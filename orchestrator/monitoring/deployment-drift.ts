/**
 * Drift of a deployment's live traffic: the last window of logged requests (by count or time)
 * against the monitor's reference data, through the same engine as `mlops drift` on files.
 * Each check is saved as JSON under `.mlops/deployments/<name>/reports/` (the newest
 * `MAX_REPORTS` are kept). The predictions of the first window with predictions become the
 * baseline that `prediction_shift` compares later windows with.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { Manifest, Monitor } from '../../protocol/manifest';
import type { DeploymentDriftResult } from '../../protocol/monitoring';
import { formatOf } from '../data/table';
import { driftReport, loadColumns, type LoadedTable } from '../drift';
import { writeJsonAtomic } from '../daemon/daemon-info';
import { deploymentDir, isInside, mlopsPaths } from '../daemon/paths';
import type { CategoricalColumn } from '../drift/columns';
import { categorical, entriesToTable, predictionsColumn } from './log-table';
import { readRequestLog, type LogWindow } from './request-log';

export const MAX_REPORTS = 50;
/** Requests compared when neither the manifest's `window` nor the caller says. */
export const DEFAULT_WINDOW = 1000;

export function deploymentPaths(workspace: string, name: string) {
  const dir = deploymentDir(mlopsPaths(workspace), name);
  return { dir, requests: path.join(dir, 'requests'), feedback: path.join(dir, 'feedback'), reports: path.join(dir, 'reports'), baseline: path.join(dir, 'monitor', 'prediction-baseline.json') };
}

/** The deployment's `monitor:` block; NOT_FOUND / BAD_REQUEST with what to write when missing. */
export function monitorOf(manifest: Manifest, name: string): Monitor & { reference: string } {
  const d = manifest.deployments?.[name];
  if (!d) {
    const known = Object.keys(manifest.deployments ?? {});
    throw new MlopsError('NOT_FOUND', `no deployment "${name}" in mlops.yaml${known.length ? ` (deployments: ${known.join(', ')})` : ''}`);
  }
  if (!d.monitor?.reference) throw new MlopsError('BAD_REQUEST', `deployment "${name}" has no monitor.reference in mlops.yaml: add monitor: {reference: data/train.csv} (a file or a dataset name) to compare its requests with`);
  return d.monitor as Monitor & { reference: string };
}

/** monitor.reference: a dataset name or a path relative to the manifest folder (never outside it). */
export function referencePath(workspace: string, manifest: Manifest, reference: string): { file: string; format: ReturnType<typeof formatOf>; shown: string } {
  const ds = manifest.datasets?.[reference];
  const rel = ds ? ds.path : reference;
  const file = path.resolve(workspace, rel);
  if (!isInside(workspace, file)) throw new MlopsError('BAD_REQUEST', `monitor.reference ${reference}: the reference must be inside the workspace`);
  if (!fs.existsSync(file)) throw new MlopsError('NOT_FOUND', `monitor.reference ${reference}: no such file: ${rel}${ds ? ` (dataset ${reference})` : ''}`);
  return { file, format: formatOf(file, ds?.format), shown: rel };
}

export interface DeploymentDriftOptions {
  window?: LogWindow;
  /** Save the report under reports/ (default true). */
  save?: boolean;
}

/** Runs one drift check of the deployment's logged requests against its reference. */
export async function deploymentDrift(workspace: string, manifest: Manifest, name: string, opts: DeploymentDriftOptions = {}): Promise<DeploymentDriftResult> {
  const monitor = monitorOf(manifest, name);
  const paths = deploymentPaths(workspace, name);
  const window: LogWindow = { okOnly: true, ...(opts.window ?? {}) };
  if (window.last === undefined && window.since === undefined) window.last = monitor.drift?.window ?? DEFAULT_WINDOW;
  const entries = readRequestLog(paths.requests, window);
  const rows = entries.reduce((s, e) => s + (e.rows?.length ?? 0), 0);
  if (!entries.length || !rows) {
    throw new MlopsError('NOT_FOUND', `deployment "${name}" has no logged requests with rows${window.since !== undefined ? ' in that time window' : ''} (looked in ${path.relative(workspace, paths.requests)})`);
  }
  const ref = referencePath(workspace, manifest, monitor.reference);
  const current = entriesToTable(entries, monitor.drift?.columns);
  const wanted = monitor.drift?.columns?.length ? monitor.drift.columns : current.columns.map((c) => c.name);
  const reference = await loadColumns(ref.file, ref.format, wanted);
  const report = driftReport(
    { path: ref.shown, table: reference },
    { path: `${name}: last ${entries.length} requests`, table: current },
    { columns: wanted, driftShare: monitor.drift?.drift_share },
  );
  const result: DeploymentDriftResult = { deployment: name, report, reportPath: '', requests: entries.length, rows };
  const shift = predictionShift(paths.baseline, predictionsColumn(entries));
  if (shift) result.predictionShift = shift;
  if (opts.save !== false) result.reportPath = saveReport(paths.reports, result);
  return result;
}

/**
 * The window's predictions against the baseline (the first window's, saved on first use):
 * Jensen–Shannon distance as the value, and the drift engine's default categorical test.
 */
function predictionShift(baselineFile: string, current: CategoricalColumn): DeploymentDriftResult['predictionShift'] {
  if (!current.codes.some((c) => c >= 0)) return undefined;
  let baseline: string[] | undefined;
  try {
    baseline = (JSON.parse(fs.readFileSync(baselineFile, 'utf8')) as { predictions: string[] }).predictions;
  } catch {
    baseline = undefined;
  }
  if (!baseline) {
    baseline = Array.from(current.codes, (c) => (c >= 0 ? current.labels[c]! : '')).filter(Boolean);
    fs.mkdirSync(path.dirname(baselineFile), { recursive: true });
    writeJsonAtomic(baselineFile, { createdAt: Date.now(), predictions: baseline });
  }
  const ref: LoadedTable = { rows: baseline.length, columns: [categorical('prediction', baseline)] };
  const cur: LoadedTable = { rows: current.codes.length, columns: [current] };
  const js = driftReport({ path: 'baseline', table: ref }, { path: 'window', table: cur }, { stattest: 'jensenshannon' }).columns[0];
  const test = driftReport({ path: 'baseline', table: ref }, { path: 'window', table: cur }).columns[0];
  if (!js || !test) return undefined;
  return { score: js.score, test: test.testLabel, drifted: test.drifted, reference: `first window (${baseline.length} predictions)` };
}

function saveReport(dir: string, result: DeploymentDriftResult): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `drift-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`);
  result.reportPath = file;
  writeJsonAtomic(file, result);
  const old = fs.readdirSync(dir).filter((f) => /^drift-.*\.json$/.test(f)).sort();
  for (const f of old.slice(0, Math.max(0, old.length - MAX_REPORTS))) fs.rmSync(path.join(dir, f), { force: true });
  return file;
}

/** The newest saved drift check of a deployment, if any. */
export function latestReport(workspace: string, name: string): DeploymentDriftResult | undefined {
  const dir = deploymentPaths(workspace, name).reports;
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => /^drift-.*\.json$/.test(f)).sort();
  } catch {
    return undefined;
  }
  const last = files[files.length - 1];
  return last ? (JSON.parse(fs.readFileSync(path.join(dir, last), 'utf8')) as DeploymentDriftResult) : undefined;
}

/** Measured values of a drift check, by alert metric key. */
export function driftValues(r: DeploymentDriftResult): Map<string, number> {
  const v = new Map<string, number>([['drift_share', r.report.share]]);
  for (const c of r.report.columns) v.set(`column_drift.${c.column}`, c.drifted ? 1 : 0);
  if (r.predictionShift) v.set('prediction_shift', r.predictionShift.score);
  return v;
}
