/**
 * A model's rules as the manifest states them today: its gates, the approvals each alias
 * needs, and the defaults registration uses (artifact, step, description, tags). Read at the
 * moment of each decision, so editing mlops.yaml takes effect at once (and shows in the audit
 * log's before/after of the next move). An invalid manifest refuses alias moves: governance
 * fails closed rather than skipping gates it cannot read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { Gate, Model } from '../../protocol/manifest';
import { loadManifest } from '../pipelines/load';
import { MANIFEST_FILE } from '../workspace';

export interface ModelPolicy {
  /** The manifest's entry for the model, when it has one. */
  spec?: Model;
  gates: Gate[];
  /** Alias → approvals needed (only aliases with at least one). */
  approvals: Record<string, number>;
  /** Aliases only a `ci` token may move (`ci_only_aliases`). */
  ciOnly?: string[];
  /** sha256 of mlops.yaml, when there is one. */
  manifestHash?: string;
}

export function modelPolicy(workspace: string, model: string): ModelPolicy {
  if (!fs.existsSync(path.join(workspace, MANIFEST_FILE))) return { gates: [], approvals: {} };
  let loaded;
  try {
    loaded = loadManifest(workspace);
  } catch (e) {
    if (e instanceof MlopsError && e.code === 'INVALID_MANIFEST') {
      throw new MlopsError('INVALID_MANIFEST', `the model rules (gates, approvals) in ${MANIFEST_FILE} cannot be read until it is valid. ${e.message}`, e.details);
    }
    throw e;
  }
  const spec = loaded.manifest.models?.[model];
  const approvals = Object.fromEntries(Object.entries(spec?.approvals ?? {}).filter(([, n]) => n > 0));
  return { ...(spec ? { spec } : {}), gates: spec?.gates ?? [], approvals, ...(spec?.ci_only_aliases?.length ? { ciOnly: [...spec.ci_only_aliases] } : {}), manifestHash: loaded.hash };
}
