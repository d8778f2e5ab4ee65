/**
 * Keeps each deployment's model server process in step with its desired state: starts the
 * process when none runs, sends it the ServingConfig for the next state and commits that state
 * only once the server applied it (a version that fails to load leaves everything as it was),
 * stops it on purpose, and restarts it with bounded backoff when it dies on its own.
 * server-process.ts is one process; this is the policy around it.
 */
import { MlopsError } from '../../protocol/errors';
import type { ServedVersion, ServerMessage, ServingConfig } from '../../protocol/serving';
import { deploymentDir } from '../daemon/paths';
import { materialiseArtifact } from './artifacts';
import type { DeploymentContext } from './context';
import { isRunning, type Live } from './live';
import * as rollout from './rollout';
import { ModelServerProcess, type ExitInfo } from './server-process';
import { modelServing, type DeploymentSpec } from './spec';
import { writeState, type DeploymentState } from './state';

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

/** Receives what the current model server of `live` sends on its own (stats, decisions). */
export type ServerMessageHandler = (live: Live, m: ServerMessage) => void;

export class ModelServerSupervisor {
  constructor(
    private readonly ctx: DeploymentContext,
    private readonly onMessage: ServerMessageHandler,
  ) {}

  /**
   * Makes the model server serve `next` (starting the process when none runs); `live.state`
   * becomes `next` only once the server has applied it, so a version that fails to load
   * leaves everything as it was.
   */
  async apply(live: Live, spec: DeploymentSpec, next: DeploymentState, opts: { keepRestarts?: boolean } = {}): Promise<void> {
    const config = await this.buildConfig(spec, next, Math.max(next.configId, live.config?.configId ?? 0) + 1);
    const fresh = !isRunning(live);
    if (fresh) {
      live.phase = 'starting';
      this.ctx.publishChanged();
      try {
        await this.startProcess(live, spec, next);
        await live.proc!.configure(config);
      } catch (err) {
        await this.stopProcess(live);
        live.state = { ...live.state, error: errorText(err) };
        live.phase = live.state.desired === 'serving' ? 'failed' : 'stopped';
        writeState(this.ctx.d.paths, live.state);
        this.ctx.publishChanged();
        throw loadError(spec, next, err, undefined);
      }
    } else {
      try {
        await live.proc!.configure(config);
      } catch (err) {
        throw loadError(spec, next, err, live.state);
      }
    }
    live.config = config;
    live.state = { ...next, configId: config.configId, port: live.proc!.port };
    delete live.state.error;
    live.phase = 'serving';
    if (fresh && !opts.keepRestarts) live.restarts = [];
    writeState(this.ctx.d.paths, live.state);
  }

  /** Stops the process on purpose (in-flight requests finish); its exit is not taken for a crash. */
  async stopProcess(live: Live): Promise<void> {
    const proc = live.proc;
    if (live.restartTimer) clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
    if (!proc) return;
    live.stopping = proc;
    live.proc = undefined;
    await proc.shutdown();
  }

  private async buildConfig(spec: DeploymentSpec, s: DeploymentState, configId: number): Promise<ServingConfig> {
    const { paths } = this.ctx.d;
    const serving = modelServing(this.ctx.manifest(), spec.model);
    const dir = deploymentDir(paths, spec.name);
    const versions = await Promise.all(rollout.servedVersions(s).map(async (sv): Promise<ServedVersion> => {
      const mv = await this.ctx.versions.version(spec.model, sv.version);
      const artifactPath = await materialiseArtifact(paths.workspace, dir, mv);
      return {
        model: spec.model,
        ...sv,
        flavor: serving.flavor,
        artifactPath,
        ...(serving.command ? { command: serving.command, cwd: paths.workspace } : {}),
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
    const { d } = this.ctx;
    const proc = new ModelServerProcess({
      workspace: d.paths.workspace,
      name: spec.name,
      dir: deploymentDir(d.paths, spec.name),
      port: spec.port ?? s.port ?? 0,
      auth: spec.auth,
      ...(spec.auth === 'token' ? { token: d.token } : {}),
      ...(d.entry ? { entry: d.entry } : {}),
    });
    live.proc = proc;
    // Only the current process speaks for the deployment: a replaced one's late messages are dropped.
    proc.onMessage((m) => {
      if (live.proc === proc) this.onMessage(live, m);
    });
    proc.onExit((e) => this.onServerExit(live, proc, e));
    const port = await proc.waitListening();
    d.log.info(`model server of ${spec.name} (pid ${proc.pid}) listens on 127.0.0.1:${port}`);
  }

  /** A model server died on its own: restart it with backoff, bounded; `failed` after too many. */
  private onServerExit(live: Live, proc: ModelServerProcess, e: ExitInfo): void {
    if (live.stopping === proc) {
      live.stopping = undefined;
      return;
    }
    if (live.proc !== proc) return;
    live.proc = undefined;
    if (this.ctx.closed || live.state.desired !== 'serving' || live.phase !== 'serving') return;
    this.scheduleRestart(live, proc.exitError(e));
  }

  private scheduleRestart(live: Live, err: Error): void {
    const { ctx } = this;
    const now = ctx.now();
    const windowMs = ctx.d.restartWindowMs ?? 5 * 60_000;
    live.restarts = [...live.restarts.filter((t) => now - t < windowMs), now];
    const max = ctx.d.maxRestarts ?? 5;
    if (live.restarts.length > max) {
      live.phase = 'failed';
      live.state = { ...live.state, error: `${err.message} (${max} restarts within ${Math.round(windowMs / 60_000)} min; gave up: fix it and deploy again)` };
      writeState(ctx.d.paths, live.state);
      ctx.d.log.error(`${live.name}: ${live.state.error}`);
      ctx.publishChanged();
      return;
    }
    const wait = BACKOFF_MS[Math.min(live.restarts.length - 1, BACKOFF_MS.length - 1)]!;
    ctx.d.log.warn(`${live.name}: ${err.message}; restarting in ${wait} ms (restart ${live.restarts.length} of at most ${max})`);
    live.phase = 'starting';
    ctx.publishChanged();
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      void ctx.exclusive(live.name, live.state.model, async () => {
        if (ctx.closed || live.state.desired !== 'serving' || isRunning(live)) return;
        const spec = ctx.specsLenient().get(live.name);
        if (!spec) throw new MlopsError('NOT_FOUND', `${live.name} is no longer in mlops.yaml`);
        await this.apply(live, spec, { ...live.state }, { keepRestarts: true });
        ctx.d.log.info(`${live.name}: model server restarted (pid ${live.proc!.pid})`);
        ctx.publishChanged();
      }).catch((error: Error) => {
        ctx.d.log.error(`${live.name}: restarting the model server failed`, error);
        if (!ctx.closed && live.state.desired === 'serving' && !isRunning(live)) this.scheduleRestart(live, error);
      });
    }, wait);
  }
}

/** A version the model server refused to load, said in the deployment's terms. */
function loadError(spec: DeploymentSpec, next: DeploymentState, err: unknown, current: DeploymentState | undefined): unknown {
  if (!(err instanceof MlopsError) || err.code !== 'BAD_REQUEST') return err;
  const keeps = current?.stable !== undefined ? `; v${current.stable} keeps serving` : '; nothing was started';
  const versions = rollout.servedVersions(next).map((v) => `v${v.version}`).join(' + ');
  return new MlopsError('BAD_REQUEST', `${spec.name}: cannot serve ${spec.model} ${versions}: ${err.message}${keeps}`, err.details);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
