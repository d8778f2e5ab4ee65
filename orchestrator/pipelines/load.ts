/**
 * Reads and validates the workspace manifest before anything runs. A run from an invalid
 * manifest would fail half-way (or worse, run the wrong thing), so every error is listed up
 * front in the same `mlops.yaml:line:col message` form `mlops validate` prints.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { Manifest, ParamValue } from '../../protocol/manifest';
import { LineIndex, validateManifestSync } from '../manifest';
import { MANIFEST_FILE } from '../workspace';
import { applyParamOverrides } from './params';

export interface LoadedManifest {
  /** Absolute folder of the manifest: the default working folder and the root of every relative path. */
  root: string;
  /** Absolute path of mlops.yaml. */
  file: string;
  text: string;
  /** sha256 of the manifest text, recorded on runs as `mlops.manifest.hash`. */
  hash: string;
  manifest: Manifest;
  /** Defaults with the run's overrides applied. */
  params: Record<string, ParamValue>;
}

/**
 * Validated manifests by text hash. Validation of a large manifest costs far more than the
 * rest of a no-op plan, and the daemon plans the same text again and again; the text hash
 * (one cheap pass) proves it unchanged. Only valid manifests are kept, never mutated.
 */
const validated = new Map<string, Manifest>();
const VALIDATED_MAX = 8;

function validManifest(text: string, hash: string): Manifest {
  const known = validated.get(hash);
  if (known) return known;
  const { diagnostics, parsed } = validateManifestSync(text);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !parsed) {
    const index = new LineIndex(text);
    const lines = errors.map((d) => {
      const p = index.positionAt(d.start);
      return `${MANIFEST_FILE}:${p.line + 1}:${p.character + 1} ${d.message}`;
    });
    const n = lines.length;
    throw new MlopsError('INVALID_MANIFEST', `${MANIFEST_FILE} has ${n} error${n === 1 ? '' : 's'}; fix ${n === 1 ? 'it' : 'them'} and run again:\n${lines.join('\n')}`, { errors: lines });
  }
  const manifest = parsed.value as Manifest;
  if (validated.size >= VALIDATED_MAX) validated.delete(validated.keys().next().value!);
  validated.set(hash, manifest);
  return manifest;
}

/** Loads `<workspace>/mlops.yaml`; throws NOT_FOUND, INVALID_MANIFEST or BAD_REQUEST (bad override). */
export function loadManifest(workspace: string, overrides: Record<string, string> = {}): LoadedManifest {
  const file = join(workspace, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new MlopsError('NOT_FOUND', `No ${MANIFEST_FILE} in ${workspace}.`);
    throw e;
  }
  const hash = createHash('sha256').update(text).digest('hex');
  const manifest = validManifest(text, hash);
  return {
    root: workspace,
    file,
    text,
    hash,
    manifest,
    params: applyParamOverrides(manifest.params ?? {}, overrides),
  };
}
