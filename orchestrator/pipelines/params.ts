/**
 * Param overrides from the command line (`--param lr=0.05`): strings typed by the manifest's
 * default so `${params.lr}` and the fingerprint see `0.05`, not `"0.05"`, and a typo is caught
 * before any step starts.
 */
import { MlopsError } from '../../protocol/errors';
import type { ParamValue, Scalar } from '../../protocol/manifest';
import { listNames, suggest } from '../manifest/suggest';

/** `["lr=0.05", "epochs=3"]` → `{lr: "0.05", epochs: "3"}`; a missing `=` is a usage error. */
export function parseParamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new MlopsError('BAD_REQUEST', `param override "${a}" should be NAME=VALUE (for example lr=0.05)`);
    out[a.slice(0, eq).trim()] = a.slice(eq + 1);
  }
  return out;
}

function typed(name: string, raw: string, like: Scalar): Scalar {
  if (typeof like === 'number') {
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n)) throw new MlopsError('BAD_REQUEST', `param "${name}" is a number (default ${like}), but the override is "${raw}"`);
    return n;
  }
  if (typeof like === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    throw new MlopsError('BAD_REQUEST', `param "${name}" is a boolean (default ${like}), but the override is "${raw}": use true or false`);
  }
  return raw;
}

function typedList(name: string, raw: string, like: Scalar[]): Scalar[] {
  const text = raw.trim();
  let items: unknown[];
  if (text.startsWith('[')) {
    try {
      items = JSON.parse(text) as unknown[];
    } catch (e) {
      throw new MlopsError('BAD_REQUEST', `param "${name}" is a list; the override "${raw}" is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(items)) throw new MlopsError('BAD_REQUEST', `param "${name}" is a list, but the override is "${raw}"`);
  } else items = text === '' ? [] : text.split(',').map((s) => s.trim());
  // An empty default list gives no type to follow: keep strings.
  const first = like[0];
  return items.map((x) => (first === undefined ? String(x) : typed(name, String(x), first)));
}

/** Defaults with the overrides applied; unknown names are refused with a did-you-mean. */
export function applyParamOverrides(defaults: Record<string, ParamValue>, overrides: Record<string, string> = {}): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = { ...defaults };
  const known = Object.keys(defaults);
  for (const [name, raw] of Object.entries(overrides)) {
    if (!(name in defaults)) {
      const sugg = suggest(name, known);
      const hint = sugg.length ? `; did you mean "${sugg[0]}"?` : '.';
      throw new MlopsError('BAD_REQUEST', `unknown param "${name}"${hint} Params: ${listNames(known)}.`, { name, suggestions: sugg });
    }
    const like = defaults[name]!;
    out[name] = Array.isArray(like) ? typedList(name, String(raw), like) : typed(name, String(raw), like);
  }
  return out;
}

/** A param value as text: what `${params.x}`, `MLOPS_PARAM_X` and the run's params show. */
export function paramText(v: ParamValue | undefined): string {
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** `MLOPS_PARAM_<NAME>`: upper case, anything but letters and digits becomes `_`. */
export function paramEnvName(name: string): string {
  return `MLOPS_PARAM_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}
