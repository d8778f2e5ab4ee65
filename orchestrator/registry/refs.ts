/**
 * Model references as users write them, everywhere a model is named (CLI, deployments):
 * `models:/NAME@ALIAS`, `models:/NAME/3`, and the short forms `NAME@ALIAS`, `NAME/3`,
 * `NAME` (its latest version). Parsing is pure; resolving is the registry's job.
 */
import { MlopsError } from '../../protocol/errors';

export type ModelRef =
  | { model: string; alias: string }
  | { model: string; version: number }
  | { model: string; latest: true };

/** Model names and aliases, as the manifest's names: a letter or `_`, then letters, digits, `_ . -`. */
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
export const MODELS_SCHEME = 'models:/';

export function isModelName(s: string): boolean {
  return NAME.test(s);
}

export function checkName(s: string, what: 'model name' | 'alias' | 'token name'): string {
  if (!NAME.test(s)) throw new MlopsError('BAD_REQUEST', `"${s}" is not a valid ${what}: use letters, digits, "_", "." and "-" (starting with a letter or "_", at most 128 characters)`);
  if (what === 'alias' && /^(v\d+|latest)$/i.test(s)) throw new MlopsError('BAD_REQUEST', `"${s}" cannot be an alias: it reads as a version number (or "latest")`);
  return s;
}

/** Parses any accepted form; throws BAD_REQUEST saying which forms exist. */
export function parseModelRef(raw: string): ModelRef {
  const s = raw.startsWith(MODELS_SCHEME) ? raw.slice(MODELS_SCHEME.length) : raw;
  const at = s.indexOf('@');
  if (at >= 0) return { model: checkRefName(s.slice(0, at), raw), alias: checkRefAlias(s.slice(at + 1), raw) };
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const v = s.slice(slash + 1);
    const model = checkRefName(s.slice(0, slash), raw);
    if (v === 'latest') return { model, latest: true };
    if (!/^v?[1-9]\d{0,8}$/.test(v)) throw badRef(raw, `"${v}" is not a version number`);
    return { model, version: Number(v.replace(/^v/, '')) };
  }
  return { model: checkRefName(s, raw), latest: true };
}

/** `NAME@ALIAS` for an alias argument (the CLI's `mlops models alias NAME@ALIAS VERSION`). */
export function parseAliasRef(raw: string): { model: string; alias: string } {
  const ref = parseModelRef(raw);
  if (!('alias' in ref)) throw new MlopsError('BAD_REQUEST', `"${raw}" names no alias: write NAME@ALIAS, e.g. penguins-classifier@production`);
  return ref;
}

/** A version argument: `3` or `v3`. */
export function parseVersion(raw: string | number): number {
  const s = String(raw);
  if (!/^v?[1-9]\d{0,8}$/.test(s)) throw new MlopsError('BAD_REQUEST', `"${s}" is not a version number (1, 2, 3, …)`);
  return Number(s.replace(/^v/, ''));
}

export function formatRef(ref: ModelRef): string {
  if ('alias' in ref) return `${MODELS_SCHEME}${ref.model}@${ref.alias}`;
  if ('version' in ref) return `${MODELS_SCHEME}${ref.model}/${ref.version}`;
  return `${MODELS_SCHEME}${ref.model}/latest`;
}

function checkRefName(s: string, raw: string): string {
  if (!NAME.test(s)) throw badRef(raw, s ? `"${s}" is not a model name` : 'the model name is missing');
  return s;
}

function checkRefAlias(s: string, raw: string): string {
  if (!NAME.test(s)) throw badRef(raw, s ? `"${s}" is not an alias` : 'the alias is missing');
  return s;
}

function badRef(raw: string, why: string): MlopsError {
  return new MlopsError('BAD_REQUEST', `"${raw}" is not a model reference (${why}); write models:/NAME@ALIAS, models:/NAME/VERSION, NAME@ALIAS, NAME/VERSION or NAME`);
}
