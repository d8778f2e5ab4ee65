import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../schemas/mlops.schema.json';
import type { ManifestDiagnostic } from '../../protocol/diagnostics';
import type { ParsedManifest, ValuePath } from './parsed-manifest';
import { didYouMean, listNames, suggest } from './suggest';

let compiled: ValidateFunction | undefined;

/** The manifest schema, compiled once per process (ajv compiles to code: ~50 ms). */
export function manifestValidator(): ValidateFunction {
  compiled ??= ajv().compile(schema);
  return compiled;
}

function toPath(instancePath: string): ValuePath {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const SINGULAR: Record<string, string> = { steps: 'step', datasets: 'dataset', models: 'model', deployments: 'deployment', sweeps: 'sweep', params: 'param' };

/** `"retries" of step "train"`, `step "train"`, `"version"`: how messages name a place. */
function describePath(path: ValuePath): string {
  if (path.length === 0) return 'the manifest';
  const [section, name, ...rest] = path;
  const field = (parts: ValuePath) => `"${parts.map((r, i) => (typeof r === 'number' ? `[${r}]` : i === 0 ? r : `.${r}`)).join('')}"`;
  if (name !== undefined && SINGULAR[String(section)]) {
    const owner = `${SINGULAR[String(section)]} "${name}"`;
    return rest.length ? `${field(rest)} of ${owner}` : owner;
  }
  return field(path);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string "${v.length > 40 ? v.slice(0, 37) + '…' : v}"`;
  return `${typeof v} ${String(v)}`;
}

function propertiesOf(s: unknown): string[] {
  const props = (s as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}

function hint(s: unknown): string {
  const o = s as { title?: string; description?: string; examples?: unknown[] } | undefined;
  const ex = o?.examples?.length ? ` (e.g. ${o.examples.slice(0, 2).map((e) => JSON.stringify(e)).join(', ')})` : '';
  return ex;
}

type SchemaNode = { $ref?: string; type?: string | string[]; required?: string[]; properties?: Record<string, unknown>; oneOf?: SchemaNode[]; anyOf?: SchemaNode[]; const?: unknown; enum?: unknown[] };

const ajv = () => new Ajv({ allErrors: true, strict: false, verbose: true });
let branchAjv: Ajv | undefined;
const branchValidators = new WeakMap<object, ValidateFunction>();

function deref(s: SchemaNode): SchemaNode {
  let cur = s;
  for (let i = 0; cur?.$ref && i < 20; i++) {
    const name = cur.$ref.replace(/^#\/definitions\//, '');
    cur = (schema as { definitions: Record<string, SchemaNode> }).definitions[name];
  }
  return cur;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typesOf(s: SchemaNode): string[] {
  const d = deref(s);
  if (d.type) return Array.isArray(d.type) ? d.type : [d.type];
  const alts = d.oneOf ?? d.anyOf;
  if (alts) return [...new Set(alts.flatMap(typesOf))];
  if (d.properties || d.required) return ['object'];
  if ('const' in d) return [jsonType(d.const)];
  if (d.enum) return [...new Set(d.enum.map(jsonType))];
  return [];
}

function accepts(types: string[], t: string): boolean {
  return types.length === 0 || types.includes(t) || (t === 'integer' && types.includes('number'));
}

/** How well a value fits one alternative: -1 when its type is wrong, else keys it recognises. */
function fit(s: SchemaNode, data: unknown): number {
  if (!accepts(typesOf(s), jsonType(data))) return -1;
  const d = deref(s);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 0;
  const keys = Object.keys(data);
  const required = d.required ?? [];
  return required.filter((r) => keys.includes(r)).length * 10 - required.filter((r) => !keys.includes(r)).length * 10 + keys.filter((k) => d.properties && k in d.properties).length;
}

function branchValidator(branch: SchemaNode): ValidateFunction {
  let v = branchValidators.get(branch);
  if (!v) {
    branchAjv ??= ajv();
    v = branchAjv.compile({ ...branch, definitions: (schema as { definitions: unknown }).definitions });
    branchValidators.set(branch, v);
  }
  return v;
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + '/');
}

/**
 * Ajv reports every branch of a oneOf/anyOf, which reads as noise ("must be integer", "must
 * be object", "must match exactly one schema"). Replace them with the errors of the one
 * alternative the value most plausibly meant (right type, most recognised keys); when no
 * alternative has the right type, keep one error that lists the accepted types.
 */
function pruneAlternatives(errors: ErrorObject[]): ErrorObject[] {
  let kept = errors;
  for (;;) {
    const alt = kept
      .filter((e) => (e.keyword === 'oneOf' || e.keyword === 'anyOf') && !(e as { pruned?: boolean }).pruned)
      .sort((a, b) => a.instancePath.length - b.instancePath.length)[0];
    if (!alt) return kept;
    (alt as { pruned?: boolean }).pruned = true;
    const branches = alt.schema as SchemaNode[];
    const passing = (alt.params as { passingSchemas?: number[] | null }).passingSchemas;
    if (passing && passing.length > 1) {
      kept = kept.filter((e) => e === alt || !under(e.instancePath, alt.instancePath) || e.keyword !== 'type');
      continue;
    }
    const scored = branches.map((b, i) => ({ b, i, score: fit(b, alt.data) })).filter((x) => x.score >= 0).sort((a, b) => b.score - a.score);
    const rest = kept.filter((e) => !under(e.instancePath, alt.instancePath));
    if (scored.length === 0) {
      (alt as ErrorObject & { acceptedTypes?: string[] }).acceptedTypes = [...new Set(branches.flatMap(typesOf))];
      kept = [...rest, alt];
      continue;
    }
    const v = branchValidator(scored[0].b);
    v(alt.data);
    const branchErrors = (v.errors ?? []).map((e) => ({ ...e, instancePath: alt.instancePath + e.instancePath }));
    kept = [...rest, ...pruneAlternatives(branchErrors)];
  }
}

function messageFor(e: ErrorObject & { acceptedTypes?: string[] }, path: ValuePath): { message: string; onKey: boolean; path: ValuePath; suggestions?: string[] } {
  const where = describePath(path);
  const Where = capital(where);
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String(e.params.additionalProperty);
      const allowed = propertiesOf(e.parentSchema);
      const sugg = suggest(prop, allowed);
      return { message: `Unknown property "${prop}" in ${where}${didYouMean(sugg)} Allowed: ${listNames(allowed, 30)}.`, onKey: true, path: [...path, prop], suggestions: sugg };
    }
    case 'required': {
      const prop = String(e.params.missingProperty);
      const sub = (e.parentSchema as { properties?: Record<string, unknown> })?.properties?.[prop];
      return { message: `${Where} is missing the required property "${prop}"${hint(sub)}.`, onKey: true, path };
    }
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v));
      const sugg = typeof e.data === 'string' ? suggest(e.data, (e.params.allowedValues as unknown[]).map(String)) : [];
      return { message: `${Where} cannot be ${typeOf(e.data)}${didYouMean(sugg)} Allowed values: ${allowed.join(', ')}.`, onKey: false, path, suggestions: sugg };
    }
    case 'const':
      return { message: `${Where} must be ${JSON.stringify(e.params.allowedValue)}, not ${typeOf(e.data)}.`, onKey: false, path };
    case 'type':
      return { message: `${Where} must be ${article(String(e.params.type))}, not ${typeOf(e.data)}${hint(e.parentSchema)}.`, onKey: false, path };
    case 'oneOf':
    case 'anyOf':
      if (e.acceptedTypes?.length) {
        return { message: `${Where} must be ${e.acceptedTypes.map(article).join(' or ')}, not ${typeOf(e.data)}${hint(e.parentSchema)}.`, onKey: false, path };
      }
      return { message: `${Where} matches more than one allowed form; use exactly one${hint(e.parentSchema)}.`, onKey: false, path };
    case 'pattern': {
      const title = (e.parentSchema as { title?: string })?.title;
      return { message: `${Where} cannot be ${typeOf(e.data)}: not a valid ${title ? title.toLowerCase() : 'value'}${hint(e.parentSchema) || ` (it must match ${e.params.pattern})`}.`, onKey: false, path };
    }
    case 'propertyNames':
      return { message: `Invalid name in ${where}: names start with a letter or _ and use letters, digits, _, . and -.`, onKey: false, path };
    default:
      return { message: `${Where} ${e.message ?? 'is not valid'} (it is ${typeOf(e.data)}).`, onKey: false, path };
  }
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function article(t: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false', null: 'empty' };
  return names[t] ?? t;
}

/** Schema errors mapped to the key or value they are about. */
export function schemaDiagnostics(parsed: ParsedManifest): ManifestDiagnostic[] {
  const validate = manifestValidator();
  let value = parsed.value;
  if (value === null || value === undefined) value = {};
  try {
    if (validate(value)) return [];
  } catch (e) {
    const span = parsed.valueSpan([]);
    return [{ severity: 'error', code: 'too-complex', message: `The manifest is too deeply nested to check: ${(e as Error).message}`, ...span }];
  }
  const out: ManifestDiagnostic[] = [];
  const seen = new Set<string>();
  for (const e of pruneAlternatives(validate.errors ?? [])) {
    const m = messageFor(e, toPath(e.instancePath));
    const span = m.onKey ? parsed.keySpan(m.path) : parsed.valueSpan(m.path);
    const id = `${span.start}:${span.end}:${m.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ severity: 'error', code: 'schema', message: m.message, ...span, ...(m.suggestions?.length ? { data: { suggestions: m.suggestions } } : {}) });
  }
  return out;
}
