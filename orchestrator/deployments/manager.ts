/**
 * The daemon's deployments: desired state per deployment (state.json), one model server
 * process each (server-process.ts), rollout actions from operators and from the canary
 * policy the model server evaluates, audit entries, SSE events, the live monitor's samples,
 * restarts of a model server that dies, and following the alias a deployment serves.
 *
 * Every change to one deployment runs through its own queue, so an operator's rollback and
 * an automatic decision arriving at the same moment apply one after the other, each on the
 * state the other left.
 */
import type { DaemonEvent } from '../../protocol/api';
import { MlopsError } from '../../protocol/errors';
import type { Manifest } from '../../protocol/manifest';
import type { AuditAction, Caller, ModelVersion } from '../../protocol/registry';
import type { DeploymentSample, DeploymentStatus, ServedVersion, ServerMessage, ServingConfig, VersionHealth } from '../../protocol/serving';
import type { Logger } from '../daemon/log';
import { deploymentDir, type MlopsPaths } from '../daemon/paths';
import { loadManifest } from '../pipelines/load';
import type { ModelRegistry } from '../registry/registry';
import { materialiseArtifact } from './artifacts';
import * as rollout from './rollout';
import { SampleSeries } from './samples';
import { ModelServerProcess, type ExitInfo } from './server-process';
import { deploymentSpecs, modelServing, unknownDeployment, type DeploymentSpec } from './spec';
import { emptyState, persistedNames, readState, writeState, type DeploymentState, type SplitShare } from './state';
import { parseShadowRef, parseTarget, targetText, type VersionTarget } from './targets';

/** Actors of the decisions nobody typed. */
export const CANARY_POLICY: Caller = { name: 'canary-policy', role: 'admin' };
export const ALIAS_FOLLOW: Caller = { name: 'alias-follow', role: 'admin' };

export interface DeploymentManagerDeps {
  paths: MlopsPaths;
  registry: ModelRegistry;
  /** The daemon's SSE bus. */
  publish(e: DaemonEvent): void;
  log: Logger;
  /** The workspace token: what clients present to a deployment with `auth: token`. */
  token: string;
  /** Node arguments that start the CLI (see server-process.ts); tests may override. */
  entry?: string[];
  now?: () => number;
  /** Restarts of a dying model server allowed within `restartWindowMs` before it is `failed`. Default 5 in 5 min. */
  maxRestarts?: number;
  restartWindowMs?: number;
}

type Phase = DeploymentStatus['state'];

interface Live {
  name: string;
  state: DeploymentState;
  phase: Phase;
  proc?: ModelServerProcess;
  /** The config the model server has applied. */
  config?: ServingConfig;
  samples: SampleSeries;
  restarts: number[];
  restartTimer?: NodeJS.Timeout;
  /** Set while we stop the process on purpose, so its exit is not a crash. */
  stopping?: ModelServerProcess;
  queue: Promise<unknown>;
}

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

export class DeploymentManager {
  private readonly live = new Map<string, Live>();
  private readonly versions = new Map<string, ModelVersion>();
  private readonly now: () => number;
  private closed = false;
  private followTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: DeploymentManagerDeps) {
    this.now = d.now ?? Date.now;
  }

  /**
   * Read-only view for the CLI when no daemon runs: `list` and `get` from mlops.yaml and the
   * state files, every deployment stopped. Actions need the daemon.
   */
  static offline(paths: MlopsPaths): Pick<DeploymentManager, 'list' | 'get'> {
    const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    return new DeploymentManager({ paths, registry: undefined as never, publish: () => undefined, log: quiet, token: '' });
  }

  // ---- reading

  async list(): Promise<DeploymentStatus[]> {
    const specs = this.specsLenient();
    const names = new Set([...specs.keys(), ...persistedNames(this.d.paths), ...this.live.keys()]);
    return [...names].sort().map((n) => this.statusOf(n, specs.get(n)));
  }

  async get(name: string): Promise<DeploymentStatus> {
    const specs = this.specsLenient();
    if (!specs.has(name) && !this.live.has(name) && !readState(this.d.paths, name)) throw unknownDeployment(name, specs.keys());
    return this.statusOf(name, specs.get(name));
  }

  async samples(name: string, since?: number): Promise<DeploymentSample[]> {
    await this.get(name);
    return this.live.get(name)?.samples.since(since) ?? [];
  }

  // ---- operator actions

  /**
   * Starts `name` (or switches it directly to `version`); resolves once the model server applied
   * it. Deployed as declared (no `version`), a manifest `ab` strategy starts its split and a
   * `shadow` strategy its shadow, in the same config: traffic never sees a half-applied state.
   */
  async deploy(caller: Caller, name: string, version?: number): Promise<DeploymentStatus> {
    const spec = this.spec(name);
    return this.exclusive(name, spec.model, async (live) => {
      const v = version !== undefined ? await this.version(spec.model, version) : await this.resolveServed(spec);
      const split = version === undefined && spec.strategy === 'ab' && spec.ab ? await this.resolveSplit(spec, spec.ab) : undefined;
      const mirror = spec.strategy === 'shadow' && spec.shadow && (version === undefined || live.state.shadow === undefined)
        ? (await this.resolveTarget(spec, parseShadowRef(spec.shadow, spec.model, spec.name))).version
        : undefined;
      const who = { actor: caller.name, at: this.now() };
      const s = live.state;
      const steps: AuditAction[] = [];
      let next = s;
      if (!this.isServing(live) || s.stable !== v.version || s.canary || (s.ab && !split)) {
        next = rollout.switchTo(next, v.version, who).state;
        steps.push('deployment.deploy');
      }
      if (split && !sameSplit(next.ab, rollout.normaliseSplit(split))) {
        next = rollout.split(next, split, who).state;
        steps.push('deployment.ab');
      }
      if (mirror !== undefined && mirror !== next.shadow) {
        if (rollout.servedVersions(next).some((x) => x.version === mirror)) this.d.log.warn(`${name}: the shadow ${spec.shadow} is v${mirror}, which already serves; nothing is mirrored`);
        else {
          next = rollout.shadow(next, mirror, who).state;
          steps.push('deployment.shadow');
        }
      }
      // Deployed as declared: the alias's current version is the one followed from now on.
      const followed = version === undefined && spec.alias ? v.version : next.aliasVersion;
      if (followed !== undefined) next = { ...next, aliasVersion: followed };
      if (steps.length === 0) {
        if (live.state.aliasVersion !== followed && followed !== undefined) writeState(this.d.paths, (live.state = { ...live.state, aliasVersion: followed }));
        return this.statusOf(name, spec);
      }
      const before = summary(live);
      await this.apply(live, spec, next);
      for (const action of steps) await this.changed(caller, action, live, before);
      return this.statusOf(name, spec);
    });
  }

  /** Splits traffic A/B by relative `weights` (keys: version numbers or aliases of the model). */
  async split(caller: Caller, name: string, weights: Record<string, number>): Promise<DeploymentStatus> {
    const spec = this.spec(name);
    return this.exclusive(name, spec.model, async (live) => {
      this.requireServing(live);
      const shares = await this.resolveSplit(spec, weights);
      const before = summary(live);
      const t = rollout.split(live.state, shares, { actor: caller.name, at: this.now() });
      if (sameSplit(live.state.ab, t.state.ab)) return this.statusOf(name, spec);
      await this.apply(live, spec, t.state);
      await this.changed(caller, 'deployment.ab', live, before);
      return this.statusOf(name, spec);
    });
  }

  /** Mirrors every request to the version `target` names; `undefined` stops mirroring. */
  async shadow(caller: Caller, name: string, target: VersionTarget | undefined): Promise<DeploymentStatus> {
    const spec = this.spec(name);
    return this.exclusive(name, spec.model, async (live) => {
      this.requireServing(live);
      const version = target ? (await this.resolveTarget(spec, target)).version : undefined;
      if (version !== undefined && version === live.state.shadow) return this.statusOf(name, spec);
      const before = summary(live);
      const t = rollout.shadow(live.state, version, { actor: caller.name, at: this.now() });
      await this.apply(live, spec, t.state);
      await this.changed(caller, 'deployment.shadow', live, before);
      return this.statusOf(name, spec);
    });
  }

  async canary(caller: Caller, name: string, version: number, weight?: number): Promise<DeploymentStatus> {
    const spec = this.spec(name);
    return this.exclusive(name, spec.model, async (live) => {
      this.requireServing(live);
      await this.version(spec.model, version);
      const before = summary(live);
      const t = rollout.startCanary(live.state, version, { ...spec.canary, ...(weight !== undefined ? { weight } : {}) }, { actor: caller.name, at: this.now() });
      await this.apply(live, spec, t.state);
      await this.changed(caller, 'deployment.canary', live, before);
      return this.statusOf(name, spec);
    });
  }

  async promote(caller: Caller, name: string): Promise<DeploymentStatus> {
    const spec = this.spec(name);
    return this.exclusive(name, spec.model, async (live) => {
      this.requireServing(live);
      const before = summary(live);
      const t = rollout.promote(live.state, { actor: caller.name, at: this.now() });
      await this.apply(live, spec, t.state);
      await this.changed(caller, 'deployment.promote', live, before);
      return this.statusOf(name, spec);
    });
  }

  async rollback(caller: Caller, name: string): Promise<DeploymentStatus> {
    const spec = this.spec(name);
    return this.exclusive(name, spec.model, async (live) => {
      this.requireServing(live);
      const before = summary(live);
      const t = rollout.rollback(live.state, { actor: caller.name, at: this.now() });
      await this.apply(live, spec, t.state);
      await this.changed(caller, 'deployment.rollback', live, before);
      return this.statusOf(name, spec);
    });
  }

  /** Stops the model server (in-flight requests finish) and records that it should stay stopped. */
  async undeploy(caller: Caller, name: string): Promise<DeploymentStatus> {
    const specs = this.specsLenient();
    const known = specs.has(name) || this.live.has(name) || readState(this.d.paths, name) !== undefined;
    if (!known) throw unknownDeployment(name, specs.keys());
    const model = specs.get(name)?.model ?? readState(this.d.paths, name)?.model ?? '';
    return this.exclusive(name, model, async (live) => {
      if (live.state.desired !== 'serving' && !live.proc) throw new MlopsError('CONFLICT', `${name} is not deployed`);
      const before = summary(live);
      const t = rollout.stop(live.state, { actor: caller.name, at: this.now() });
      await this.stopProcess(live);
      live.state = t.state;
      live.phase = 'stopped';
      live.config = undefined;
      live.samples.clear();
      writeState(this.d.paths, live.state);
      await this.changed(caller, 'deployment.undeploy', live, before);
      return this.statusOf(name, specs.get(name));
    });
  }

  // ---- daemon life cycle

  /** Serves again what was serving when the daemon stopped. Errors are logged and shown as `failed`. */
  async restore(): Promise<void> {
    const specs = this.specsLenient();
    await Promise.all(persistedNames(this.d.paths).map(async (name) => {
      const saved = readState(this.d.paths, name);
      if (saved?.desired !== 'serving' || saved.stable === undefined) return;
      const spec = specs.get(name);
      if (!spec) {
        this.d.log.warn(`deployment ${name} was serving but is no longer in mlops.yaml; not restoring it`);
        return;
      }
      await this.exclusive(name, spec.model, async (live) => {
        this.d.log.info(`restoring deployment ${name} (v${saved.stable}${saved.canary ? `, canary v${saved.canary.version}` : ''})`);
        await this.apply(live, spec, { ...live.state });
      }).catch((err) => this.d.log.error(`restoring deployment ${name} failed`, err));
    }));
  }

  /** Daemon shutdown: stop every model server gracefully; desired state stays, for `restore`. */
  async stopAll(): Promise<void> {
    this.closed = true;
    if (this.followTimer) clearTimeout(this.followTimer);
    await Promise.all([...this.live.values()].map(async (live) => {
      if (live.restartTimer) clearTimeout(live.restartTimer);
      await this.stopProcess(live).catch((err) => this.d.log.error(`stopping the model server of ${live.name} failed`, err));
    }));
  }

  /**
   * The registry changed: a deployment following an alias that now points elsewhere rolls the
   * new version out per its strategy (canary → a canary of it; otherwise a direct switch),
   * as KServe does when an InferenceService's model changes. Debounced.
   */
  modelsChanged(): void {
    if (this.closed) return;
    if (this.followTimer) clearTimeout(this.followTimer);
    this.followTimer = setTimeout(() => void this.followAliases().catch((err) => this.d.log.error('following aliases failed', err)), 200);
    this.followTimer.unref();
  }

  // ---- internals: applying state

  private async followAliases(): Promise<void> {
    const specs = this.specsLenient();
    for (const live of this.live.values()) {
      const spec = specs.get(live.name);
      if (!spec || !this.isServing(live)) continue;
      await this.followShadow(live, spec);
      if (!spec.alias) continue;
      let target: ModelVersion;
      try {
        target = await this.d.registry.resolve({ model: spec.model, alias: spec.alias });
      } catch {
        continue; // alias unset: keep serving what serves
      }
      await this.exclusive(live.name, spec.model, async () => {
        const s = live.state;
        if (!this.isServing(live) || s.aliasVersion === target.version) return;
        const seen = () => writeState(this.d.paths, (live.state = { ...live.state, aliasVersion: target.version }));
        if (target.version === s.stable || target.version === s.canary?.version) return seen();
        const reason = `${spec.model}@${spec.alias} moved to v${target.version}`;
        if (s.ab) {
          // An experiment is running: its arms were resolved when it started and stay as they are.
          this.d.log.info(`${live.name}: ${reason}; the A/B split ${rollout.splitText(s.ab)} is kept (mlops deploy ${live.name} re-reads the manifest, mlops rollback ${live.name} ends the split)`);
          return seen();
        }
        const who = { actor: ALIAS_FOLLOW.name, at: this.now(), reason };
        const before = summary(live);
        let t: rollout.Transition;
        let action: AuditAction;
        if (target.version === s.previous[0] && !s.canary) [t, action] = [rollout.rollback(s, who), 'deployment.rollback'];
        else if (spec.strategy === 'canary' && !s.canary) [t, action] = [rollout.startCanary(s, target.version, spec.canary, who), 'deployment.canary'];
        else if (spec.strategy === 'canary') {
          this.d.log.info(`${live.name}: ${reason}, but a canary of v${s.canary!.version} is running; it is rolled out once that one ends`);
          return;
        } else [t, action] = [rollout.switchTo(s, target.version, who), 'deployment.deploy'];
        this.d.log.info(`${live.name}: ${reason}; ${t.event.action} v${target.version}`);
        await this.apply(live, spec, { ...t.state, aliasVersion: target.version });
        await this.changed(ALIAS_FOLLOW, action, live, before);
      }).catch((err) => this.d.log.error(`${live.name}: following ${spec.model}@${spec.alias} failed`, err));
    }
  }

  /** A manifest shadow given as `NAME@alias` follows that alias while it mirrors. */
  private async followShadow(live: Live, spec: DeploymentSpec): Promise<void> {
    if (live.state.shadow === undefined || spec.strategy !== 'shadow' || !spec.shadow) return;
    let ref: VersionTarget;
    let target: ModelVersion;
    try {
      ref = parseShadowRef(spec.shadow, spec.model, spec.name);
      if (!('alias' in ref)) return;
      target = await this.resolveTarget(spec, ref);
    } catch {
      return; // unset or invalid: keep mirroring what is mirrored
    }
    await this.exclusive(live.name, spec.model, async () => {
      const s = live.state;
      if (!this.isServing(live) || s.shadow === undefined || s.shadow === target.version) return;
      if (rollout.servedVersions(s).some((x) => x.role !== 'shadow' && x.version === target.version)) return;
      const before = summary(live);
      const reason = `${targetText(ref, spec.model)} moved to v${target.version}`;
      const t = rollout.shadow(s, target.version, { actor: ALIAS_FOLLOW.name, at: this.now(), reason });
      this.d.log.info(`${live.name}: ${reason}; mirroring to v${target.version}`);
      await this.apply(live, spec, t.state);
      await this.changed(ALIAS_FOLLOW, 'deployment.shadow', live, before);
    }).catch((err) => this.d.log.error(`${live.name}: following the shadow ${spec.shadow} failed`, err));
  }

  /**
   * Makes the model server serve `next` (starting the process when none runs); `live.state`
   * becomes `next` only once the server has applied it, so a version that fails to load
   * leaves everything as it was.
   */
  private async apply(live: Live, spec: DeploymentSpec, next: DeploymentState, opts: { keepRestarts?: boolean } = {}): Promise<void> {
    const config = await this.buildConfig(spec, next, Math.max(next.configId, live.config?.configId ?? 0) + 1);
    const fresh = !this.isRunning(live);
    if (fresh) {
      live.phase = 'starting';
      this.publishChanged();
      try {
        await this.startProcess(live, spec, next);
        await live.proc!.configure(config);
      } catch (err) {
        await this.stopProcess(live);
        live.state = { ...live.state, error: errorText(err) };
        live.phase = live.state.desired === 'serving' ? 'failed' : 'stopped';
        writeState(this.d.paths, live.state);
        this.publishChanged();
        throw this.loadError(spec, next, err, undefined);
      }
    } else {
      try {
        await live.proc!.configure(config);
      } catch (err) {
        throw this.loadError(spec, next, err, live.state);
      }
    }
    live.config = config;
    live.state = { ...next, configId: config.configId, port: live.proc!.port };
    delete live.state.error;
    live.phase = 'serving';
    if (fresh && !opts.keepRestarts) live.restarts = [];
    writeState(this.d.paths, live.state);
  }

  private loadError(spec: DeploymentSpec, next: DeploymentState, err: unknown, current: DeploymentState | undefined): unknown {
    if (!(err instanceof MlopsError) || err.code !== 'BAD_REQUEST') return err;
    const keeps = current?.stable !== undefined ? `; v${current.stable} keeps serving` : '; nothing was started';
    const versions = rollout.servedVersions(next).map((v) => `v${v.version}`).join(' + ');
    return new MlopsError('BAD_REQUEST', `${spec.name}: cannot serve ${spec.model} ${versions}: ${err.message}${keeps}`, err.details);
  }

  private async buildConfig(spec: DeploymentSpec, s: DeploymentState, configId: number): Promise<ServingConfig> {
    const manifest = this.manifest();
    const serving = modelServing(manifest, spec.model);
    const dir = deploymentDir(this.d.paths, spec.name);
    const versions = await Promise.all(rollout.servedVersions(s).map(async (sv): Promise<ServedVersion> => {
      const mv = await this.version(spec.model, sv.version);
      const artifactPath = await materialiseArtifact(this.d.paths.workspace, dir, mv);
      return {
        model: spec.model,
        ...sv,
        flavor: serving.flavor,
        artifactPath,
        ...(serving.command ? { command: serving.command, cwd: this.d.paths.workspace } : {}),
        ...(mv.signature ? { signature: mv.signature } : {}),
      };
    }));
    const config: ServingConfig = { configId, deployment: spec.name, versions };
    if (s.canary) config.canary = { ...s.canary };
    if (spec.sticky) config.sticky = spec.sticky;
    if (spec.threads !== undefined) config.threads = spec.threads;
    return config;
  }

  private async startProcess(live: Live, spec: DeploymentSpec, s: DeploymentState): Promise<void> {
    const proc = new ModelServerProcess({
      workspace: this.d.paths.workspace,
      name: spec.name,
      dir: deploymentDir(this.d.paths, spec.name),
      port: spec.port ?? s.port ?? 0,
      auth: spec.auth,
      ...(spec.auth === 'token' ? { token: this.d.token } : {}),
      ...(this.d.entry ? { entry: this.d.entry } : {}),
    });
    live.proc = proc;
    proc.onMessage((m) => this.onServerMessage(live, proc, m));
    proc.onExit((e) => this.onServerExit(live, proc, e));
    const port = await proc.waitListening();
    this.d.log.info(`model server of ${spec.name} (pid ${proc.pid}) listens on 127.0.0.1:${port}`);
  }

  private async stopProcess(live: Live): Promise<void> {
    const proc = live.proc;
    if (live.restartTimer) clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
    if (!proc) return;
    live.stopping = proc;
    live.proc = undefined;
    await proc.shutdown();
  }

  private onServerMessage(live: Live, proc: ModelServerProcess, m: ServerMessage): void {
    if (live.proc !== proc) return;
    switch (m.type) {
      case 'stats':
        live.samples.add(m);
        return;
      case 'canary-decision':
        void this.decided(live, m).catch((err) => this.d.log.error(`${live.name}: recording the canary decision failed`, err));
        return;
      case 'version-restarted':
        this.d.log.warn(`${live.name}: the model server restarted v${m.version} (${m.reason})`);
        this.publishChanged();
        return;
      default:
        return;
    }
  }

  /** The model server already moved traffic; record it, audit it and send the matching config. */
  private async decided(live: Live, m: Extract<ServerMessage, { type: 'canary-decision' }>): Promise<void> {
    await this.exclusive(live.name, live.state.model, async () => {
      const s = live.state;
      if (s.canary?.version !== m.version) return; // an operator got there first
      const before = summary(live);
      const who = { actor: CANARY_POLICY.name, at: this.now(), reason: m.reason, auto: true };
      const t = m.decision === 'promote' ? rollout.promote(s, who) : rollout.rollback(s, who);
      this.d.log.info(`${live.name}: canary v${m.version} ${m.decision === 'promote' ? 'promoted' : 'rolled back'} automatically (${m.reason})`);
      const spec = this.specsLenient().get(live.name);
      try {
        if (!spec) throw new Error(`${live.name} is no longer in mlops.yaml`);
        await this.apply(live, spec, t.state);
      } catch (err) {
        // The server moved traffic already: the decision stands even if the follow-up config fails.
        this.d.log.error(`${live.name}: sending the config after the automatic ${m.decision} failed`, err);
        live.state = { ...t.state, configId: live.state.configId };
        writeState(this.d.paths, live.state);
      }
      await this.changed(CANARY_POLICY, m.decision === 'promote' ? 'deployment.promote' : 'deployment.rollback', live, before, { reason: m.reason, stats: m.stats });
      this.d.publish({ type: 'deployment-decision', deployment: live.name, decision: m.decision, version: m.version, reason: m.reason });
    });
  }

  /** A model server died on its own: restart it with backoff, bounded; `failed` after too many. */
  private onServerExit(live: Live, proc: ModelServerProcess, e: ExitInfo): void {
    if (live.stopping === proc) {
      live.stopping = undefined;
      return;
    }
    if (live.proc !== proc) return;
    live.proc = undefined;
    if (this.closed || live.state.desired !== 'serving' || live.phase !== 'serving') return;
    this.scheduleRestart(live, proc.exitError(e));
  }

  private scheduleRestart(live: Live, err: Error): void {
    const now = this.now();
    const windowMs = this.d.restartWindowMs ?? 5 * 60_000;
    live.restarts = [...live.restarts.filter((t) => now - t < windowMs), now];
    const max = this.d.maxRestarts ?? 5;
    if (live.restarts.length > max) {
      live.phase = 'failed';
      live.state = { ...live.state, error: `${err.message} (${max} restarts within ${Math.round(windowMs / 60_000)} min; gave up: fix it and deploy again)` };
      writeState(this.d.paths, live.state);
      this.d.log.error(`${live.name}: ${live.state.error}`);
      this.publishChanged();
      return;
    }
    const wait = BACKOFF_MS[Math.min(live.restarts.length - 1, BACKOFF_MS.length - 1)]!;
    this.d.log.warn(`${live.name}: ${err.message}; restarting in ${wait} ms (restart ${live.restarts.length} of at most ${max})`);
    live.phase = 'starting';
    this.publishChanged();
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      void this.exclusive(live.name, live.state.model, async () => {
        if (this.closed || live.state.desired !== 'serving' || this.isRunning(live)) return;
        const spec = this.specsLenient().get(live.name);
        if (!spec) throw new MlopsError('NOT_FOUND', `${live.name} is no longer in mlops.yaml`);
        await this.apply(live, spec, { ...live.state }, { keepRestarts: true });
        this.d.log.info(`${live.name}: model server restarted (pid ${live.proc!.pid})`);
        this.publishChanged();
      }).catch((error: Error) => {
        this.d.log.error(`${live.name}: restarting the model server failed`, error);
        if (!this.closed && live.state.desired === 'serving' && !this.isRunning(live)) this.scheduleRestart(live, error);
      });
    }, wait);
  }

  private async changed(caller: Caller, action: AuditAction, live: Live, before: unknown, extra: Record<string, unknown> = {}): Promise<void> {
    await this.d.registry.recordAudit(caller, action, `deployment:${live.name}`, before, { ...summary(live), ...extra });
    this.publishChanged();
  }

  private publishChanged(): void {
    this.d.publish({ type: 'deployments-changed' });
  }

  // ---- internals: lookups

  private exclusive<T>(name: string, model: string, fn: (live: Live) => Promise<T>): Promise<T> {
    let live = this.live.get(name);
    if (!live) {
      live = { name, state: readState(this.d.paths, name) ?? emptyState(name, model, this.now()), phase: 'stopped', samples: new SampleSeries(), restarts: [], queue: Promise.resolve() };
      if (live.state.desired === 'serving' && live.state.error) live.phase = 'failed';
      this.live.set(name, live);
    }
    const l = live;
    const run = l.queue.then(() => fn(l));
    l.queue = run.catch(() => undefined);
    return run;
  }

  private isRunning(live: Live): boolean {
    return live.proc !== undefined && live.proc.exited === undefined;
  }

  private isServing(live: Live): boolean {
    return this.isRunning(live) && live.phase === 'serving';
  }

  private requireServing(live: Live): void {
    if (this.isServing(live)) return;
    if (live.phase === 'starting') throw new MlopsError('CONFLICT', `${live.name} is (re)starting; try again in a moment`);
    throw new MlopsError('CONFLICT', `${live.name} is not running; deploy it first: mlops deploy ${live.name}`);
  }

  private manifest(): Manifest {
    return loadManifest(this.d.paths.workspace).manifest;
  }

  private spec(name: string): DeploymentSpec {
    const specs = deploymentSpecs(this.manifest());
    const spec = specs.get(name);
    if (!spec) throw unknownDeployment(name, specs.keys());
    return spec;
  }

  /** Listings must work while mlops.yaml is being edited into something invalid. */
  private specsLenient(): Map<string, DeploymentSpec> {
    try {
      return deploymentSpecs(this.manifest());
    } catch {
      return new Map();
    }
  }

  private async resolveServed(spec: DeploymentSpec): Promise<ModelVersion> {
    if (spec.pinnedVersion !== undefined) return this.version(spec.model, spec.pinnedVersion);
    try {
      return await this.d.registry.resolve({ model: spec.model, alias: spec.alias! });
    } catch (err) {
      if (err instanceof MlopsError && err.code === 'NOT_FOUND') {
        throw new MlopsError('NOT_FOUND', `${spec.name} serves ${spec.model}@${spec.alias}: ${err.message}; set the alias (mlops models alias ${spec.model}@${spec.alias} VERSION) or deploy a version: mlops deploy ${spec.name} --version N`);
      }
      throw err;
    }
  }

  /** The version a split key or shadow names: a number, or what an alias points at now. */
  private async resolveTarget(spec: DeploymentSpec, t: VersionTarget): Promise<ModelVersion> {
    if ('version' in t) return this.version(spec.model, t.version);
    try {
      return await this.d.registry.resolve({ model: spec.model, alias: t.alias });
    } catch (err) {
      if (err instanceof MlopsError && err.code === 'NOT_FOUND') {
        throw new MlopsError('NOT_FOUND', `${spec.model}@${t.alias} is not set, so ${spec.name} cannot serve it: ${err.message}`);
      }
      throw err;
    }
  }

  /** Split keys (versions or aliases) → versions with their relative weights; two keys naming one version are refused. */
  private async resolveSplit(spec: DeploymentSpec, weights: Record<string, number>): Promise<SplitShare[]> {
    const out: SplitShare[] = [];
    const keyOf = new Map<number, string>();
    for (const [key, weight] of Object.entries(weights)) {
      const v = (await this.resolveTarget(spec, parseTarget(key, spec.model))).version;
      const other = keyOf.get(v);
      if (other !== undefined) throw new MlopsError('BAD_REQUEST', `"${other}" and "${key}" both name v${v} of ${spec.model}; give each version once`);
      keyOf.set(v, key);
      out.push({ version: v, weight });
    }
    return out;
  }

  /** A registered version (immutable, so cached); NOT_FOUND names the model's versions. */
  private async version(model: string, version: number): Promise<ModelVersion> {
    const key = `${model}/${version}`;
    const hit = this.versions.get(key);
    if (hit) return hit;
    try {
      const v = await this.d.registry.resolve({ model, version });
      this.versions.set(key, v);
      return v;
    } catch (err) {
      if (err instanceof MlopsError && err.code === 'NOT_FOUND') {
        const known = await this.d.registry.listVersions(model).then((vs) => vs.map((x) => `v${x.version}`).reverse(), () => []);
        throw new MlopsError('NOT_FOUND', `${model} has no version ${version} in the registry${known.length ? ` (it has ${known.join(', ')})` : ''}`);
      }
      throw err;
    }
  }

  private statusOf(name: string, spec: DeploymentSpec | undefined): DeploymentStatus {
    const live = this.live.get(name);
    const state = live?.state ?? readState(this.d.paths, name) ?? emptyState(name, spec?.model ?? '', this.now());
    let phase: Phase = live?.phase ?? (state.desired === 'serving' && state.error ? 'failed' : 'stopped');
    if (phase === 'serving' && !(live && this.isRunning(live))) phase = 'starting';
    const running = phase === 'serving' || phase === 'starting';
    const flavor = live?.config?.versions[0]?.flavor ?? 'onnx';
    const latest = live?.samples.latest ?? {};
    const status: DeploymentStatus = {
      name,
      model: spec?.model ?? state.model,
      state: phase,
      auth: spec?.auth ?? 'token',
      // An operator's split is an A/B test whatever the manifest's strategy says.
      strategy: state.ab && running ? 'ab' : (spec?.strategy ?? 'direct'),
      versions: running
        ? rollout.servedVersions(state).map((v) => {
          const stats = latest[v.version];
          const health: VersionHealth = stats?.health ?? (phase === 'starting' ? 'loading' : 'ready');
          const { health: _h, ...figures } = stats ?? ({} as NonNullable<typeof stats>);
          return { ...v, flavor: live?.config?.versions.find((c) => c.version === v.version)?.flavor ?? flavor, health, ...(stats ? { stats: figures } : {}) };
        })
        : [],
      history: state.history,
    };
    if (running && live?.proc?.port) {
      status.port = live.proc.port;
      status.url = `http://127.0.0.1:${live.proc.port}`;
      if (live.proc.pid !== undefined) status.pid = live.proc.pid;
    }
    if (state.canary && running) status.canary = { ...state.canary };
    // Rollback ends a split by going back to the version that served alone before it.
    const back = state.ab && running ? state.stable : state.previous[0];
    if (back !== undefined) status.previousVersion = back;
    if (state.error && phase === 'failed') status.error = state.error;
    return status;
  }
}

/** What the audit log's before/after show of a deployment. */
function summary(live: Live): Record<string, unknown> {
  const s = live.state;
  return {
    serving: live.phase === 'serving',
    ...(s.stable !== undefined ? { stable: s.stable } : {}),
    ...(s.canary ? { canary: s.canary.version, weight: s.canary.weight } : {}),
    ...(s.ab ? { ab: Object.fromEntries(s.ab.map((x) => [x.version, x.weight])) } : {}),
    ...(s.shadow !== undefined ? { shadow: s.shadow } : {}),
  };
}

function sameSplit(a: SplitShare[] | undefined, b: SplitShare[] | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
