import { EXIT, MlopsError } from '../../../protocol/errors';
import type { PipelineEvent, RunRequest } from '../../../protocol/pipeline';
import type { RunDetail } from '../../../protocol/types';
import { formatDuration, formatMetrics, plural, planTable, shortId, statusLabel, table } from '../format';
import type { Output } from '../output';
import { connect, workspaceOf } from '../workspace-access';

export interface RunOptions {
  param?: string[];
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
  /** commander's `--no-follow` sets this to false. */
  follow?: boolean;
  experiment?: string;
}

/** `mlops run [STEP...]`: plan or start a pipeline run through the daemon, then follow it. */
export async function runPipelineCommand(io: Output, cwd: string, steps: string[], opts: RunOptions): Promise<number> {
  const req = runRequest(steps, opts);
  const { client } = await connect(workspaceOf(cwd));

  if (opts.dryRun) {
    const plan = await client.plan(req);
    if (opts.json) io.json(plan);
    else for (const line of planTable(plan.steps)) io.out(line);
    return EXIT.OK;
  }

  if (opts.follow === false) {
    const { runId, plan } = await client.run(req);
    if (opts.json) io.json({ runId, plan });
    else {
      io.out(`run ${runId} started: ${describePlan(plan.steps)}`);
      io.out(`follow it with: mlops logs ${shortId(runId)} --follow`);
    }
    return EXIT.OK;
  }

  // Subscribe before starting, so no event of the run can be missed.
  const stream = client.events();
  let detach: (() => void) | undefined;
  try {
    await stream.ready;
    const { runId, plan } = await client.run(req);
    // Ctrl-C stops following, not the run: it belongs to the daemon and goes on.
    detach = () => {
      io.err(`mlops: stopped following run ${shortId(runId)}; it keeps running (mlops logs ${shortId(runId)} --follow, mlops cancel ${shortId(runId)})`);
      process.exit(130);
    };
    process.once('SIGINT', detach);
    if (!opts.json) io.out(`run ${runId} started: ${describePlan(plan.steps)}`);
    const printer = new EventPrinter(io, !opts.json);
    let finished = false;
    for await (const e of stream) {
      if (e.type === 'daemon-stopping') throw new MlopsError('UNAVAILABLE', `the orchestrator daemon stopped during run ${runId}`);
      if (!('runId' in e) || e.runId !== runId) continue;
      printer.print(e);
      if (e.type === 'run-finished') {
        finished = true;
        break;
      }
    }
    printer.flush();
    const run = await client.getRun(runId);
    if (!finished && (run.status === 'running' || run.status === 'queued')) {
      throw new MlopsError('UNAVAILABLE', `lost the orchestrator's event stream while run ${runId} was still going; follow it with: mlops logs ${shortId(runId)} --follow`);
    }
    if (opts.json) io.json({ runId, status: run.status, plan, run });
    else printSummary(io, run);
    return run.status === 'succeeded' ? EXIT.OK : EXIT.CHECK_FAILED;
  } finally {
    if (detach) process.off('SIGINT', detach);
    stream.close();
  }
}

function runRequest(steps: string[], opts: RunOptions): RunRequest {
  const req: RunRequest = {};
  if (steps.length) req.steps = steps;
  if (opts.param?.length) req.params = parseParams(opts.param);
  if (opts.force) req.force = true;
  if (opts.experiment) req.experiment = opts.experiment;
  return req;
}

/** `--param k=v` (repeatable) into a map; the manifest's defaults type the values. */
export function parseParams(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new MlopsError('BAD_REQUEST', `--param ${p}: expected KEY=VALUE`);
    out[p.slice(0, eq).trim()] = p.slice(eq + 1);
  }
  return out;
}

function describePlan(steps: { action: string }[]): string {
  const n = (a: string) => steps.filter((s) => s.action === a).length;
  const parts = [`${n('run')} to run`, `${n('skip')} cached`];
  if (n('restore')) parts.push(`${n('restore')} restored from cache`);
  return `${plural(steps.length, 'step')} (${parts.join(', ')})`;
}

/** Renders a run's events as lines; step output is prefixed with the step name, line by line. */
class EventPrinter {
  private readonly partial = new Map<string, string>();
  constructor(private readonly io: Output, private readonly enabled: boolean) {}

  print(e: PipelineEvent): void {
    if (!this.enabled) return;
    switch (e.type) {
      case 'step-started':
        this.io.out(`[${e.step}] started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        break;
      case 'step-output': {
        const text = (this.partial.get(e.step) ?? '') + e.text;
        const lines = text.split('\n');
        this.partial.set(e.step, lines.pop()!);
        for (const l of lines) this.io.out(`${e.step} | ${l.replace(/\r$/, '')}`);
        break;
      }
      case 'step-finished':
        this.flushStep(e.step);
        // Skipped steps (cached, restored, upstream failed) did not run: the reason is what matters.
        this.io.out(`[${e.step}] ${statusLabel(e)}${e.status === 'skipped' ? '' : ` in ${formatDuration(e.durationMs)}`}${e.message ? `: ${e.message}` : ''}`);
        break;
      case 'run-finished':
        this.flush();
        break;
      default:
        break;
    }
  }

  flush(): void {
    for (const step of this.partial.keys()) this.flushStep(step);
  }

  private flushStep(step: string): void {
    const rest = this.partial.get(step);
    if (rest) this.io.out(`${step} | ${rest}`);
    this.partial.delete(step);
  }
}

export function printSummary(io: Output, run: RunDetail): void {
  io.out('');
  io.out(`run ${shortId(run.id)} ${statusLabel(run)} in ${formatDuration(run.durationMs)}${run.message && run.status !== 'succeeded' ? `: ${run.message}` : ''}`);
  const rows = run.children.map((c) => [c.name, statusLabel(c), formatDuration(c.durationMs), formatMetrics(c.latestMetrics)]);
  for (const line of table(['STEP', 'STATUS', 'DURATION', 'METRICS'], rows)) io.out(line);
}
