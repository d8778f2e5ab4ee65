/**
 * onnxruntime-node, loaded on first use: it is a native addon of ~300 MB that the CLI and daemon
 * should not pay for unless they serve a model. It is an esbuild external, so a plain require
 * finds it in the workbench install's node_modules; MLOPS_HOME (the install folder, as steps
 * get it) is the fallback when this code runs from somewhere else.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

let ort: OrtModule | undefined;

export function loadOrt(): OrtModule {
  if (ort) return ort;
  try {
    ort = require('onnxruntime-node') as OrtModule;
  } catch (err) {
    const home = process.env.MLOPS_HOME;
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !home) throw err;
    ort = createRequire(path.join(path.resolve(home), '__mlops_home__.js'))('onnxruntime-node') as OrtModule;
  }
  return ort;
}
