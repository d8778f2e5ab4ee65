/**
 * Gates: metric conditions from the manifest (`models.NAME.gates`) that a version must meet
 * before an alias may point at it. A gate has an absolute bound (`min`, `max`) and/or a
 * bound relative to the version holding another alias (`relative_to: production`,
 * `tolerance: 0.01`: at least the holder's value minus the tolerance). Pure: the caller
 * supplies the metrics of the candidate and of the alias holders.
 */
import { MlopsError } from '../../protocol/errors';
import type { Gate } from '../../protocol/manifest';
import type { GateCheck, GateReport } from '../../protocol/registry';

/** The version holding an alias now, with its metrics; undefined when the alias is unset. */
export type HolderLookup = (alias: string) => { version: number; metrics: Record<string, number> } | undefined;

export interface GateInput {
  model: string;
  version: number;
  alias: string;
  metrics: Record<string, number>;
  gates: readonly Gate[];
  holder: HolderLookup;
  approvalsRequired: number;
  /** A candidate that is not a registered version yet (`mlops gate --run`): the report names it. */
  runId?: string;
}

export function evaluateGates(input: GateInput): GateReport {
  const checks = input.gates.flatMap((g) => checkGate(g, input));
  return { model: input.model, version: input.version, alias: input.alias, passed: checks.every((c) => c.passed), checks, approvalsRequired: input.approvalsRequired, ...(input.runId ? { runId: input.runId } : {}) };
}

function checkGate(g: Gate, input: GateInput): GateCheck[] {
  const raw = input.metrics[g.metric];
  const value = typeof raw === 'number' && !Number.isNaN(raw) ? raw : undefined;
  const missing = (condition: string): GateCheck => ({ metric: g.metric, condition, passed: false, note: `${input.runId ? `run ${input.runId.slice(0, 8)}` : `version ${input.version}`} has no metric "${g.metric}"` });
  const out: GateCheck[] = [];
  if (g.min !== undefined) {
    const condition = `>= ${g.min}`;
    out.push(value === undefined ? missing(condition) : { metric: g.metric, condition, value, threshold: g.min, passed: value >= g.min, ...(value >= g.min ? {} : { note: `${fmt(value)} is below the minimum ${g.min}` }) });
  }
  if (g.max !== undefined) {
    const condition = `<= ${g.max}`;
    out.push(value === undefined ? missing(condition) : { metric: g.metric, condition, value, threshold: g.max, passed: value <= g.max, ...(value <= g.max ? {} : { note: `${fmt(value)} is above the maximum ${g.max}` }) });
  }
  if (g.relative_to !== undefined) {
    const tol = g.tolerance ?? 0;
    const holder = input.holder(g.relative_to);
    const condition = `>= ${g.relative_to}${tol ? ` - ${tol}` : ''}`;
    if (!holder) {
      out.push({ metric: g.metric, condition, ...(value === undefined ? {} : { value }), reference: { alias: g.relative_to }, passed: true, note: `no version holds ${g.relative_to} yet` });
    } else {
      const refRaw = holder.metrics[g.metric];
      const ref = typeof refRaw === 'number' && !Number.isNaN(refRaw) ? refRaw : undefined;
      const reference = { alias: g.relative_to, version: holder.version, ...(ref === undefined ? {} : { value: ref }) };
      if (ref === undefined) {
        out.push({ metric: g.metric, condition, ...(value === undefined ? {} : { value }), reference, passed: true, note: `${g.relative_to} (v${holder.version}) has no metric "${g.metric}" to compare with` });
      } else if (value === undefined) {
        out.push({ ...missing(condition), reference });
      } else {
        const threshold = ref - tol;
        // A tolerance in the metric's units: compare with a little slack for float rounding (0.97 - 0.01).
        const passed = value >= threshold - 1e-12;
        out.push({ metric: g.metric, condition, value, threshold, reference, passed, ...(passed ? {} : { note: `${fmt(value)} is below ${g.relative_to} (v${holder.version}) ${fmt(ref)}${tol ? ` - ${tol}` : ''}` }) });
      }
    }
  }
  if (out.length === 0) {
    // A gate with only a metric: the metric must exist.
    out.push(value === undefined ? missing('logged') : { metric: g.metric, condition: 'logged', value, passed: true });
  }
  return out;
}

/** The table a failing (or passing) gate check prints: one row per condition. */
export function gateTable(r: GateReport): string[] {
  const header = ['METRIC', 'CONDITION', 'VALUE', 'THRESHOLD', 'RESULT'];
  const rows = r.checks.map((c) => [
    c.metric,
    c.reference?.version !== undefined ? c.condition.replace(c.reference.alias, `${c.reference.alias} (v${c.reference.version})`) : c.condition,
    c.value === undefined ? '-' : fmt(c.value),
    c.threshold === undefined ? '-' : fmt(c.threshold),
    c.passed ? (c.note ? `pass (${c.note})` : 'pass') : `FAIL${c.note ? ` (${c.note})` : ''}`,
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** The error a failed gate check is: GATE_FAILED with the report as details and the table in the message. */
export function gateError(r: GateReport): MlopsError {
  const failed = r.checks.filter((c) => !c.passed).length;
  const lines = [`${r.model} v${r.version} fails ${failed} of ${r.checks.length} gate condition${r.checks.length === 1 ? '' : 's'} for @${r.alias}:`, ...gateTable(r).map((l) => `  ${l}`)];
  return new MlopsError('GATE_FAILED', lines.join('\n'), r);
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}
