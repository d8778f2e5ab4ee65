/**
 * The model server as a child process of the daemon: IPC in (`ServerCommand`), IPC out
 * (`ServerMessage`). Shutdown on the `shutdown` command, SIGTERM/SIGINT, or the daemon going away
 * (IPC disconnect), so a model server never outlives its daemon.
 */
import type { ModelServerOptions, ServerCommand, ServerMessage } from '../../protocol/serving';
import { messageOf } from './http-error';
import { startModelServer } from './start';

/** Environment variable carrying the bearer token (never argv: other users can read argv). */
export const SERVING_TOKEN_ENV = 'MLOPS_SERVING_TOKEN';

export async function modelServerProcessMain(options: ModelServerOptions): Promise<void> {
  const token = process.env[SERVING_TOKEN_ENV];
  // Model processes (command flavor) and anything else spawned later must not inherit it.
  delete process.env[SERVING_TOKEN_ENV];
  const send = (msg: ServerMessage): void => {
    if (process.connected) process.send?.(msg);
  };
  let server: Awaited<ReturnType<typeof startModelServer>>;
  try {
    server = await startModelServer(options, token);
  } catch (err) {
    process.stderr.write(`model server ${options.deployment}: could not start: ${messageOf(err)}\n`);
    process.exit(1);
  }
  server.on(send);

  let stopping = false;
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`model server ${options.deployment}: shutting down (${why})\n`);
    try {
      await server.close();
    } catch (err) {
      process.stderr.write(`model server ${options.deployment}: shutdown: ${messageOf(err)}\n`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('message', (raw: unknown) => {
    const cmd = raw as ServerCommand;
    if (cmd?.type === 'configure') {
      // Refusals are reported as apply-failed by the server itself.
      server.configure(cmd.config).catch(() => undefined);
    } else if (cmd?.type === 'shutdown') void shutdown('shutdown command');
    else process.stderr.write(`model server ${options.deployment}: unknown command ${JSON.stringify(raw)}\n`);
  });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('disconnect', () => void shutdown('the daemon disconnected'));
  send({ type: 'listening', port: server.port });
}
