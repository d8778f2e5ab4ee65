import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../protocol/errors';

export const MANIFEST_FILE = 'mlops.yaml';

/** The manifest to use: the given file, or mlops.yaml in the nearest folder upward from `cwd`. */
export function findManifest(cwd: string, given?: string): string {
  if (given) {
    const p = path.resolve(cwd, given);
    if (!fs.existsSync(p)) throw new MlopsError('NOT_FOUND', `No such manifest: ${given}`);
    return fs.statSync(p).isDirectory() ? findManifest(p) : p;
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const p = path.join(dir, MANIFEST_FILE);
    if (fs.existsSync(p)) return p;
    if (path.dirname(dir) === dir) break;
  }
  throw new MlopsError('NOT_FOUND', `No ${MANIFEST_FILE} found in ${cwd} or any folder above it. Create one, or pass its path.`);
}

/** `fileExists` port for the semantic checks, relative to the manifest's folder. */
export function fileExistsUnder(root: string): (rel: string) => boolean {
  return (rel) => fs.existsSync(path.resolve(root, rel));
}
