/**
 * `mlops gate NAME@ALIAS [--version V | --run RUN]`: evaluates the model's gates (mlops.yaml
 * `models.NAME.gates`) for pointing ALIAS at a candidate, and moves nothing. The candidate is a
 * registered version (default: the newest, which in CI is the one just registered) or, with
 * --run, a run not registered at all: what a pull request's CI job judges before anything is
 * written to the registry. Relative gates compare with the version holding the reference alias
 * now. Exit 0 when every condition passes, 1 when one fails, 2 for an unknown model, version or
 * run; --junit writes one test case per condition, so CI shows which gate failed and by how much.
 */
import { EXIT, MlopsError } from '../../../protocol/errors';
import type { GateReport } from '../../../protocol/registry';
import { evaluateGates, gateTable, type HolderLookup } from '../../registry/gates';
import { modelPolicy } from '../../registry/policy';
import { parseAliasRef, parseVersion } from '../../registry/refs';
import { junitXml, writeJUnit } from '../junit';
import { gateFailure, gateSuites } from '../junit-reports';
import type { Output } from '../output';
import { openRegistryReader, type RegistryReader } from '../registry-access';
import { openReader, resolveRunId, workspaceOf } from '../workspace-access';

export interface GateOptions {
  version?: string;
  run?: string;
  json?: boolean;
  junit?: string;
}

export async function gateCommand(io: Output, cwd: string, target: string, opts: GateOptions): Promise<number> {
  const { model, alias } = parseAliasRef(target);
  if (opts.version !== undefined && opts.run !== undefined) throw new MlopsError('BAD_REQUEST', 'give --version or --run, not both');
  const wanted = opts.version === undefined ? undefined : parseVersion(opts.version);
  const ws = workspaceOf(cwd);
  const reader = await openRegistryReader(ws);
  let report: GateReport;
  try {
    if (opts.run !== undefined) report = await gateRun(ws, reader, model, alias, opts.run);
    else {
      const version = wanted ?? (await reader.reads.getModel(model)).model.latestVersion;
      if (version === undefined) throw new MlopsError('NOT_FOUND', `${model} has no versions to check; register one with: mlops models register ${model} --run RUN (or judge a run: mlops gate ${model}@${alias} --run RUN)`);
      report = await reader.reads.checkGates(model, version, alias);
    }
  } finally {
    await reader.close();
  }
  if (opts.junit) writeJUnit(cwd, opts.junit, junitXml('mlops gate', gateSuites([report])));
  if (opts.json) io.json(report);
  else printVerdict(io, report);
  return report.passed ? EXIT.OK : EXIT.CHECK_FAILED;
}

/** The gates for a run's metrics, as registering it would record them (a step run's own win over its pipeline's). */
async function gateRun(ws: string, reader: RegistryReader, model: string, alias: string, ref: string): Promise<GateReport> {
  const policy = modelPolicy(ws, model);
  if (!policy.spec) throw new MlopsError('NOT_FOUND', `mlops.yaml declares no model "${model}" (models.${model}), so it has no gates to judge a run by`);
  const runs = await openReader(ws);
  let metrics: Record<string, number>;
  let runId: string;
  try {
    runId = await resolveRunId(runs, ref);
    const run = await runs.getRun(runId);
    if (run.status !== 'succeeded' && run.status !== 'skipped') throw new MlopsError('CONFLICT', `run ${runId.slice(0, 8)} (${run.name}) is ${run.status}; gates judge a successful run`);
    const parent = run.parentId ? await runs.getRun(run.parentId) : undefined;
    metrics = { ...(parent?.latestMetrics ?? {}), ...run.latestMetrics };
  } finally {
    await runs.close();
  }
  // Relative gates compare with today's holder of the reference alias (none in a fresh CI registry).
  const holders = new Map<string, ReturnType<HolderLookup>>();
  for (const g of policy.gates) {
    if (g.relative_to === undefined || holders.has(g.relative_to)) continue;
    const held = await reader.reads.getVersion(`${model}@${g.relative_to}`).catch((e: unknown) => {
      if (e instanceof MlopsError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    });
    holders.set(g.relative_to, held ? { version: held.version, metrics: held.metrics } : undefined);
  }
  return evaluateGates({ model, version: 0, runId, alias, metrics, gates: policy.gates, approvalsRequired: policy.approvals[alias] ?? 0, holder: (a) => holders.get(a) });
}

function printVerdict(io: Output, r: GateReport): void {
  const failed = r.checks.filter((c) => !c.passed);
  const head = `${r.model} ${r.runId ? `run ${r.runId.slice(0, 8)}` : `v${r.version}`} → @${r.alias}`;
  if (r.checks.length === 0) io.out(`${head}: PASS (no gates declared in mlops.yaml models.${r.model}.gates)`);
  else {
    io.out(failed.length ? `${head}: FAIL (${failed.length} of ${r.checks.length} gate conditions)` : `${head}: PASS (${r.checks.length} gate condition${r.checks.length === 1 ? '' : 's'})`);
    for (const l of gateTable(r)) io.out(`  ${l}`);
    for (const c of failed) io.out(`gate failed: ${gateFailure(c)}`);
  }
  if (r.approvalsRequired) io.out(`@${r.alias} also needs ${r.approvalsRequired} approval${r.approvalsRequired === 1 ? '' : 's'} before it moves`);
  io.out('nothing was moved (mlops gate only checks)');
}
