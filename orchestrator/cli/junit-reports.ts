/**
 * The reports of `mlops validate`, `check`, `gate` and `drift` as JUnit suites (see junit.ts).
 * Failing cases are exactly what makes the command exit 1, so a CI test report and the job's
 * status never disagree; a failure's message reads like the CLI's own line for it.
 */
import type { CheckReport, DriftReport } from '../../protocol/data';
import type { GateCheck, GateReport } from '../../protocol/registry';
import { describe } from '../data';
import { gateTable } from '../registry/gates';
import { formatNumber } from './format';
import type { JUnitCase, JUnitSuite } from './junit';
import type { ValidateJsonProblem } from './commands/validate';

/** One suite per dataset, one case per expectation (and one for a file that cannot be read). */
export function checkSuites(report: CheckReport): JUnitSuite[] {
  return report.datasets.map((d) => {
    const classname = `mlops.data.${d.dataset}`;
    const cases: JUnitCase[] = [];
    if (d.error) cases.push({ classname, name: `read ${d.path}`, failure: { message: d.error } });
    for (const r of d.results) {
      const sample = r.sample.map((s) => `row ${s.row}: ${s.value}`).join('\n');
      cases.push({
        classname,
        name: `${describe(r)}${r.column ? ` [${r.column}]` : ''}`,
        ...(r.success ? {} : { failure: { message: r.observed, detail: `${r.observed}${sample ? `\n${sample}` : ''}` } }),
      });
    }
    return { name: `dataset ${d.dataset}`, cases, timeMs: d.durationMs };
  });
}

/** One suite for the manifest: a case per problem (errors fail, warnings pass), or one passing case. */
export function validateSuites(file: string, problems: readonly ValidateJsonProblem[]): JUnitSuite[] {
  const classname = `mlops.validate.${file.replace(/[^\w.-]+/g, '_')}`;
  const cases: JUnitCase[] = problems.map((p) => {
    const where = `${p.file}:${p.line}:${p.column}`;
    return {
      classname,
      name: `${where} ${p.severity} ${p.code}`,
      ...(p.severity === 'error' ? { failure: { message: p.message, detail: `${where} ${p.severity} ${p.message}` } } : {}),
    };
  });
  if (!problems.some((p) => p.severity === 'error')) cases.unshift({ classname, name: `${file} is valid` });
  return [{ name: `validate ${file}`, cases }];
}

/** One suite per gate report, one case per condition: `accuracy >= 0.9` failing with `accuracy 0.81 < min 0.9`. */
export function gateSuites(reports: readonly GateReport[]): JUnitSuite[] {
  return reports.map((r) => {
    const classname = `mlops.gate.${r.model}`;
    const table = gateTable(r).join('\n');
    const subject = r.runId ? `run ${r.runId.slice(0, 8)}` : `v${r.version}`;
    const cases: JUnitCase[] = r.checks.map((c) => ({
      classname,
      name: `${c.metric} ${c.condition}`,
      ...(c.passed ? {} : { failure: { message: gateFailure(c), detail: `${r.model} ${subject} for @${r.alias}:\n${table}` } }),
    }));
    if (cases.length === 0) cases.push({ classname, name: 'no gates declared (models.NAME.gates in mlops.yaml)' });
    return { name: `gates ${r.model} ${subject} → @${r.alias}`, cases };
  });
}

/** The one line a failed gate condition is: `accuracy 0.81 < min 0.9`. */
export function gateFailure(c: GateCheck): string {
  if (c.value === undefined) return c.note ?? `no metric "${c.metric}"`;
  // Six significant digits, as the gate table: 0.89996 must not print as the 0.9 it misses.
  const v = precise(c.value);
  const t = c.threshold === undefined ? '?' : precise(c.threshold);
  if (c.reference) {
    const ref = `${c.reference.alias}${c.reference.version !== undefined ? ` (v${c.reference.version})` : ''}`;
    const tolerance = / - (\S+)$/.exec(c.condition)?.[1];
    return `${c.metric} ${v} < ${ref} ${c.reference.value !== undefined ? precise(c.reference.value) : '?'}${tolerance ? ` - ${tolerance}` : ''}`;
  }
  if (c.condition.startsWith('<=')) return `${c.metric} ${v} > max ${t}`;
  return `${c.metric} ${v} < min ${t}`;
}

function precise(x: number): string {
  return Number.isFinite(x) && !Number.isInteger(x) ? String(Number(x.toPrecision(6))) : String(x);
}

/**
 * One suite: a case per tested column and one for the data set. Columns fail only when the data
 * set drifts (the exit status); a column that drifts alone is named so but passes.
 */
export function driftSuites(r: DriftReport): JUnitSuite[] {
  const classname = 'mlops.drift';
  const shareLine = `${r.drifted} of ${r.tested} columns drifted (share ${formatNumber(r.share)} ${r.share >= r.driftShare ? '≥' : '<'} ${r.driftShare})`;
  const cases: JUnitCase[] = [
    { classname, name: 'data-set drift', ...(r.datasetDrift ? { failure: { message: `data-set drift: ${shareLine}`, detail: r.columns.filter((c) => c.drifted).map((c) => `${c.column}: ${c.testLabel} ${formatNumber(c.score)}`).join('\n') } } : {}) },
  ];
  for (const c of r.columns) {
    const bound = `${c.scoreKind === 'p_value' ? 'p <' : '≥'} ${c.threshold}`;
    const message = `${c.column}: ${c.testLabel} ${formatNumber(c.score)} (drift when ${bound})`;
    cases.push({
      classname,
      name: `column ${c.column} (${c.testLabel})${c.drifted && !r.datasetDrift ? ' drifted, below the data-set share' : ''}`,
      ...(c.drifted && r.datasetDrift ? { failure: { message, detail: `${message}\n${c.reason}` } } : {}),
    });
  }
  return [{ name: `drift ${r.current.path} vs ${r.reference.path}`, cases, timeMs: r.durationMs }];
}
