import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DriftReport, StatTestName } from '../../../protocol/data';
import { EXIT, MlopsError } from '../../../protocol/errors';
import { driftFiles, driftHtml, isStatTest, STAT_TESTS, type DriftOptions } from '../../drift';
import { formatNumber, table } from '../format';
import { junitXml, writeJUnit } from '../junit';
import { driftSuites } from '../junit-reports';
import type { Output } from '../output';
import { deploymentDriftCommand } from './monitor-drift';

export interface DriftCliOptions {
  /** Absent with a DEPLOYMENT argument (its monitor reference and logged requests). */
  reference?: string;
  current?: string;
  /** `mlops drift DEPLOYMENT`: the window of logged requests. */
  last?: string;
  since?: string;
  columns?: string[];
  stattest?: string[];
  threshold?: string[];
  categorical?: string[];
  driftShare?: string;
  json?: boolean;
  html?: string;
  junit?: string;
}

const list = (vs: string[] | undefined) => (vs ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);

/** `--stattest psi` (every column) or `--stattest col=psi`; the same for `--threshold`. */
function perColumn<T>(values: string[] | undefined, parse: (v: string, flag: string) => T, flag: string): { all?: T; by: Record<string, T> } {
  const by: Record<string, T> = {};
  let all: T | undefined;
  for (const v of values ?? []) {
    const eq = v.lastIndexOf('=');
    if (eq < 0) all = parse(v, flag);
    else by[v.slice(0, eq)] = parse(v.slice(eq + 1), flag);
  }
  return { all, by };
}

function statTest(v: string, flag: string): StatTestName {
  if (!isStatTest(v)) throw new MlopsError('BAD_REQUEST', `${flag} ${v}: unknown test; one of ${Object.keys(STAT_TESTS).join(', ')}`);
  return v;
}

function fraction(v: string, flag: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new MlopsError('BAD_REQUEST', `${flag} ${v}: expected a non-negative number`);
  return x;
}

export function driftOptions(o: DriftCliOptions): DriftOptions {
  const st = perColumn(o.stattest, statTest, '--stattest');
  const th = perColumn(o.threshold, fraction, '--threshold');
  const share = o.driftShare === undefined ? undefined : fraction(o.driftShare, '--drift-share');
  if (share !== undefined && share > 1) throw new MlopsError('BAD_REQUEST', `--drift-share ${o.driftShare}: expected a share between 0 and 1`);
  return { columns: list(o.columns), stattest: st.all, stattests: st.by, threshold: th.all, thresholds: th.by, categorical: list(o.categorical), driftShare: share };
}

/**
 * `mlops drift --reference A --current B`: compares two data files in-process. Exit 0 no
 * data-set drift, 1 drift, 2 usage (missing file, bad option); the report is printed either way
 * (and written as JUnit with --junit, its failures being the drift that sets the exit status).
 */
export async function driftCommand(io: Output, cwd: string, o: DriftCliOptions, deployment?: string): Promise<number> {
  if (deployment !== undefined) {
    if (o.reference !== undefined || o.current !== undefined) throw new MlopsError('BAD_REQUEST', `mlops drift ${deployment}: the reference is the deployment's monitor.reference and the current data its logged requests; drop --reference/--current`);
    return deploymentDriftCommand(io, cwd, deployment, o);
  }
  if (o.reference === undefined || o.current === undefined) throw new MlopsError('BAD_REQUEST', 'mlops drift: give --reference FILE and --current FILE, or a DEPLOYMENT name');
  if (o.last !== undefined || o.since !== undefined) throw new MlopsError('BAD_REQUEST', '--last and --since apply to a DEPLOYMENT (its logged requests), not to files');
  const opts = driftOptions(o);
  const ref = path.resolve(cwd, o.reference);
  const cur = path.resolve(cwd, o.current);
  for (const [flag, f] of [['--reference', ref], ['--current', cur]] as const) if (!fs.existsSync(f)) throw new MlopsError('NOT_FOUND', `${flag}: no such file: ${f}`);
  const report = await driftFiles(ref, cur, opts, { reference: o.reference, current: o.current });
  const unknown = (opts.columns ?? []).filter((c) => report.skipped.some((s) => s.column === c && s.reason.startsWith('missing in the reference and current')));
  if (unknown.length) throw new MlopsError('BAD_REQUEST', `--columns: no column ${unknown.map((c) => `"${c}"`).join(', ')} in either file`);
  if (o.html) {
    const file = path.resolve(cwd, o.html);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, driftHtml(report));
  }
  if (o.junit) writeJUnit(cwd, o.junit, junitXml('mlops drift', driftSuites(report)));
  if (o.json) io.json(report);
  else printDrift(io, report, o.html);
  return report.datasetDrift ? EXIT.CHECK_FAILED : EXIT.OK;
}

function score(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-4 ? x.toExponential(2) : formatNumber(x);
}

export function printDrift(io: Output, r: DriftReport, html?: string): void {
  io.out(`reference ${r.reference.path} (${r.reference.rows} rows), current ${r.current.path} (${r.current.rows} rows)`);
  const rows = r.columns.map((c) => [c.column, c.kind, c.testLabel + (c.method === 'asymptotic' ? ' (asymptotic)' : ''), score(c.score), `${c.scoreKind === 'p_value' ? (c.test === 'ks' ? 'p ≤' : 'p <') : '≥'} ${c.threshold}`, c.drifted ? 'DRIFT' : 'ok', c.reason]);
  for (const line of table(['COLUMN', 'TYPE', 'TEST', 'SCORE', 'THRESHOLD', 'VERDICT', 'WHY'], rows)) io.out(line);
  for (const s of r.skipped) io.out(`not tested: ${s.column}: ${s.reason}`);
  io.out(`data-set drift: ${r.datasetDrift ? 'YES' : 'no'} (${r.drifted} of ${r.tested} columns drifted, share ${formatNumber(r.share)} ${r.share >= r.driftShare ? '≥' : '<'} ${r.driftShare})`);
  if (html) io.out(`HTML report: ${html}`);
}
