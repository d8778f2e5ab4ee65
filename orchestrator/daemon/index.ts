/**
 * The orchestrator daemon (one per workspace, HTTP on 127.0.0.1 with a bearer token) and the
 * launcher the CLI and the extension use to find or start it.
 */
export { daemonProcessMain, startDaemon, type DaemonOptions, type RunningDaemon } from './daemon-main';
export { readDaemonInfo } from './daemon-info';
export { DAEMON_HOST, DaemonServer, MAX_BODY_BYTES, type RouteKey } from './http-server';
export { daemonCommand, defaultEntry, ensureDaemon, findDaemon, stopDaemon, type DaemonConnection, type LaunchOptions } from './launcher';
export { readStepLog, type LogChunk, type LogQuery } from './logs';
export { isRunId, mlopsPaths, type MlopsPaths } from './paths';
export type { RunnerPort } from './routes';
export { ensureToken, readToken } from './token';
export { MLOPS_VERSION } from './version';
