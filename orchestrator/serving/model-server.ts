/**
 * The model server's state and decisions, without HTTP: the loaded versions, the routing table,
 * config changes (load new versions, swap the table, unload removed ones once idle), dispatch
 * of one request with canary retry and shadow mirroring, figures, the canary judge and the
 * request log. http-front.ts puts it on the wire.
 */
import * as path from 'node:path';
import type { ModelServerOptions, RequestLogEntry, ServerMessage, ServingConfig, VersionHealth, VersionRole, VersionStats } from '../../protocol/serving';
import { loadBackend, type BackendAnswer, type CommandTimings } from './backends';
import { DEFAULT_COMMAND_TIMINGS } from './backends/command-backend';
import { CanaryJudge } from './canary-policy';
import { configProblems } from './config-check';
import { HttpError, messageOf, statusOf } from './http-error';
import { LoadedVersion } from './loaded-version';
import { renderMetrics, VersionCounters } from './prometheus';
import type { ParsedRequest } from './requests';
import { RotatingJsonl } from './rotating-jsonl';
import { RoutingTable, type RouteEntry } from './router';

export type ServerListener = (msg: ServerMessage) => void;

/** Knobs tests and benches turn; production uses the defaults. */
export interface ServerTuning {
  commandTimings?: Partial<CommandTimings>;
  /** How often `stats` is sent and the canary judged on the clock. Default 1000 ms. */
  statsIntervalMs?: number;
}

/** Who asked, for routing and the log. */
export interface RequestMeta {
  id: string;
  at: number;
  /** Value of the config's sticky header, when the client sent it. */
  sticky?: string;
  /** `/versions/{v}/infer`: this version, no routing. */
  version?: number;
}

export interface Outcome {
  status: number;
  version: number;
  answer?: BackendAnswer;
  error?: string;
}

export class ModelServer {
  private config: ServingConfig | undefined;
  private table: RoutingTable | undefined;
  private readonly loaded = new Map<number, LoadedVersion>();
  /** Counters per version number, kept after unload (Prometheus counters never go back). */
  private readonly counters = new Map<number, VersionCounters>();
  private judge: CanaryJudge | undefined;
  private readonly listeners = new Set<ServerListener>();
  private applying: Promise<void> = Promise.resolve();
  private readonly unloading = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  readonly requestLog: RotatingJsonl;
  readonly feedbackLog: RotatingJsonl;
  private closed = false;

  constructor(
    readonly options: ModelServerOptions,
    private readonly tuning: ServerTuning = {},
  ) {
    const files = { fileBytes: options.logFileBytes ?? 16 * 1024 * 1024, files: options.logFiles ?? 4 };
    this.requestLog = new RotatingJsonl(path.join(options.dir, 'requests'), 'requests', files);
    this.feedbackLog = new RotatingJsonl(path.join(options.dir, 'feedback'), 'feedback', files);
    this.timer = setInterval(() => this.tick(), tuning.statsIntervalMs ?? 1000);
    this.timer.unref();
  }

  on(listener: ServerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(msg: ServerMessage): void {
    for (const l of this.listeners) {
      try {
        l(msg);
      } catch (err) {
        process.stderr.write(`model server: a listener threw: ${messageOf(err)}\n`);
      }
    }
  }

  /** Applies configs one at a time, in the order they arrive. Rejects (and emits apply-failed) when refused. */
  configure(config: ServingConfig): Promise<void> {
    const run = this.applying.then(() => this.apply(config));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async apply(config: ServingConfig): Promise<void> {
    const fail = (message: string): never => {
      this.emit({ type: 'apply-failed', configId: config.configId, message });
      throw new Error(message);
    };
    if (this.closed) fail('the server is shutting down');
    const problems = configProblems(config);
    if (problems.length) fail(problems.join('; '));

    // 1. Load what is new, all before any traffic moves.
    const keep = new Map<number, LoadedVersion>();
    const toLoad = config.versions.filter((v) => {
      const have = this.loaded.get(v.version);
      if (have?.sameModel(v)) keep.set(v.version, have);
      return !keep.has(v.version);
    });
    const timings = { ...DEFAULT_COMMAND_TIMINGS, ...this.tuning.commandTimings };
    const results = await Promise.allSettled(
      toLoad.map(async (v) => {
        const backend = await loadBackend(v, {
          threads: config.threads,
          commandTimings: timings,
          events: { restarted: (reason) => this.emit({ type: 'version-restarted', version: v.version, reason }) },
        });
        return new LoadedVersion(v, backend, this.countersOf(v.version));
      }),
    );
    const fresh = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [messageOf(r.reason)] : []));
    if (failures.length || this.closed) {
      await Promise.all(fresh.map((l) => l.backend.close().catch(() => undefined)));
      fail(failures.length ? `could not load: ${failures.join('; ')}` : 'the server is shutting down');
    }
    for (const l of fresh) keep.set(l.version, l);

    // 2. Swap the routing table in one assignment: every later request sees the new config.
    const previous = [...this.loaded.values()];
    this.table = RoutingTable.fromConfig(config.versions, (v) => keep.get(v.version)!);
    this.config = config;
    this.loaded.clear();
    for (const [v, l] of keep) this.loaded.set(v, l);
    const c = config.canary;
    if (!c) this.judge = undefined;
    else if (!this.judge || this.judge.version !== c.version || this.judge.startedAt !== c.startedAt) this.judge = new CanaryJudge(c.version, c.startedAt, c);

    // 3. Unload what is gone once its requests are answered.
    for (const old of previous) if (keep.get(old.version) !== old) this.unload(old);
    this.emit({ type: 'applied', configId: config.configId });
  }

  private unload(l: LoadedVersion): void {
    const done = l
      .idle()
      .then(() => l.backend.close())
      .catch((err: unknown) => void process.stderr.write(`model server: unloading version ${l.version}: ${messageOf(err)}\n`))
      .finally(() => this.unloading.delete(done));
    this.unloading.add(done);
  }

  private countersOf(version: number): VersionCounters {
    let c = this.counters.get(version);
    if (!c) this.counters.set(version, (c = new VersionCounters()));
    return c;
  }

  /** The deployment or model name a URL may use. */
  knows(name: string): boolean {
    return name === this.options.deployment || (this.config?.versions.some((v) => v.model === name) ?? false);
  }

  /** Ready: some version takes traffic and can answer. */
  isReady(): boolean {
    const main = this.table?.main();
    return !!main && main.weight > 0 && main.loaded.backend.health() === 'ready';
  }

  /** The config's sticky header, lower-cased as node:http names headers. */
  stickyHeader(): string | undefined {
    return this.config?.sticky?.toLowerCase();
  }

  routing(): RoutingTable | undefined {
    return this.table;
  }

  modelName(): string {
    return this.config?.versions[0]?.model ?? this.options.deployment;
  }

  /**
   * Answers one request: routes it (or takes the named version), retries a failed canary
   * request on the stable version, then mirrors it to shadow versions after the answer.
   */
  async answer(req: ParsedRequest, meta: RequestMeta): Promise<Outcome> {
    const table = this.table;
    if (!table) throw new HttpError(503, 'no model version is loaded yet');
    let entry: RouteEntry | undefined;
    if (meta.version !== undefined) {
      entry = table.byVersion.get(meta.version);
      if (!entry) throw new HttpError(404, `version ${meta.version} is not served here; loaded: ${[...table.byVersion.keys()].join(', ')}`);
    } else {
      entry = table.pick(meta.sticky);
      if (!entry) throw new HttpError(503, 'no version takes traffic');
    }
    let outcome = await this.dispatch(entry, req, meta, entry.role);
    if (outcome.status >= 500 && entry.role === 'canary' && meta.version === undefined) {
      // The table may have changed meanwhile (a rollback): retry where traffic goes now.
      const target = (this.table ?? table).retryTarget(entry);
      if (target) {
        entry.loaded.stats.retried++;
        entry.loaded.counters.retried++;
        outcome = await this.dispatch(target, req, meta, 'retry');
      }
    }
    if (table.shadows.length && meta.version === undefined) {
      // Counted in flight now, so a config change cannot unload a shadow before its copy runs;
      // run after the client's answer is written (in the continuation of this promise).
      for (const s of table.shadows) s.loaded.begin();
      setImmediate(() => {
        for (const s of table.shadows) void this.dispatch(s, req, meta, 'shadow', true);
      });
    }
    return outcome;
  }

  /** Runs one request on one version; `begun`: the caller already counted it in flight. */
  private async dispatch(entry: RouteEntry, req: ParsedRequest, meta: RequestMeta, role: VersionRole | 'retry', begun = false): Promise<Outcome> {
    const l = entry.loaded;
    if (!begun) l.begin();
    const t0 = performance.now();
    let answer: BackendAnswer | undefined;
    let status = 200;
    let error: string | undefined;
    try {
      answer = await l.backend.run(req);
    } catch (err) {
      status = statusOf(err);
      error = messageOf(err);
    }
    const ms = performance.now() - t0;
    l.end();
    l.stats.record(status, ms);
    l.counters.record(status, ms, role === 'shadow');
    if (role === 'canary') this.judgeCanary(l.version, status, ms);
    this.log(meta, l.version, role, status, ms, answer, error);
    return { status, version: l.version, answer, error };
  }

  /**
   * One RequestLogEntry line, serialised by hand: the hot path's largest own cost was
   * JSON.stringify of the whole entry, and the column list (the same array for every request
   * of a version) is serialised once and reused.
   */
  private log(meta: RequestMeta, version: number, role: RequestLogEntry['role'], status: number, ms: number, answer: BackendAnswer | undefined, error: string | undefined): void {
    let line = `{"id":${JSON.stringify(meta.id)},"at":${meta.at},"version":${version},"role":"${role}","status":${status},"latencyMs":${Math.round(ms * 1000) / 1000}`;
    if (answer) {
      if (answer.columns) line += `,"columns":${this.columnsJson(answer.columns)}`;
      if (answer.rows) {
        line += `,"rows":${JSON.stringify(answer.rows)}`;
        if (answer.rowCount > answer.rows.length) line += `,"rowsTruncated":${answer.rowCount - answer.rows.length}`;
      }
      const p = answer.predictions;
      line += `,"predictions":${JSON.stringify(p.length > 100 ? p.slice(0, 100) : p)}`;
    }
    if (error) line += `,"error":${JSON.stringify(error)}`;
    this.requestLog.appendLine(line + '}');
  }

  private readonly columnsCache = new WeakMap<string[], string>();

  private columnsJson(columns: string[]): string {
    let json = this.columnsCache.get(columns);
    if (json === undefined) this.columnsCache.set(columns, (json = JSON.stringify(columns)));
    return json;
  }

  private judgeCanary(version: number, status: number, ms: number): void {
    const judge = this.judge;
    if (!judge || judge.version !== version) return;
    judge.record(status, ms);
    this.act(judge.judge(Date.now()), judge);
  }

  private act(verdict: ReturnType<CanaryJudge['judge']>, judge: CanaryJudge): void {
    if (!verdict || !this.table) return;
    this.table = this.table.withCanaryVerdict(judge.version, verdict.decision);
    const l = this.loaded.get(judge.version);
    const stats = l ? l.stats.snapshot() : emptyStats();
    this.emit({ type: 'canary-decision', decision: verdict.decision, version: judge.version, reason: verdict.reason, stats });
  }

  private tick(): void {
    if (this.judge) this.act(this.judge.judge(Date.now()), this.judge);
    this.emit({ type: 'stats', at: Date.now(), versions: this.statsNow() });
  }

  statsNow(): Record<number, VersionStats & { health: VersionHealth }> {
    const out: Record<number, VersionStats & { health: VersionHealth }> = {};
    const now = Date.now();
    for (const [v, l] of this.loaded) out[v] = { ...l.stats.snapshot(now), health: l.backend.health() };
    return out;
  }

  metricsText(): string {
    const table = this.table;
    const versions = [...this.counters.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([version, counters]) => {
        const e = table?.byVersion.get(version);
        return { version, counters, role: e?.role ?? 'unloaded', weight: e?.weight ?? 0, loaded: !!e };
      });
    const canary = table?.canary();
    return renderMetrics({
      deployment: this.options.deployment,
      model: this.modelName(),
      versions,
      canaryWeight: canary?.weight ?? 0,
      canaryVersion: canary?.loaded.version,
    });
  }

  /** Stops the clock, waits for config changes and unloads, closes every backend, flushes logs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.applying;
    const all = [...this.loaded.values()];
    this.loaded.clear();
    this.table = undefined;
    await Promise.all(all.map(async (l) => {
      await l.idle();
      await l.backend.close().catch(() => undefined);
    }));
    await Promise.all([...this.unloading]);
    await Promise.all([this.requestLog.close(), this.feedbackLog.close()]);
  }
}

function emptyStats(): VersionStats {
  return { requests: 0, errors: 0, errorRate: 0, reqPerSec: 0, p50Ms: 0, p99Ms: 0, totalRequests: 0, totalErrors: 0, retried: 0 };
}
