/**
 * The hidden `mlops deployments serve <workspace> <name>`: the model server process the daemon
 * starts per deployment (orchestrator/deployments/server-process.ts), with an IPC channel to
 * it. The token comes in MLOPS_SERVING_TOKEN, never in argv.
 */
import * as path from 'node:path';
import { MlopsError } from '../../../protocol/errors';
import type { ModelServerOptions } from '../../../protocol/serving';
import { deploymentDir, mlopsPaths } from '../../daemon/paths';

export async function deployServeCommand(workspace: string, name: string, opts: { port: string; auth: string }): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MlopsError('BAD_REQUEST', `--port must be 0-65535 (got "${opts.port}")`);
  if (opts.auth !== 'token' && opts.auth !== 'none') throw new MlopsError('BAD_REQUEST', `--auth must be token or none (got "${opts.auth}")`);
  if (!process.send) throw new MlopsError('BAD_REQUEST', 'mlops deployments serve is started by the orchestrator daemon (it needs an IPC channel); use: mlops deploy NAME');
  const options: ModelServerOptions = { deployment: name, port, auth: opts.auth, dir: deploymentDir(mlopsPaths(path.resolve(workspace)), name) };
  // Loaded here only: the CLI's other commands need not load onnxruntime-node.
  const { modelServerProcessMain } = await import('../../serving');
  await modelServerProcessMain(options);
  return 0;
}
