/**
 * `mlops monitor NAME [--last N | --since 10m] [--json]`: performance per version (from the request log), concept
 * metrics per version against their registration metrics (from joined feedback), the A/B
 * verdict and the alert rules' states. Through the daemon when it runs (it knows the alert
 * states); from the files and the store in-process otherwise.
 */
import { EXIT, MlopsError } from '../../../protocol/errors';
import type { MonitorStatus } from '../../../protocol/monitoring';
import { DaemonClient } from '../../api-client/client';
import { findDaemon } from '../../daemon/launcher';
import { monitorStatus } from '../../monitoring/monitor-status';
import { parseDuration, readRequestLog, type LogWindow } from '../../monitoring/request-log';
import { deploymentPaths } from '../../monitoring/deployment-drift';
import { loadManifest } from '../../pipelines/load';
import { parseModelRef } from '../../registry/refs';
import { formatNumber, table } from '../format';
import type { Output } from '../output';
import { cliToken, openRegistryReader } from '../registry-access';
import { workspaceOf } from '../workspace-access';

export interface MonitorCliOptions {
  json?: boolean;
  last?: string;
  since?: string;
}

/** --last N requests or --since DURATION (one of them), as a log window. */
function windowOf(o: MonitorCliOptions, now = Date.now()): LogWindow {
  if (o.last !== undefined && o.since !== undefined) throw new MlopsError('BAD_REQUEST', '--last and --since: give one window, not both');
  if (o.last !== undefined) {
    const last = Number(o.last);
    if (!Number.isInteger(last) || last < 1) throw new MlopsError('BAD_REQUEST', `--last ${o.last}: expected a number of requests (a positive integer)`);
    return { last };
  }
  if (o.since !== undefined) {
    const ms = parseDuration(o.since);
    if (ms === undefined) throw new MlopsError('BAD_REQUEST', `--since ${o.since}: expected a duration such as 30s, 10m, 2h or 1d`);
    return { since: Math.floor(now - ms) };
  }
  return {};
}

async function inProcess(ws: string, name: string, window: LogWindow): Promise<MonitorStatus> {
  const { manifest } = loadManifest(ws);
  const model = manifest.deployments?.[name] ? parseModelRef(manifest.deployments[name].model).model : undefined;
  const registered: Record<number, Record<string, number>> = {};
  if (model) {
    const versions = new Set(readRequestLog(deploymentPaths(ws, name).requests, window).map((e) => e.version));
    const reader = await openRegistryReader(ws);
    try {
      for (const v of versions) registered[v] = (await reader.reads.getVersion(`${model}/${v}`).catch(() => undefined))?.metrics ?? {};
    } finally {
      await reader.close();
    }
  }
  const { outcomes: _o, ...status } = monitorStatus(ws, name, { registered, window });
  return status;
}

export async function monitorCommand(io: Output, cwd: string, name: string, o: MonitorCliOptions): Promise<number> {
  const ws = workspaceOf(cwd);
  deploymentPaths(ws, name); // a bad name fails before any I/O
  const window = windowOf(o);
  const daemon = await findDaemon(ws);
  const status = daemon ? await new DaemonClient(daemon.url, cliToken(daemon.token)).call('GET /api/monitor', { name, ...window }) : await inProcess(ws, name, window);
  if (o.json) io.json(status);
  else printMonitor(io, status);
  return EXIT.OK;
}

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)} %`);

export function printMonitor(io: Output, s: MonitorStatus): void {
  const w = s.window;
  const scope = w?.last !== undefined ? ` (the last ${w.last} asked for)` : w?.since !== undefined ? ` since ${new Date(w.since).toISOString()}` : '';
  io.out(`deployment ${s.deployment}: ${s.requests} logged requests${scope}`);
  const perf = s.performance.byVersion.map((v) => [`v${v.version}`, String(v.requests), formatNumber(v.reqPerSec), pct(v.errorRate), formatNumber(v.p50Ms), formatNumber(v.p95Ms), formatNumber(v.p99Ms)]);
  if (perf.length) for (const l of table(['VERSION', 'REQUESTS', 'REQ/S', 'ERRORS', 'P50 MS', 'P95 MS', 'P99 MS'], perf)) io.out(l);
  if (s.concept.length) {
    const rows = s.concept.map((c) => {
      const live = c.task === 'classification' ? `accuracy ${formatNumber(c.accuracy)} · F1 ${formatNumber(c.f1Macro)}` : `MAE ${formatNumber(c.mae)} · RMSE ${formatNumber(c.rmse)}`;
      const d = c.degradation;
      const vs = d ? `${d.metric} ${formatNumber(d.registered)} at registration: ${d.degraded ? `DEGRADED by ${formatNumber(d.drop)}` : 'ok'}` : '–';
      return [`v${c.version}`, String(c.n), live, vs];
    });
    for (const l of table(['VERSION', 'LABELLED', 'LIVE', 'VS REGISTRATION'], rows)) io.out(l);
  } else io.out('no feedback joined yet (send labels with: mlops feedback NAME --file labels.csv)');
  if (s.unmatchedFeedback) io.out(`${s.unmatchedFeedback} feedback label(s) matched no logged prediction${scope ? ' in this window' : ''}`);
  if (s.ab) io.out(`A/B (${s.ab.test}): ${s.ab.verdict}`);
  if (s.lastDrift) io.out(`last drift check: share ${formatNumber(s.lastDrift.share)}, data-set drift ${s.lastDrift.datasetDrift ? 'YES' : 'no'} (${new Date(s.lastDrift.at).toISOString()})`);
  for (const a of s.alerts) io.out(`alert ${a.state === 'firing' ? 'FIRING' : 'ok'}: ${a.rule}${a.value !== undefined ? ` (now ${formatNumber(a.value)})` : ''}`);
}
