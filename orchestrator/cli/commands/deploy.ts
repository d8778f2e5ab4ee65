/**
 * Serving from the terminal. State changes go through the daemon (started on demand), as the
 * identity of MLOPS_TOKEN when set:
 *   mlops deploy NAME [VERSION]            start NAME (or switch it directly to VERSION)
 *   mlops canary NAME VERSION [--weight W] send W % of NAME's traffic to VERSION; the
 *                                          manifest's policy promotes or rolls it back
 *   mlops deployments promote NAME         promote the running canary now
 *   mlops ab NAME V1=W1 V2=W2 …            split traffic A/B (versions or aliases, relative weights)
 *   mlops shadow NAME VERSION | --stop     mirror every request to VERSION (answers only logged)
 *   mlops rollback NAME                    drop the canary or end the split, else go back one stable version
 *   mlops undeploy NAME                    stop serving
 *   mlops deployments [NAME]               list (or show one, with history)
 *   mlops predict NAME --input F.csv       batch predictions through the deployment
 * `mlops models promote/rollback` move registry aliases; these move traffic.
 */
import type { Command } from 'commander';
import { EXIT, MlopsError } from '../../../protocol/errors';
import type { DeploymentStatus } from '../../../protocol/serving';
import { DaemonClient } from '../../api-client/client';
import { ensureDaemon, findDaemon } from '../../daemon/launcher';
import { mlopsPaths } from '../../daemon/paths';
import { DeploymentManager } from '../../deployments/manager';
import { checkName, parseVersion } from '../../registry/refs';
import { runCommand, type Output } from '../output';
import { cliToken } from '../registry-access';
import { cliLaunchOptions, workspaceOf } from '../workspace-access';
import { printDeployment, printDeployments, servingLine } from './deployments-print';
import { predictCommand, type PredictOptions } from './predict';
import { deployServeCommand } from './deploy-serve';

type Json = { json?: boolean };

export function addDeployCommands(program: Command, io: Output, cwd: string, setExit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => async (...args: A) => setExit(await runCommand(io, () => fn(...args)));
  const change = async (opts: Json, verb: string, endpoint: () => (c: DaemonClient) => Promise<DeploymentStatus>) => {
    const call = endpoint(); // argument errors before a daemon is started
    const d = await call(await connectServing(cwd));
    if (opts.json) io.json(d);
    else io.out(`${d.name}: ${verb}; serving ${servingLine(d)}${d.url ? ` at ${d.url}` : ''}`);
    return EXIT.OK;
  };

  program
    .command('deploy')
    .description("serve a deployment of mlops.yaml (its model at its alias, or VERSION); when it runs already, switch to that version directly (use `mlops canary` for a gradual rollout)")
    .argument('<name>', 'the deployment, as named under deployments:')
    .argument('[version]', 'serve this version of the model (3 or v3) instead of the one its alias points at')
    .option('--json', 'print the deployment as JSON')
    .action(act(async (name: string, version: string | undefined, opts: Json) =>
      change(opts, 'deployed', () => {
        const v = version !== undefined ? parseVersion(version) : undefined;
        return (c) => c.call('POST /api/deployments/deploy', { name, ...(v !== undefined ? { version: v } : {}) });
      })));

  program
    .command('canary')
    .description("start a canary of VERSION on a running deployment: it gets --weight % of traffic, and the manifest's rollout.canary promotes it or rolls it back from its own error rate and latency")
    .argument('<name>', 'the deployment')
    .argument('<version>', 'the model version to try (3 or v3)')
    .option('--weight <percent>', "share of traffic for the canary, 1-99 (default: the manifest's rollout.canary.weight, else 10)")
    .option('--json', 'print the deployment as JSON')
    .action(act(async (name: string, version: string, opts: Json & { weight?: string }) =>
      change(opts, 'canary started', () => {
        const v = parseVersion(version);
        const weight = opts.weight !== undefined ? percentOption(opts.weight) : undefined;
        return (c) => c.call('POST /api/deployments/canary', { name, version: v, ...(weight !== undefined ? { weight } : {}) });
      })));

  program
    .command('ab')
    .description("split a running deployment's traffic between versions for an A/B test: each KEY=WEIGHT names a version (3 or v3) or an alias (production) and its relative weight; weights are normalised to whole percents. `mlops rollback NAME` ends the split")
    .argument('<name>', 'the deployment')
    .argument('<split...>', 'two or more KEY=WEIGHT, e.g. 1=50 2=50 or production=80 challenger=20')
    .option('--json', 'print the deployment as JSON')
    .addHelpText('after', '\nWith rollout.sticky set in mlops.yaml, requests carrying the same value of that header always reach the same version.')
    .action(act(async (name: string, split: string[], opts: Json) =>
      change(opts, 'A/B split', () => {
        const weights = splitArgs(split);
        return (c) => c.call('POST /api/deployments/split', { name, weights });
      })));

  program
    .command('shadow')
    .description("mirror every request of a running deployment to VERSION (a version or an alias): its answers go to the request log with role shadow, never to the client; --stop ends mirroring")
    .argument('<name>', 'the deployment')
    .argument('[version]', 'the version to mirror to (3, v3 or an alias such as staging)')
    .option('--stop', 'stop mirroring')
    .option('--json', 'print the deployment as JSON')
    .action(act(async (name: string, version: string | undefined, opts: Json & { stop?: boolean }) =>
      change(opts, opts.stop ? 'shadow stopped' : 'shadow started', () => {
        if (opts.stop && version !== undefined) throw new MlopsError('BAD_REQUEST', `give a version to mirror to or --stop, not both`);
        if (opts.stop) return (c) => c.call('POST /api/deployments/shadow', { name, stop: true });
        if (version === undefined) throw new MlopsError('BAD_REQUEST', `give the version to mirror to (mlops shadow ${name} 3) or --stop`);
        const target = /^v?\d+$/.test(version) ? { version: parseVersion(version) } : { alias: checkName(version, 'alias') };
        return (c) => c.call('POST /api/deployments/shadow', { name, ...target });
      })));

  program
    .command('rollback')
    .description('on a deployment: drop the running canary or end the A/B split (no failed requests), else go back to the previous stable version; `mlops models rollback` moves an alias instead')
    .argument('<name>', 'the deployment')
    .option('--json', 'print the deployment as JSON')
    .action(act(async (name: string, opts: Json) => change(opts, 'rolled back', () => (c) => c.call('POST /api/deployments/rollback', { name }))));

  program
    .command('undeploy')
    .description('stop serving a deployment (in-flight requests finish); it stays stopped across daemon restarts')
    .argument('<name>', 'the deployment')
    .option('--json', 'print the deployment as JSON')
    .action(act(async (name: string, opts: Json) => change(opts, 'stopped', () => (c) => c.call('POST /api/deployments/undeploy', { name }))));

  const deployments = program
    .command('deployments')
    .description('list deployments (endpoint, versions, traffic, health, req/s, errors, p99), or show one with its history')
    .argument('[name]', 'show only this deployment, with its rollout history')
    .option('--json', 'print {deployments} (or the one deployment) as JSON')
    .action(act(async (name: string | undefined, opts: Json) => {
      const ws = workspaceOf(cwd);
      const list = await readDeployments(ws, name);
      if (name !== undefined) {
        if (opts.json) io.json(list[0]);
        else printDeployment(io, list[0]!);
      } else if (opts.json) io.json({ deployments: list });
      else printDeployments(io, list);
      return EXIT.OK;
    }));
  deployments
    .command('promote')
    .description('promote the running canary of a deployment now (it takes all traffic)')
    .argument('<name>', 'the deployment')
    .option('--json', 'print the deployment as JSON')
    .action(act(async (name: string, opts: Json) => change(opts, 'canary promoted', () => (c) => c.call('POST /api/deployments/promote', { name }))));
  deployments
    .command('serve', { hidden: true })
    .description("be a deployment's model server (started by the daemon, with an IPC channel)")
    .argument('<workspace>', 'the workspace folder')
    .argument('<name>', 'the deployment')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0: a free one)', '0')
    .option('--auth <mode>', 'token or none', 'token')
    .action(act(async (workspace: string, name: string, opts: { port: string; auth: string }) => deployServeCommand(workspace, name, opts)));

  program
    .command('predict')
    .description("batch predictions for a CSV file through a running deployment's /predict, streamed in batches (one output row per input row)")
    .argument('<name>', 'the deployment')
    .requiredOption('--input <file>', 'CSV with a header row; columns are matched to the model\'s features by name')
    .option('--output <file>', 'where to write the predictions as CSV (default: standard output)')
    .option('--batch <rows>', 'rows per request (1-100000, default 256)')
    .option('--keep <columns>', 'input columns to copy into the output before the prediction, e.g. id (comma-separated)')
    .action(act(async (name: string, opts: PredictOptions) => predictCommand(io, cwd, name, opts)));
}

/** A client of the workspace's daemon (started on demand) as the CLI's identity. */
async function connectServing(cwd: string): Promise<DaemonClient> {
  const conn = await ensureDaemon(workspaceOf(cwd), cliLaunchOptions());
  return new DaemonClient(conn.url, cliToken(conn.token));
}

/** From the daemon when it runs; otherwise every deployment is stopped and the files say the rest. */
async function readDeployments(ws: string, name: string | undefined): Promise<DeploymentStatus[]> {
  const daemon = await findDaemon(ws);
  if (daemon) {
    const client = new DaemonClient(daemon.url, cliToken(daemon.token));
    return name !== undefined ? [await client.call('GET /api/deployments/get', { name })] : (await client.call('GET /api/deployments', undefined)).deployments;
  }
  const offline = DeploymentManager.offline(mlopsPaths(ws));
  return name !== undefined ? [await offline.get(name)] : offline.list();
}

/** `1=50 2=50` → {"1": 50, "2": 50}; keys are checked by the daemon (versions or aliases). */
function splitArgs(args: string[]): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const a of args) {
    const m = /^([^=\s]+)=(\d+(?:\.\d+)?)$/.exec(a.trim());
    if (!m) throw new MlopsError('BAD_REQUEST', `"${a}" is not KEY=WEIGHT (e.g. 2=50 or challenger=20: a version or alias, and a weight of 0 or more)`);
    if (m[1]! in weights) throw new MlopsError('BAD_REQUEST', `"${m[1]}" is given twice`);
    weights[m[1]!] = Number(m[2]);
  }
  if (Object.keys(weights).length < 2) throw new MlopsError('BAD_REQUEST', 'an A/B split needs at least two KEY=WEIGHT, e.g. mlops ab NAME 1=50 2=50');
  return weights;
}

function percentOption(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 99) throw new MlopsError('BAD_REQUEST', `--weight must be a whole percent from 1 to 99 (got "${raw}")`);
  return n;
}
