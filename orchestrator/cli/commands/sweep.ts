import { EXIT, MlopsError } from '../../../protocol/errors';
import type { SweepStartRequest, SweepStatus, TrialSummary } from '../../../protocol/sweep';
import type { DaemonClient } from '../../api-client/client';
import { formatDuration, formatNumber, shortId, table } from '../format';
import type { Output } from '../output';
import { connect, workspaceOf } from '../workspace-access';

export interface SweepOptions {
  trials?: string;
  parallel?: string;
  /** `--new`: start another run instead of continuing the latest one. */
  new?: boolean;
  experiment?: string;
  json?: boolean;
  /** commander's `--no-follow` sets this to false. */
  follow?: boolean;
}

/** Status refreshes while following: at most this often (trial ends arrive in bursts). */
const REFRESH_MS = 300;

/**
 * `mlops sweep NAME`: starts (or resumes) a sweep through the daemon and follows it, one line
 * per finished trial, then prints the trials and the best one. Ctrl-C stops following, not
 * the sweep; `mlops cancel RUN` stops it, and running the command again resumes it.
 * Exit 0 when the sweep succeeded (or had nothing left to do), 1 when it failed or was stopped.
 */
export async function sweepCommand(io: Output, cwd: string, name: string, opts: SweepOptions): Promise<number> {
  const req: SweepStartRequest = { name };
  if (opts.trials !== undefined) req.trials = positive('--trials', opts.trials);
  if (opts.parallel !== undefined) req.parallel = positive('--parallel', opts.parallel);
  if (opts.new) req.fresh = true;
  if (opts.experiment) req.experiment = opts.experiment;
  const { client } = await connect(workspaceOf(cwd));

  if (opts.follow === false) {
    const res = await client.call('POST /api/sweeps/start', req);
    if (opts.json) io.json(res);
    else io.out(res.started ? `${res.message}\nfollow it with: mlops sweep ${name}` : res.message);
    return EXIT.OK;
  }

  // Subscribe before starting, so no event of the sweep can be missed.
  const stream = client.events();
  let detach: (() => void) | undefined;
  try {
    await stream.ready;
    const res = await client.call('POST /api/sweeps/start', req);
    if (!res.started) {
      const status = await client.call('GET /api/sweeps/status', { id: res.runId });
      if (opts.json) io.json({ ...res, status });
      else {
        io.out(res.message);
        printSummary(io, status);
      }
      return status.best ? EXIT.OK : EXIT.CHECK_FAILED;
    }
    const runId = res.runId;
    detach = () => {
      io.err(`mlops: stopped following sweep run ${shortId(runId)}; it keeps running (mlops cancel ${shortId(runId)} stops it; mlops sweep ${name} follows it again)`);
      process.exit(130);
    };
    process.once('SIGINT', detach);
    if (!opts.json) io.out(`${res.message} (${res.finished} of ${res.budget} trials finished)`);
    const printer = new TrialPrinter(io, !opts.json, client, runId);
    await printer.prime();
    let finished = false;
    let last = 0;
    for await (const e of stream) {
      if (e.type === 'daemon-stopping') throw new MlopsError('UNAVAILABLE', `the orchestrator daemon stopped during sweep run ${runId}; run \`mlops sweep ${name}\` again to resume it`);
      if (e.type === 'run-finished' && e.runId === runId) {
        finished = true;
        break;
      }
      if ((e.type === 'runs-changed' || e.type === 'step-finished') && Date.now() - last > REFRESH_MS) {
        last = Date.now();
        await printer.refresh();
      }
    }
    const status = await printer.refresh();
    if (!finished && (status.status === 'running' || status.status === 'queued')) {
      throw new MlopsError('UNAVAILABLE', `lost the orchestrator's event stream while sweep run ${runId} was still going; follow it with: mlops sweep ${name}`);
    }
    if (opts.json) io.json({ runId, status });
    else printSummary(io, status);
    return status.status === 'succeeded' ? EXIT.OK : EXIT.CHECK_FAILED;
  } finally {
    if (detach) process.off('SIGINT', detach);
    stream.close();
  }
}

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new MlopsError('BAD_REQUEST', `${flag} must be a positive integer (got ${raw})`);
  return n;
}

/** Prints each trial once, when it ends. */
class TrialPrinter {
  private readonly printed = new Set<number>();
  constructor(
    private readonly io: Output,
    private readonly enabled: boolean,
    private readonly client: DaemonClient,
    private readonly runId: string,
  ) {}

  /** Trials that ended before this command started (a resumed sweep) are not printed again. */
  async prime(): Promise<void> {
    const status = await this.client.call('GET /api/sweeps/status', { id: this.runId });
    for (const t of status.trials) if (t.state !== 'running') this.printed.add(t.number);
  }

  async refresh(): Promise<SweepStatus> {
    const status = await this.client.call('GET /api/sweeps/status', { id: this.runId });
    for (const t of status.trials) {
      if (t.state === 'running' || this.printed.has(t.number)) continue;
      this.printed.add(t.number);
      if (this.enabled) this.io.out(trialLine(status, t));
    }
    return status;
  }
}

/** A recorded param for a table: numbers to 4 significant digits, anything else as is. */
function paramValue(v: string | undefined): string {
  if (v === undefined) return '-';
  return v.trim() !== '' && Number.isFinite(Number(v)) ? formatNumber(Number(v)) : v;
}

function paramsOf(t: Pick<TrialSummary, 'params'>): string {
  return Object.entries(t.params)
    .map(([k, v]) => `${k}=${paramValue(v)}`)
    .join(' ');
}

function trialLine(s: SweepStatus, t: TrialSummary): string {
  const value = t.value === undefined ? '' : ` ${s.objective.metric}=${formatNumber(t.value)}`;
  const why = t.state === 'pruned' && t.prune ? ` at step ${t.prune.step} (${t.prune.rule === 'median' ? 'median' : 'cut-off'} ${formatNumber(t.prune.threshold)})` : t.state === 'failed' && t.message ? `: ${t.message}` : '';
  return `trial-${t.number} ${t.state}${why}${value}  ${paramsOf(t)}  ${formatDuration(t.durationMs)}`;
}

export function printSummary(io: Output, s: SweepStatus): void {
  io.out('');
  const c = s.counts;
  io.out(`sweep ${s.name} (run ${shortId(s.runId)}) ${s.status}: ${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed of ${s.budget} (${s.method}${s.prune ? `, ${s.prune}` : ''})`);
  const keys = Object.keys(s.space);
  const rows = s.trials
    .filter((t) => t.state !== 'discarded')
    .map((t) => [`trial-${t.number}`, shortId(t.runId), t.state + (t.best ? ' ★' : ''), t.value === undefined ? '-' : formatNumber(t.value), t.lastStep === undefined ? '-' : String(t.lastStep), ...keys.map((k) => paramValue(t.params[k]))]);
  for (const line of table(['TRIAL', 'RUN', 'STATE', s.objective.metric.toUpperCase(), 'STEPS', ...keys], rows)) io.out(line);
  if (s.best) {
    io.out('');
    io.out(`best: trial-${s.best.number} (run ${s.best.runId}) ${s.objective.metric}=${formatNumber(s.best.value)} (${s.objective.goal})`);
    io.out(`  params: ${Object.entries(s.best.params).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  if (s.importance.length) io.out(`importance (η²): ${s.importance.map((i) => `${i.param} ${(i.score * 100).toFixed(0)}%`).join(', ')}`);
  if (s.status !== 'succeeded' && s.message) io.out(s.message);
}
