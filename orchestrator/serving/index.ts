/**
 * Model serving: one model server per deployment, holding every loaded version in-process
 * (ONNX Runtime sessions, or long-lived JSON-lines processes for the `command` flavor) and doing
 * the traffic split, shadow mirroring, canary retries, metrics, request log and canary policy
 * itself. Types are in protocol/serving.ts.
 *
 * Spawning it from the daemon (one child per deployment, with an IPC channel):
 *
 *   const child = fork(path.join(installRoot, 'dist/serving/model-server.js'),
 *     [JSON.stringify(options)],                        // ModelServerOptions: no secrets
 *     { env: { ...process.env, MLOPS_SERVING_TOKEN: token, MLOPS_HOME: installRoot },
 *       stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
 *   child.on('message', (m: ServerMessage) => ...);    // first { type: 'listening', port }
 *   child.send({ type: 'configure', config });         // then 'applied' or 'apply-failed'
 *   child.send({ type: 'shutdown' });                  // or SIGTERM; exits 0 once drained
 *
 * The server sends `stats` once a second, `canary-decision` when it rolled back or promoted a
 * canary on its own (the daemon answers with the matching config), and `version-restarted`
 * when a command model process died and came back. It also shuts down when the IPC channel
 * closes, so it never outlives the daemon. Another entry (a CLI subcommand, say) can call
 * `modelServerProcessMain(options)` instead of the script. In-process (tests, benches):
 * `startModelServer(options, token)`.
 */
export { modelServerProcessMain, SERVING_TOKEN_ENV } from './process-main';
export { startModelServer, type ModelServerHandle } from './start';
export type { ServerTuning } from './model-server';
export { SERVING_HOST, VERSION_HEADER, DEFAULT_MAX_BODY_BYTES } from './http-front';
export { RotatingJsonl } from './rotating-jsonl';
