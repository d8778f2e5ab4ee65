/** Loads a version with the backend its flavor names. */
import type { ServedVersion } from '../../../protocol/serving';
import type { BackendEvents, ModelBackend } from './backend';
import { loadCommandBackend, type CommandTimings } from './command-backend';
import { loadOnnxBackend } from './onnx-backend';

export type { BackendAnswer, BackendEvents, ModelBackend, V2Output } from './backend';
export { DEFAULT_COMMAND_TIMINGS, type CommandTimings } from './command-backend';
export { loadOrt } from './load-ort';

export function loadBackend(version: ServedVersion, opts: { threads?: number; events: BackendEvents; commandTimings?: CommandTimings }): Promise<ModelBackend> {
  switch (version.flavor) {
    case 'onnx':
      return loadOnnxBackend(version, opts.threads);
    case 'command':
      return loadCommandBackend(version, opts.events, opts.commandTimings);
    default:
      return Promise.reject(new Error(`version ${version.version}: unknown flavor "${String(version.flavor)}"`));
  }
}
