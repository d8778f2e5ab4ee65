/**
 * The daemon's monitor: for each serving deployment with a `monitor:` block it
 * - reads the live figures once a second (the deployment manager's status, fed by the model
 *   server's `stats`) and evaluates the error-rate and latency rules on them;
 * - runs a drift check of the logged requests every `every_requests` requests (counted from
 *   the versions' request totals) and/or every `every_minutes`, never two at once for one
 *   deployment, then evaluates the drift, prediction-shift and feedback rules;
 * - evaluates the feedback rules (`accuracy_drop`) as soon as new labels land in the
 *   deployment's feedback folder (the model server writes it; its files' sizes are polled);
 * - keeps one AlertEngine per deployment (rebuilt when its monitor block changes), so each
 *   rule fires once per breach and clears once; the rules' states are saved on every change
 *   (alert-store.ts), so a daemon restarted while a rule fires does not fire it again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Manifest, Monitor } from '../../protocol/manifest';
import type { AlertStatus, DeploymentDriftResult, MonitorStatus } from '../../protocol/monitoring';
import type { DeploymentStatus } from '../../protocol/serving';
import { AlertEngine, type AlertSinks, type Measurement } from './alert-engine';
import { alertStateFile, loadAlertStates, saveAlertStates } from './alert-store';
import { deploymentDrift, deploymentPaths, driftValues } from './deployment-drift';
import { conceptValues, monitorStatus, worstAccuracyDrop } from './monitor-status';
import type { LogWindow } from './request-log';

/** What the monitor needs of the deployment manager. */
export interface DeploymentsPort {
  list(): Promise<DeploymentStatus[]>;
}

export interface MonitorServiceDeps {
  workspace: string;
  /** The current manifest (throws when it is invalid: monitoring then keeps its last rules). */
  manifest(): Manifest;
  deployments(): DeploymentsPort | undefined;
  sinks: AlertSinks;
  /** Registration metrics of a model version (ModelVersion.metrics). */
  registeredMetrics(model: string, version: number): Promise<Record<string, number> | undefined>;
  /** Poll period of the live figures; default 1 s. */
  tickMs?: number;
  now?: () => number;
}

interface Watched {
  key: string;
  monitor: Monitor;
  engine: AlertEngine;
  /** Request total at the last drift check (per version totals summed). */
  checkedAtTotal?: number;
  lastTotal: number;
  lastCheckAt: number;
  running?: Promise<DeploymentDriftResult | undefined>;
  again?: boolean;
  /** Sizes of the feedback files at the last feedback evaluation (see feedbackSignature). */
  feedbackSeen?: string;
  feedbackRunning?: boolean;
}

export class MonitorService {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly now: () => number;

  constructor(private readonly d: MonitorServiceDeps) {
    this.now = d.now ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.d.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.watched.values()].map((w) => w.running));
    await Promise.allSettled([...this.watched.values()].map((w) => w.engine.settled()));
  }

  /** The monitor block of `name` and its engine, refreshed when the manifest changed. */
  private watch(name: string): Watched | undefined {
    let manifest: Manifest;
    try {
      manifest = this.d.manifest();
    } catch {
      return this.watched.get(name);
    }
    const monitor = manifest.deployments?.[name]?.monitor;
    if (!monitor) {
      this.watched.delete(name);
      return undefined;
    }
    const key = JSON.stringify(monitor);
    const known = this.watched.get(name);
    if (known?.key === key) return known;
    // The states of the engine being replaced (or, at start-up, the saved ones) carry over.
    const saved = known ? known.engine.status() : loadAlertStates(alertStateFile(this.d.workspace, name));
    const engine = new AlertEngine(name, monitor.alerts ?? [], this.d.sinks, saved);
    const w: Watched = { key, monitor, engine, lastTotal: 0, lastCheckAt: this.now(), running: known?.running, feedbackSeen: known?.feedbackSeen };
    this.watched.set(name, w);
    return w;
  }

  /** One poll: live rules, then due drift checks. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const deployments = await this.d.deployments()?.list().catch(() => undefined);
      for (const dep of deployments ?? []) {
        if (dep.state !== 'serving') continue;
        const w = this.watch(dep.name);
        if (!w) continue;
        this.evaluateLive(dep, w);
        this.feedbackIfNew(dep.name, w);
        const total = dep.versions.reduce((s, v) => s + (v.stats?.totalRequests ?? 0), 0);
        // A restarted server counts from zero again.
        if (total < w.lastTotal) w.checkedAtTotal = 0;
        w.lastTotal = total;
        w.checkedAtTotal ??= 0;
        const everyN = w.monitor.drift?.every_requests;
        const everyMs = w.monitor.drift?.every_minutes !== undefined ? w.monitor.drift.every_minutes * 60_000 : undefined;
        const dueByCount = everyN !== undefined && total - w.checkedAtTotal >= everyN;
        const dueByTime = everyMs !== undefined && this.now() - w.lastCheckAt >= everyMs && total > w.checkedAtTotal;
        if (dueByCount || dueByTime) {
          // On the grid of every_requests (100, 200, …): the figures arrive once a second, and a
          // check counted from a late reading would drift later and later behind the traffic.
          w.checkedAtTotal = everyN ? total - (total % everyN) : total;
          void this.check(dep.name).catch((err) => this.d.sinks.log.warn(`scheduled drift check of ${dep.name} failed: ${(err as Error).message}`));
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  private evaluateLive(dep: DeploymentStatus, w: Watched): void {
    const values = new Map<string, number>();
    const live = dep.versions.filter((v) => v.role !== 'shadow' && v.stats && v.stats.requests > 0);
    if (!live.length) return;
    const worstErr = live.reduce((a, b) => (b.stats!.errorRate > a.stats!.errorRate ? b : a));
    const worstP99 = live.reduce((a, b) => (b.stats!.p99Ms > a.stats!.p99Ms ? b : a));
    values.set('error_rate', worstErr.stats!.errorRate);
    values.set('p99_ms', worstP99.stats!.p99Ms);
    this.evaluate(dep.name, w, { values, at: this.now(), version: worstErr.version });
  }

  /** Evaluates the rules and saves their states when one of them changed. */
  private evaluate(name: string, w: Watched, m: Measurement): void {
    const sent = w.engine.evaluate(m);
    if (!sent.length) return;
    try {
      saveAlertStates(alertStateFile(this.d.workspace, name), w.engine.status(), this.now());
    } catch (err) {
      this.d.sinks.log.warn(`${name}: could not save the alert states: ${(err as Error).message}`);
    }
  }

  /** The feedback folder's files and sizes: it changes exactly when labels were appended (or rotated). */
  private feedbackSignature(name: string): string {
    const dir = deploymentPaths(this.d.workspace, name).feedback;
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
    } catch {
      return '';
    }
    return names.map((f) => {
      try {
        return `${f}:${fs.statSync(path.join(dir, f)).size}`;
      } catch {
        return f;
      }
    }).join(',');
  }

  /** New labels since the last look: evaluate the feedback rules now rather than at the next drift check. */
  private feedbackIfNew(name: string, w: Watched): void {
    if (w.feedbackRunning) return;
    const sig = this.feedbackSignature(name);
    if (sig === (w.feedbackSeen ?? '')) return;
    w.feedbackSeen = sig;
    w.feedbackRunning = true;
    void this.registered(name)
      .then((registered) => {
        const worst = worstAccuracyDrop(monitorStatus(this.d.workspace, name, { registered }).concept);
        if (worst) this.evaluate(name, w, { values: new Map([['accuracy_drop', worst.drop]]), at: this.now(), version: worst.version });
      })
      .catch((err) => this.d.sinks.log.warn(`${name}: evaluating feedback failed: ${(err as Error).message}`))
      .finally(() => (w.feedbackRunning = false));
  }

  /**
   * Runs a drift check of `name` now and evaluates its rules (drift, prediction shift, feedback).
   * A check already running is joined, and one more runs after it (the data moved on).
   */
  async check(name: string): Promise<DeploymentDriftResult> {
    const w = this.watch(name);
    if (!w) {
      // Not monitored: a plain report (the CLI path) without rules.
      return deploymentDrift(this.d.workspace, this.d.manifest(), name);
    }
    if (w.running) {
      w.again = true;
      const r = await w.running;
      if (r) return r;
    }
    const run = (async () => {
      try {
        const result = await deploymentDrift(this.d.workspace, this.d.manifest(), name);
        w.lastCheckAt = this.now();
        const values = driftValues(result);
        for (const [k, v] of await this.feedbackValues(name)) values.set(k, v);
        this.evaluate(name, w, { values, at: this.now(), reportPath: result.reportPath });
        return result;
      } finally {
        w.running = undefined;
        if (w.again) {
          w.again = false;
          void this.check(name).catch(() => undefined);
        }
      }
    })();
    w.running = run.catch(() => undefined);
    return run;
  }

  private async feedbackValues(name: string): Promise<Map<string, number>> {
    const registered = await this.registered(name);
    return conceptValues(monitorStatus(this.d.workspace, name, { registered }).concept);
  }

  private async registered(name: string): Promise<Record<number, Record<string, number>>> {
    const out: Record<number, Record<string, number>> = {};
    const dep = (await this.d.deployments()?.list().catch(() => undefined))?.find((x) => x.name === name);
    for (const v of dep?.versions ?? []) {
      const m = await this.d.registeredMetrics(dep!.model, v.version).catch(() => undefined);
      if (m) out[v.version] = m;
    }
    return out;
  }

  alerts(name: string): AlertStatus[] {
    return this.watch(name)?.engine.status() ?? [];
  }

  async status(name: string, window: LogWindow = {}): Promise<MonitorStatus> {
    const { outcomes: _o, ...s } = monitorStatus(this.d.workspace, name, { registered: await this.registered(name), window });
    return { ...s, alerts: this.alerts(name) };
  }

  /** Waits for the webhook deliveries in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.watched.values()].map((w) => w.engine.settled()));
  }
}
