/**
 * What the sweep view draws, fetched from the daemon: the sweep's status (trials, prunes,
 * best, importance) and each trial's objective series. Series of trials that have ended do
 * not change, so they are fetched once per panel.
 */
import type { SweepInfo, SweepStartRequest, SweepStartResult, SweepStatus, TrialCurve } from '../../../protocol/sweep';
import type { DaemonClient } from '../../../orchestrator/api-client';

export class SweepData {
  private readonly ended = new Map<string, TrialCurve>();

  constructor(private readonly client: () => Promise<DaemonClient>) {}

  async load(runId: string): Promise<{ status: SweepStatus; curves: TrialCurve[] }> {
    const c = await this.client();
    const status = await c.call('GET /api/sweeps/status', { id: runId });
    const curves = await Promise.all(
      status.trials
        .filter((t) => t.state !== 'discarded')
        .map(async (t): Promise<TrialCurve> => {
          const known = this.ended.get(t.runId);
          if (known) return known;
          const points = (await c.metricHistory(t.runId, status.objective.metric)).filter((p) => p.step > 0 || t.lastStep === 0);
          const byStep = new Map(points.map((p) => [p.step, p.value]));
          // A pruned trial's curve ends where the pruner stopped it.
          const limit = t.prune?.step ?? Infinity;
          const curve = { number: t.number, points: [...byStep].filter(([x]) => x <= limit).sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y })) };
          if (t.state !== 'running') this.ended.set(t.runId, curve);
          return curve;
        }),
    );
    return { status, curves };
  }
}

export async function listSweeps(client: DaemonClient): Promise<SweepInfo[]> {
  return (await client.call('GET /api/sweeps', undefined)).sweeps;
}

export async function startSweep(client: DaemonClient, req: SweepStartRequest): Promise<SweepStartResult> {
  return client.call('POST /api/sweeps/start', req);
}
