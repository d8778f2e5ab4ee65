/** Starts a model server in this process: the core plus its HTTP front, as one handle. */
import type { ModelServerOptions, ServerMessage, ServingConfig } from '../../protocol/serving';
import { HttpFront } from './http-front';
import { ModelServer, type ServerTuning } from './model-server';

export interface ModelServerHandle {
  /** The 127.0.0.1 port it listens on. */
  readonly port: number;
  /** Applies a config; rejects (after emitting `apply-failed`) when it cannot, keeping the old one. */
  configure(config: ServingConfig): Promise<void>;
  /** Subscribes to the messages the process would send the daemon; returns an unsubscribe. */
  on(listener: (msg: ServerMessage) => void): () => void;
  /** Stops accepting, finishes requests in progress, stops command processes, flushes the logs. */
  close(): Promise<void>;
}

export async function startModelServer(options: ModelServerOptions, token: string | undefined, tuning?: ServerTuning): Promise<ModelServerHandle> {
  if (options.auth === 'token' && !token) throw new Error('auth is "token" but no token was given');
  const core = new ModelServer(options, tuning);
  const front = new HttpFront(core, options.auth === 'token' ? token : undefined);
  let port: number;
  try {
    port = await front.listen(options.port);
  } catch (err) {
    await core.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    port,
    configure: (config) => core.configure(config),
    on: (listener) => core.on(listener),
    close: () =>
      (closing ??= (async () => {
        await front.close();
        await core.close();
      })()),
  };
}
